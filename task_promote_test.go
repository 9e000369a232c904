// Tests of promote: a checklist item becomes a linked task; one undo reverts both halves.
package main

import (
	"strings"
	"testing"
)

func TestPromote(t *testing.T) {
	d := startDaemon(t)
	d.MustCall("task.create", map[string]any{"title": "seed", "project": "Home/Garden"}, nil)
	var task Node
	d.MustCall("task.create", map[string]any{"title": "Plan garden"}, &task)
	d.MustHeph("context", task.Handle, "--append", "Notes first\n  * [x] Buy seeds tomorrow p1 #garden\n- [ ] Dig beds")
	out := d.MustHeph("promote", task.Handle, "1")
	if !strings.Contains(out, "Buy seeds  (red, #Home/Garden, do tomorrow") || !strings.Contains(out, "linked from") {
		t.Fatalf("heph promote: %q", out)
	}
	ctx := d.MustHeph("context", task.Handle)
	if ctx != "Notes first\n  * [ ] [[Buy seeds]]\n- [ ] Dig beds\n" {
		t.Fatalf("context after promote: %q", ctx)
	}
	var list []*Node
	d.MustCall("task.list", map[string]any{}, &list)
	var promoted *Node
	for _, n := range list {
		if n.Title == "Buy seeds" {
			promoted = n
		}
	}
	if promoted == nil || promoted.Task.Attention != "red" {
		t.Fatalf("no promoted task: %+v", list)
	}
	links := d.MustHeph("links", promoted.Handle)
	if !strings.Contains(links, "Plan garden context") {
		t.Fatalf("the promoted task has no backlink from the context doc:\n%s", links)
	}
	// Any doc, by RPC; a second task of the same title links by handle.
	var doc Node
	d.MustCall("doc.create", map[string]any{"title": "Ideas", "body": "- [ ] Buy seeds\n"}, &doc)
	var res promoteResult
	d.MustCall("context.promote", map[string]any{"id": doc.ID, "n": 1}, &res)
	if res.Doc.Body != "- [ ] [["+res.Task.Handle+"]]\n" || res.Task.Title != "Buy seeds" {
		t.Fatalf("promote from a doc: %q %+v", res.Doc.Body, res.Task)
	}
	// One undo reverts both halves.
	var undo undoResult
	d.MustCall("store.undo", nil, &undo)
	var back Node
	d.MustCall("node.get", map[string]any{"id": doc.ID}, &back)
	var gone Node
	d.MustCall("node.get", map[string]any{"id": res.Task.ID}, &gone)
	if back.Body != "- [ ] Buy seeds\n" || gone.Deleted == nil {
		t.Fatalf("undo: body %q, task deleted %v (%+v)", back.Body, gone.Deleted, undo)
	}
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"id": task.ID, "n": 3}, "no checklist item 3"},
		{map[string]any{"id": task.ID, "n": 0}, `param "n"`},
		{map[string]any{"id": task.ID, "n": 1}, "already a link"},
		{map[string]any{"id": task.Task.Log, "n": 1}, "append-only"},
		{map[string]any{"id": "zzzz", "n": 1}, "zzzz"},
	} {
		if err := d.Call("context.promote", c.params, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("context.promote %v: %v, want %q", c.params, err, c.want)
		}
	}
	if _, stderr, code := d.Heph("promote", task.Handle, "x"); code != 2 || !strings.Contains(stderr, "checklist item number") {
		t.Fatalf("heph promote ID x: %d %s", code, stderr)
	}
}
