// tui_render.go owns the TUI's renderer: a pure function from tuiState to a cell grid (sidebar, task list, preview, status line, prompts, help).

package main

import (
	"fmt"
	"strings"
	"time"
)

// tuiRender draws the whole screen for s.
func tuiRender(s *tuiState) *tuiGrid {
	g := newTuiGrid(s.Width, s.Height)
	if s.Width < 20 || s.Height < 5 {
		g.put(0, 0, "heph tui: window too small", stBold, s.Width)
		return g
	}
	l := tuiLayoutOf(s)
	if l.side.w > 0 {
		tuiRenderSide(g, s, l.side)
	}
	if l.list.w > 0 {
		tuiRenderList(g, s, l.list)
	}
	if l.preview.w > 0 {
		tuiRenderPreview(g, s, l.preview)
	}
	for _, r := range []tuiRect{l.side, l.list} {
		if r.w > 0 && r.x+r.w < s.Width {
			for y := 0; y < r.h; y++ {
				g.put(r.x+r.w, y, "│", stDim, s.Width)
			}
		}
	}
	tuiRenderStatus(g, s)
	if s.Prompt != nil {
		tuiRenderPrompt(g, s)
	}
	if s.Help {
		tuiRenderHelp(g, s)
	}
	return g
}

// tuiHeader draws a pane's title row.
func tuiHeader(g *tuiGrid, r tuiRect, title, right string, focused bool) {
	st := stHeader
	if focused {
		st = stHeaderFocus
	}
	g.fill(r.x, r.y, r.x+r.w, r.y+1, st)
	x := g.put(r.x+1, r.y, title, st, r.x+r.w-1)
	if right != "" && x+displayWidth(right)+2 < r.x+r.w {
		g.putRight(r.y, right, st, r.x+r.w-1)
	}
}

func tuiRenderSide(g *tuiGrid, s *tuiState, r tuiRect) {
	tuiHeader(g, r, "heph", "", s.Focus == paneSide)
	top := 0
	rows := r.h - 1
	if s.SideCursor >= rows {
		top = s.SideCursor - rows + 1
	}
	for i := top; i < len(s.Side) && i-top < rows; i++ {
		it := s.Side[i]
		y := r.y + 1 + i - top
		st := stNormal
		if it.Kind == "header" {
			g.put(r.x+1, y, it.Label, stBold, r.x+r.w)
			continue
		}
		current := it.Kind == s.Source.Kind && it.Name == s.Source.Name
		if current {
			st = stBold
		}
		if i == s.SideCursor && s.Focus == paneSide {
			st = stSelected
			g.fill(r.x, y, r.x+r.w, y+1, st)
		}
		mark := "  "
		if current {
			mark = "▸ "
		}
		count := ""
		if it.Count >= 0 {
			count = fmt.Sprint(it.Count)
		}
		end := r.x + r.w - 1
		cx := end
		if count != "" {
			cx = g.putRight(y, count, st, end) - 1
		}
		if it.Late > 0 && cx-6 > r.x+8 {
			cx = g.putRight(y, fmt.Sprintf("!%d", it.Late), tuiLateStyle(st), cx) - 1
		}
		g.put(r.x+1+2*it.Depth, y, mark+it.Label, st, cx)
	}
}

func tuiLateStyle(st tuiStyle) tuiStyle {
	if st == stSelected {
		return st
	}
	return stRed
}

// tuiMarker is the attention marker: readable without colour.
func tuiMarker(attention string) (string, tuiStyle) {
	switch attention {
	case "red":
		return "!", stRed
	case "orange":
		return "+", stOrange
	case "blue":
		return "~", stBlue
	}
	return "·", stWhite
}

func tuiRenderList(g *tuiGrid, s *tuiState, r tuiRect) {
	title := s.Source.Label
	if s.Filter != "" {
		title += " · f:" + s.Filter
	}
	if s.Search != "" {
		title += " · /" + s.Search
	}
	count := fmt.Sprintf("%d", len(s.Shown))
	if s.Partial {
		count += "…"
	}
	if len(s.Shown) != len(s.Tasks) {
		count = fmt.Sprintf("%d/%d", len(s.Shown), len(s.Tasks))
	}
	tuiHeader(g, r, title, count, s.Focus == paneList)
	rows := r.h - 1
	if len(s.Shown) == 0 {
		msg := "no tasks"
		if s.Loading {
			msg = "loading…"
		}
		g.put(r.x+2, r.y+2, msg, stDim, r.x+r.w)
		return
	}
	projW := 0
	if r.w >= 50 {
		projW = min(20, r.w/4)
	}
	for i := s.Top; i < len(s.Shown) && i-s.Top < rows; i++ {
		tuiRenderTaskRow(g, s, &s.Tasks[s.Shown[i]], r, r.y+1+i-s.Top, projW, i == s.Cursor)
	}
}

