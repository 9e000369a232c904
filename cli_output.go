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

func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i := range r {
			r[i].text = displayText(r[i].text)
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			if n := displayWidth(r[i].text); n > widths[i] {
				widths[i] = n
			}
		}
	}
	// A column empty in every row takes no room.
	used := make([]bool, len(widths))
	last := 0
	for i, wd := range widths {
		used[i] = wd > 0
		if used[i] {
			last = i
		}
	}
	t.fitLast(widths, used, last)
	lineLen := 1
	for i, wd := range widths {
		if used[i] {
			lineLen += wd + 2 + 9 // padding, and colour codes when on
		}
	}
	b := make([]byte, 0, lineLen*len(t.rows))
	for _, r := range t.rows {
		start := len(b)
		for i, c := range r {
			if !used[i] {
				continue
			}
			if t.color && c.color != "" && c.text != "" {
				b = append(append(append(append(b, "\x1b["...), c.color...), 'm'), c.text...)
				b = append(b, "\x1b[0m"...)
			} else {
				b = append(b, c.text...)
			}
			if i < last {
				for n := widths[i] - displayWidth(c.text) + 2; n > 0; n-- {
					b = append(b, ' ')
				}
			}
		}
		// No trailing blanks (an empty last cell leaves its padding).
		for len(b) > start && b[len(b)-1] == ' ' {
			b = b[:len(b)-1]
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
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

// taskCells are the columns of a task row: handle, attention, do, late,
// project, tags, title.
func taskCells(n *Node, now time.Time) []cell {
	t := n.Task
	if t == nil {
		return []cell{{text: n.Handle, color: colorBold}, {}, {}, {}, {}, {}, {text: n.Title}}
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
	tags := make([]string, len(t.Tags))
	for i, g := range t.Tags {
		tags[i] = "+" + g
	}
	title := n.Title
	if t.Recur != "" {
		title += " ↻"
	}
	return []cell{
		{text: n.Handle, color: colorBold},
		{text: t.Attention, color: attentionColor(t.Attention)},
		{text: do, color: colorDim},
		{text: late, color: lateColor},
		{text: t.Project},
		{text: strings.Join(tags, " "), color: colorDim},
		{text: title},
	}
}

// fitLast truncates the last column's cells so every line fits t.width
// (keeping at least a few columns of it however narrow the terminal).
func (t *table) fitLast(widths []int, used []bool, last int) {
	if t.width <= 0 {
		return
	}
	prefix := 0
	for i := 0; i < last; i++ {
		if used[i] {
			prefix += widths[i] + 2
		}
	}
	room := max(t.width-prefix, 8)
	for _, r := range t.rows {
		if last < len(r) {
			r[last].text = truncateWidth(r[last].text, room)
		}
	}
}
