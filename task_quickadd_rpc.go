// Quick add over RPC (task.parse, task.quickadd) and the project lookup it matches #Project against.

package main

import (
	"context"
	"encoding/json"
	"strings"
)

// projectLookup lists the projects #Project may name. The store's
// implementation is quickAddProjects.
type projectLookup interface {
	quickAddProjects(ctx context.Context, q querier) ([]projectRef, error)
}

// quickAddProjects lists the projects #Project can name: every live,
// unarchived project (project.go's index).
func (s *Store) quickAddProjects(ctx context.Context, q querier) ([]projectRef, error) {
	all, err := projectIndexOf(ctx, q)
	if err != nil {
		return nil, err
	}
	live := all[:0]
	for _, p := range all {
		if !p.Archived {
			live = append(live, p)
		}
	}
	return live, nil
}

// quickAddParams are the params of task.parse and task.quickadd. TZ, when
// given, is the IANA zone relative dates count in (a web client far from
// its hub); the default is hephd's.
type quickAddParams struct {
	Text string `json:"text"`
	TZ   string `json:"tz"`
}

// maxQuickAddText bounds the text quick add reads.
const maxQuickAddText = 8 << 10

// quickAddParse checks p and parses its text against the store's projects.
func (s *Store) quickAddParse(ctx context.Context, q querier, p quickAddParams) (quickAddResult, error) {
	if strings.TrimSpace(p.Text) == "" {
		return quickAddResult{}, invalidParams("missing param \"text\": say what the task is, e.g. \"Water plants tomorrow p2\"")
	}
	if len(p.Text) > maxQuickAddText {
		return quickAddResult{}, invalidParams("param \"text\" is %d bytes; quick add takes at most %d (a task is one line: put the rest in its context)", len(p.Text), maxQuickAddText)
	}
	if badTitle(strings.Join(strings.Fields(p.Text), " ")) {
		return quickAddResult{}, invalidParams("param \"text\" is one line without control characters")
	}
	now, err := s.clientNow(p.TZ)
	if err != nil {
		return quickAddResult{}, err
	}
	var lookup projectLookup = s
	projects, err := lookup.quickAddProjects(ctx, q)
	if err != nil {
		return quickAddResult{}, err
	}
	return parseQuickAdd(p.Text, now, projects), nil
}

func (s *Store) rpcTaskParse(ctx context.Context, params json.RawMessage) (any, error) {
	var p quickAddParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.quickAddParse(ctx, s.db, p)
}

func (s *Store) rpcTaskQuickAdd(ctx context.Context, params json.RawMessage) (any, error) {
	var p quickAddParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return quickAddTask(tx, p) })
}

// quickAddTask parses p's text in tx and creates the task it describes.
func quickAddTask(tx *Tx, p quickAddParams) (string, error) {
	r, err := tx.s.quickAddParse(tx.Context(), tx.SQL(), p)
	if err != nil {
		return "", err
	}
	if r.Title == "" {
		return "", invalidParams("%q leaves no title: every word was read as a field (quote words to keep them, as in \"tomorrow\")", p.Text)
	}
	return createTask(tx, r.taskInput())
}

// taskInput is the task a parse describes.
func (r quickAddResult) taskInput() taskInput {
	in := taskInput{Title: r.Title, Attention: r.Attention, Tags: r.Tags, Do: r.Do, Late: r.Late,
		Recur: r.Recur, RecurAfterDone: r.RecurAfterDone}
	if r.Project != nil {
		in.Project = r.Project.Path
		if r.Project.ID != "" {
			in.Project = r.Project.ID // --project accepts an id, and an id cannot be ambiguous
		}
	}
	return in
}
