// The listing cache: each task's JSON is encoded once and reused while its revision (tasks.rev) holds.

package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// encodedNodes is a JSON array of nodes, already encoded: encodeReply
// sends it verbatim.
type encodedNodes []byte

// MarshalJSON returns the array as it is.
func (e encodedNodes) MarshalJSON() ([]byte, error) { return e, nil }

// briefNode is the brief form of a node in a listing (the "brief" param
// of task.list and task.view): what a one-line row shows. Its fields have
// the names and shapes of Node's, so it decodes into a Node.
type briefNode struct {
	ID     string `json:"id"`
	Handle string `json:"handle"`
	Kind   string `json:"kind"`
	Title  string `json:"title"`
	Task   *Task  `json:"task,omitempty"` // only the fields a row shows (the others are omitted when empty)
}

// brief returns n's brief form.
func (n *Node) brief() briefNode {
	b := briefNode{ID: n.ID, Handle: n.Handle, Kind: n.Kind, Title: n.Title}
	if t := n.Task; t != nil {
		b.Task = &Task{State: t.State, Attention: t.Attention, Do: t.Do, Late: t.Late,
			Recur: t.Recur, Project: t.Project, Tags: t.Tags}
	}
	return b
}

// listCacheMaxBytes bounds the cache; past it the cache starts over.
const listCacheMaxBytes = 16 << 20

// listCache maps a task (its tasks rowid) to its encodings at one
// revision. An entry is
// only used when the revision (and the path of the task's project, which
// the task shows but does not store) read in the same snapshot as the
// listing match it, so a stale entry is never served: no write path has
// to remember to invalidate anything.
type listCache struct {
	mu    sync.Mutex
	rows  map[int64]*cachedTask
	bytes int
}

// cachedTask is one task's JSON, full and brief, at revision rev, with
// the project it references and that project's path when encoded.
type cachedTask struct {
	rev                    int64
	projectID, projectPath string
	full, brief            []byte
}

// lookup sets the entry of each listed task whose cached one is current
// and returns those without one.
func (c *listCache) lookup(listed []*listedTask, paths map[string]string) (missing []*listedTask) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range listed {
		// The same rev means the same tasks row, so the same project.
		if e := c.rows[l.rowid]; e != nil && e.rev == l.rev && e.projectPath == paths[e.projectID] {
			l.entry = e
		} else {
			missing = append(missing, l)
		}
	}
	return missing
}

// put stores a task's entry.
func (c *listCache) put(rowid int64, e *cachedTask) {
	size := e.size()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil || c.bytes+size > listCacheMaxBytes {
		c.rows, c.bytes = map[int64]*cachedTask{}, 0
	}
	if old := c.rows[rowid]; old != nil {
		c.bytes -= old.size()
	}
	c.rows[rowid] = e
	c.bytes += size
}

// size is roughly what an entry holds on to, in bytes.
func (e *cachedTask) size() int {
	return 64 + len(e.full) + len(e.brief) + len(e.projectID) + len(e.projectPath)
}

// listedTask is one row of a listing: a task (its tasks rowid) with the
// revision the snapshot holds. A rowid and a rev never name other content
// together: every row has a random rev (migration 7), a new row gets a new
// one, so a reused or renumbered rowid (VACUUM) does not match a cached
// entry.
type listedTask struct {
	rowid, rev int64
	late       sql.NullInt64 // read only when the order reads the clock
	entry      *cachedTask
}

// listTasksEncoded runs a compiled filter in the given order and returns
// the matching tasks as one JSON array (brief or full). A listing asked
// for again while nothing changed is the reply kept (task_listresult.go);
// otherwise each task's cached encoding is reused while its revision
// holds.
func (s *Store) listTasksEncoded(ctx context.Context, f *compiledFilter, sortBy string, now time.Time, brief bool) (encodedNodes, error) {
	query, args, clocked, err := listingQuery(f, sortBy, now)
	if err != nil {
		return nil, err
	}
	keyArgs := args
	if clocked {
		keyArgs = args[:len(args)-1]
	}
	key, clock := listingKey(query, keyArgs, brief), now.UnixMilli()
	version, versioned := s.listResults.version(ctx, s.db)
	if versioned {
		if enc := s.listResults.get(key, version, clock); enc != nil {
			return enc, nil
		}
	}
	listed, enc, err := s.readListing(ctx, query, args, clocked, brief)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	if versioned {
		r := &listResult{version: version, encoded: enc}
		if clocked {
			r.from, r.until = clock, lateBound(listed, clock)
		}
		s.listResults.put(key, r)
	}
	return enc, nil
}

