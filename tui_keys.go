// tui_keys.go owns what each key does in heph tui: moving, switching panes, and the triage actions (done, skip, drop, undo, attention, move, tags, dates, checklist, links).

package main

import (
	"fmt"
	"strings"
)

// handleKey applies one input event.
func (a *tuiApp) handleKey(k tuiKey) {
	s := a.st
	if k.Name != "mouse" {
		s.Flash = ""
	}
	switch {
	case s.Offline:
		if k.String() == "q" || k.Name == "ctrl-c" {
			a.quit = true
		}
		return
	case s.Help:
		s.Help = false
		return
	case s.Prompt != nil:
		a.promptKey(k)
		return
	case s.Pending != "":
		a.pendingKey(k)
		return
	case k.Name == "mouse":
		a.mouse(k)
		return
	}
	a.commandKey(k)
}

// commandKey is a key outside prompts.
func (a *tuiApp) commandKey(k tuiKey) {
	s := a.st
	switch k.String() {
	case "q", "ctrl-c":
		a.quit = true
	case "?":
		s.Help = true
	case "j", "down":
		a.move(1)
	case "k", "up":
		a.move(-1)
	case "g", "home":
		a.move(-1 << 30)
	case "G", "end":
		a.move(1 << 30)
	case "pgdn":
		a.move(s.listRows())
	case "pgup":
		a.move(-s.listRows())
	case "tab", "l", "right":
		a.focus((s.Focus + 1) % 3)
	case "backtab", "h", "left":
		a.focus((s.Focus + 2) % 3)
	case "enter":
		a.open()
	case "esc":
		a.back()
	case "p":
		a.togglePreview()
	case "r":
		a.reload()
		a.flash("refreshing", false)
	default:
		a.triageKey(k)
	}
}

// triageKey is a key that changes tasks.
func (a *tuiApp) triageKey(k tuiKey) {
	s := a.st
	switch key := k.String(); key {
	case "/":
		s.Prompt = &tuiPrompt{Kind: "search", Label: "/", Text: []rune(s.Search)}
	case "f":
		s.Prompt = &tuiPrompt{Kind: "filter", Label: "filter: ", Text: []rune(s.Filter)}
	case "a":
		s.Prompt = &tuiPrompt{Kind: "add", Label: "add: "}
	case "d":
		a.taskAct("task.done", nil, "done")
	case "s":
		a.taskAct("task.skip", nil, "skipped")
	case "x":
		if t := s.current(); t != nil {
			s.Pending = fmt.Sprintf("x — drop %q? y/n", displayText(tuiTruncateText(t.Title, 30)))
		}
	case "u":
		a.undo()
	case "1", "2", "3", "4":
		// The quick-add grammar's p1..p4: red, orange, blue (on deck), white.
		att := map[string]string{"1": "red", "2": "orange", "3": "blue", "4": "white"}[key]
		a.taskAct("task.edit", &taskEditParams{Attention: &att}, "attention "+att)
	case "m":
		if s.current() != nil {
			s.Prompt = &tuiPrompt{Kind: "move", Label: "move to project: "}
			a.updatePicker()
		}
	case "t":
		if s.current() != nil {
			s.Prompt = &tuiPrompt{Kind: "tags", Label: "tags (+add -remove): "}
		}
	case "D", "L":
		if s.current() != nil {
			kind, label := "do", "do date: "
			if key == "L" {
				kind, label = "late", "late date: "
			}
			s.Prompt = &tuiPrompt{Kind: kind, Label: label}
		}
	case "e":
		a.check(a.editContext())
	case "c":
		a.toggleCheck()
	case "o":
		a.openLink()
	}
}

func tuiTruncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// move moves the cursor of the focused pane by n rows.
func (a *tuiApp) move(n int) {
	s := a.st
	switch s.Focus {
	case paneSide:
		i := tuiClampInt(s.SideCursor+n, 0, len(s.Side)-1)
		step := 1
		if n < 0 {
			step = -1
		}
		for i >= 0 && i < len(s.Side) && s.Side[i].Kind == "header" {
			i += step
		}
		if i < 0 || i >= len(s.Side) {
			return
		}
		s.SideCursor = i
	case panePreview:
		s.Preview.Cursor = tuiClampInt(s.Preview.Cursor+n, 0, len(s.previewItems())-1)
	default:
		s.Cursor = tuiClampInt(s.Cursor+n, 0, len(s.Shown)-1)
		s.clamp()
		a.previewIfShown()
	}
}

func tuiClampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// previewIfShown loads the preview when it is on screen.
func (a *tuiApp) previewIfShown() {
	if tuiLayoutOf(a.st).preview.w > 0 {
		a.check(a.loadPreview(false))
	}
}

// focus moves to pane p; below 100 columns the preview shows only while
// it has the focus (or p toggled it).
func (a *tuiApp) focus(p tuiPane) {
	s := a.st
	s.Focus = p
	if s.Width < 100 && p != paneSide {
		s.ShowPreview = p == panePreview
	}
	if p == paneSide {
		for i, it := range s.Side {
			if it.Kind == s.Source.Kind && it.Name == s.Source.Name {
				s.SideCursor = i
			}
		}
	}
	a.previewIfShown()
}

func (a *tuiApp) togglePreview() {
	s := a.st
	if s.Width >= 100 {
		a.focus(map[bool]tuiPane{true: paneList, false: panePreview}[s.Focus == panePreview])
		return
	}
	if s.ShowPreview {
		a.focus(paneList)
	} else {
		a.focus(panePreview)
	}
}

