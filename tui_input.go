// tui_input.go owns decoding the terminal's input bytes into keys, pastes and mouse events.

package main

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tuiKey is one input event. Name is "rune" for a printable character (R),
// "paste" for bracketed paste (Text), "mouse" (Mouse: click, wheelup,
// wheeldown at X, Y from 0), or a key name: enter, esc, tab, backtab, up,
// down, left, right, pgup, pgdn, home, end, backspace, delete, ctrl-c,
// ctrl-u, ctrl-w.
type tuiKey struct {
	Name  string
	R     rune
	Text  string
	Mouse string
	X, Y  int
}

// String is the key as the status line and help spell it.
func (k tuiKey) String() string {
	if k.Name == "rune" {
		return string(k.R)
	}
	return k.Name
}

// tuiCSIKey names the key of a CSI (or SS3) sequence's final part.
func tuiCSIKey(seq string) (string, bool) {
	switch seq {
	case "A":
		return "up", true
	case "B":
		return "down", true
	case "C":
		return "right", true
	case "D":
		return "left", true
	case "H", "1~", "7~":
		return "home", true
	case "F", "4~", "8~":
		return "end", true
	case "Z":
		return "backtab", true
	case "5~":
		return "pgup", true
	case "6~":
		return "pgdn", true
	case "3~":
		return "delete", true
	}
	return "", false
}

// parseTuiKeys decodes b completely (a trailing lone ESC is the Esc key).
func parseTuiKeys(b []byte, final bool) []tuiKey {
	keys, rest := parseTuiKeysPartial(b)
	if final && len(rest) > 0 {
		for _, c := range rest {
			if c == 0x1b {
				keys = append(keys, tuiKey{Name: "esc"})
			}
		}
	}
	return keys
}

// parseTuiKeysPartial decodes b and returns what may be the start of an
// unfinished sequence (an ESC, a CSI, a paste, a split UTF-8 character).
func parseTuiKeysPartial(b []byte) ([]tuiKey, []byte) {
	var keys []tuiKey
	for len(b) > 0 {
		k, n := parseOneKey(b)
		if n == 0 {
			return keys, b
		}
		if k.Name != "" {
			keys = append(keys, k)
		}
		b = b[n:]
	}
	return keys, nil
}

// parseOneKey decodes the event at the start of b and its length; 0 means
// more bytes are needed.
func parseOneKey(b []byte) (tuiKey, int) {
	c := b[0]
	switch c {
	case 0x1b:
		return parseEscape(b)
	case '\r', '\n':
		return tuiKey{Name: "enter"}, 1
	case '\t':
		return tuiKey{Name: "tab"}, 1
	case 0x7f, 0x08:
		return tuiKey{Name: "backspace"}, 1
	case 0x03:
		return tuiKey{Name: "ctrl-c"}, 1
	case 0x15:
		return tuiKey{Name: "ctrl-u"}, 1
	case 0x17:
		return tuiKey{Name: "ctrl-w"}, 1
	}
	if c < 0x20 {
		return tuiKey{}, 1
	}
	if !utf8.FullRune(b) {
		return tuiKey{}, 0
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError || r == 0x9b || (r >= 0x80 && r < 0xa0) {
		return tuiKey{}, n
	}
	return tuiKey{Name: "rune", R: r}, n
}

func parseEscape(b []byte) (tuiKey, int) {
	if len(b) == 1 {
		return tuiKey{}, 0
	}
	switch b[1] {
	case '[':
	case 'O': // SS3 arrows (application cursor mode)
		if len(b) < 3 {
			return tuiKey{}, 0
		}
		if name, ok := tuiCSIKey(string(b[2])); ok {
			return tuiKey{Name: name}, 3
		}
		return tuiKey{}, 3
	case 0x1b:
		return tuiKey{Name: "esc"}, 1
	default:
		return tuiKey{Name: "esc"}, 1 // Alt+key: Esc, then the key
	}
	// CSI: parameters and intermediates, then a final byte 0x40-0x7e.
	end := 2
	for end < len(b) && (b[end] < 0x40 || b[end] > 0x7e) {
		end++
	}
	if end >= len(b) {
		if len(b) > 64 {
			return tuiKey{}, len(b) // garbage: drop it
		}
		return tuiKey{}, 0
	}
	seq := string(b[2 : end+1])
	switch {
	case seq == "200~":
		return parsePaste(b, end+1)
	case strings.HasPrefix(seq, "<"):
		return parseMouse(seq), end + 1
	}
	if name, ok := tuiCSIKey(seq); ok {
		return tuiKey{Name: name}, end + 1
	}
	// Modified arrows (1;5A and the like) count as the plain key.
	if i := strings.LastIndexByte(seq, ';'); i >= 0 && len(seq) > i+2 {
		if name, ok := tuiCSIKey(seq[len(seq)-1:]); ok {
			return tuiKey{Name: name}, end + 1
		}
	}
	return tuiKey{}, end + 1
}

// parsePaste reads a bracketed paste that starts at body.
func parsePaste(b []byte, body int) (tuiKey, int) {
	i := bytes.Index(b[body:], []byte("\x1b[201~"))
	if i < 0 {
		if len(b) > 1<<20 {
			return tuiKey{Name: "paste", Text: string(b[body:])}, len(b)
		}
		return tuiKey{}, 0
	}
	return tuiKey{Name: "paste", Text: string(b[body : body+i])}, body + i + 6
}

// parseMouse decodes an SGR mouse report: <button;x;y then M (press) or m.
func parseMouse(seq string) tuiKey {
	final := seq[len(seq)-1]
	f := strings.Split(seq[1:len(seq)-1], ";")
	if len(f) != 3 || final != 'M' {
		return tuiKey{}
	}
	btn, _ := strconv.Atoi(f[0])
	x, _ := strconv.Atoi(f[1])
	y, _ := strconv.Atoi(f[2])
	k := tuiKey{Name: "mouse", X: x - 1, Y: y - 1}
	switch btn {
	case 0:
		k.Mouse = "click"
	case 64:
		k.Mouse = "wheelup"
	case 65:
		k.Mouse = "wheeldown"
	default:
		return tuiKey{}
	}
	return k
}