// readListing runs a listing's query and encodes its tasks, reusing each
// task's cached encoding while its revision holds. One read transaction
// gives the ids, the project paths and any rows not cached.
func (s *Store) readListing(ctx context.Context, query string, args []any, clocked, brief bool) ([]*listedTask, encodedNodes, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	listed, err := s.queryListed(ctx, tx, query, clocked, args...)
	if err != nil {
		return nil, nil, err
	}
	paths, err := s.projectPathsIn(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	missing := s.listCache.lookup(listed, paths)
	if err := s.encodeMissing(ctx, tx, missing, paths); err != nil {
		return nil, nil, err
	}
	return listed, joinListed(listed, brief), nil
}

// listingQuery is the query of a listing's rows: tasks' rowids and
// revisions, filtered and sorted, and their late times when the order
// reads the clock (clocked: the clock is then the last argument). nodes is
// joined for the filters and sorts that read it (title); SQLite drops the
// LEFT JOIN on its primary key when nothing does, so a listing by project
// reads the covering index tasks_project alone (TestFilterUsesIndexes).
func listingQuery(f *compiledFilter, sortBy string, now time.Time) (query string, args []any, clocked bool, err error) {
	order, oargs, err := sortClause(sortBy, now)
	if err != nil {
		return "", nil, false, err
	}
	cols := `t.rowid, t.rev`
	if clocked = len(oargs) > 0; clocked {
		cols += `, t.late_at` // the order reads it already
	}
	query = `SELECT ` + cols + ` FROM tasks t LEFT JOIN nodes n ON n.id = t.node_id WHERE 1` + f.where + order
	return query, append(append([]any{}, f.args...), oargs...), clocked, nil
}

// queryListed reads the rowids and revisions of a listing (and the late
// times, when late), in order.
func (s *Store) queryListed(ctx context.Context, tx *sql.Tx, query string, late bool, args ...any) ([]*listedTask, error) {
	rows, err := s.listStmts.query(ctx, s.db, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*listedTask
	for rows.Next() {
		l := &listedTask{}
		dest := []any{&l.rowid, &l.rev}
		if late {
			dest = append(dest, &l.late)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// projectPathsIn maps every project id to its path.
func (s *Store) projectPathsIn(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := s.listStmts.query(ctx, s.db, tx, `SELECT node_id, path FROM projects`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	paths := map[string]string{}
	for rows.Next() {
		var id, path string
		if err := rows.Scan(&id, &path); err != nil {
			return nil, err
		}
		paths[id] = path
	}
	return paths, rows.Err()
}

// listChunk bounds the ids of one IN (...) query (SQLite allows 32766
// parameters).
const listChunk = 500

// encodeMissing reads the rows of tasks whose entry is not current,
// encodes them and stores the entries.
func (s *Store) encodeMissing(ctx context.Context, tx *sql.Tx, missing []*listedTask, paths map[string]string) error {
	missing = slices.Clone(missing)
	slices.SortFunc(missing, func(a, b *listedTask) int { return cmp.Compare(a.rowid, b.rowid) })
	for start := 0; start < len(missing); start += listChunk {
		chunk := missing[start:min(start+listChunk, len(missing))]
		args := make([]any, len(chunk))
		for i, l := range chunk {
			args[i] = l.rowid
		}
		// In rowid order, so the i-th node is the i-th of the chunk.
		nodes, err := queryTasks(ctx, tx, taskSelect+` WHERE t.rowid IN (?`+strings.Repeat(",?", len(chunk)-1)+`) ORDER BY t.rowid`, args...)
		if err != nil {
			return err
		}
		if len(nodes) != len(chunk) {
			return fmt.Errorf("read %d of %d tasks in one snapshot", len(nodes), len(chunk))
		}
		for i, n := range nodes {
			l := chunk[i]
			e, err := encodeCachedTask(n, l.rev, paths)
			if err != nil {
				return err
			}
			l.entry = e
			s.listCache.put(l.rowid, e)
		}
	}
	return nil
}

// encodeCachedTask encodes n both ways.
func encodeCachedTask(n *Node, rev int64, paths map[string]string) (*cachedTask, error) {
	projectID := ""
	if n.Task != nil {
		projectID = n.Task.ProjectID
	}
	full, err := marshalJSON(n)
	if err != nil {
		return nil, fmt.Errorf("encode task %s: %w", n.ID, err)
	}
	brief, err := marshalJSON(n.brief())
	if err != nil {
		return nil, fmt.Errorf("encode task %s: %w", n.ID, err)
	}
	return &cachedTask{rev: rev, projectID: projectID, projectPath: paths[projectID], full: full, brief: brief}, nil
}

// joinListed writes the entries as one JSON array, in listing order.
func joinListed(listed []*listedTask, brief bool) encodedNodes {
	size := 2
	for _, l := range listed {
		size += len(l.entry.full) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	for i, l := range listed {
		if i > 0 {
			out = append(out, ',')
		}
		if brief {
			out = append(out, l.entry.brief...)
		} else {
			out = append(out, l.entry.full...)
		}
	}
	return append(out, ']')
}