// open is Enter: choose a view or project, open a task's preview, or act
// on the preview's line.
func (a *tuiApp) open() {
	s := a.st
	switch s.Focus {
	case paneSide:
		if s.SideCursor >= len(s.Side) || s.Side[s.SideCursor].Kind == "header" {
			return
		}
		s.Source = s.Side[s.SideCursor]
		s.Search, s.Cursor, s.Top = "", 0, 0
		s.Tasks, s.Shown, s.Loading = nil, nil, true
		s.Preview = tuiPreview{}
		a.reload()
		a.focus(paneList)
	case paneList:
		a.focus(panePreview)
	case panePreview:
		items := s.previewItems()
		if s.Preview.Cursor < len(items) && items[s.Preview.Cursor].NodeID != "" {
			a.openLink()
		} else {
			a.toggleCheck()
		}
	}
}

// back is Esc: close an opened doc, clear the search, or return to the list.
func (a *tuiApp) back() {
	s := a.st
	switch {
	case s.Preview.Doc != nil:
		s.Preview.Doc = nil
	case s.Search != "":
		s.Search = ""
		s.applySearch()
		s.clamp()
		a.previewIfShown()
	case s.Focus != paneList:
		a.focus(paneList)
	}
}

// taskAct calls method on the task under the cursor with extra params.
// edit (for task.edit) holds the changes; done, skip and drop take none.
func (a *tuiApp) taskAct(method string, edit *taskEditParams, verb string) {
	t := a.st.current()
	if t == nil {
		a.flash("no task here", true)
		return
	}
	var params any = idParams{ID: t.ID}
	if edit != nil {
		edit.ID = t.ID
		params = *edit
	}
	var n Node
	if !a.check(a.data.call(method, params, &n)) {
		return
	}
	a.reload()
	a.flash(fmt.Sprintf("%s: %s %s", verb, n.Handle, tuiTruncateText(n.Title, 40)), false)
}

func (a *tuiApp) undo() {
	var res struct {
		Reverted []struct {
			Summary string `json:"summary"`
			Title   string `json:"title"`
		} `json:"reverted"`
	}
	if !a.check(a.data.call("undo", undoParams{}, &res)) {
		return
	}
	a.reload()
	msg := "undone"
	if len(res.Reverted) > 0 {
		msg += ": " + res.Reverted[0].Summary
	}
	a.flash(msg, false)
}

// pendingKey finishes a key sequence (x then y drops).
func (a *tuiApp) pendingKey(k tuiKey) {
	s := a.st
	pending := s.Pending
	s.Pending = ""
	if strings.HasPrefix(pending, "x") {
		if k.String() == "y" {
			a.taskAct("task.drop", nil, "dropped")
		} else {
			a.flash("not dropped", false)
		}
	}
}

// toggleCheck checks or unchecks the checklist item under the preview's
// cursor.
func (a *tuiApp) toggleCheck() {
	s := a.st
	t := s.current()
	items := s.previewItems()
	if t == nil || s.Preview.Cursor >= len(items) || items[s.Preview.Cursor].Check == 0 {
		a.flash("no checklist item under the preview's cursor", true)
		return
	}
	it := items[s.Preview.Cursor]
	op, params := "check", contextEditParams{ID: t.ID, Check: &it.Check}
	if it.Checked {
		op, params = "uncheck", contextEditParams{ID: t.ID, Uncheck: &it.Check}
	}
	if !a.check(a.data.call("context.edit", params, nil)) {
		return
	}
	a.check(a.loadPreview(true))
	a.flash(op+"ed item "+fmt.Sprint(it.Check), false)
}

// openLink opens the link under the preview's cursor (or the first link):
// a task in the list gets the cursor, anything else is shown in the preview.
func (a *tuiApp) openLink() {
	s := a.st
	items := s.previewItems()
	id := ""
	if s.Preview.Cursor < len(items) {
		id = items[s.Preview.Cursor].NodeID
	}
	for _, it := range items {
		if id == "" && it.NodeID != "" {
			id = it.NodeID
		}
	}
	if id == "" {
		a.flash("no link to open", true)
		return
	}
	for i, idx := range s.Shown {
		if s.Tasks[idx].ID == id {
			s.Cursor = i
			s.clamp()
			a.focus(paneList)
			return
		}
	}
	var n Node
	if a.check(a.data.call("node.get", idParams{ID: id}, &n)) {
		s.Preview.Doc = &n
		a.focus(panePreview)
	}
}

// mouse: a click selects (a task, a view or project); the wheel scrolls.
func (a *tuiApp) mouse(k tuiKey) {
	s := a.st
	l := tuiLayoutOf(s)
	in := func(r tuiRect) bool { return r.w > 0 && k.X >= r.x && k.X < r.x+r.w && k.Y >= r.y && k.Y < r.y+r.h }
	switch {
	case k.Mouse == "wheelup" || k.Mouse == "wheeldown":
		n := 3
		if k.Mouse == "wheelup" {
			n = -3
		}
		a.move(n)
	case in(l.list) && k.Y > l.list.y:
		if i := s.Top + k.Y - l.list.y - 1; i < len(s.Shown) {
			s.Focus, s.Cursor = paneList, i
			s.clamp()
			a.previewIfShown()
		}
	case in(l.side) && k.Y > l.side.y:
		if i := k.Y - l.side.y - 1; i < len(s.Side) && s.Side[i].Kind != "header" {
			s.Focus, s.SideCursor = paneSide, i
			a.open()
		}
	case in(l.preview):
		s.Focus = panePreview
	}
}
