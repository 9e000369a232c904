// Listing tasks: the task query and task.list (filters: filter.go; views: view.go).

package main

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// taskSelect is nodeSelect driven from tasks (CROSS JOIN keeps SQLite from
// reordering the loop), so an ORDER BY on a tasks index stops at LIMIT.
// tp is the task's project (for its path); the project and view columns
// of nodeSelect are NULL.
const taskSelect = `SELECT n.id, n.handle, n.kind, n.title, n.body, n.created, n.updated, n.deleted,
	t.state, t.attention, t.do_at, t.late_at, t.recur, t.recur_after_done, t.occurrences, t.project, t.tags, t.context_id, t.log_id,
	t.project_id, tp.path, NULL, NULL, NULL, NULL, NULL
	FROM tasks t CROSS JOIN nodes n ON n.id = t.node_id LEFT JOIN projects tp ON tp.node_id = t.project_id`

// taskSelectBy is taskSelect through a named index ("INDEXED BY"), so the
// planner cannot prefer an index that would make it sort.
func taskSelectBy(index string) string {
	return strings.Replace(taskSelect, "FROM tasks t ", "FROM tasks t INDEXED BY "+index+" ", 1)
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

// paramFilter compiles the filter, project, tag and state params of
// task.list, task.next, task.view and node.search.
func (s *Store) paramFilter(ctx context.Context, filter, project, tag, state string, now time.Time) (*compiledFilter, error) {
	extra, err := legacyFilterTerms(project, tag)
	if err != nil {
		return nil, err
	}
	if st := strings.TrimSpace(state); st != "" {
		extra = append(extra, &filterNode{key: "state", value: st})
	}
	return compileFilter(ctx, listingQueries{s}, filter, now, extra...)
}

type taskListParams struct {
	State   string `json:"state"`
	Project string `json:"project"`
	Tag     string `json:"tag"`
	Filter  string `json:"filter"`
	Sort    string `json:"sort"`
	Brief   bool   `json:"brief,omitempty"` // each task in brief (task_listcache.go)
}

func (s *Store) rpcTaskList(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskListParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	now := s.now()
	f, err := s.paramFilter(ctx, p.Filter, p.Project, p.Tag, p.State, now)
	if err != nil {
		return nil, err
	}
	return s.listTasksEncoded(ctx, f, p.Sort, now, p.Brief)
}
