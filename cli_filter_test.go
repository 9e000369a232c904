package main

import (
	"strings"
	"testing"
)

// TestCLIProjectsViewsBulk: the heph verbs end to end against a real
// hephd: projects as a tree with counts, filter arguments (a "-tag"
// argument is a term), saved views, and bulk done with its count and
// confirmation, reverted by one undo.
func TestCLIProjectsViewsBulk(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("project", "add", "Home/Garden")
	td.MustHeph("task", "weed beds", "--project", "Garden", "--tag", "errand", "--late", "yesterday")
	td.MustHeph("task", "buy seeds", "--project", "home/garden", "--tag", "errand")
	td.MustHeph("task", "fix tap", "--project", "Home", "--tag", "plumbing")
	td.MustHeph("task", "taxes", "--project", "Work/Admin")

	tree := td.MustHeph("project", "list")
	for _, want := range []string{"Home 3 outstanding 1 late", "Garden 2 outstanding 1 late", "Work 1 outstanding", "Admin 1 outstanding"} {
		if !containsSpaced(tree, want) {
			t.Errorf("project list lacks %q:\n%s", want, tree)
		}
	}
	if out := td.MustHeph("list", "project:Home", "-errand"); !strings.Contains(out, "fix tap") || strings.Contains(out, "weed") {
		t.Errorf("list project:Home -errand:\n%s", out)
	}
	if out := td.MustHeph("list", "project:Home", "--sort", "title", "+errand"); strings.Index(out, "buy seeds") > strings.Index(out, "weed beds") {
		t.Errorf("list --sort title:\n%s", out)
	}
	td.MustHeph("view", "save", "garden", "project:Garden", "--sort", "late")
	if out := td.MustHeph("view"); !containsSpaced(out, "garden 2 saved project:Garden sort late") || !containsSpaced(out, "agenda 1 built-in") {
		t.Errorf("view:\n%s", out)
	}
	if out := td.MustHeph("view", "garden", "late:none"); !strings.Contains(out, "buy seeds") || strings.Contains(out, "weed") {
		t.Errorf("view garden late:none:\n%s", out)
	}

	// Bulk done: declining changes nothing; confirming does them all.
	_, errOut, code := td.HephIn("n\n", "done", "--filter", "+errand")
	if code != 0 || !strings.Contains(errOut, "done 2 tasks (") || !strings.Contains(errOut, "Nothing changed.") {
		t.Fatalf("declined bulk: %d %s", code, errOut)
	}
	if out := td.MustHeph("list", "+errand"); !strings.Contains(out, "weed beds") {
		t.Fatalf("a declined bulk changed something:\n%s", out)
	}
	out, errOut, code := td.HephIn("y\n", "done", "--filter", "+errand")
	if code != 0 || !strings.Contains(out, "done 2 tasks (heph undo reverts them all)") {
		t.Fatalf("confirmed bulk: %d %s %s", code, out, errOut)
	}
	if out := td.MustHeph("list", "+errand"); !strings.Contains(out, "No matching tasks") {
		t.Fatalf("after bulk done:\n%s", out)
	}
	td.MustHeph("undo")
	if out := td.MustHeph("list", "+errand"); !strings.Contains(out, "weed beds") || !strings.Contains(out, "buy seeds") {
		t.Fatalf("one undo did not revert the batch:\n%s", out)
	}
	// Several ids, and edit with --yes.
	td.MustHeph("edit", "--filter", "project:Work", "--attention", "red", "--yes")
	if out := td.MustHeph("list", "attention:red"); !strings.Contains(out, "taxes") {
		t.Fatalf("bulk edit:\n%s", out)
	}
	td.MustHeph("project", "rm", "Admin", "--clear")
	if out := td.MustHeph("list", "project:none"); !strings.Contains(out, "taxes") {
		t.Fatalf("project rm --clear:\n%s", out)
	}
}

// containsSpaced reports whether s has a line whose words are want's.
func containsSpaced(s, want string) bool {
	w := strings.Join(strings.Fields(want), " ")
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(strings.Join(strings.Fields(line), " "), w) {
			return true
		}
	}
	return false
}
