// The task.create, task.edit and node.* / doc.create handlers.

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

// dateParam parses a date param in heph's date syntax. It returns nil for
// "none" (clear).
func dateParam(name, s string, now time.Time) (*time.Time, error) {
	t, clear, err := parseDate(s, now)
	if err != nil {
		return nil, invalidParams("param %q: %v", name, err)
	}
	if clear {
		return nil, nil
	}
	return &t, nil
}

type taskCreateParams struct {
	Title          string   `json:"title"`
	Do             string   `json:"do"`
	Late           string   `json:"late"`
	Attention      string   `json:"attention"`
	Recur          string   `json:"recur"`
	RecurAfterDone bool     `json:"recur_after_done"`
	Project        string   `json:"project"`
	Tags           []string `json:"tags"`
}

func (s *Store) rpcTaskCreate(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskCreateParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	now := s.now()
	in := taskInput{Title: p.Title, Attention: p.Attention, Recur: p.Recur, RecurAfterDone: p.RecurAfterDone,
		Project: p.Project, Tags: p.Tags}
	var err error
	if p.Do != "" {
		if in.Do, err = dateParam("do", p.Do, now); err != nil {
			return nil, err
		}
	}
	if p.Late != "" {
		if in.Late, err = dateParam("late", p.Late, now); err != nil {
			return nil, err
		}
	}
	if p.RecurAfterDone && strings.TrimSpace(p.Recur) == "" {
		return nil, invalidParams(`param "recur_after_done" needs a recurrence: give param "recur"`)
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return createTask(tx, in) })
}

type taskEditParams struct {
	ID             string   `json:"id"`
	Title          *string  `json:"title"`
	Do             *string  `json:"do"`
	Late           *string  `json:"late"`
	Attention      *string  `json:"attention"`
	Recur          *string  `json:"recur"`
	RecurAfterDone *bool    `json:"recur_after_done"`
	Project        *string  `json:"project"`
	TagsAdd        []string `json:"tags_add"`
	TagsRemove     []string `json:"tags_remove"`
}

// changes tells whether p asks for any change.
func (p taskEditParams) changes() bool {
	return p.Title != nil || p.Do != nil || p.Late != nil || p.Attention != nil || p.Recur != nil ||
		p.RecurAfterDone != nil || p.Project != nil || len(p.TagsAdd)+len(p.TagsRemove) > 0
}

func (s *Store) rpcTaskEdit(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskEditParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := (idParams{p.ID}).check(); err != nil {
		return nil, err
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return editTask(tx, p) })
}

// liveTask resolves ref to a task that is not deleted.
func liveTask(tx *Tx, ref string) (*Node, error) {
	n, err := liveNode(tx, ref)
	if err != nil {
		return nil, err
	}
	if n.Task == nil {
		return nil, invalidParams("%s (%s) is a doc, not a task", n.Handle, n.Title)
	}
	return n, nil
}

// liveNode resolves ref to a node that is not deleted.
func liveNode(tx *Tx, ref string) (*Node, error) {
	id, err := resolveID(tx.Context(), tx.SQL(), ref)
	if err != nil {
		return nil, err
	}
	n, err := getNode(tx.Context(), tx.SQL(), id)
	if err != nil {
		return nil, err
	}
	if n.Deleted != nil {
		return nil, fmt.Errorf("%s (%s) was removed: %w", n.Handle, n.Title, errNotFound)
	}
	return n, nil
}

// editTask applies a task.edit in tx and returns the task's id.
func editTask(tx *Tx, p taskEditParams) (string, error) {
	n, err := liveTask(tx, p.ID)
	if err != nil {
		return "", err
	}
	f := map[string]any{}
	if p.Title != nil {
		if err := editTitle(tx, n, *p.Title, f); err != nil {
			return "", err
		}
	}
	if err := editSchedule(n, p, tx.s.now(), f); err != nil {
		return "", err
	}
	if p.Project != nil {
		pid, err := projectForTask(tx, *p.Project)
		if err != nil {
			return "", err
		}
		for k, v := range taskProjectFields(pid) {
			f[k] = v
		}
	}
	if len(p.TagsAdd)+len(p.TagsRemove) > 0 {
		tags, err := editTags(n.Task.Tags, p.TagsAdd, p.TagsRemove)
		if err != nil {
			return "", err
		}
		f["tags"] = tags
	}
	if len(f) == 0 {
		return "", invalidParams("nothing to change: give title, do, late, attention, recur, recur_after_done, project, tags_add or tags_remove")
	}
	return n.ID, tx.Set(n.ID, f)
}

