// tui_render_test.go: golden screens of the pure renderer at fixed sizes, wide-character alignment, and the diff writer replayed on a minimal terminal.

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tuiFixture is a state with a realistic mix of tasks, fixed in time.
func tuiFixture(w, h int) *tuiState {
	now := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	task := func(handle, title, att, project string, tags []string, do, late *time.Time) tuiTask {
		return tuiTask{Node: Node{ID: "01" + strings.ToUpper(handle), Handle: handle, Kind: "task", Title: title,
			Task: &Task{State: "outstanding", Attention: att, Project: project, Tags: tags, Do: do, Late: late}}}
	}
	s := &tuiState{Width: w, Height: h, Now: now, Version: "v0.4.0", Sync: "synced 2m ago", Conflicts: 2, Live: "live",
		Focus: paneList, Source: tuiSideItem{Kind: "view", Name: "next", Label: "next"},
		Side: []tuiSideItem{{Kind: "header", Label: "Views"},
			{Kind: "view", Name: "next", Label: "next", Count: 6}, {Kind: "view", Name: "ondeck", Label: "ondeck", Count: 1},
			{Kind: "view", Name: "upcoming", Label: "upcoming", Count: 2}, {Kind: "view", Name: "late", Label: "late", Count: 1},
			{Kind: "header", Label: "Projects"},
			{Kind: "project", Name: "Home", Label: "Home", Count: 3},
			{Kind: "project", Name: "Home/Garden", Label: "Garden", Count: 2, Late: 1, Depth: 1},
			{Kind: "project", Name: "Work", Label: "Work", Count: 3}},
	}
	tasks := []tuiTask{
		task("k3lx", "Renew passport", "red", "Home", nil, nil, at(-50*time.Hour)),
		task("a9q2", "Prune the roses 🌹 before frost", "orange", "Home/Garden", []string{"outside"}, nil, nil),
		task("m4t1", "会議の資料を準備する", "white", "Work", nil, at(30*time.Hour), nil),
		task("z7p0", "Reply to \x1b[31mEve\x1b[0m about the quarterly numbers and the budget", "white", "Work", []string{"mail"}, nil, nil),
		task("b2c8", "Someday: learn the cello", "blue", "", nil, nil, nil),
		task("q5r6", "Water plants", "white", "Home/Garden", nil, nil, at(5*24*time.Hour)),
	}
	tasks[0].Why = "2d late"
	s.setTasks(tasks, "")
	s.Preview = tuiPreview{TaskID: tasks[0].ID,
		Context: &Node{Body: "Forms are in the desk.\n- [x] photo booth\n- [ ] fill in form\n- [ ] post office"},
		Log:     &Node{Body: "- 2026-11-20 10:00 found the old passport\n- 2026-11-28 18:12 booked photo"},
		Links:   []linkEntry{{Node: &Node{ID: "01DOC", Title: "Travel plans"}, Kind: "wiki"}, {Node: &Node{ID: "01T", Title: "Book flights"}, Kind: "backlink"}}}
	return s
}

// tuiCheckGolden compares got with testdata/tui/NAME.golden (UPDATE_GOLDEN=1
// rewrites it).
func tuiCheckGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "tui", name+".golden")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func TestTUIRenderGolden(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		mod  func(s *tuiState)
	}{
		{"80x24", 80, 24, nil},
		{"200x60", 200, 60, nil},
		{"120x40-preview-focus", 120, 40, func(s *tuiState) { s.Focus = panePreview; s.Preview.Cursor = 1 }},
		{"80x24-preview-toggled", 80, 24, func(s *tuiState) { s.ShowPreview, s.Focus = true, panePreview }},
		{"50x20-list", 50, 20, nil},
		{"50x20-sidebar", 50, 20, func(s *tuiState) { s.Focus, s.SideCursor = paneSide, 7 }},
		{"80x24-help", 80, 24, func(s *tuiState) { s.Help = true }},
		{"80x24-offline", 80, 24, func(s *tuiState) { s.Offline = true }},
		{"80x24-pending", 80, 24, func(s *tuiState) { s.Pending = `x — drop "Renew passport"? y/n` }},
		{"100x30-quickadd", 100, 30, func(s *tuiState) {
			s.Prompt = &tuiPrompt{Kind: "add", Label: "add: ", Text: []rune("Call Bob !red @Work +phone fri"),
				Tokens: []tuiToken{{"Call Bob", "title"}, {"red", "attention"}, {"Work", "project"}, {"phone", "tag"}, {"fri", "do"}}}
		}},
		{"100x30-move", 100, 30, func(s *tuiState) {
			s.Prompt = &tuiPrompt{Kind: "move", Label: "move to project: ", Text: []rune("gar"), Picker: []string{"Home/Garden"}}
		}},
		{"100x30-search", 100, 30, func(s *tuiState) { s.Search = "garden"; s.applySearch(); s.clamp() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := tuiFixture(c.w, c.h)
			if c.mod != nil {
				c.mod(s)
			}
			g := tuiRender(s)
			tuiCheckGolden(t, c.name, g.Text()+"--- styles\n"+g.Styles())
		})
	}
}

