// project.go owns first-class projects: ids derived from paths, derived paths, lookup and legacy adoption.

package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A project is a node of kind "project": its title is its own name, its
// parent (another project's id, or "") and archived flag live in the
// projects table, and its body holds its notes. Its path ("Home/Garden")
// is derived from the titles of its ancestors and kept in projects.path by
// refreshProjectPaths, so renaming or moving a project touches no task:
// tasks reference it by id (tasks.project_id).
//
// Ids: a project created at a path gets an id derived from that path
// (projectIDFor), so two replicas that create the same path offline
// create the same node, and sync merges them field by field like any
// other node. The id is a valid ULID: time 0 and 80 bits of SHA-256 of the
// lower-cased path.

// projectRef is one live project as lookups see it.
type projectRef struct {
	ID       string `json:"id"`
	Handle   string `json:"handle"`
	Title    string `json:"title"`
	Path     string `json:"path"`
	Parent   string `json:"parent,omitempty"`
	Archived bool   `json:"archived"`
}

// projectIDFor is the id a project created at path gets: salt 0 unless a
// node already has that id (a project renamed away from the path, or
// removed), then the first free salt. Replicas that have seen the same
// history pick the same id.
func projectIDFor(path string, salt int) string { return derivedID("project", path, salt) }

// derivedID is the id of a node of kind whose identity is key (a project's
// path, a view's name), case-insensitively: a ULID with time 0 and 80
// bits of SHA-256. salt > 0 picks another when the first is taken.
func derivedID(kind, key string, salt int) string {
	key = "heph " + kind + "\x00" + strings.ToLower(key)
	if salt > 0 {
		key += "\x00" + strconv.Itoa(salt)
	}
	sum := sha256.Sum256([]byte(key))
	var b [16]byte
	copy(b[6:], sum[:10]) // time 0, then 80 bits of the hash
	return encodeULID(b)
}

// projectIndex lists every live project with its path, sorted by path
// (case-insensitively). Quick add's #Project matching uses it.
func (s *Store) projectIndex(ctx context.Context) ([]projectRef, error) {
	return projectIndexOf(ctx, s.db)
}

