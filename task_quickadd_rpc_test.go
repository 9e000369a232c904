// Tests of quick add through a real hephd: task.parse creates nothing, the CLI and RPC agree, one undo step.
package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestQuickAddThroughDaemon: the same text gives the same fields through
// task.parse, task.quickadd and heph add; parse never creates; #Project
// matches the projects tasks already use; undo reverts a quick add whole.
func TestQuickAddThroughDaemon(t *testing.T) {
	d := startDaemon(t)
	d.MustCall("task.create", map[string]any{"title": "seed", "project": "Home/Garden"}, nil)
	const text = "Water plants tomorrow p2 #garden every 3 days +green"
	var parsed quickAddResult
	d.MustCall("task.parse", map[string]any{"text": text}, &parsed)
	var list []*Node
	d.MustCall("task.list", map[string]any{"state": "all"}, &list)
	if len(list) != 1 {
		t.Fatalf("task.parse created something: %d tasks", len(list))
	}
	if parsed.Title != "Water plants" || parsed.Attention != "orange" || parsed.Project == nil || parsed.Project.Path != "Home/Garden" ||
		parsed.Do == nil || parsed.Recur != "FREQ=DAILY;INTERVAL=3" || strings.Join(parsed.Tags, ",") != "green" {
		t.Fatalf("parse: %+v", parsed)
	}
	var viaRPC Node
	d.MustCall("task.quickadd", map[string]any{"text": text}, &viaRPC)
	var viaCLI Node
	decodeJSON(t, d.MustHeph("--json", "add", text), &viaCLI)
	for _, n := range []*Node{&viaRPC, &viaCLI} {
		checkQuickAdded(t, n, parsed)
	}
	out := d.MustHeph("add", text)
	if !strings.Contains(out, "Water plants  (orange, #Home/Garden, +green, do tomorrow") || !strings.Contains(out, "every 3 days") {
		t.Fatalf("heph add printed %q", out)
	}
	dry := d.MustHeph("add", "--dry-run", "Call Friday's plumber by fri p1")
	for _, want := range []string{"title      Call Friday's plumber", "attention  red", "[by fri → late]", "[p1 → attention]"} {
		if !strings.Contains(dry, want) {
			t.Fatalf("heph add --dry-run lacks %q:\n%s", want, dry)
		}
	}
	d.MustCall("task.list", map[string]any{"state": "all"}, &list)
	if len(list) != 4 {
		t.Fatalf("want 4 tasks (seed + 3 adds; --dry-run adds none), have %d", len(list))
	}
	var undo undoResult
	d.MustCall("store.undo", nil, &undo)
	d.MustCall("task.list", map[string]any{"state": "all"}, &list)
	if len(list) != 3 || len(undo.Reverted) != 1 {
		t.Fatalf("one undo should remove the last quick add whole: %d tasks left, reverted %+v", len(list), undo.Reverted)
	}
}

// checkQuickAdded compares a created task with the parse of its text.
func checkQuickAdded(t *testing.T, n *Node, p quickAddResult) {
	t.Helper()
	tk := n.Task
	if n.Title != p.Title || tk.Attention != p.Attention || tk.Project != p.Project.Path || !tk.Do.Equal(*p.Do) ||
		tk.Recur != p.Recur || strings.Join(tk.Tags, ",") != strings.Join(p.Tags, ",") || tk.Context == "" {
		t.Fatalf("created %+v %+v, parsed %+v", n, tk, p)
	}
}

// TestQuickAddErrors: bad input gets a clear error and creates nothing.
func TestQuickAddErrors(t *testing.T) {
	d := startDaemon(t)
	for _, c := range []struct {
		params any
		want   string
	}{
		{map[string]any{"text": ""}, `missing param "text"`},
		{map[string]any{"text": "tomorrow p1"}, "leaves no title"},
		{map[string]any{"text": "a\x00b"}, "control characters"},
		{map[string]any{"text": "Pay tomorrow", "tz": "Mars/Olympus"}, "unknown time zone"},
		{map[string]any{"text": "Pay tomorrow", "tz": "../../etc/passwd"}, "unknown time zone"},
		{map[string]any{"text": 3}, "text"},
		{map[string]any{"text": strings.Repeat("x ", maxQuickAddText)}, "at most 8192"},
	} {
		err := d.Call("task.quickadd", c.params, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("task.quickadd %v: %v, want %q", c.params, err, c.want)
		}
	}
	var list []*Node
	d.MustCall("task.list", map[string]any{"state": "all"}, &list)
	if len(list) != 0 {
		t.Fatalf("errors created %d tasks", len(list))
	}
	if _, stderr, code := d.Heph("add"); code != 2 || !strings.Contains(stderr, "want the task in words") {
		t.Fatalf("heph add without text: %d %s", code, stderr)
	}
	// A client's zone: "today" in Kiribati (UTC+14) is a day ahead of Samoa's neighbour (UTC-11).
	var east, west quickAddResult
	d.MustCall("task.parse", map[string]any{"text": "x today", "tz": "Pacific/Kiritimati"}, &east)
	d.MustCall("task.parse", map[string]any{"text": "x today", "tz": "Pacific/Niue"}, &west)
	b, _ := json.Marshal([]any{east.Do, west.Do})
	if east.Do.Format("-07:00") != "+14:00" || west.Do.Format("-07:00") != "-11:00" {
		t.Fatalf("tz not applied: %s", b)
	}
}
