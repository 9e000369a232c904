package main

import (
	"testing"
	"time"
)

// TestStateAndViewNamesIgnoreCase: --state Done and view Late work like
// --attention Red does.
func TestStateAndViewNamesIgnoreCase(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	var n Node
	if err := ts.call("task.create", map[string]any{"title": "Call bank", "late": "2026-11-25"}, &n); err != nil {
		t.Fatal(err)
	}
	var list []Node
	if err := ts.call("task.list", map[string]any{"state": " Outstanding"}, &list); err != nil || len(list) != 1 {
		t.Errorf("state Outstanding: %v %v", list, err)
	}
	if err := ts.call("task.view", map[string]any{"name": "LATE"}, &list); err != nil || len(list) != 1 {
		t.Errorf("view LATE: %v %v", list, err)
	}
}