func projectIndexOf(ctx context.Context, q querier) ([]projectRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT n.id, n.handle, n.title, p.path, p.parent, p.archived
		FROM projects p JOIN nodes n ON n.id = p.node_id WHERE n.deleted IS NULL ORDER BY p.path COLLATE NOCASE, n.id`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	out := []projectRef{}
	for rows.Next() {
		var r projectRef
		var archived int64
		if err := rows.Scan(&r.ID, &r.Handle, &r.Title, &r.Path, &r.Parent, &archived); err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		r.Archived = archived != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// noteProjectWrite marks the derived paths stale when a write may change
// them: a project's parent, or the title or tombstone of a project.
func (t *Tx) noteProjectWrite(id, field string, created bool) error {
	if t.projectsDirty {
		return nil
	}
	switch field {
	case "parent":
		t.projectsDirty, t.projects = true, nil
	case "title", "deleted":
		if created {
			return nil // a project's create sets its parent too
		}
		var one int
		err := t.queryRow(`SELECT 1 FROM projects WHERE node_id=?`, id).Scan(&one)
		if err == nil {
			t.projectsDirty, t.projects = true, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("project %s: %w", id, err)
		}
	}
	return nil
}

// refreshProjectPaths recomputes every project's path when this
// transaction changed a title, parent or tombstone of one. Projects are
// few; a walk of all of them is cheaper than tracking subtrees. A cycle
// (two replicas moving projects under each other offline) is cut at its
// smallest id, which every replica picks alike; a missing parent (not
// synced yet) makes a project a root.
func (t *Tx) refreshProjectPaths() error {
	if !t.projectsDirty {
		return nil
	}
	t.projectsDirty, t.projects = false, nil
	rows, err := t.query(`SELECT p.node_id, n.title, p.parent, p.path FROM projects p JOIN nodes n ON n.id = p.node_id`)
	if err != nil {
		return fmt.Errorf("project paths: %w", err)
	}
	type proj struct{ title, parent, path string }
	all := map[string]*proj{}
	for rows.Next() {
		var id string
		p := &proj{}
		if err := rows.Scan(&id, &p.title, &p.parent, &p.path); err != nil {
			rows.Close()
			return fmt.Errorf("project paths: %w", err)
		}
		all[id] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("project paths: %w", err)
	}
	parents := make(map[string]string, len(all))
	for id, p := range all {
		parents[id] = p.parent
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		chain := projectChain(id, parents)
		names := make([]string, len(chain))
		for i, c := range chain {
			names[len(chain)-1-i] = all[c].title
		}
		path := strings.Join(names, "/")
		if path != all[id].path {
			if _, err := t.exec(`UPDATE projects SET path=? WHERE node_id=?`, path, id); err != nil {
				return fmt.Errorf("project paths: %w", err)
			}
		}
	}
	return nil
}

// projectChain is id followed by its ancestors, nearest first. A parent
// that is unknown ends the chain; a cycle is cut where it closes at its
// smallest member, so every member of the cycle gets a chain that ends at
// that member.
func projectChain(id string, parents map[string]string) []string {
	chain := []string{id}
	seen := map[string]int{id: 0}
	for cur := id; ; {
		p, ok := parents[cur]
		if !ok || p == "" {
			return chain
		}
		if _, known := parents[p]; !known {
			return chain
		}
		if at, loop := seen[p]; loop {
			// chain[at:] is the cycle; stop at its smallest id.
			min := at
			for i := at; i < len(chain); i++ {
				if chain[i] < chain[min] {
					min = i
				}
			}
			if min < at {
				return chain
			}
			return chain[:min+1]
		}
		seen[p] = len(chain)
		chain = append(chain, p)
		cur = p
	}
}

// projectNotFound is the error for a project reference that names none.
func projectNotFound(ref string) error {
	return &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("no project %q: give a name, a path (Home/Garden), a handle or an id; heph project list shows them", ref)}
}

// resolveProject turns what a person typed into a live project's id: a
// path or name (case-insensitive; a name must be unique), a handle or an
// id (or unambiguous prefix of either).
func resolveProject(ctx context.Context, q querier, ref string) (projectRef, error) {
	all, err := projectIndexOf(ctx, q)
	if err != nil {
		return projectRef{}, err
	}
	return resolveProjectIn(ctx, q, all, ref)
}

// resolveProjectIn is resolveProject against a project index at hand.
func resolveProjectIn(ctx context.Context, q querier, all []projectRef, ref string) (projectRef, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return projectRef{}, invalidParams("empty project name")
	}
	norm := strings.ToLower(strings.Trim(ref, "/"))
	var byName []projectRef
	for _, p := range all {
		if strings.ToLower(p.Path) == norm {
			return p, nil
		}
		if strings.ToLower(p.Title) == norm {
			byName = append(byName, p)
		}
	}
	if len(byName) == 1 {
		return byName[0], nil
	}
	if len(byName) > 1 {
		paths := make([]string, len(byName))
		for i, p := range byName {
			paths[i] = p.Path
		}
		return projectRef{}, invalidParams("project %q is ambiguous: give its path (%s)", ref, strings.Join(paths, ", "))
	}
	id, err := resolveID(ctx, q, ref)
	if err != nil {
		var amb *ambiguousError
		if errors.As(err, &amb) {
			return projectRef{}, err
		}
		return projectRef{}, projectNotFound(ref)
	}
	for _, p := range all {
		if p.ID == id {
			return p, nil
		}
	}
	return projectRef{}, projectNotFound(ref)
}

// projectSubtree returns the ids of p and every live project under it.
func projectSubtree(all []projectRef, root string) []string {
	children := map[string][]string{}
	for _, p := range all {
		children[p.Parent] = append(children[p.Parent], p.ID)
	}
	out := []string{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
		if len(out) > len(all)+1 {
			break // a cycle: every live project is listed already
		}
	}
	return out
}

// checkProjectName validates one path segment.
func checkProjectName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalidParams("a project needs a name")
	case strings.Contains(name, "/"):
		return "", invalidParams("bad project name %q: a name has no \"/\" (give the parent with --parent, or a path to project add)", name)
	case badTitle(name):
		return "", invalidParams("bad project name %q: one line without control characters", name)
	case strings.EqualFold(name, "none"):
		return "", invalidParams("a project cannot be called %q (it means no project)", name)
	}
	return name, nil
}

// createProject creates a project named name under parent ("" for the
// top) in tx, with the id derived from its path. It refuses a path that a
// live project has.
func createProject(tx *Tx, name, parent string) (string, error) {
	name, err := checkProjectName(name)
	if err != nil {
		return "", err
	}
	path := name
	if parent != "" {
		var pp string
		if err := tx.queryRow(`SELECT path FROM projects WHERE node_id=?`, parent).Scan(&pp); err != nil {
			return "", fmt.Errorf("project parent %s: %w", parent, err)
		}
		path = pp + "/" + name
	}
	var existing string
	err = tx.queryRow(`SELECT n.handle FROM projects p JOIN nodes n ON n.id=p.node_id
		WHERE n.deleted IS NULL AND p.path = ? COLLATE NOCASE`, path).Scan(&existing)
	if err == nil {
		return "", invalidParams("project %q exists already (%s)", path, existing)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("project %q: %w", path, err)
	}
	id, err := createDerived(tx, "project", path, map[string]any{"title": name, "parent": parent, "archived": false})
	if err != nil {
		return "", err
	}
	tx.projectsDirty, tx.projects = true, nil
	return id, nil
}

// createDerived creates a node of kind with the first derivedID of key
// that no node (live or removed) has yet.
func createDerived(tx *Tx, kind, key string, fields map[string]any) (string, error) {
	for salt := 0; ; salt++ {
		id := derivedID(kind, key, salt)
		var one int
		err := tx.queryRow(`SELECT 1 FROM nodes WHERE id=?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return id, tx.createWithID(id, kind, fields)
		}
		if err != nil {
			return "", fmt.Errorf("%s %q: %w", kind, key, err)
		}
	}
}