// editTitle sets task n's new title in f and renames its context and log
// docs with it.
func editTitle(tx *Tx, n *Node, title string, f map[string]any) error {
	title = strings.TrimSpace(title)
	if title == "" || badTitle(title) {
		return invalidParams("a task's title is one non-empty line without control characters")
	}
	f["title"] = title
	return renameCompanions(tx, n, title)
}

// editSchedule sets in f the do and late dates, attention and recurrence
// p changes, dates read relative to now.
func editSchedule(n *Node, p taskEditParams, now time.Time, f map[string]any) error {
	if p.Do != nil {
		t, err := dateParam("do", *p.Do, now)
		if err != nil {
			return err
		}
		f["do"] = optMillis(t)
	}
	if p.Late != nil {
		t, err := dateParam("late", *p.Late, now)
		if err != nil {
			return err
		}
		f["late"] = optMillis(t)
	}
	if p.Attention != nil {
		a, err := normalizeAttention(*p.Attention)
		if err != nil {
			return err
		}
		f["attention"] = a
	}
	if p.Recur != nil {
		if err := editRecur(n, *p.Recur, now, f); err != nil {
			return err
		}
	}
	if p.RecurAfterDone != nil {
		f["recur_after_done"] = *p.RecurAfterDone
	}
	return nil
}

// editRecur sets task n's new recurrence in f: a new series restarts its
// count and starts as on create (seriesStart), from the dates f leaves
// the task with.
func editRecur(n *Node, recur string, now time.Time, f map[string]any) error {
	r, err := normalizeRecur(recur)
	if err != nil {
		return err
	}
	f["recur"] = r
	if r == "" {
		return nil
	}
	start, picked := seriesStart(r, editedDate(f, "do", n.Task.Do), editedDate(f, "late", n.Task.Late), now)
	if picked {
		f["do"] = start.UnixMilli()
	}
	f["occurrences"] = 0
	return checkSeries(r, start.In(now.Location()))
}

