package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// nodeMethods are the RPC methods on tasks and docs.
func nodeMethods(s *Store) map[string]handler {
	return map[string]handler{
		"task.create": s.rpcTaskCreate,
		"task.list":   s.rpcTaskList,
		"node.get":    s.rpcNodeGet,
	}
}

type taskCreateParams struct {
	Title string `json:"title"`
}

func (s *Store) rpcTaskCreate(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskCreateParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	p.Title = strings.TrimSpace(p.Title)
	if p.Title == "" {
		return nil, invalidParams("a task needs a title: task.create {\"title\": \"…\"}")
	}
	var id string
	err := s.Write(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.Create("task", map[string]any{"title": p.Title})
		return err
	})
	if err != nil {
		return nil, err
	}
	return getNode(ctx, s.db, id)
}

type taskListParams struct {
	State string `json:"state"`
}

func (s *Store) rpcTaskList(ctx context.Context, params json.RawMessage) (any, error) {
	p := taskListParams{State: "outstanding"}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	switch p.State {
	case "outstanding", "done", "dropped", "all":
	default:
		return nil, invalidParams("unknown state %q: want outstanding, done, dropped or all", p.State)
	}
	q := nodeSelect + ` WHERE n.kind='task' AND n.deleted IS NULL`
	args := []any{}
	if p.State != "all" {
		q += ` AND t.state=?`
		args = append(args, p.State)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY n.created, n.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	out := []*Node{}
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

type idParams struct {
	ID string `json:"id"`
}

func (s *Store) rpcNodeGet(ctx context.Context, params json.RawMessage) (any, error) {
	var p idParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, invalidParams("missing param \"id\"")
	}
	id, err := resolveID(ctx, s.db, p.ID)
	if err != nil {
		return nil, err
	}
	return getNode(ctx, s.db, id)
}