func tuiRenderTaskRow(g *tuiGrid, s *tuiState, t *tuiTask, r tuiRect, y, projW int, selected bool) {
	base := stNormal
	if selected {
		base = stSelected
		if s.Focus != paneList {
			base = stBold
		}
		g.fill(r.x, y, r.x+r.w, y+1, base)
	}
	tk := t.Task
	if tk == nil {
		tk = &Task{}
	}
	marker, mst := tuiMarker(tk.Attention)
	if selected && base == stSelected {
		mst = stSelected
	}
	g.put(r.x+1, y, marker, mst, r.x+r.w)
	end := r.x + r.w - 1
	when, wst := tuiWhen(tk, s.Now)
	if selected && base == stSelected {
		wst = stSelected
	}
	if when != "" {
		g.putRight(y, when, wst, end)
	}
	end -= 9
	if projW > 0 {
		g.put(end-projW, y, tk.Project, tuiDimUnless(base), end)
		end -= projW + 1
	}
	g.put(r.x+3, y, t.Title, base, end-1)
}

func tuiDimUnless(base tuiStyle) tuiStyle {
	if base == stNormal {
		return stDim
	}
	return base
}

// tuiWhen is a task's date column: how late it is, else when it is due to
// start or be done.
func tuiWhen(t *Task, now time.Time) (string, tuiStyle) {
	switch {
	case t.Late != nil && !t.Late.After(now):
		return tuiShortAge(now.Sub(*t.Late)) + " late", stRed
	case t.Do != nil && t.Do.After(now):
		return "do " + tuiShortDay(*t.Do, now), stDim
	case t.Late != nil:
		return "by " + tuiShortDay(*t.Late, now), stDim
	}
	return "", stNormal
}

// tuiShortAge is a duration in its largest unit: 5m, 3h, 2d, 6w.
func tuiShortAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 14*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dw", int(d.Hours()/24/7))
}

// tuiShortDay names a day near now: today's time, a weekday within a week,
// else the month and day.
func tuiShortDay(t, now time.Time) string {
	t = t.In(now.Location())
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case t.Sub(now) < 6*24*time.Hour:
		return t.Format("Mon")
	}
	return t.Format("Jan 2")
}

func tuiRenderPreview(g *tuiGrid, s *tuiState, r tuiRect) {
	t := s.current()
	tuiHeader(g, r, "preview", "", s.Focus == panePreview)
	if s.Preview.Doc != nil {
		tuiRenderDocPreview(g, s, r)
		return
	}
	if t == nil {
		return
	}
	y := r.y + 1
	g.put(r.x+1, y, t.Title, stBold, r.x+r.w-1)
	y = tuiRenderMeta(g, t, r, y+1, s.Now)
	if s.Preview.TaskID != t.ID {
		g.put(r.x+1, y+1, "loading…", stDim, r.x+r.w-1)
		return
	}
	// The preview's selectable lines (checklist items, then links), in
	// the order previewItems lists them; sel is the one under the cursor.
	pc := tuiPreviewCursor{sel: -1}
	if s.Focus == panePreview && s.Preview.Cursor < len(s.previewItems()) {
		pc.sel = s.Preview.Cursor
	}
	y = tuiRenderContext(g, s, r, y, &pc)
	y = tuiRenderLog(g, s, r, y)
	tuiRenderLinks(g, s, r, y, &pc)
}

// tuiPreviewCursor counts the preview's selectable lines as they are drawn.
type tuiPreviewCursor struct{ item, sel int }

// style is the style of the next selectable line (highlighting its row
// when it is under the cursor).
func (pc *tuiPreviewCursor) style(g *tuiGrid, r tuiRect, y int, st tuiStyle) tuiStyle {
	if pc.item == pc.sel {
		st = stSelected
		g.fill(r.x, y, r.x+r.w, y+1, st)
	}
	pc.item++
	return st
}

