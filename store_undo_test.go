package main

import (
	"strings"
	"testing"
)

// TestUndoSaysWhatWasUndone: undo describes each change in the words the
// person used (removed, marked dropped, changed title), names a link's
// target by handle, and lists a task's change once, without its context
// and log docs that followed along.
func TestUndoSaysWhatWasUndone(t *testing.T) {
	td := startDaemon(t)
	id := strings.TrimSpace(td.MustHeph("task", "Tidy desk"))
	doc := strings.TrimSpace(td.MustHeph("doc", "Desk notes"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"drop", id}, "undid: Tidy desk  marked dropped (outstanding again)\n"},
		{[]string{"rm", id}, "undid: Tidy desk  removed (restored)\n"},
		{[]string{"edit", id, "--title", "Clean desk", "--tag", "home"}, "undid: Tidy desk  changed tags, title (restored)\n"},
		{[]string{"link", "add", id, doc}, "undid: Tidy desk  linked to " + doc + " (unlinked)\n"},
		{[]string{"edit", id, "--recur", "daily"}, "undid: Tidy desk  changed do, recur (restored)\n"},
	} {
		td.MustHeph(c.args...)
		if out := td.MustHeph("undo"); out != c.want {
			t.Errorf("undo after %s:\n%q\nwant\n%q", strings.Join(c.args, " "), out, c.want)
		}
	}
}
