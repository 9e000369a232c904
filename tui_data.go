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
	lost    bool            // the connection broke: hephd stopped
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
		d.lost = true
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

// isMissing says whether err means the method (or a param it was given)
// is not in this hephd yet.
func isMissing(err error, param string) bool {
	var re *rpcError
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == codeMethodNotFound || (re.Code == codeInvalidParams && param != "" && strings.Contains(re.Message, `unknown param "`+param+`"`))
}

// builtinViews are the views the sidebar shows when hephd has no view.list.
var builtinViews = [...]string{"next", "ondeck", "upcoming", "late"}

// loadStatus reads the daemon's version and sync health.
func (a *tuiApp) loadStatus() error {
	s := a.st
	if s.Version == "" {
		var info daemonInfo
		if err := a.data.call("daemon.info", nil, &info); err != nil {
			return err
		}
		s.Version, s.Mode = info.Version, info.Mode
	}
	var st syncStatus
	if err := a.data.call("sync.status", nil, &st); err != nil {
		if errors.Is(err, errTuiLost) {
			return err
		}
		s.Sync, s.SyncBad = "sync unknown", false
		return nil
	}
	s.Sync, s.SyncBad = syncHealth(&st, s.Now)
	s.Conflicts = st.Conflicts
	return nil
}

// syncHealth says in a few words how syncing is going.
func syncHealth(st *syncStatus, now time.Time) (string, bool) {
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
	return "synced " + shortAge(now.Sub(*st.LastSuccess)) + " ago", false
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

// loadSide builds the sidebar: views with counts, then the project tree.
func (a *tuiApp) loadSide() error {
	side := []tuiSideItem{{Kind: "header", Label: "Views"}}
	views, err := a.loadViews()
	if err != nil {
		return err
	}
	side = append(side, views...)
	projects, err := a.loadProjects()
	if err != nil {
		return err
	}
	if len(projects) > 0 {
		side = append(side, tuiSideItem{Kind: "header", Label: "Projects"})
		side = append(side, projects...)
	}
	a.st.Side = side
	return nil
}

func (a *tuiApp) loadViews() ([]tuiSideItem, error) {
	if a.data.has("view.list") {
		var vs []tuiViewInfo
		err := a.data.call("view.list", map[string]any{}, &vs)
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
	// An older hephd: count the built-in views by fetching them.
	var items []tuiSideItem
	for _, name := range builtinViews {
		tasks, err := a.fetchView(name, "")
		if err != nil {
			return nil, err
		}
		items = append(items, tuiSideItem{Kind: "view", Name: name, Label: name, Count: len(tasks)})
	}
	return items, nil
}

// loadProjects returns the project tree, from project.list or, on an older
// hephd, from the projects of outstanding tasks.
func (a *tuiApp) loadProjects() ([]tuiSideItem, error) {
	var ps []tuiProjectInfo
	if a.data.has("project.list") {
		err := a.data.call("project.list", map[string]any{}, &ps)
		if err != nil && !isMissing(err, "") {
			return nil, err
		}
	}
	if !a.data.has("project.list") {
		var tasks []tuiTask
		if err := a.data.call("task.list", map[string]any{}, &tasks); err != nil {
			return nil, err
		}
		ps = projectsOfTasks(tasks, a.st.Now)
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

// projectsOfTasks derives the project tree (every ancestor too) and its
// counts from outstanding tasks.
func projectsOfTasks(tasks []tuiTask, now time.Time) []tuiProjectInfo {
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

// fetchView runs a view by name with an optional filter.
func (a *tuiApp) fetchView(name, filter string) ([]tuiTask, error) {
	params := map[string]any{"name": name}
	if filter != "" {
		params["filter"] = filter
	}
	var tasks []tuiTask
	if name == "next" && !a.data.has("task.view.next") {
		return a.fetchNext(filter)
	}
	err := a.data.call("task.view", params, &tasks)
	if name == "next" && err != nil && !errors.Is(err, errTuiLost) && !isMissing(err, "filter") {
		// An older hephd's task.view has no "next": ask task.next.
		a.data.missing["task.view.next"] = true
		return a.fetchNext(filter)
	}
	return tasks, err
}

func (a *tuiApp) fetchNext(filter string) ([]tuiTask, error) {
	params := map[string]any{"limit": 0}
	if filter != "" {
		params["filter"] = filter
	}
	var res struct {
		Tasks []tuiTask `json:"tasks"`
	}
	err := a.data.call("task.next", params, &res)
	return res.Tasks, err
}

// loadList fetches the tasks of the current source and filter.
func (a *tuiApp) loadList() error {
	s := a.st
	var tasks []tuiTask
	var err error
	switch s.Source.Kind {
	case "project":
		params := map[string]any{"project": s.Source.Name}
		if s.Filter != "" {
			params["filter"] = s.Filter
		}
		err = a.data.call("task.list", params, &tasks)
	default:
		tasks, err = a.fetchView(s.Source.Name, s.Filter)
	}
	if err != nil {
		if isMissing(err, "filter") {
			s.Filter = ""
			a.flash("this hephd has no filter language yet: filter cleared", true)
			return a.loadList()
		}
		return err
	}
	keep := ""
	if t := s.current(); t != nil {
		keep = t.ID
	}
	s.setTasks(tasks, keep)
	s.Loading = false
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
		if err := a.data.call("node.get", map[string]string{"id": t.Task.Context}, &ctxDoc); err != nil {
			return previewErr(err)
		}
		p.Context = &ctxDoc
		if t.Task.Log != "" {
			if err := a.data.call("node.get", map[string]string{"id": t.Task.Log}, &logDoc); err != nil {
				return previewErr(err)
			}
			p.Log = &logDoc
		}
	}
	links, err := a.previewLinks(t, p.Context)
	if err != nil {
		return previewErr(err)
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

func previewErr(err error) error {
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
		if err := a.data.call("links", map[string]string{"id": id}, &res); err != nil {
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

// reload refreshes everything from hephd (after a change or an event).
func (a *tuiApp) reload() error {
	a.st.Now = time.Now()
	a.previews = map[string]tuiCachedPreview{}
	for _, f := range []func() error{a.loadStatus, a.loadList, a.loadSide} {
		if err := f(); err != nil {
			return err
		}
	}
	a.st.clamp()
	return a.loadPreview(true)
}

// decodeEvent reads an events notification's params.
func decodeEvent(raw json.RawMessage) (tuiEvent, error) {
	var ev tuiEvent
	err := json.Unmarshal(raw, &ev)
	return ev, err
}