func tuiRenderContext(g *tuiGrid, s *tuiState, r tuiRect, y int, pc *tuiPreviewCursor) int {
	c := s.Preview.Context
	if c == nil || strings.TrimSpace(c.Body) == "" {
		return y
	}
	y = tuiSection(g, r, y, "context")
	for _, line := range strings.Split(strings.TrimRight(c.Body, "\n"), "\n") {
		if y >= r.y+r.h {
			return y
		}
		st := stNormal
		if checked, ok := tuiChecklistLine(line); ok {
			if checked {
				st = stDim
			}
			st = pc.style(g, r, y, st)
		}
		g.put(r.x+1, y, line, st, r.x+r.w-1)
		y++
	}
	return y
}

// tuiRenderLog draws the log's last five entries.
func tuiRenderLog(g *tuiGrid, s *tuiState, r tuiRect, y int) int {
	lg := s.Preview.Log
	if lg == nil || strings.TrimSpace(lg.Body) == "" {
		return y
	}
	y = tuiSection(g, r, y, "log")
	lines := strings.Split(strings.TrimRight(lg.Body, "\n"), "\n")
	for _, line := range lines[max(0, len(lines)-5):] {
		if y < r.y+r.h {
			g.put(r.x+1, y, line, stDim, r.x+r.w-1)
		}
		y++
	}
	return y
}

func tuiRenderLinks(g *tuiGrid, s *tuiState, r tuiRect, y int, pc *tuiPreviewCursor) {
	if len(s.Preview.Links) == 0 {
		return
	}
	y = tuiSection(g, r, y, "links")
	for _, l := range s.Preview.Links {
		if y >= r.y+r.h || l.Node == nil {
			return
		}
		st := pc.style(g, r, y, stNormal)
		arrow := "→ "
		if l.Kind == "backlink" {
			arrow = "← "
		}
		g.put(r.x+1, y, arrow+l.Node.Title, st, r.x+r.w-1)
		y++
	}
}

// tuiSection draws a section rule and returns the row after it.
func tuiSection(g *tuiGrid, r tuiRect, y int, name string) int {
	if y >= r.y+r.h {
		return y
	}
	x := g.put(r.x+1, y, "── "+name+" ", stDim, r.x+r.w-1)
	for ; x < r.x+r.w-1; x++ {
		g.put(x, y, "─", stDim, r.x+r.w-1)
	}
	return y + 1
}

// tuiRenderMeta draws attention, project, tags, dates and recurrence.
func tuiRenderMeta(g *tuiGrid, t *tuiTask, r tuiRect, y int, now time.Time) int {
	tk := t.Task
	if tk == nil {
		return y
	}
	end := r.x + r.w - 1
	marker, mst := tuiMarker(tk.Attention)
	x := g.put(r.x+1, y, marker+" "+tk.Attention, mst, end)
	x = g.put(x, y, "  "+t.Handle, stDim, end)
	if tk.Project != "" {
		x = g.put(x, y, "  "+tk.Project, stTokProject, end)
	}
	for _, tag := range tk.Tags {
		x = g.put(x, y, " +"+tag, stTokTag, end)
	}
	y++
	var dates []string
	if tk.Do != nil {
		dates = append(dates, "do "+tk.Do.In(now.Location()).Format("Mon Jan 2 15:04"))
	}
	if tk.Late != nil {
		dates = append(dates, "late "+tk.Late.In(now.Location()).Format("Mon Jan 2 15:04"))
	}
	if tk.Recur != "" {
		dates = append(dates, "recur "+tk.Recur)
	}
	if t.Why != "" {
		dates = append(dates, "("+t.Why+")")
	}
	if len(dates) > 0 {
		g.put(r.x+1, y, strings.Join(dates, " · "), stTokDate, end)
		y++
	}
	return y
}

func tuiRenderDocPreview(g *tuiGrid, s *tuiState, r tuiRect) {
	d := s.Preview.Doc
	end := r.x + r.w - 1
	g.put(r.x+1, r.y+1, d.Title, stBold, end)
	g.put(r.x+1, r.y+2, d.Handle+"  (Esc: back)", stDim, end)
	y := r.y + 3
	for _, line := range strings.Split(d.Body, "\n") {
		if y >= r.y+r.h {
			break
		}
		g.put(r.x+1, y, line, stNormal, end)
		y++
	}
}

