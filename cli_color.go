// cli_color.go owns the terminal conventions of heph's output: --color auto|always|never, NO_COLOR, and fitting the terminal's width.

package main

import (
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// colorGreen marks what is fine (heph doctor's ok).
const colorGreen = "32"

// termInfo is what heph knows of its standard output, taken once before
// any pager replaces it.
type termInfo struct {
	tty   bool
	width int // columns; 0 when not a terminal or unknown
}

// probeTerm inspects w.
func probeTerm(w io.Writer) termInfo {
	if !isTerminal(w) {
		return termInfo{}
	}
	ti := termInfo{tty: true}
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
			ti.width = int(ws.Col)
		}
	}
	return ti
}

// colorModes are the values of --color.
func colorModes() []string { return []string{"auto", "always", "never"} }

// checkColorFlag rejects a --color value other than auto, always, never.
func (c *cli) checkColorFlag() error {
	for _, m := range colorModes() {
		if c.color == m {
			return nil
		}
	}
	return usagef("--color %q: want auto, always or never", c.color)
}

// colorOn decides colour: --color always or never wins; auto colours a
// terminal unless NO_COLOR is set to something (https://no-color.org).
func (c *cli) colorOn() bool {
	switch c.color {
	case "always":
		return true
	case "never":
		return false
	}
	if osGetenv("NO_COLOR") != "" {
		return false
	}
	return c.term.tty
}

// newTable is a table for the command's output: coloured per colorOn,
// fitted to the terminal's width on a terminal (never when piped).
func (c *cli) newTable() *table {
	return &table{color: c.colorOn(), width: c.term.width}
}

// truncateWidth shortens s to at most width terminal columns, ending it
// with an ellipsis when anything was cut.
func truncateWidth(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		w := runeWidth(r)
		if used+w > width-1 {
			break
		}
		b.WriteRune(r)
		used += w
	}
	return b.String() + "…"
}
