// project_rpc.go owns the project.* RPC methods and task.bulk (issue 14's capture-projects part).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// projectInfo is a project with its task counts (its own and its
// sub-projects' outstanding tasks; late ones among them).
type projectInfo struct {
	projectRef
	Outstanding int `json:"outstanding"`
	Late        int `json:"late"`
}

// projectInfos lists projects with counts; archived ones only when asked.
func (s *Store) projectInfos(ctx context.Context, q querier, archived bool) ([]projectInfo, error) {
	all, err := projectIndexOf(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT project_id, count(*), coalesce(sum(late_at IS NOT NULL AND late_at <= ?), 0)
		FROM tasks WHERE node_deleted IS NULL AND state = 'outstanding' AND project_id != '' GROUP BY project_id`, s.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("count project tasks: %w", err)
	}
	own := map[string][2]int{}
	for rows.Next() {
		var id string
		var c [2]int
		if err := rows.Scan(&id, &c[0], &c[1]); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count project tasks: %w", err)
		}
		own[id] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count project tasks: %w", err)
	}
	out := []projectInfo{}
	for _, p := range all {
		if p.Archived && !archived {
			continue
		}
		info := projectInfo{projectRef: p}
		for _, id := range projectSubtree(all, p.ID) {
			info.Outstanding += own[id][0]
			info.Late += own[id][1]
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Store) rpcProjectList(ctx context.Context, params json.RawMessage) (any, error) {
	var p projectListParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.projectInfos(ctx, s.db, p.Archived)
}

type projectListParams struct {
	Archived bool `json:"archived"` // list archived projects too
}

// projectDetail is the reply of project.get and of the project changes.
type projectDetail struct {
	projectInfo
	Body     string        `json:"body"`
	Children []projectInfo `json:"children"`
	Node     *Node         `json:"node"`
}

// projectDetailOf reads project id with its counts and direct children.
func (s *Store) projectDetailOf(ctx context.Context, id string) (*projectDetail, error) {
	infos, err := s.projectInfos(ctx, s.db, true)
	if err != nil {
		return nil, err
	}
	n, err := getNode(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	d := &projectDetail{Node: n, Body: n.Body, Children: []projectInfo{}}
	if n.Deleted != nil {
		// A removed project (project.rm's reply) has no counts.
		d.projectInfo = projectInfo{projectRef: projectRef{ID: n.ID, Handle: n.Handle, Title: n.Title,
			Path: n.Project.Path, Parent: n.Project.Parent, Archived: n.Project.Archived}}
		return d, nil
	}
	for _, p := range infos {
		if p.ID == id {
			d.projectInfo = p
		}
		if p.Parent == id {
			d.Children = append(d.Children, p)
		}
	}
	return d, nil
}

type projectAddParams struct {
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

func (s *Store) rpcProjectAdd(ctx context.Context, params json.RawMessage) (any, error) {
	var p projectAddParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	var id string
	err := s.Write(ctx, func(tx *Tx) error {
		parent, name := "", strings.Trim(strings.TrimSpace(p.Name), "/")
		if ref := strings.TrimSpace(p.Parent); ref != "" && ref != "none" {
			pr, err := resolveProjectIn(ctx, tx.SQL(), mustIndex(tx), p.Parent)
			if err != nil {
				return err
			}
			parent = pr.ID
		} else if i := strings.LastIndex(name, "/"); i >= 0 {
			// A path: its missing ancestors are made too.
			var err error
			if parent, err = ensureProjectPath(tx, name[:i]); err != nil {
				return err
			}
			name = name[i+1:]
		}
		var err error
		id, err = createProject(tx, name, parent)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.projectDetailOf(ctx, id)
}

// mustIndex is the transaction's project index; an error reading it shows
// up as "no project" and again on the next read.
func mustIndex(tx *Tx) []projectRef {
	all, _ := tx.projectIndex()
	return all
}

func (s *Store) rpcProjectGet(ctx context.Context, params json.RawMessage) (any, error) {
	var p idParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	pr, err := resolveProject(ctx, s.db, p.ID)
	if err != nil {
		return nil, err
	}
	return s.projectDetailOf(ctx, pr.ID)
}

// projectChange resolves the project param ref and runs fn on it in one
// write, replying with the project after.
func (s *Store) projectChange(ctx context.Context, ref string, fn func(tx *Tx, p projectRef) error) (any, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, invalidParams("missing param \"id\"")
	}
	var id string
	err := s.Write(ctx, func(tx *Tx) error {
		p, err := resolveProjectIn(ctx, tx.SQL(), mustIndex(tx), ref)
		if err != nil {
			return err
		}
		id = p.ID
		return fn(tx, p)
	})
	if err != nil {
		return nil, err
	}
	return s.projectDetailOf(ctx, id)
}

// checkSiblingFree refuses a name that a live sibling under parent has.
func checkSiblingFree(tx *Tx, self, parent, name string) error {
	for _, o := range mustIndex(tx) {
		if o.ID != self && o.Parent == parent && strings.EqualFold(o.Title, name) {
			return invalidParams("project %q exists already (%s)", o.Path, o.Handle)
		}
	}
	return nil
}

func (s *Store) rpcProjectRename(ctx context.Context, params json.RawMessage) (any, error) {
	var p projectRenameParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.projectChange(ctx, p.ID, func(tx *Tx, pr projectRef) error {
		name, err := checkProjectName(p.Name)
		if err != nil {
			return err
		}
		if err := checkSiblingFree(tx, pr.ID, pr.Parent, name); err != nil {
			return err
		}
		return tx.Set(pr.ID, map[string]any{"title": name})
	})
}

func (s *Store) rpcProjectMove(ctx context.Context, params json.RawMessage) (any, error) {
	var p projectMoveParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.projectChange(ctx, p.ID, func(tx *Tx, pr projectRef) error {
		parent := ""
		if ref := strings.TrimSpace(p.Parent); ref != "" && ref != "none" {
			np, err := resolveProjectIn(ctx, tx.SQL(), mustIndex(tx), ref)
			if err != nil {
				return err
			}
			for _, id := range projectSubtree(mustIndex(tx), pr.ID) {
				if id == np.ID {
					return invalidParams("cannot move %s under %s: it is %s or one of its sub-projects", pr.Path, np.Path, pr.Path)
				}
			}
			parent = np.ID
		}
		if err := checkSiblingFree(tx, pr.ID, parent, pr.Title); err != nil {
			return err
		}
		return tx.Set(pr.ID, map[string]any{"parent": parent})
	})
}

func (s *Store) rpcProjectArchive(ctx context.Context, params json.RawMessage) (any, error) {
	var p projectArchiveParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.Archived == nil {
		return nil, invalidParams("missing param \"archived\": true archives, false unarchives")
	}
	return s.projectChange(ctx, p.ID, func(tx *Tx, pr projectRef) error {
		return tx.Set(pr.ID, map[string]any{"archived": *p.Archived})
	})
}

type projectRmParams struct {
	ID     string `json:"id"`
	MoveTo string `json:"move_to"`
	Clear  bool   `json:"clear"`
}

func (s *Store) rpcProjectRm(ctx context.Context, params json.RawMessage) (any, error) {
	var p projectRmParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.MoveTo != "" && p.Clear {
		return nil, invalidParams("give move_to or clear, not both")
	}
	return s.projectChange(ctx, p.ID, func(tx *Tx, pr projectRef) error { return removeProject(tx, pr, p) })
}

// removeProject tombstones a project without sub-projects; its tasks
// (of any state) must move (move_to) or lose their project (clear) in
// the same write, so one undo brings all back.
func removeProject(tx *Tx, pr projectRef, p projectRmParams) error {
	ctx := tx.Context()
	for _, o := range mustIndex(tx) {
		if o.Parent == pr.ID {
			return invalidParams("%s has sub-projects (%s): move or remove them first", pr.Path, o.Path)
		}
	}
	ids, err := queryStrings(ctx, tx.SQL(), `SELECT node_id FROM tasks WHERE project_id = ? AND node_deleted IS NULL ORDER BY node_id`, pr.ID)
	if err != nil {
		return err
	}
	target := ""
	switch {
	case len(ids) == 0:
	case p.MoveTo != "":
		np, err := resolveProjectIn(ctx, tx.SQL(), mustIndex(tx), p.MoveTo)
		if err != nil {
			return err
		}
		if np.ID == pr.ID {
			return invalidParams("cannot move the tasks of %s to itself", pr.Path)
		}
		target = np.ID
	case !p.Clear:
		return invalidParams("%d tasks are in %s: give move_to (--move-to PROJECT) to move them or clear (--clear) to leave them without a project", len(ids), pr.Path)
	}
	for _, id := range ids {
		if err := tx.Set(id, taskProjectFields(target)); err != nil {
			return err
		}
	}
	return tx.Set(pr.ID, map[string]any{"deleted": tx.s.now().UnixMilli()})
}

// queryStrings runs a query of one text column.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// maxBulk is the most tasks one task.bulk changes.
const maxBulk = 10000

type taskBulkParams struct {
	Action string          `json:"action"` // done, drop, rm or edit
	IDs    []string        `json:"ids"`
	Edit   json.RawMessage `json:"edit"` // task.edit's params without id, for edit
}

// bulkResult is the reply of task.bulk.
type bulkResult struct {
	Count int     `json:"count"`
	Nodes []*Node `json:"nodes"`
}

// rpcTaskBulk applies one action to several tasks in one write, so one
// undo step reverts the whole batch; any failure changes nothing.
func (s *Store) rpcTaskBulk(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskBulkParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if len(p.IDs) == 0 {
		return nil, invalidParams("missing param \"ids\": the tasks to change")
	}
	if len(p.IDs) > maxBulk {
		return nil, invalidParams("at most %d tasks at once, not %d", maxBulk, len(p.IDs))
	}
	var edit taskEditParams
	switch p.Action {
	case "done", "drop", "rm":
		if len(p.Edit) > 0 && string(p.Edit) != "null" {
			return nil, invalidParams("param \"edit\" only goes with action edit")
		}
	case "edit":
		if err := decodeParams(p.Edit, &edit); err != nil {
			return nil, err
		}
		if edit.ID != "" {
			return nil, invalidParams("param \"edit\" takes no id: the ids are in \"ids\"")
		}
	default:
		return nil, invalidParams("unknown action %q: want done, drop, rm or edit", p.Action)
	}
	var done []string
	seen := map[string]bool{}
	err := s.Write(ctx, func(tx *Tx) error {
		for _, ref := range p.IDs {
			id, err := bulkOne(tx, p.Action, ref, edit)
			if err != nil {
				return prefixError(ref+": ", err)
			}
			if !seen[id] {
				seen[id] = true
				done = append(done, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := bulkResult{Count: len(done), Nodes: []*Node{}}
	for _, id := range done {
		n, err := getNode(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		res.Nodes = append(res.Nodes, n)
	}
	return res, nil
}

// bulkOne applies action to one task of a bulk write.
func bulkOne(tx *Tx, action, ref string, edit taskEditParams) (string, error) {
	switch action {
	case "done":
		return finishOne(tx, ref, "done")
	case "drop":
		return finishOne(tx, ref, "drop")
	case "rm":
		n, err := liveTask(tx, ref)
		if err != nil {
			return "", err
		}
		return removeNode(tx, n.ID)
	}
	edit.ID = ref
	return editTask(tx, edit)
}

// prefixError puts prefix before err's message, keeping its RPC code.
func prefixError(prefix string, err error) error {
	re := toRPCError(err)
	return &rpcError{Code: re.Code, Message: prefix + re.Message, Data: re.Data}
}

type projectRenameParams struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type projectMoveParams struct {
	ID     string `json:"id"`
	Parent string `json:"parent"` // "" or "none": to the top
}

type projectArchiveParams struct {
	ID       string `json:"id"`
	Archived *bool  `json:"archived"`
}