// editTags adds and removes tags; removing a tag the task lacks is an error.
func editTags(cur, add, remove []string) ([]string, error) {
	set := map[string]bool{}
	for _, t := range cur {
		set[t] = true
	}
	for _, s := range remove {
		t, err := normalizeTag(s)
		if err != nil {
			return nil, err
		}
		if !set[t] {
			return nil, invalidParams("the task has no tag %q", t)
		}
		delete(set, t)
	}
	for _, s := range add {
		t, err := normalizeTag(s)
		if err != nil {
			return nil, err
		}
		set[t] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	return normalizeTags(out)
}

// renameCompanions keeps "<title> context" and "<title> log" in step with
// a renamed task, unless someone renamed them.
func renameCompanions(tx *Tx, n *Node, title string) error {
	for _, c := range []struct {
		id    string
		title func(string) string
	}{{n.Task.Context, contextTitle}, {n.Task.Log, logTitle}} {
		if c.id == "" {
			continue
		}
		d, err := arrivedNode(tx.Context(), tx.SQL(), c.id)
		if err != nil {
			return err
		}
		if d == nil {
			continue // a companion not here yet (sync) keeps its title
		}
		if d.Title == c.title(n.Title) {
			if err := tx.Set(c.id, map[string]any{"title": c.title(title)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) rpcNodeRm(ctx context.Context, params json.RawMessage) (any, error) {
	p, err := decodeID(params)
	if err != nil {
		return nil, err
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return removeNode(tx, p.ID) })
}

// removeNode tombstones the node ref names (a task with its context and
// log docs) in tx. A task's context or log doc goes with its task only.
func removeNode(tx *Tx, ref string) (string, error) {
	ctx := tx.Context()
	n, err := liveNode(tx, ref)
	if err != nil {
		return "", err
	}
	if n.Kind == "project" {
		return "", invalidParams("%s (%s) is a project: use heph project rm (project.rm), which handles its tasks", n.Handle, n.Title)
	}
	if n.Task == nil {
		var owner string
		err := tx.SQL().QueryRowContext(ctx, `SELECT o.handle FROM tasks t JOIN nodes o ON o.id=t.node_id
			WHERE (t.context_id=? OR t.log_id=?) AND o.deleted IS NULL LIMIT 1`, n.ID, n.ID).Scan(&owner)
		switch {
		case err == nil:
			return "", invalidParams("%s (%s) belongs to a task: remove the task (%s) instead", n.Handle, n.Title, owner)
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("find the task of %s: %w", n.Handle, err)
		}
	}
	now := tx.s.now().UnixMilli()
	ids := []string{n.ID}
	if n.Task != nil {
		ids = append(ids, n.Task.Context, n.Task.Log)
	}
	for _, x := range ids {
		if x == "" {
			continue
		}
		d, err := arrivedNode(ctx, tx.SQL(), x)
		if err != nil {
			return "", err
		}
		if d == nil || d.Deleted != nil {
			continue // a companion not here yet (sync), or already removed
		}
		if err := tx.Set(x, map[string]any{"deleted": now}); err != nil {
			return "", err
		}
	}
	return n.ID, nil
}

type idParams struct {
	ID string `json:"id"`
}

func (p idParams) check() error {
	if strings.TrimSpace(p.ID) == "" {
		return invalidParams("missing param \"id\"")
	}
	return nil
}

// decodeID decodes the params of a method that takes just {id}, checking
// the id is there.
func decodeID(params json.RawMessage) (idParams, error) {
	var p idParams
	if err := decodeParams(params, &p); err != nil {
		return p, err
	}
	return p, p.check()
}

func (s *Store) rpcNodeGet(ctx context.Context, params json.RawMessage) (any, error) {
	return s.nodeParam(ctx, params)
}

// nodeParam decodes {id} and returns that node (a removed one too).
func (s *Store) nodeParam(ctx context.Context, params json.RawMessage) (*Node, error) {
	p, err := decodeID(params)
	if err != nil {
		return nil, err
	}
	id, err := resolveID(ctx, s.db, p.ID)
	if err != nil {
		return nil, err
	}
	return getNode(ctx, s.db, id)
}

type docCreateParams struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (s *Store) rpcDocCreate(ctx context.Context, params json.RawMessage) (any, error) {
	var p docCreateParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if strings.ContainsAny(strings.TrimSpace(p.Title), "\r\n") {
		return nil, invalidParams("a doc's title is one line")
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return createDoc(tx, p.Title, p.Body) })
}

type nodeUpdateParams struct {
	ID            string  `json:"id"`
	Title         *string `json:"title"`
	Body          *string `json:"body"`
	ExpectUpdated *string `json:"expect_updated"`
}

func (s *Store) rpcNodeUpdate(ctx context.Context, params json.RawMessage) (any, error) {
	var p nodeUpdateParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := (idParams{p.ID}).check(); err != nil {
		return nil, err
	}
	if p.Title == nil && p.Body == nil {
		return nil, invalidParams("nothing to change: give title or body")
	}
	var expect time.Time
	if p.ExpectUpdated != nil {
		var err error
		if expect, err = time.Parse(time.RFC3339Nano, *p.ExpectUpdated); err != nil {
			return nil, invalidParams("param \"expect_updated\" must be RFC 3339 as returned in a node's \"updated\": %v", err)
		}
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return updateNode(tx, p, expect) })
}

// updateNode applies a node.update in tx (expect: p.ExpectUpdated read)
// and returns the node's id.
func updateNode(tx *Tx, p nodeUpdateParams, expect time.Time) (string, error) {
	n, err := liveNode(tx, p.ID)
	if err != nil {
		return "", err
	}
	if p.ExpectUpdated != nil && !n.Updated.Equal(expect) {
		return "", &rpcError{Code: codeConflict,
			Message: fmt.Sprintf("%s changed since you read it (updated %s, you expected %s): reload it and apply your change again",
				n.Handle, n.Updated.Format(time.RFC3339Nano), expect.Format(time.RFC3339Nano)),
			Data: map[string]any{"updated": n.Updated}}
	}
	f := map[string]any{}
	if p.Title != nil {
		title := strings.TrimSpace(*p.Title)
		if title == "" || badTitle(title) {
			return "", invalidParams("a title is one non-empty line without control characters")
		}
		if n.Task != nil {
			if err := renameCompanions(tx, n, title); err != nil {
				return "", err
			}
		}
		f["title"] = title
	}
	if p.Body != nil {
		owner, err := logOwner(tx, n.ID)
		if err != nil {
			return "", err
		}
		if owner != "" {
			return "", invalidParams("%s is a task's log, which is append-only: use log.append", n.Handle)
		}
		f["body"] = *p.Body
	}
	return n.ID, tx.Set(n.ID, f)
}

// editedDate is a task's date field as an edit leaves it: the new value in
// f when the edit sets it (nil when it clears it), else the current one.
func editedDate(f map[string]any, name string, cur *time.Time) *time.Time {
	v, ok := f[name]
	if !ok {
		return cur
	}
	ms, ok := v.(int64)
	if !ok {
		return nil
	}
	t := time.UnixMilli(ms)
	return &t
}

// writeNode runs fn in one write transaction and returns the node whose id
// fn returned, read back after the commit.
func (s *Store) writeNode(ctx context.Context, fn func(*Tx) (string, error)) (*Node, error) {
	var id string
	err := s.Write(ctx, func(tx *Tx) error {
		var err error
		id, err = fn(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return getNode(ctx, s.db, id)
}
