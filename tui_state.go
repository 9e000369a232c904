// tui_state.go owns the TUI's state: what is loaded, where the cursor is, which prompt is open; plain data the renderer draws and the key handlers change.

package main

import (
	"strings"
	"time"
)

// tuiPane is one of the three panes.
type tuiPane int

const (
	paneSide tuiPane = iota
	paneList
	panePreview
)

// tuiSideItem is one row of the sidebar: a tuiSection tuiHeader, a view or a
// project.
type tuiSideItem struct {
	Kind  string // "header", "view", "project"
	Name  string // the view's name or the project's path
	Label string // what is shown (a project's last path element)
	Count int    // outstanding tasks; -1 when unknown
	Late  int
	Depth int
}

// tuiTask is a task of the list: a Node and, from task.next, why it is there.
type tuiTask struct {
	Node
	Why string `json:"why,omitempty"`
}

// tuiPreviewItem is a selectable line of the preview: a checklist item (N,
// from 1, as context.edit counts them) or a link to a node.
type tuiPreviewItem struct {
	Check   int
	Checked bool
	NodeID  string
}

// tuiPreview is what the preview shows for the task under the cursor.
type tuiPreview struct {
	TaskID  string
	Context *Node
	Log     *Node
	Links   []linkEntry // outgoing (task and context doc) then backlinks
	Doc     *Node       // a doc opened with o, shown instead of the task
	Cursor  int         // index into Items()
}

// tuiPrompt is an open line editor at the bottom of the screen.
type tuiPrompt struct {
	Kind   string // search, filter, add, tags, do, late, move, confirm
	Label  string
	Text   []rune
	Tokens []tuiToken // quick add: how the text parses
	Note   string     // quick add: the parse or its error
	Picker []string   // move: matching projects, best first
	Pick   int
}

// tuiToken is a piece of a quick-add parse (task.parse's tokens).
type tuiToken struct {
	Text string `json:"text"`
	Role string `json:"role"`
}

// tuiState is everything the screen shows.
type tuiState struct {
	Width, Height int
	Color         tuiColorMode
	Now           time.Time

	Version, Mode string
	Sync          string // "local", "synced 2m ago", "offline", "auth failed"
	SyncBad       bool
	Conflicts     int
	Live          string // "live", "polling"
	Offline       bool   // hephd stopped: waiting for it

	Side       []tuiSideItem
	SideCursor int
	Source     tuiSideItem // the view or project the list shows

	Tasks   []tuiTask
	Shown   []int // indexes of Tasks matching Search
	Cursor  int   // into Shown
	Top     int   // first shown row of the list
	Filter  string
	Search  string
	Loading bool
	Partial bool // only the first page is loaded yet

	Focus       tuiPane
	ShowPreview bool // below 100 columns: the preview replaces the list
	Preview     tuiPreview

	Prompt  *tuiPrompt
	Pending string // a key sequence waiting for its next key
	Flash   string
	FlashEr bool
	Help    bool
}

// current returns the task under the cursor, or nil.
func (s *tuiState) current() *tuiTask {
	if s.Cursor < 0 || s.Cursor >= len(s.Shown) {
		return nil
	}
	return &s.Tasks[s.Shown[s.Cursor]]
}

// applySearch recomputes Shown from Search: every word must appear in the
// title, project or tags (case-insensitive).
func (s *tuiState) applySearch() {
	s.Shown = s.Shown[:0]
	words := strings.Fields(strings.ToLower(s.Search))
	for i := range s.Tasks {
		if tuiMatchWords(&s.Tasks[i], words) {
			s.Shown = append(s.Shown, i)
		}
	}
}

func tuiMatchWords(t *tuiTask, words []string) bool {
	if len(words) == 0 {
		return true
	}
	hay := strings.ToLower(t.Title)
	if t.Task != nil {
		hay += " " + strings.ToLower(t.Task.Project) + " +" + strings.ToLower(strings.Join(t.Task.Tags, " +"))
	}
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// setTasks replaces the list, keeping the cursor on the same task or, when
// it vanished, on the one now at its position (the nearest).
func (s *tuiState) setTasks(tasks []tuiTask, keepID string) {
	s.Tasks = tasks
	s.applySearch()
	if keepID != "" {
		for i, idx := range s.Shown {
			if s.Tasks[idx].ID == keepID {
				s.Cursor = i
				s.clamp()
				return
			}
		}
	}
	s.clamp()
}

// clamp keeps the cursor on a row and the row on screen.
func (s *tuiState) clamp() {
	s.Cursor = max(0, min(s.Cursor, len(s.Shown)-1))
	rows := s.listRows()
	if s.Cursor < s.Top {
		s.Top = s.Cursor
	}
	if rows > 0 && s.Cursor >= s.Top+rows {
		s.Top = s.Cursor - rows + 1
	}
	s.Top = max(0, min(s.Top, len(s.Shown)-rows))
	s.SideCursor = max(0, min(s.SideCursor, len(s.Side)-1))
}

// listRows is how many task rows the list pane shows.
func (s *tuiState) listRows() int {
	return max(1, tuiLayoutOf(s).list.h-1)
}

// tuiRect is a pane's place on screen.
type tuiRect struct{ x, y, w, h int }

// tuiLayout is where each pane goes; a zero width hides it.
type tuiLayout struct{ side, list, preview tuiRect }

// tuiLayoutOf places the panes: all three from 100 columns, the preview as
// a toggle (p) below that, and one pane at a time below 60.
func tuiLayoutOf(s *tuiState) tuiLayout {
	h := s.Height - 1 // the status line
	var l tuiLayout
	switch {
	case s.Width >= 100:
		sw := min(32, max(24, s.Width/7))
		pw := (s.Width - sw) * 2 / 5
		l.side = tuiRect{0, 0, sw, h}
		l.list = tuiRect{sw + 1, 0, s.Width - sw - pw - 2, h}
		l.preview = tuiRect{s.Width - pw, 0, pw, h}
	case s.Width >= 60:
		sw := 22
		l.side = tuiRect{0, 0, sw, h}
		main := tuiRect{sw + 1, 0, s.Width - sw - 1, h}
		if s.ShowPreview {
			l.preview = main
		} else {
			l.list = main
		}
	default:
		full := tuiRect{0, 0, s.Width, h}
		switch {
		case s.Focus == paneSide:
			l.side = full
		case s.ShowPreview:
			l.preview = full
		default:
			l.list = full
		}
	}
	return l
}

// previewItems lists the preview's selectable lines in screen order.
func (s *tuiState) previewItems() []tuiPreviewItem {
	var items []tuiPreviewItem
	p := &s.Preview
	if p.Doc == nil && p.Context != nil {
		n := 0
		for _, line := range strings.Split(p.Context.Body, "\n") {
			if c, ok := tuiChecklistLine(line); ok {
				n++
				items = append(items, tuiPreviewItem{Check: n, Checked: c})
			}
		}
	}
	for _, l := range p.Links {
		if l.Node != nil {
			items = append(items, tuiPreviewItem{NodeID: l.Node.ID})
		}
	}
	return items
}

// tuiChecklistLine says whether line is a checklist item and whether it is
// checked, by the rule context.edit uses (checkboxLine).
func tuiChecklistLine(line string) (checked, ok bool) {
	m := checkboxLine().FindStringSubmatch(line)
	if m == nil {
		return false, false
	}
	return m[2] != " ", true
}
