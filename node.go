// The Node type clients see, reading nodes from the store, and resolving handles and id prefixes.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Node is a doc or a task as clients see it. Times are RFC 3339 in JSON.
type Node struct {
	ID      string         `json:"id"`
	Handle  string         `json:"handle"`
	Kind    string         `json:"kind"`
	Title   string         `json:"title"`
	Body    string         `json:"body"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
	Deleted *time.Time     `json:"deleted,omitempty"`
	Task    *Task          `json:"task,omitempty"`
	Project *ProjectFields `json:"project,omitempty"` // kind project
	View    *ViewFields    `json:"view,omitempty"`    // kind view
}

// ProjectFields are the fields only projects have.
type ProjectFields struct {
	Parent   string `json:"parent,omitempty"` // the parent project's id
	Path     string `json:"path"`             // titles from the root, "/"-joined
	Archived bool   `json:"archived"`
}

// ViewFields are the fields only saved views have (the title is the name).
type ViewFields struct {
	Filter string `json:"filter"`
	Sort   string `json:"sort,omitempty"`
}

// Task holds the fields only tasks have.
type Task struct {
	State          string     `json:"state"`
	Attention      string     `json:"attention"`
	Do             *time.Time `json:"do,omitempty"`
	Late           *time.Time `json:"late,omitempty"`
	Recur          string     `json:"recur,omitempty"`
	RecurAfterDone bool       `json:"recur_after_done,omitempty"`
	Occurrences    int        `json:"occurrences,omitempty"`
	Project        string     `json:"project,omitempty"`    // the project's path, for display
	ProjectID      string     `json:"project_id,omitempty"` // the project node
	legacyProject  string     // tasks.project: a project string not yet adopted (project.go)
	Tags           []string   `json:"tags"`
	Context        string     `json:"context,omitempty"`
	Log            string     `json:"log,omitempty"`
}

// nodeSelect selects every column scanNode reads; append a WHERE clause.
// tp is a task's project (for its path), pj a project's own row, v a
// view's.
const nodeSelect = `SELECT n.id, n.handle, n.kind, n.title, n.body, n.created, n.updated, n.deleted,
	t.state, t.attention, t.do_at, t.late_at, t.recur, t.recur_after_done, t.occurrences, t.project, t.tags, t.context_id, t.log_id,
	t.project_id, tp.path, pj.parent, pj.archived, pj.path, v.filter, v.sort
	FROM nodes n LEFT JOIN tasks t ON t.node_id = n.id LEFT JOIN projects tp ON tp.node_id = t.project_id
	LEFT JOIN projects pj ON pj.node_id = n.id LEFT JOIN views v ON v.node_id = n.id`

type rowScanner interface{ Scan(dest ...any) error }

// scanNode reads one row of nodeSelect.
func scanNode(r rowScanner) (*Node, error) {
	var (
		n                       Node
		created, updated        int64
		deleted, doAt, lateAt   sql.NullInt64
		state, attention, recur sql.NullString
		project, tags, ctx, log sql.NullString
		rad, occ                sql.NullInt64
		projectID, projectPath  sql.NullString
		parent, path            sql.NullString
		archived                sql.NullInt64
		filter, sortBy          sql.NullString
	)
	err := r.Scan(&n.ID, &n.Handle, &n.Kind, &n.Title, &n.Body, &created, &updated, &deleted,
		&state, &attention, &doAt, &lateAt, &recur, &rad, &occ, &project, &tags, &ctx, &log,
		&projectID, &projectPath, &parent, &archived, &path, &filter, &sortBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	n.Created, n.Updated = msTime(created), msTime(updated)
	n.Deleted = optTime(deleted)
	if n.Kind == "task" {
		t := &Task{State: state.String, Attention: attention.String, Do: optTime(doAt), Late: optTime(lateAt),
			Recur: recur.String, RecurAfterDone: rad.Int64 != 0, Occurrences: int(occ.Int64),
			Project: project.String, ProjectID: projectID.String, legacyProject: project.String, Context: ctx.String, Log: log.String, Tags: []string{}}
		if t.ProjectID != "" {
			// The path of the project it references (empty while the
			// project has not arrived by sync yet).
			t.Project = projectPath.String
		}
		if tags.String != "" {
			if err := json.Unmarshal([]byte(tags.String), &t.Tags); err != nil {
				return nil, fmt.Errorf("node %s: tags: %w", n.ID, err)
			}
		}
		n.Task = t
	}
	switch n.Kind {
	case "project":
		n.Project = &ProjectFields{Parent: parent.String, Path: path.String, Archived: archived.Int64 != 0}
	case "view":
		n.View = &ViewFields{Filter: filter.String, Sort: sortBy.String}
	}
	return &n, nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := msTime(v.Int64)
	return &t
}

func optMillis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// fieldValues returns every field of n in the JSON shapes ops carry.
func (n *Node) fieldValues() map[string]any {
	m := map[string]any{"title": n.Title, "body": n.Body, "deleted": optMillis(n.Deleted)}
	if t := n.Task; t != nil {
		m["state"] = t.State
		m["attention"] = t.Attention
		m["do"] = optMillis(t.Do)
		m["late"] = optMillis(t.Late)
		m["recur"] = t.Recur
		m["recur_after_done"] = t.RecurAfterDone
		m["occurrences"] = t.Occurrences
		m["project"] = t.legacyProject
		m["project_id"] = t.ProjectID
		m["tags"] = append([]string{}, t.Tags...)
		m["context"] = t.Context
		m["log"] = t.Log
	}
	if p := n.Project; p != nil {
		m["parent"] = p.Parent
		m["archived"] = p.Archived
	}
	if v := n.View; v != nil {
		m["filter"] = v.Filter
		m["sort"] = v.Sort
	}
	return m
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// ambiguousError lists the nodes an ambiguous id prefix matches.
type ambiguousError struct {
	ref        string
	candidates []*Node
	more       bool // more nodes match than are listed
}

// maxCandidates is how many matches an ambiguous id lists.
const maxCandidates = 10

func (e *ambiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "id %q is ambiguous; it matches:", e.ref)
	for _, n := range e.candidates {
		fmt.Fprintf(&b, "\n  %s  %s  %s", n.Handle, n.ID, n.Title)
	}
	if e.more {
		b.WriteString("\n  ... and more: type more of the id")
	}
	return b.String()
}

// resolveID turns what a person typed (a handle, a full id, or an
// unambiguous prefix of either) into a node id. Deleted nodes resolve too;
// callers decide whether a tombstone is acceptable.
func resolveID(ctx context.Context, q querier, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("empty id: %w", errNotFound)
	}
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM nodes WHERE handle=? OR id=?`, strings.ToLower(ref), strings.ToUpper(ref)).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("look up %q: %w", ref, err)
	}
	lo, up := strings.ToLower(ref), strings.ToUpper(ref)
	rows, err := q.QueryContext(ctx, nodeSelect+` WHERE (n.handle >= ? AND n.handle < ?) OR (n.id >= ? AND n.id < ?) ORDER BY n.deleted IS NOT NULL, n.id LIMIT ?`,
		lo, lo+"\xff", up, up+"\xff", maxCandidates+1)
	if err != nil {
		return "", fmt.Errorf("look up %q: %w", ref, err)
	}
	defer rows.Close()
	var found []*Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return "", fmt.Errorf("look up %q: %w", ref, err)
		}
		found = append(found, n)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("look up %q: %w", ref, err)
	}
	switch {
	case len(found) == 0:
		return "", fmt.Errorf("no task or doc with id %q: %w", ref, errNotFound)
	case len(found) == 1 || (found[0].Deleted == nil && found[1].Deleted != nil):
		// One match, or one live match among removed ones (live nodes
		// sort first): removed nodes never make a prefix ambiguous, or
		// every removal would make more prefixes stop working.
		return found[0].ID, nil
	}
	if len(found) > maxCandidates {
		return "", &ambiguousError{ref: ref, candidates: found[:maxCandidates], more: true}
	}
	return "", &ambiguousError{ref: ref, candidates: found}
}

// getNode reads one node by exact id.
func getNode(ctx context.Context, q querier, id string) (*Node, error) {
	n, err := scanNode(q.QueryRowContext(ctx, nodeSelect+` WHERE n.id=?`, id))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	return n, nil
}

// arrivedNode is getNode for a node that may not have arrived yet (a
// task's companion doc still on its way from another replica): nil, and
// no error, when there is no such node; any other failure is an error.
func arrivedNode(ctx context.Context, q querier, id string) (*Node, error) {
	n, err := getNode(ctx, q, id)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	return n, err
}
