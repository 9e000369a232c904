// tui_screen_test.go: the diff writer replayed on a minimal terminal, and the colour modes.

package main

import (
	"strconv"
	"strings"
	"testing"
)

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
