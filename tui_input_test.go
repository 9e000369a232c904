// tui_input_test.go: decoding keys, bracketed paste, mouse reports and sequences split across reads.

package main

import (
	"strings"
	"testing"
)

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
