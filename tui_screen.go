// tui_screen.go owns the TUI's cell grid and the diff writer that turns a new grid into the escape sequences for only the cells that changed.

package main

import (
	"strconv"
	"strings"
)

// tuiStyle names how a cell is drawn; tuiSGR maps it to escape codes for a
// colour mode, so the renderer never deals in escape sequences.
type tuiStyle uint8

const (
	stNormal tuiStyle = iota
	stDim
	stBold
	stHeader      // a pane's title row
	stHeaderFocus // the focused pane's title row
	stSelected    // the cursor row
	stRed
	stOrange
	stBlue
	stWhite
	stStatus     // the status line
	stStatusWarn // the status line when something needs attention
	stError
	stPrompt
	stTokProject
	stTokTag
	stTokDate
	stStyles // count
)

// tuiColorMode is how many colours the terminal gets.
type tuiColorMode uint8

const (
	colorNone tuiColorMode = iota // NO_COLOR: attributes only
	color16
	color256
)

// tuiCell is one terminal column. A wide character occupies its cell (W 2)
// and the next one (W 0, a continuation that is never written itself).
type tuiCell struct {
	R rune
	W uint8
	S tuiStyle
}

// tuiGrid is a screen's worth of cells.
type tuiGrid struct {
	W, H  int
	Cells []tuiCell
}

func newTuiGrid(w, h int) *tuiGrid {
	g := &tuiGrid{W: w, H: h, Cells: make([]tuiCell, w*h)}
	for i := range g.Cells {
		g.Cells[i] = tuiCell{R: ' ', W: 1}
	}
	return g
}

func (g *tuiGrid) at(x, y int) *tuiCell { return &g.Cells[y*g.W+x] }

// fill paints the rectangle [x0,x1)×[y0,y1) with blanks of style st.
func (g *tuiGrid) fill(x0, y0, x1, y1 int, st tuiStyle) {
	for y := max(y0, 0); y < min(y1, g.H); y++ {
		for x := max(x0, 0); x < min(x1, g.W); x++ {
			*g.at(x, y) = tuiCell{R: ' ', W: 1, S: st}
		}
	}
}

// put writes s (sanitized for the terminal) from column x on row y, never
// past column maxX (exclusive), and returns the column after it. A wide
// character that would straddle maxX becomes a space, so columns stay
// aligned whatever the title holds.
func (g *tuiGrid) put(x, y int, s string, st tuiStyle, maxX int) int {
	if y < 0 || y >= g.H {
		return x
	}
	maxX = min(maxX, g.W)
	for _, r := range displayText(s) {
		w := runeWidth(r)
		if w == 0 {
			continue // combining marks and zero-width characters: dropped, never misaligning
		}
		if x+w > maxX {
			if x < maxX {
				*g.at(x, y) = tuiCell{R: ' ', W: 1, S: st}
				x++
			}
			break
		}
		if x < 0 {
			x += w
			continue
		}
		*g.at(x, y) = tuiCell{R: r, W: uint8(w), S: st}
		if w == 2 {
			*g.at(x+1, y) = tuiCell{W: 0, S: st}
		}
		x += w
	}
	return x
}

// putRight writes s so that it ends at column maxX, and returns its start.
func (g *tuiGrid) putRight(y int, s string, st tuiStyle, maxX int) int {
	x := maxX - displayWidth(displayText(s))
	g.put(x, y, s, st, maxX)
	return x
}

// Text returns the grid as lines of text (continuation cells skipped), the
// form golden files and tmux's capture-pane compare.
func (g *tuiGrid) Text() string {
	var b strings.Builder
	for y := 0; y < g.H; y++ {
		var line strings.Builder
		for x := 0; x < g.W; x++ {
			if c := g.at(x, y); c.W != 0 {
				line.WriteRune(c.R)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// Styles returns one letter per cell naming its style ('.' for normal), to
// pin colours in golden files.
func (g *tuiGrid) Styles() string {
	const letters = ".dbhHSrobwsWEpPtD"
	var b strings.Builder
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			b.WriteByte(letters[g.at(x, y).S])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// tuiSGR is the escape sequence that selects style st in colour mode m.
func tuiSGR(st tuiStyle, m tuiColorMode) string {
	attr := ""
	switch st {
	case stDim:
		attr = ";2"
	case stBold, stHeader, stError, stPrompt:
		attr = ";1"
	case stHeaderFocus, stStatusWarn:
		attr = ";1;7"
	case stSelected, stStatus:
		attr = ";7"
	}
	return "\x1b[0" + attr + tuiColor(st, m) + "m"
}

// tuiColor is the foreground colour of st: the 16 ANSI colours, or their
// 256-colour refinements (orange is yellow in 16 colours); none under
// NO_COLOR.
func tuiColor(st tuiStyle, m tuiColorMode) string {
	if m == colorNone {
		return ""
	}
	pick := func(c16, c256 string) string {
		if m == color256 {
			return ";" + c256
		}
		return ";" + c16
	}
	switch st {
	case stRed, stError, stStatusWarn:
		return pick("31", "38;5;196")
	case stOrange:
		return pick("33", "38;5;208")
	case stBlue:
		return pick("34", "38;5;33")
	case stTokProject:
		return pick("35", "38;5;135")
	case stTokTag:
		return pick("36", "38;5;37")
	case stTokDate:
		return pick("32", "38;5;34")
	}
	return ""
}

// tuiWriter emits the difference between the grid on screen and the next.
type tuiWriter struct {
	mode tuiColorMode
	prev *tuiGrid
}

// frame returns the bytes that turn the screen into g: everything when the
// size changed (or on the first frame), else only the changed cells.
func (w *tuiWriter) frame(g *tuiGrid) []byte {
	full := w.prev == nil || w.prev.W != g.W || w.prev.H != g.H
	var b []byte
	if full {
		b = append(b, "\x1b[0m\x1b[2J"...)
	}
	style := tuiStyle(255)
	cx, cy := -1, -1
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			c := g.at(x, y)
			if c.W == 0 {
				continue
			}
			if !full && *c == *w.prev.at(x, y) && (c.W == 1 || *g.at(x+1, y) == *w.prev.at(x+1, y)) {
				continue
			}
			if cx != x || cy != y {
				b = append(b, "\x1b["...)
				b = strconv.AppendInt(b, int64(y+1), 10)
				b = append(b, ';')
				b = strconv.AppendInt(b, int64(x+1), 10)
				b = append(b, 'H')
			}
			if c.S != style {
				b = append(b, tuiSGR(c.S, w.mode)...)
				style = c.S
			}
			b = append(b, string(c.R)...)
			cx, cy = x+int(c.W), y
		}
	}
	if style != stNormal && len(b) > 0 {
		b = append(b, "\x1b[0m"...)
	}
	w.prev = g
	return b
}
