// Listing tasks: the task query and its project/tag filter, task.list and the views (task.view).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// taskSelect is nodeSelect driven from tasks (CROSS JOIN keeps SQLite from
// reordering the loop), so an ORDER BY on a tasks index stops at LIMIT.
const taskSelect = `SELECT n.id, n.handle, n.kind, n.title, n.body, n.created, n.updated, n.deleted,
	t.state, t.attention, t.do_at, t.late_at, t.recur, t.recur_after_done, t.occurrences, t.project, t.tags, t.context_id, t.log_id
	FROM tasks t CROSS JOIN nodes n ON n.id = t.node_id`

// taskSelectBy is taskSelect through a named index ("INDEXED BY"), so the
// planner cannot prefer an index that would make it sort.
func taskSelectBy(index string) string {
	return strings.Replace(taskSelect, "FROM tasks t ", "FROM tasks t INDEXED BY "+index+" ", 1)
}

// taskFilter is the project / tag filter shared by next, list and views.
type taskFilter struct {
	Project string // matches the project and its sub-projects
	Tag     string
}

// sql returns the filter's conditions (each starting with " AND ") and args.
func (f taskFilter) sql() (string, []any) {
	var b strings.Builder
	var args []any
	if f.Project != "" {
		b.WriteString(` AND (t.project = ? OR substr(t.project, 1, ?) = ?)`)
		args = append(args, f.Project, len(f.Project)+1, f.Project+"/")
	}
	if f.Tag != "" {
		b.WriteString(` AND EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = ?)`)
		args = append(args, f.Tag)
	}
	return b.String(), args
}

// normalize checks the filter's values.
func (f *taskFilter) normalize() error {
	p, err := normalizeProject(f.Project)
	if err != nil {
		return err
	}
	f.Project = p
	if f.Tag != "" {
		if f.Tag, err = normalizeTag(f.Tag); err != nil {
			return err
		}
	}
	return nil
}

// queryTasks runs a taskSelect query.
func queryTasks(ctx context.Context, q querier, query string, args ...any) ([]*Node, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Node{}
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

type taskListParams struct {
	State   string `json:"state"`
	Project string `json:"project"`
	Tag     string `json:"tag"`
}

func (s *Store) rpcTaskList(ctx context.Context, params json.RawMessage) (any, error) {
	p := taskListParams{State: "outstanding"}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	f := taskFilter{Project: p.Project, Tag: p.Tag}
	if err := f.normalize(); err != nil {
		return nil, err
	}
	q := taskSelectBy("tasks_all") + ` WHERE t.node_deleted IS NULL`
	var args []any
	// Like attention, a state or view name is not case-sensitive.
	p.State = strings.ToLower(strings.TrimSpace(p.State))
	switch p.State {
	case "outstanding", "done", "dropped":
		q += ` AND t.state = ?`
		args = append(args, p.State)
	case "all", "":
	default:
		return nil, invalidParams("unknown state %q: want outstanding, done, dropped or all", p.State)
	}
	cond, fargs := f.sql()
	nodes, err := queryTasks(ctx, s.db, q+cond+` ORDER BY t.node_created, t.node_id`, append(args, fargs...)...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return nodes, nil
}

type taskViewParams struct {
	Name    string `json:"name"`
	Days    *int   `json:"days"`
	Project string `json:"project"`
	Tag     string `json:"tag"`
}

// defaultUpcomingDays is the window of "view upcoming".
const defaultUpcomingDays = 7

func (s *Store) rpcTaskView(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskViewParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	f := taskFilter{Project: p.Project, Tag: p.Tag}
	if err := f.normalize(); err != nil {
		return nil, err
	}
	if p.Days != nil && p.Name != "upcoming" {
		return nil, invalidParams("param \"days\" only applies to the upcoming view")
	}
	now := s.now()
	cond, fargs := f.sql()
	base := func(index string) string {
		return taskSelectBy(index) + ` WHERE t.state = 'outstanding' AND t.node_deleted IS NULL`
	}
	var q string
	var args []any
	switch strings.ToLower(strings.TrimSpace(p.Name)) {
	case "ondeck":
		q = base("tasks_next") + ` AND t.arank = 3` + cond + ` ORDER BY t.arank, t.node_created, t.node_id`
		args = fargs
	case "upcoming":
		days := defaultUpcomingDays
		if p.Days != nil {
			days = *p.Days
		}
		if days < 1 {
			return nil, invalidParams("param \"days\" must be 1 or more, not %d", days)
		}
		q = base("tasks_do") + ` AND t.do_at IS NOT NULL AND t.do_at > ? AND t.do_at <= ?` + cond + ` ORDER BY t.do_at, t.arank, t.node_created, t.node_id`
		args = append([]any{now.UnixMilli(), now.AddDate(0, 0, days).UnixMilli()}, fargs...)
	case "late":
		q = base("tasks_late") + ` AND t.late_at IS NOT NULL AND t.late_at <= ?` + cond + ` ORDER BY t.late_at, t.arank, t.node_created, t.node_id`
		args = append([]any{now.UnixMilli()}, fargs...)
	case "":
		return nil, invalidParams("missing param \"name\": want ondeck, upcoming or late")
	default:
		return nil, invalidParams("unknown view %q: want ondeck, upcoming or late", p.Name)
	}
	nodes, err := queryTasks(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", p.Name, err)
	}
	return nodes, nil
}