// TestTUIRenderAlignment: whatever the titles hold (emoji, CJK, escape
// sequences), every list row keeps the pane borders in the same columns
// and no control character reaches the grid.
func TestTUIRenderAlignment(t *testing.T) {
	for _, w := range []int{80, 120, 200} {
		s := tuiFixture(w, 24)
		g := tuiRender(s)
		var cols []int
		for y := 0; y < g.H-1; y++ {
			var row []int
			for x := 0; x < g.W; x++ {
				c := g.at(x, y)
				if c.R < 0x20 || c.R == 0x7f {
					if c.W != 0 {
						t.Fatalf("%d cols: control character %q at %d,%d", w, c.R, x, y)
					}
				}
				if c.W != 0 && c.R == '│' {
					row = append(row, x)
				}
			}
			if cols == nil {
				cols = row
			} else if len(row) > 0 && strings.Trim(strings.Join(strings.Fields(strconv.Itoa(len(row))), ""), "") != "" && !tuiEqualInts(row, cols) {
				t.Errorf("%d cols: row %d has borders at %v, row 0 at %v:\n%s", w, y, row, cols, g.Text())
			}
		}
		if len(cols) == 0 {
			t.Fatalf("%d cols: no pane borders drawn", w)
		}
		if strings.Contains(g.Text(), "\x1b") {
			t.Fatal("an escape character reached the screen")
		}
		// The wide titles take exactly their columns: the project column
		// starts at the same column on each task row.
		lines := strings.Split(g.Text(), "\n")
		var projCols []int
		for _, l := range lines[1:7] {
			if i := strings.Index(l, "Work"); i >= 0 && !strings.Contains(l, "Work  ") {
				projCols = append(projCols, displayWidth(l[:i]))
			}
		}
		for _, c := range projCols {
			if c != projCols[0] {
				t.Errorf("%d cols: project column moves with the title: %v\n%s", w, projCols, g.Text())
			}
		}
	}
}

func tuiEqualInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tuiVt is a minimal terminal: cursor moves, clears, SGR (ignored) and text
// with display widths; enough to replay the diff writer's output.
type tuiVt struct {
	w, h   int
	cells  [][]rune
	cx, cy int
}

func tuiNewVT(w, h int) *tuiVt {
	v := &tuiVt{w: w, h: h}
	v.clear()
	return v
}

func (v *tuiVt) clear() {
	v.cells = make([][]rune, v.h)
	for y := range v.cells {
		v.cells[y] = []rune(strings.Repeat(" ", v.w))
	}
}

func (v *tuiVt) feed(t *testing.T, b string) {
	for len(b) > 0 {
		if strings.HasPrefix(b, "\x1b[") {
			end := strings.IndexAny(b[2:], "HJmhl")
			if end < 0 {
				t.Fatalf("unterminated sequence %q", b)
			}
			params, final := b[2:2+end], b[2+end]
			b = b[3+end:]
			switch final {
			case 'H':
				f := strings.Split(params, ";")
				v.cy, _ = strconv.Atoi(f[0])
				v.cx, _ = strconv.Atoi(f[1])
				v.cy--
				v.cx--
			case 'J':
				v.clear()
			}
			continue
		}
		r, n := []rune(b[:min(len(b), 4)])[0], len(string([]rune(b[:min(len(b), 4)])[0]))
		b = b[n:]
		if r < 0x20 {
			t.Fatalf("control character %q written", r)
		}
		v.cells[v.cy][v.cx] = r
		if runeWidth(r) == 2 {
			v.cells[v.cy][v.cx+1] = 0
		}
		v.cx += runeWidth(r)
	}
}

