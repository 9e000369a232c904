// tui_data.go owns what the TUI asks hephd: the sidebar's views and projects, the list, the preview, the status line's daemon and sync health; and falling back when a method is missing.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// tuiData is the TUI's connection to hephd for requests.
type tuiData struct {
	socket  string
	rpc     *rpcClient
	missing map[string]bool // methods this hephd does not have (-32601)
}

// errTuiLost says hephd went away during a request.
var errTuiLost = errors.New("hephd stopped")

// call makes one request; a broken connection marks the data lost.
func (d *tuiData) call(method string, params, result any) error {
	if d.rpc == nil {
		return errTuiLost
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := d.rpc.Call(ctx, method, params, result)
	var re *rpcError
	if err != nil && !errors.As(err, &re) {
		d.rpc.Close()
		d.rpc = nil
		return errTuiLost
	}
	if re != nil && re.Code == codeMethodNotFound {
		d.missing[method] = true
	}
	return err
}

// has says whether hephd is known to have method (until a call says not).
func (d *tuiData) has(method string) bool { return !d.missing[method] }

// tuiBuiltinViews are the views the sidebar shows when hephd has no view.list.
var tuiBuiltinViews = [...]string{"next", "ondeck", "upcoming", "late"}

// tuiLoadReq says what a load fetches: the list's source and filter, and
// whether it is the quick first page shown at start.
type tuiLoadReq struct {
	Source tuiSideItem
	Filter string
	Quick  bool // the first screen: one page of next, counts later
	Rows   int
	Now    time.Time
	// Counts: count the sidebar even on an hephd without view.list and
	// project.list, where that means fetching every view (at most every
	// 10 s, not on each change).
	Counts bool
}

// tuiSnapshot is what a load fetched, applied by the event loop.
type tuiSnapshot struct {
	Req           tuiLoadReq
	Version, Mode string
	Sync          string
	SyncBad       bool
	Conflicts     int
	Side          []tuiSideItem
	Tasks         []tuiTask
	FilterDropped bool // hephd has no filter language: loaded without it
	Err           error
}

// tuiFetchSnapshot makes a load's requests on d (the event loop's
// connection for the first screen, the loader's own afterwards).
func tuiFetchSnapshot(d *tuiData, req tuiLoadReq) *tuiSnapshot {
	snap := &tuiSnapshot{Req: req}
	snap.Err = snap.fetch(d)
	return snap
}

func (snap *tuiSnapshot) fetch(d *tuiData) error {
	var info daemonInfo
	if err := d.call("daemon.info", nil, &info); err != nil {
		return err
	}
	snap.Version, snap.Mode = info.Version, info.Mode
	var st syncStatus
	if err := d.call("sync.status", nil, &st); err != nil {
		if errors.Is(err, errTuiLost) {
			return err
		}
		snap.Sync = "sync unknown"
	} else {
		snap.Sync, snap.SyncBad = tuiSyncHealth(&st, snap.Req.Now)
		snap.Conflicts = st.Conflicts
	}
	tasks, err := tuiFetchList(d, snap.Req)
	if isMissing(err, "filter") {
		snap.FilterDropped = true
		req := snap.Req
		req.Filter = ""
		tasks, err = tuiFetchList(d, req)
	}
	if err != nil {
		return err
	}
	snap.Tasks = tasks
	if snap.Req.Counts || snap.Req.Quick || (d.has("view.list") && d.has("project.list")) {
		snap.Side, err = tuiFetchSide(d, snap.Req)
	}
	return err
}

// tuiSyncHealth says in a few words how syncing is going.
func tuiSyncHealth(st *syncStatus, now time.Time) (string, bool) {
	switch {
	case st.Mode == "none" || st.Mode == "":
		return "local", false
	case st.NeedsLogin || st.Auth == "needs_login":
		return "auth failed: heph auth login", true
	case st.LastError != "" && (st.LastSuccess == nil || (st.LastErrorAt != nil && st.LastErrorAt.After(*st.LastSuccess))):
		return "offline", true
	case st.LastSuccess == nil:
		return "not synced yet", false
	}
	return "synced " + tuiShortAge(now.Sub(*st.LastSuccess)) + " ago", false
}

// tuiViewInfo is an entry of view.list.
type tuiViewInfo struct {
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"`
	Filter  string `json:"filter"`
	Count   int    `json:"count"`
}

// tuiProjectInfo is an entry of project.list.
type tuiProjectInfo struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Path        string `json:"path"`
	Archived    bool   `json:"archived"`
	Outstanding int    `json:"outstanding"`
	Late        int    `json:"late"`
}

// tuiFetchSide builds the sidebar: views with counts, then the project tree.
func tuiFetchSide(d *tuiData, req tuiLoadReq) ([]tuiSideItem, error) {
	side := []tuiSideItem{{Kind: "header", Label: "Views"}}
	views, err := tuiFetchViews(d, req)
	if err != nil {
		return nil, err
	}
	side = append(side, views...)
	projects, err := tuiFetchProjects(d, req)
	if err != nil {
		return nil, err
	}
	if len(projects) > 0 {
		side = append(side, tuiSideItem{Kind: "header", Label: "Projects"})
		side = append(side, projects...)
	}
	return side, nil
}

