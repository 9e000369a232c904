// Which titles are acceptable (one line, no control characters or bidi overrides).

package main

import (
	"strings"
	"unicode"
)

// badTitle reports whether a title holds a line break or another control
// character (tab, NUL, ESC, DEL, C1) or a bidirectional override: a title
// is one line of text, and such characters would break heph's columns or
// let a title rewrite the terminal it is printed on.
func badTitle(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return true
		}
	}
	return false
}

// isBidiControl reports the explicit bidirectional formatting characters
// (embeddings, overrides and isolates) that reorder the text after them.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// cleanTitle makes an imported title acceptable: each control character
// or bidirectional override becomes a space, and the ends are trimmed.
func cleanTitle(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidiControl(r) {
			return ' '
		}
		return r
	}, s))
}