func (v *tuiVt) text() string {
	var b strings.Builder
	for _, row := range v.cells {
		var l strings.Builder
		for _, r := range row {
			if r != 0 {
				l.WriteRune(r)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	return b.String()
}

// TestTUIDiffWriter: replaying the frames on a terminal yields the screen,
// a cursor move rewrites only the rows it changes, and a wide character
// replaced by narrow ones leaves no stale half behind.
func TestTUIDiffWriter(t *testing.T) {
	s := tuiFixture(120, 30)
	w := tuiWriter{mode: color256}
	v := tuiNewVT(120, 30)
	first := w.frame(tuiRender(s))
	v.feed(t, string(first))
	if got, want := v.text(), tuiRender(s).Text(); got != want {
		t.Fatalf("first frame replayed:\n%s\nwant:\n%s", got, want)
	}
	if again := w.frame(tuiRender(s)); len(again) != 0 {
		t.Fatalf("an unchanged screen wrote %d bytes: %q", len(again), again)
	}
	s.Cursor = 2
	s.Preview.TaskID = s.current().ID
	s.Preview.Context, s.Preview.Log, s.Preview.Links = nil, nil, nil
	diff := w.frame(tuiRender(s))
	v.feed(t, string(diff))
	if got, want := v.text(), tuiRender(s).Text(); got != want {
		t.Fatalf("after moving:\n%s\nwant:\n%s", got, want)
	}
	if len(diff) >= len(first)/2 {
		t.Errorf("moving the cursor wrote %d bytes, the full screen %d: not a diff", len(diff), len(first))
	}
	// Replace the CJK title by narrow text of the same width.
	s.Tasks[2].Title = "abcdefghijklmnopqrst"
	v.feed(t, string(w.frame(tuiRender(s))))
	if got, want := v.text(), tuiRender(s).Text(); got != want {
		t.Fatalf("after a wide title became narrow:\n%s\nwant:\n%s", got, want)
	}
}

// TestTUIColorModes: NO_COLOR leaves attributes but no colour; 16 colours
// use the basic palette only.
func TestTUIColorModes(t *testing.T) {
	env := func(kv map[string]string) getenvFunc { return func(k string) string { return kv[k] } }
	if m := tuiColorFromEnv(env(map[string]string{"NO_COLOR": "1", "TERM": "xterm-256color"})); m != colorNone {
		t.Errorf("NO_COLOR: mode %d", m)
	}
	if m := tuiColorFromEnv(env(map[string]string{"TERM": "xterm"})); m != color16 {
		t.Errorf("TERM=xterm: mode %d", m)
	}
	if m := tuiColorFromEnv(env(map[string]string{"TERM": "tmux-256color"})); m != color256 {
		t.Errorf("TERM=tmux-256color: mode %d", m)
	}
	g := tuiRender(tuiFixture(80, 24))
	for mode, bad := range map[tuiColorMode][]string{colorNone: {";3", ";9", "38;"}, color16: {"38;5"}} {
		out := string((&tuiWriter{mode: mode}).frame(g))
		for _, b := range bad {
			if strings.Contains(out, b) {
				t.Errorf("mode %d writes %q", mode, b)
			}
		}
		if !strings.Contains(out, "7m") {
			t.Errorf("mode %d lost reverse video (the cursor row)", mode)
		}
	}
	if out := string((&tuiWriter{mode: color16}).frame(g)); !strings.Contains(out, ";31m") {
		t.Error("16 colours: red attention is not red")
	}
}

func TestTUIParseKeys(t *testing.T) {
	keys := parseTuiKeys([]byte("j\x1b[B\x1b[5~\r\x1b[200~pasted\x1b[31m\nline\x1b[201~\x1b[<0;10;5M\x1b[<65;1;1M日\x7f\x1b"), true)
	var names []string
	for _, k := range keys {
		names = append(names, k.String())
	}
	want := "j down pgup enter paste mouse mouse 日 backspace esc"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("keys %q, want %q", got, want)
	}
	if keys[4].Text != "pasted\x1b[31m\nline" {
		t.Errorf("paste text %q", keys[4].Text)
	}
	if keys[5].Mouse != "click" || keys[5].X != 9 || keys[5].Y != 4 || keys[6].Mouse != "wheeldown" {
		t.Errorf("mouse %+v %+v", keys[5], keys[6])
	}
	// A sequence split across reads waits for its end.
	ks, rest := parseTuiKeysPartial([]byte("k\x1b[5"))
	if len(ks) != 1 || string(rest) != "\x1b[5" {
		t.Fatalf("partial: %v rest %q", ks, rest)
	}
}
