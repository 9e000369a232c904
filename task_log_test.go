package main

import (
	"strings"
	"testing"
)

// TestLogEmptyText: an empty entry is a usage error that says how to log
// and how to read the log, and logs nothing.
func TestLogEmptyText(t *testing.T) {
	td := startDaemon(t)
	id := strings.TrimSpace(td.MustHeph("task", "Fix bike"))
	for _, text := range []string{"", "   "} {
		_, errOut, code := td.Heph("log", id, text)
		if code != 2 || !strings.Contains(errOut, "heph log ID TEXT") {
			t.Errorf("log %q: exit %d: %s", text, code, errOut)
		}
	}
	if out := td.MustHeph("log", id); out != "" {
		t.Errorf("log: %q", out)
	}
}
