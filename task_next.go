// What is next: task.next's ranking and its reasons.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// "What is next": outstanding, live tasks that are not blue and whose do
// date has come (or that are red), ordered: past their late date first
// (most late first), then red, orange, white, then oldest first; ties by
// id. Each group is one LIMITed range scan of a partial index (migration
// 2), so the answer costs the limit, not the number of tasks.

// defaultNextLimit is how many tasks next shows without --limit.
const defaultNextLimit = 10

// nextTask is one entry of task.next: the node plus why it is there.
type nextTask struct {
	*Node
	Why    string `json:"why"`
	LateBy int64  `json:"late_by,omitempty"` // seconds past the late date
}

// nextTasks answers "what is next" at now.
// f (compileFilter) narrows it; nil is no filter.
func nextTasks(ctx context.Context, q querier, now time.Time, limit int, f *compiledFilter) ([]nextTask, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	nowMs := now.UnixMilli()
	var cond string
	var fargs []any
	if f != nil {
		cond, fargs = f.where, f.args
	}
	candidate := ` AND t.arank < 3 AND (t.do_at IS NULL OR t.do_at <= ? OR t.arank = 0)`
	late := taskSelectBy("tasks_late") + ` WHERE t.state = 'outstanding' AND t.node_deleted IS NULL AND t.late_at IS NOT NULL AND t.late_at <= ?` +
		candidate + cond + ` ORDER BY t.late_at, t.arank, t.node_created, t.node_id LIMIT ?`
	out, err := queryTasks(ctx, q, late, append(append([]any{nowMs, nowMs}, fargs...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("next: %w", err)
	}
	result := make([]nextTask, 0, len(out))
	for _, n := range out {
		by := now.Sub(*n.Task.Late)
		result = append(result, nextTask{Node: n, Why: formatLate(*n.Task.Late, now), LateBy: int64(by / time.Second)})
	}
	if limit > 0 {
		limit -= len(result)
		if limit == 0 {
			return result, nil
		}
	}
	rest := taskSelectBy("tasks_next") + ` WHERE t.state = 'outstanding' AND t.node_deleted IS NULL AND (t.late_at IS NULL OR t.late_at > ?)` +
		candidate + cond + ` ORDER BY t.arank, t.node_created, t.node_id LIMIT ?`
	out, err = queryTasks(ctx, q, rest, append(append([]any{nowMs, nowMs}, fargs...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("next: %w", err)
	}
	for _, n := range out {
		why := n.Task.Attention
		if why == "white" {
			why += ", " + waitingSince(n, now)
		}
		result = append(result, nextTask{Node: n, Why: why})
	}
	return result, nil
}

// waitingSince says how long a white candidate has been waiting: since it
// became a candidate, which is its do date when that came after its
// creation, else its creation ("waiting 3d since do date", "waiting 5h
// since created").
func waitingSince(n *Node, now time.Time) string {
	if t := n.Task; t != nil && t.Do != nil && t.Do.After(n.Created) && !t.Do.After(now) {
		return "waiting " + shortDuration(now.Sub(*t.Do)) + " since do date"
	}
	return "waiting " + shortDuration(now.Sub(n.Created)) + " since created"
}

// shortDuration renders a duration the way next explains itself: "<1m", "45m",
// "5h", "3d", "2w".
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 14*24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%dw", int(d/(7*24*time.Hour)))
}

type nextParams struct {
	Limit   *int   `json:"limit"`
	Project string `json:"project"`
	Tag     string `json:"tag"`
	Filter  string `json:"filter"`
}

// nextResult is the reply of task.next.
type nextResult struct {
	Tasks []nextTask `json:"tasks"`
}

func (s *Store) rpcTaskNext(ctx context.Context, params json.RawMessage) (any, error) {
	var p nextParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	limit := defaultNextLimit
	if p.Limit != nil {
		if *p.Limit < 0 {
			return nil, invalidParams("param \"limit\" must be 0 (no limit) or more, not %d", *p.Limit)
		}
		limit = *p.Limit
	}
	now := s.now()
	f, err := s.paramFilter(ctx, p.Filter, p.Project, p.Tag, "", now)
	if err != nil {
		return nil, err
	}
	tasks, err := nextTasks(ctx, s.db, now, limit, f)
	if err != nil {
		return nil, err
	}
	return nextResult{Tasks: tasks}, nil
}