// ensureProjectPath returns the live project at path, creating it and any
// missing ancestors (importers, legacy adoption, --project on a new path).
func ensureProjectPath(tx *Tx, path string) (string, error) {
	path, err := normalizeProject(path)
	if err != nil || path == "" {
		return "", err
	}
	parent, sofar := "", ""
	for _, seg := range strings.Split(path, "/") {
		if sofar != "" {
			sofar += "/"
		}
		sofar += seg
		// Paths of projects made earlier in this transaction must be
		// current before the lookup.
		if err := tx.refreshProjectPaths(); err != nil {
			return "", err
		}
		var id string
		err := tx.queryRow(`SELECT p.node_id FROM projects p JOIN nodes n ON n.id=p.node_id
			WHERE n.deleted IS NULL AND p.path = ? COLLATE NOCASE ORDER BY n.id LIMIT 1`, sofar).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if id, err = createProject(tx, seg, parent); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", fmt.Errorf("project %q: %w", sofar, err)
		}
		parent = id
	}
	if err := tx.refreshProjectPaths(); err != nil {
		return "", err
	}
	return parent, nil
}

// taskProjectFields are the fields a task's project change sets: the id,
// and the legacy string cleared so adoption never brings it back.
func taskProjectFields(id string) map[string]any {
	return map[string]any{"project_id": id, "project": ""}
}

// projectForTask resolves a --project value for a task: "" or "none"
// clear it; an existing project by name, path, handle or id; a path that
// names no project is created (as heph always did for project strings).
func projectForTask(tx *Tx, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || ref == "none" {
		return "", nil
	}
	all, err := tx.projectIndex()
	if err != nil {
		return "", err
	}
	p, err := resolveProjectIn(tx.Context(), tx.SQL(), all, ref)
	if err == nil {
		return p.ID, nil
	}
	var amb *ambiguousError
	if errors.As(err, &amb) {
		return "", err
	}
	var rerr *rpcError
	if errors.As(err, &rerr) && strings.Contains(rerr.Message, "ambiguous") {
		return "", err
	}
	return ensureProjectPath(tx, ref)
}

// adoptLegacyProjects turns project strings (tasks.project, as releases
// before projects wrote them, or as old ops still arriving by sync carry
// them) into project nodes with parents, and points each task at its
// project by id. It records ops, so every replica converges; the ops have
// no undo batch, so "heph undo" never reverts the adoption. Ids derived
// from paths make replicas that adopt the same strings create the same
// projects. Nothing is lost: the path becomes the project.
func (s *Store) adoptLegacyProjects(ctx context.Context) (int, error) {
	var pending int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tasks WHERE project != '' AND project_id = ''`).Scan(&pending); err != nil {
		return 0, fmt.Errorf("adopt project strings: %w", err)
	}
	if pending == 0 {
		return 0, nil
	}
	n := 0
	err := s.Write(ctx, func(tx *Tx) error {
		tx.Batch = ""
		rows, err := tx.query(`SELECT node_id, project FROM tasks WHERE project != '' AND project_id = '' ORDER BY project, node_id`)
		if err != nil {
			return fmt.Errorf("adopt project strings: %w", err)
		}
		type task struct{ id, project string }
		var tasks []task
		for rows.Next() {
			var t task
			if err := rows.Scan(&t.id, &t.project); err != nil {
				rows.Close()
				return fmt.Errorf("adopt project strings: %w", err)
			}
			tasks = append(tasks, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("adopt project strings: %w", err)
		}
		ids := map[string]string{}
		for _, t := range tasks {
			id, ok := ids[t.project]
			if !ok {
				if id, err = ensureProjectPath(tx, t.project); err != nil {
					return fmt.Errorf("adopt project %q: %w", t.project, err)
				}
				ids[t.project] = id
			}
			if err := tx.Set(t.id, taskProjectFields(id)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// projectIndex is the live projects as this transaction sees them, read
// once and kept until a project changes (imports resolve a project per
// task).
func (t *Tx) projectIndex() ([]projectRef, error) {
	if err := t.refreshProjectPaths(); err != nil {
		return nil, err
	}
	if t.projects == nil {
		all, err := projectIndexOf(t.ctx, t.tx)
		if err != nil {
			return nil, err
		}
		t.projects = all
	}
	return t.projects, nil
}

// setTaskProject points the new task's fields at the project ref names
// (projectForTask); "" leaves them alone.
func setTaskProject(tx *Tx, fields map[string]any, ref string) error {
	if strings.TrimSpace(ref) == "" {
		return nil
	}
	pid, err := projectForTask(tx, ref)
	if err != nil {
		return err
	}
	for k, v := range taskProjectFields(pid) {
		fields[k] = v
	}
	return nil
}
