// tui_render_test.go: golden screens of the pure renderer at fixed sizes, and alignment with wide and hostile titles.

package main

import (
	"os"
	"path/filepath"
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
			} else if len(row) > 0 && !tuiEqualInts(row, cols) {
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