func tuiFetchViews(d *tuiData, req tuiLoadReq) ([]tuiSideItem, error) {
	if d.has("view.list") {
		var vs []tuiViewInfo
		err := d.call("view.list", map[string]any{}, &vs)
		if err == nil {
			items := make([]tuiSideItem, 0, len(vs))
			for _, v := range vs {
				items = append(items, tuiSideItem{Kind: "view", Name: v.Name, Label: v.Name, Count: v.Count})
			}
			return items, nil
		}
		if !isMissing(err, "") {
			return nil, err
		}
	}
	// An older hephd: count the built-in views by fetching them (not for
	// the first screen, which must be quick).
	var items []tuiSideItem
	for _, name := range tuiBuiltinViews {
		count := -1
		if !req.Quick {
			tasks, err := tuiFetchView(d, name, "", 0)
			if err != nil {
				return nil, err
			}
			count = len(tasks)
		}
		items = append(items, tuiSideItem{Kind: "view", Name: name, Label: name, Count: count})
	}
	return items, nil
}

// tuiFetchProjects returns the project tree, from project.list or, on an
// older hephd, from the projects of outstanding tasks.
func tuiFetchProjects(d *tuiData, req tuiLoadReq) ([]tuiSideItem, error) {
	var ps []tuiProjectInfo
	if d.has("project.list") {
		err := d.call("project.list", map[string]any{}, &ps)
		if err != nil && !isMissing(err, "") {
			return nil, err
		}
	}
	if !d.has("project.list") {
		if req.Quick {
			return nil, nil
		}
		var tasks []tuiTask
		if err := d.call("task.list", taskListParams{State: "outstanding"}, &tasks); err != nil {
			return nil, err
		}
		ps = tuiProjectsOfTasks(tasks, req.Now)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
	items := make([]tuiSideItem, 0, len(ps))
	for _, p := range ps {
		if p.Archived || p.Path == "" {
			continue
		}
		depth := strings.Count(p.Path, "/")
		label := p.Path[strings.LastIndexByte(p.Path, '/')+1:]
		items = append(items, tuiSideItem{Kind: "project", Name: p.Path, Label: label, Count: p.Outstanding, Late: p.Late, Depth: depth})
	}
	return items, nil
}

// tuiProjectsOfTasks derives the project tree (every ancestor too) and its
// counts from outstanding tasks.
func tuiProjectsOfTasks(tasks []tuiTask, now time.Time) []tuiProjectInfo {
	byPath := map[string]*tuiProjectInfo{}
	for _, t := range tasks {
		if t.Task == nil || t.Task.Project == "" {
			continue
		}
		late := t.Task.Late != nil && !t.Task.Late.After(now)
		parts := strings.Split(t.Task.Project, "/")
		for i := range parts {
			path := strings.Join(parts[:i+1], "/")
			p := byPath[path]
			if p == nil {
				p = &tuiProjectInfo{Path: path, Title: parts[i]}
				byPath[path] = p
			}
			p.Outstanding++
			if late {
				p.Late++
			}
		}
	}
	out := make([]tuiProjectInfo, 0, len(byPath))
	for _, p := range byPath {
		out = append(out, *p)
	}
	return out
}

// tuiFetchView runs a view by name with an optional filter; limit (next
// only, 0 for all) bounds the first screen's page.
func tuiFetchView(d *tuiData, name, filter string, limit int) ([]tuiTask, error) {
	if name == "next" && (limit > 0 || d.missing["task.view.next"]) {
		return tuiFetchNext(d, filter, limit)
	}
	// The filter param is the capture feature's (issue 14): sent only when
	// set, so an hephd without it serves every other view.
	var params any = taskViewParams{Name: name}
	if filter != "" {
		params = map[string]any{"name": name, "filter": filter}
	}
	var tasks []tuiTask
	err := d.call("task.view", params, &tasks)
	if name == "next" && err != nil && !errors.Is(err, errTuiLost) && !isMissing(err, "filter") {
		// An older hephd's task.view has no "next": ask task.next.
		d.missing["task.view.next"] = true
		return tuiFetchNext(d, filter, 0)
	}
	return tasks, err
}

func tuiFetchNext(d *tuiData, filter string, limit int) ([]tuiTask, error) {
	var params any = nextParams{Limit: &limit}
	if filter != "" {
		params = map[string]any{"limit": limit, "filter": filter}
	}
	var res struct {
		Tasks []tuiTask `json:"tasks"`
	}
	err := d.call("task.next", params, &res)
	return res.Tasks, err
}

// tuiFetchList fetches the tasks of a source and filter.
func tuiFetchList(d *tuiData, req tuiLoadReq) ([]tuiTask, error) {
	if req.Source.Kind == "project" {
		var params any = taskListParams{State: "outstanding", Project: req.Source.Name}
		if req.Filter != "" {
			params = map[string]any{"project": req.Source.Name, "filter": req.Filter}
		}
		var tasks []tuiTask
		err := d.call("task.list", params, &tasks)
		return tasks, err
	}
	limit := 0
	if req.Quick {
		limit = req.Rows
	}
	return tuiFetchView(d, req.Source.Name, req.Filter, limit)
}

// loadReq is a load of what the screen shows now.
func (a *tuiApp) loadReq(quick bool) tuiLoadReq {
	req := tuiLoadReq{Source: a.st.Source, Filter: a.st.Filter, Quick: quick, Rows: a.st.Height, Now: time.Now()}
	if !quick && req.Now.Sub(a.lastCounts) > 10*time.Second {
		req.Counts, a.lastCounts = true, req.Now
	}
	return req
}

// apply puts a snapshot on screen, keeping the cursor on its task (or the
// one now at its place). A snapshot of another source or filter than the
// screen's (the user moved on meanwhile) only updates the status.
func (a *tuiApp) apply(snap *tuiSnapshot) error {
	if snap.Err != nil {
		return snap.Err
	}
	s := a.st
	s.Now = snap.Req.Now
	s.Version, s.Mode, s.Sync, s.SyncBad, s.Conflicts = snap.Version, snap.Mode, snap.Sync, snap.SyncBad, snap.Conflicts
	if snap.Side != nil && (!snap.Req.Quick || len(s.Side) == 0) {
		s.Side = snap.Side
	}
	if snap.Req.Source != s.Source || snap.Req.Filter != s.Filter {
		return nil
	}
	if snap.FilterDropped {
		s.Filter = ""
		a.flash("this hephd has no filter language yet: filter cleared", true)
	}
	keep := a.selectID
	if t := s.current(); keep == "" && t != nil {
		keep = t.ID
	}
	s.setTasks(snap.Tasks, keep)
	a.selectID = ""
	s.Partial = snap.Req.Quick
	s.Loading = false
	a.previews = map[string]tuiCachedPreview{}
	if tuiLayoutOf(s).preview.w > 0 {
		return a.loadPreview(true)
	}
	return nil
}

// loadPreview fetches the context doc, log and links of the task under the
// cursor, unless they are loaded already.
func (a *tuiApp) loadPreview(force bool) error {
	s := a.st
	t := s.current()
	if t == nil {
		s.Preview = tuiPreview{}
		return nil
	}
	if !force && s.Preview.TaskID == t.ID && s.Preview.Doc == nil {
		return nil
	}
	if p, ok := a.previews[t.ID]; ok && !force && p.updated.Equal(t.Updated) {
		s.Preview = p.tuiPreview
		return nil
	}
	p := tuiPreview{TaskID: t.ID}
	if t.Task != nil && t.Task.Context != "" {
		var ctxDoc, logDoc Node
		if err := a.data.call("node.get", idParams{ID: t.Task.Context}, &ctxDoc); err != nil {
			return tuiPreviewErr(err)
		}
		p.Context = &ctxDoc
		if t.Task.Log != "" {
			if err := a.data.call("node.get", idParams{ID: t.Task.Log}, &logDoc); err != nil {
				return tuiPreviewErr(err)
			}
			p.Log = &logDoc
		}
	}
	links, err := a.previewLinks(t, p.Context)
	if err != nil {
		return tuiPreviewErr(err)
	}
	p.Links = links
	s.Preview = p
	a.previews[t.ID] = tuiCachedPreview{tuiPreview: p, updated: t.Updated}
	return nil
}

// tuiCachedPreview is a loaded preview and the task version it belongs to.
type tuiCachedPreview struct {
	tuiPreview
	updated time.Time
}

func tuiPreviewErr(err error) error {
	if errors.Is(err, errTuiLost) {
		return err
	}
	return fmt.Errorf("preview: %w", err)
}

// previewLinks lists the task's and its context doc's links to other
// nodes (not its own context and log docs), then its backlinks.
func (a *tuiApp) previewLinks(t *tuiTask, ctxDoc *Node) ([]linkEntry, error) {
	ids := []string{t.ID}
	if ctxDoc != nil {
		ids = append(ids, ctxDoc.ID)
	}
	var out, back []linkEntry
	seen := map[string]bool{t.ID: true}
	if t.Task != nil {
		seen[t.Task.Context], seen[t.Task.Log] = true, true
	}
	for i, id := range ids {
		var res linksResult
		if err := a.data.call("links", idParams{ID: id}, &res); err != nil {
			return nil, err
		}
		for _, l := range res.Outgoing {
			if l.Node != nil && !seen[l.Node.ID] {
				seen[l.Node.ID] = true
				out = append(out, l)
			}
		}
		if i == 0 {
			for _, l := range res.Backlinks {
				if l.Node != nil && !seen[l.Node.ID] {
					l.Kind = "backlink"
					back = append(back, l)
				}
			}
		}
	}
	return append(out, back...), nil
}

// tuiDecodeEvent reads an events notification's params.
func tuiDecodeEvent(raw json.RawMessage) (tuiEvent, error) {
	var ev tuiEvent
	err := json.Unmarshal(raw, &ev)
	return ev, err
}
