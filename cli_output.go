// Human output: aligned, width-aware columns, coloured only on a terminal without NO_COLOR.

package main

import (
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Human output: aligned columns, coloured only when stdout is a terminal
// and NO_COLOR is unset (https://no-color.org).

// ANSI colours used for attention and lateness.
const (
	colorRed    = "31"
	colorYellow = "33"
	colorBlue   = "34"
	colorDim    = "2"
	colorBold   = "1"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlReadTermios)
	return err == nil
}

// useColor decides colour for output to w. NO_COLOR turns it off when it
// is set to anything but the empty string (https://no-color.org).
func useColor(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// cell is one table cell: text and an optional colour.
type cell struct {
	text, color string
}

// table renders rows with columns padded to their widest cell. Colour codes
// wrap the padded text, so they never disturb the alignment.
type table struct {
	rows  [][]cell
	color bool
	// width, when set (on a terminal), is the line length the last column
	// (a title) is truncated to fit, with an ellipsis.
	width int
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// write renders the rows added.
func (t *table) write(w io.Writer) error {
	return t.writeRows(w, len(t.rows), func(i int, _ []cell) []cell { return t.rows[i] })
}

// writeRows renders n rows that row makes on demand, asking for each row
// twice: once to measure the columns, once to print it. row may append a
// row's cells to buf (emptied, and reused from row to row) and return it,
// so a long listing keeps no cells: memory a one-shot CLI touches costs it
// a page fault per 4 KiB.
func (t *table) writeRows(w io.Writer, n int, row func(i int, buf []cell) []cell) error {
	var widths []int
	var buf []cell
	for i := 0; i < n; i++ {
		buf = row(i, buf[:0])
		for j, c := range buf {
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			if d := displayWidth(displayText(c.text)); d > widths[j] {
				widths[j] = d
			}
		}
	}
	l := t.layout(widths)
	b := make([]byte, 0, l.lineLen*n)
	for i := 0; i < n; i++ {
		buf = row(i, buf[:0])
		b = t.appendRow(b, buf, l)
	}
	_, err := w.Write(b)
	return err
}

// tableLayout is what printing a table's rows needs from measuring them.
type tableLayout struct {
	widths  []int
	used    []bool // a column empty in every row takes no room
	last    int    // the last used column, which is not padded
	room    int    // the last column's width limit (0: none)
	lineLen int    // the longest a line can be, colour codes included
}

func (t *table) layout(widths []int) tableLayout {
	l := tableLayout{widths: widths, used: make([]bool, len(widths)), lineLen: 1}
	for i, wd := range widths {
		l.used[i] = wd > 0
		if l.used[i] {
			l.last = i
			l.lineLen += wd + 2 + 9 // padding, and colour codes when on
		}
	}
	l.room = t.lastRoom(l)
	return l
}

// appendRow appends one row's line to b.
func (t *table) appendRow(b []byte, r []cell, l tableLayout) []byte {
	start := len(b)
	for i, c := range r {
		if !l.used[i] {
			continue
		}
		text := displayText(c.text)
		if i == l.last && l.room > 0 {
			text = truncateWidth(text, l.room)
		}
		if t.color && c.color != "" && text != "" {
			b = append(append(append(append(b, "\x1b["...), c.color...), 'm'), text...)
			b = append(b, "\x1b[0m"...)
		} else {
			b = append(b, text...)
		}
		if i < l.last {
			for n := l.widths[i] - displayWidth(text) + 2; n > 0; n-- {
				b = append(b, ' ')
			}
		}
	}
	// No trailing blanks (an empty last cell leaves its padding).
	for len(b) > start && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return append(b, '\n')
}

// attentionColor is the colour of an attention level.
func attentionColor(a string) string {
	switch a {
	case "red":
		return colorRed
	case "orange":
		return colorYellow
	case "blue":
		return colorBlue
	}
	return ""
}

// taskRow is what a task's table row shows. A listing for a table decodes
// into rows rather than nodes (rpc_client_nodes.go), about half the memory
// per task: a one-shot CLI pays a page fault for each 4 KiB it touches.
type taskRow struct {
	Handle, Title                    string
	IsTask                           bool // a node that is not a task shows its handle and title
	State, Attention, Recur, Project string
	Do, Late                         *time.Time
	Tags                             []string
}

// rowOf is n's row (nil: an empty row).
func rowOf(n *Node) taskRow {
	if n == nil {
		return taskRow{}
	}
	r := taskRow{Handle: n.Handle, Title: n.Title}
	if t := n.Task; t != nil {
		r.IsTask = true
		r.State, r.Attention, r.Recur, r.Project = t.State, t.Attention, t.Recur, t.Project
		r.Do, r.Late, r.Tags = t.Do, t.Late, t.Tags
	}
	return r
}

// rowsOf is the rows of nodes.
func rowsOf(nodes []*Node) []taskRow {
	rows := make([]taskRow, len(nodes))
	for i, n := range nodes {
		rows[i] = rowOf(n)
	}
	return rows
}

// taskCells are the columns of a task row: handle, attention (or the
// state, when not outstanding), do, late, project, tags, title.
func taskCells(dst []cell, t *taskRow, now time.Time) []cell {
	if !t.IsTask {
		return append(dst, cell{text: t.Handle, color: colorBold}, cell{}, cell{}, cell{}, cell{}, cell{}, cell{text: t.Title})
	}
	level := cell{text: t.Attention, color: attentionColor(t.Attention)}
	if t.State != "outstanding" {
		level = cell{text: t.State, color: colorDim}
	}
	do := ""
	if t.Do != nil {
		do = "do " + formatRelative(*t.Do, now)
	}
	late, lateColor := "", ""
	if t.Late != nil {
		if l := formatLate(*t.Late, now); l != "" && t.State == "outstanding" {
			late, lateColor = l, colorRed
		} else {
			late = "late " + formatRelative(*t.Late, now)
		}
	}
	title := t.Title
	if t.Recur != "" {
		title += " ↻"
	}
	return append(dst,
		cell{text: t.Handle, color: colorBold},
		level,
		cell{text: do, color: colorDim},
		cell{text: late, color: lateColor},
		cell{text: t.Project},
		cell{text: tagWords(t.Tags), color: colorDim},
		cell{text: title},
	)
}

// tagWords is tags as a row shows them: "+a +b".
func tagWords(tags []string) string {
	switch len(tags) {
	case 0:
		return ""
	case 1:
		return "+" + tags[0]
	}
	var b strings.Builder
	for i, g := range tags {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('+')
		b.WriteString(g)
	}
	return b.String()
}

// lastRoom is how wide the last column may be for every line to fit
// t.width (at least a few columns however narrow the terminal), or 0 when
// the width is not limited (not a terminal).
func (t *table) lastRoom(l tableLayout) int {
	if t.width <= 0 {
		return 0
	}
	prefix := 0
	for i := 0; i < l.last; i++ {
		if l.used[i] {
			prefix += l.widths[i] + 2
		}
	}
	return max(t.width-prefix, 8)
}
