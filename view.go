// view.go owns views: the built-in ones and saved views (nodes of kind view), and their RPC methods.

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

// A saved view is a node of kind "view": its title is its name, and the
// views table holds its filter and sort. Being a node, it syncs; its id is
// derived from its name (derivedID), so two replicas that save the same
// name offline end with one view. Built-in views are code.

// builtinView is one of the views heph always has.
type builtinView struct {
	name, filter, sort string
	about              string // shown when it is empty
}

// builtinViews in the order view.list shows them. upcoming's window is
// its days param (defaultUpcomingDays), so its filter is only shown.
func builtinViews() []builtinView {
	return []builtinView{
		{name: "next", filter: "(what is next: see heph next)", sort: "next", about: "Nothing is next"},
		{name: "ondeck", filter: "attention:blue", sort: "created", about: "Nothing is on deck"},
		{name: "upcoming", filter: "do.after:now do.before:+7d", sort: "do", about: "Nothing is upcoming"},
		{name: "late", filter: "late.before:now", sort: "late", about: "Nothing is late"},
		{name: "agenda", filter: "do.before:tomorrow or late.before:now", sort: "next", about: "Nothing is on the agenda"},
	}
}

// defaultUpcomingDays is the window of "view upcoming".
const defaultUpcomingDays = 7

func findBuiltinView(name string) *builtinView {
	for _, b := range builtinViews() {
		if strings.EqualFold(b.name, strings.TrimSpace(name)) {
			return &b
		}
	}
	return nil
}

type taskViewParams struct {
	Name    string `json:"name"`
	Days    *int   `json:"days"`
	Project string `json:"project"`
	Tag     string `json:"tag"`
	Filter  string `json:"filter"`
	Brief   bool   `json:"brief,omitempty"` // each task in brief (task_listcache.go)
}

func (s *Store) rpcTaskView(ctx context.Context, params json.RawMessage) (any, error) {
	var p taskViewParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Name) == "" {
		return nil, invalidParams("missing param \"name\": want %s or a saved view", builtinNames())
	}
	if p.Days != nil && !strings.EqualFold(strings.TrimSpace(p.Name), "upcoming") {
		return nil, invalidParams("param \"days\" only applies to the upcoming view")
	}
	now := s.now()
	f, sortBy, err := s.compileView(ctx, p, now)
	if err != nil {
		return nil, err
	}
	if f.next {
		// The next view: task.next's ranking, every task.
		next, err := nextTasks(ctx, s.db, now, 0, f)
		if err != nil {
			return nil, err
		}
		out := make([]*Node, len(next))
		for i, n := range next {
			out[i] = n.Node
		}
		return out, nil
	}
	return s.listTasksEncoded(ctx, f, sortBy, now, p.Brief)
}

func builtinNames() string {
	names := make([]string, 0, 5)
	for _, v := range builtinViews() {
		names = append(names, v.name)
	}
	return strings.Join(names, ", ")
}

// countView counts the tasks a built-in or saved view shows now.
func (s *Store) countView(ctx context.Context, p taskViewParams) (int, error) {
	now := s.now()
	f, _, err := s.compileView(ctx, p, now)
	if err != nil {
		return 0, err
	}
	if f.next {
		next, err := nextTasks(ctx, s.db, now, 0, f)
		return len(next), err
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM tasks t LEFT JOIN nodes n ON n.id = t.node_id WHERE 1`+f.where, f.args...).Scan(&n)
	return n, err
}

// compileView compiles a built-in or saved view, narrowed by the params'
// filter, to a filter and its sort (f.next: the next view's ranking).
func (s *Store) compileView(ctx context.Context, p taskViewParams, now time.Time) (*compiledFilter, string, error) {
	extra, err := legacyFilterTerms(p.Project, p.Tag)
	if err != nil {
		return nil, "", err
	}
	// The view's filter, then the request's, all of which must hold.
	if user, err := parseFilter(p.Filter); err != nil {
		return nil, "", err
	} else if user != nil {
		extra = append(extra, user)
	}
	if b := findBuiltinView(p.Name); b != nil {
		f, err := s.compileBuiltin(ctx, b, p, now, extra)
		return f, b.sort, err
	}
	v, err := findSavedView(ctx, s.db, p.Name)
	if err != nil {
		return nil, "", err
	}
	f, err := compileFilter(ctx, s.db, v.View.Filter, now, extra...)
	if err != nil {
		return nil, "", fmt.Errorf("saved view %s: %w", v.Title, err)
	}
	return f, v.View.Sort, nil
}

// compileBuiltin compiles one of builtinViews.
func (s *Store) compileBuiltin(ctx context.Context, b *builtinView, p taskViewParams, now time.Time, extra []*filterNode) (*compiledFilter, error) {
	switch b.name {
	case "next":
		f, err := compileFilter(ctx, s.db, "", now, extra...)
		if err == nil {
			f.next = true
		}
		return f, err
	case "upcoming":
		days := defaultUpcomingDays
		if p.Days != nil {
			days = *p.Days
		}
		if days < 1 {
			return nil, invalidParams("param \"days\" must be 1 or more, not %d", days)
		}
		// Exactly the next days×24 hours, not whole days.
		f, err := compileFilter(ctx, s.db, "", now, extra...)
		if err == nil {
			f.where += ` AND t.do_at > ? AND t.do_at <= ?`
			f.args = append(f.args, now.UnixMilli(), now.AddDate(0, 0, days).UnixMilli())
		}
		return f, err
	}
	return compileFilter(ctx, s.db, b.filter, now, extra...)
}

// findSavedView reads the live saved view called name (case-insensitive).
func findSavedView(ctx context.Context, q querier, name string) (*Node, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM nodes WHERE kind='view' AND deleted IS NULL AND title = ? COLLATE NOCASE ORDER BY id LIMIT 1`,
		strings.TrimSpace(name)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, invalidParams("unknown view %q: want %s or a saved view (heph view lists them)", name, builtinNames())
	}
	if err != nil {
		return nil, fmt.Errorf("view %q: %w", name, err)
	}
	return getNode(ctx, q, id)
}

