package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestTitlesRejectControlCharacters: a title with a tab, ESC, NUL or a
// bidirectional override is refused by every method that sets one, and
// nothing is stored.
func TestTitlesRejectControlCharacters(t *testing.T) {
	td := startDaemon(t)
	var task, doc Node
	td.MustCall("task.create", map[string]any{"title": "fine"}, &task)
	td.MustCall("doc.create", map[string]any{"title": "fine doc"}, &doc)
	var before daemonInfo
	td.MustCall("daemon.info", nil, &before)
	for _, bad := range []string{"a\tb", "clear\x1b[2J", "nul\x00", "bell\a", "del\x7f", "rtl \u202e txt"} {
		for _, c := range []struct {
			method string
			params map[string]any
		}{
			{"task.create", map[string]any{"title": bad}},
			{"doc.create", map[string]any{"title": bad}},
			{"task.edit", map[string]any{"id": task.ID, "title": bad}},
			{"node.update", map[string]any{"id": doc.ID, "title": bad}},
		} {
			var re *rpcError
			err := td.Call(c.method, c.params, nil)
			if !errors.As(err, &re) || re.Code != -32602 || !strings.Contains(re.Message, "control characters") {
				t.Errorf("%s title %q: got %v, want invalid params naming control characters", c.method, bad, err)
			}
		}
	}
	var after daemonInfo
	td.MustCall("daemon.info", nil, &after)
	var got Node
	td.MustCall("node.get", map[string]any{"id": task.ID}, &got)
	if fmt.Sprint(after.Counts) != fmt.Sprint(before.Counts) || got.Title != "fine" {
		t.Errorf("store changed: counts %+v then %+v, title %q", before.Counts, after.Counts, got.Title)
	}
	if got := cleanTitle(" Pay\trent\x1b \u202e"); got != "Pay rent" {
		t.Errorf("cleanTitle: %q", got)
	}
}