// tuiRenderStatus draws the last row: daemon, sync health, conflicts, then
// the pending key sequence or a message.
func tuiRenderStatus(g *tuiGrid, s *tuiState) {
	y := s.Height - 1
	st := stStatus
	if s.Offline || s.SyncBad {
		st = stStatusWarn
	}
	g.fill(0, y, s.Width, y+1, st)
	var left string
	if s.Offline {
		left = " hephd stopped — waiting"
	} else {
		parts := []string{"hephd " + s.Version, s.Sync}
		if s.Conflicts > 0 {
			parts = append(parts, fmt.Sprintf("%d conflicts", s.Conflicts))
		}
		if s.Live != "" {
			parts = append(parts, s.Live)
		}
		left = " " + strings.Join(parts, " · ")
	}
	right := "? help "
	rst := st
	switch {
	case s.Pending != "":
		right = s.Pending + " "
	case s.Flash != "":
		right = s.Flash + " "
		if s.FlashEr {
			rst = stStatusWarn
		}
	}
	rx := max(s.Width/3, s.Width-displayWidth(right))
	g.put(rx, y, right, rst, s.Width)
	g.put(0, y, left, st, rx-1)
}

func tuiRenderPrompt(g *tuiGrid, s *tuiState) {
	p := s.Prompt
	y := s.Height - 2
	g.fill(0, y, s.Width, y+1, stNormal)
	x := g.put(0, y, p.Label, stPrompt, s.Width)
	text := string(p.Text)
	// Keep the end of a long line in view.
	for displayWidth(text) > s.Width-x-2 && text != "" {
		_, n := tuiFirstRune(text)
		text = text[n:]
	}
	x = g.put(x, y, text, stNormal, s.Width)
	g.put(x, y, "█", stDim, s.Width)
	if p.Kind == "add" && (len(p.Tokens) > 0 || p.Note != "") {
		y--
		g.fill(0, y, s.Width, y+1, stNormal)
		x := g.put(0, y, "  ", stDim, s.Width)
		for _, t := range p.Tokens {
			x = g.put(x, y, tuiTokenLabel(t), tuiTokenStyle(t.Role), s.Width) + 1
		}
		g.put(x, y, p.Note, stDim, s.Width)
	}
	if p.Kind == "move" {
		for i, name := range p.Picker {
			row := y - 1 - i
			if row < 1 || i >= 8 {
				break
			}
			st := stNormal
			if i == p.Pick {
				st = stSelected
			}
			g.fill(0, row, s.Width, row+1, st)
			g.put(2, row, name, st, s.Width)
		}
	}
}

func tuiFirstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return r, i
		}
	}
	return 0, len(s)
}

func tuiTokenLabel(t tuiToken) string {
	if t.Role == "title" {
		return t.Text
	}
	return t.Role + ":" + t.Text
}

func tuiTokenStyle(role string) tuiStyle {
	switch role {
	case "project":
		return stTokProject
	case "tag":
		return stTokTag
	case "do", "late", "recur":
		return stTokDate
	case "attention":
		return stOrange
	}
	return stBold
}

// tuiHelp is the key list ? shows.
var tuiHelpLines = [...]string{
	"j/k ↓/↑  move          g/G  first/last     PgUp/PgDn  page",
	"Tab h/l  switch pane   Enter  open         r  refresh",
	"/  search (as you type)  f  filter (filter language)",
	"a  quick add (shows the parse)   d  done   s  skip   x  drop",
	"u  undo   1-4  attention: red orange blue white (as p1-p4)",
	"m  move to project   t  tags (+a -b)   D/L  do/late date",
	"e  edit context in $EDITOR   c  toggle checklist item",
	"o  open link   p  preview (narrow)   q  quit   ?  close help",
	"marks: ! red  + orange  · white  ~ blue",
}

func tuiRenderHelp(g *tuiGrid, s *tuiState) {
	w := 0
	for _, l := range tuiHelpLines {
		w = max(w, displayWidth(l))
	}
	w = min(w+4, s.Width)
	h := min(len(tuiHelpLines)+2, s.Height-1)
	x0, y0 := max(0, (s.Width-w)/2), max(0, (s.Height-1-h)/2)
	g.fill(x0, y0, x0+w, y0+h, stNormal)
	tuiHeader(g, tuiRect{x0, y0, w, 1}, "keys", "", true)
	for i, l := range tuiHelpLines {
		if y0+1+i >= y0+h {
			break
		}
		g.put(x0+2, y0+1+i, l, stNormal, x0+w)
	}
}