// viewInfo is one entry of view.list.
type viewInfo struct {
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"`
	Filter  string `json:"filter"`
	Sort    string `json:"sort"`
	Count   int    `json:"count"`
	ID      string `json:"id,omitempty"` // a saved view's node
}

func (s *Store) rpcViewList(ctx context.Context, params json.RawMessage) (any, error) {
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	out := []viewInfo{}
	for _, b := range builtinViews() {
		count, err := s.countView(ctx, taskViewParams{Name: b.name})
		if err != nil {
			return nil, err
		}
		out = append(out, viewInfo{Name: b.name, Builtin: true, Filter: b.filter, Sort: b.sort, Count: count})
	}
	saved, err := queryNodes(ctx, s.db, nodeSelect+` WHERE n.kind='view' AND n.deleted IS NULL ORDER BY n.title COLLATE NOCASE, n.id`)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	for _, v := range saved {
		info := viewInfo{Name: v.Title, Filter: v.View.Filter, Sort: v.View.Sort, ID: v.ID, Count: -1}
		if count, err := s.countView(ctx, taskViewParams{Name: v.Title}); err == nil {
			info.Count = count // -1: its filter no longer compiles (a project went away)
		}
		if info.Sort == "" {
			info.Sort = "created"
		}
		out = append(out, info)
	}
	return out, nil
}

// queryNodes runs a nodeSelect query.
func queryNodes(ctx context.Context, q querier, query string, args ...any) ([]*Node, error) {
	return queryTasks(ctx, q, query, args...)
}

type viewSaveParams struct {
	Name   string `json:"name"`
	Filter string `json:"filter"`
	Sort   string `json:"sort"`
}

func (s *Store) rpcViewSave(ctx context.Context, params json.RawMessage) (any, error) {
	var p viewSaveParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(p.Name)
	switch {
	case name == "":
		return nil, invalidParams("missing param \"name\"")
	case badTitle(name):
		return nil, invalidParams("a view's name is one line without control characters")
	case findBuiltinView(name) != nil:
		return nil, invalidParams("%q is a built-in view: pick another name", name)
	}
	sortBy := strings.ToLower(strings.TrimSpace(p.Sort))
	if _, _, err := sortClause(sortBy, s.now()); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Filter) == "" {
		return nil, invalidParams("missing param \"filter\": a view without a filter is heph list")
	}
	if _, err := compileFilter(ctx, s.db, p.Filter, s.now()); err != nil {
		return nil, err
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) {
		fields := map[string]any{"filter": strings.TrimSpace(p.Filter), "sort": sortBy}
		if v, err := findSavedView(tx.Context(), tx.SQL(), name); err == nil {
			if v.Title != name {
				fields["title"] = name
			}
			return v.ID, tx.Set(v.ID, fields)
		}
		fields["title"] = name
		return createDerived(tx, "view", name, fields)
	})
}

func (s *Store) rpcViewRm(ctx context.Context, params json.RawMessage) (any, error) {
	var p viewRmParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if findBuiltinView(p.Name) != nil {
		return nil, invalidParams("%q is a built-in view and cannot be removed", p.Name)
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) {
		v, err := findSavedView(tx.Context(), tx.SQL(), p.Name)
		if err != nil {
			return "", err
		}
		return v.ID, tx.Set(v.ID, map[string]any{"deleted": tx.s.now().UnixMilli()})
	})
}

type viewRmParams struct {
	Name string `json:"name"`
}
