package main

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// TestTaskVerbsEndToEnd drives every task and doc verb through the built
// heph against a real hephd.
func TestTaskVerbsEndToEnd(t *testing.T) {
	td := startDaemon(t)
	var n Node
	decodeJSON(t, td.MustHeph("--json", "task", "Fix", "sink", "--do", "yesterday", "--late", "today", "--attention", "a3",
		"--project", "Home/Repairs", "--tag", "plumbing", "--tag", "+urgent"), &n)
	if n.Title != "Fix sink" || n.Task.Attention != "red" || n.Task.Project != "Home/Repairs" || strings.Join(n.Task.Tags, ",") != "plumbing,urgent" {
		t.Fatalf("task --json: %+v %+v", n, n.Task)
	}
	plain := strings.TrimSpace(td.MustHeph("task", "Buy milk", "--tag", "shop"))
	if len(plain) < 4 || strings.ContainsAny(plain, " \n") {
		t.Fatalf("task prints its handle, got %q", plain)
	}
	deck := strings.TrimSpace(td.MustHeph("task", "Someday", "--attention", "blue"))
	rec := strings.TrimSpace(td.MustHeph("task", "Water plants", "--recur", "daily"))

	// next: human (aligned, no colour off a terminal) and JSON.
	out := td.MustHeph("next", "--why")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], n.Handle) || strings.Contains(out, "\x1b[") || strings.Contains(out, deck) {
		t.Fatalf("next --why:\n%s", out)
	}
	if !strings.Contains(lines[0], "late)") && !strings.Contains(lines[0], "red") {
		t.Fatalf("next --why names no rule: %q", lines[0])
	}
	if col := strings.Index(lines[1], "Buy milk"); col != strings.Index(lines[2], "Water plants") && strings.Contains(lines[1], "Buy milk") {
		t.Fatalf("titles not aligned:\n%s", out)
	}
	var nx nextResult
	decodeJSON(t, td.MustHeph("--json", "next", "--limit", "1"), &nx)
	if len(nx.Tasks) != 1 || nx.Tasks[0].ID != n.ID || nx.Tasks[0].Why == "" {
		t.Fatalf("next --json --limit 1: %+v", nx)
	}
	decodeJSON(t, td.MustHeph("--json", "next", "--tag", "shop"), &nx)
	if len(nx.Tasks) != 1 || nx.Tasks[0].Title != "Buy milk" {
		t.Fatalf("next --tag shop: %+v", nx)
	}
	decodeJSON(t, td.MustHeph("--json", "next", "--project", "Home"), &nx)
	if len(nx.Tasks) != 1 || nx.Tasks[0].ID != n.ID {
		t.Fatalf("next --project Home: %+v", nx)
	}

	// list, show, get, edit.
	if out := td.MustHeph("list"); strings.Count(out, "\n") != 4 {
		t.Fatalf("list:\n%s", out)
	}
	if out := td.MustHeph("show", plain); !strings.Contains(out, "Buy milk") || !strings.Contains(out, "state      outstanding") {
		t.Fatalf("show:\n%s", out)
	}
	var e Node
	decodeJSON(t, td.MustHeph("--json", "edit", plain, "--title", "Buy oat milk", "--tag", "-shop", "--tag", "+errand", "--do", "+2d"), &e)
	if e.Title != "Buy oat milk" || strings.Join(e.Task.Tags, ",") != "errand" || e.Task.Do == nil {
		t.Fatalf("edit: %+v %+v", e, e.Task)
	}
	var cleared Node
	decodeJSON(t, td.MustHeph("--json", "edit", plain, "--do", "none"), &cleared)
	if cleared.Task.Do != nil {
		t.Fatalf("edit --do none kept %v", cleared.Task.Do)
	}

	// context and log.
	td.MustHeph("context", rec, "--append", "- [ ] kitchen")
	td.MustHeph("context", rec, "--append", "- [ ] balcony")
	if out := td.MustHeph("context", rec, "--check", "2"); out != "- [ ] kitchen\n- [x] balcony\n" {
		t.Fatalf("context --check 2: %q", out)
	}
	if out, _, code := td.HephIn("replaced\n", "context", rec, "--body", "-"); code != 0 || out != "replaced\n" {
		t.Fatalf("context --body -: %d %q", code, out)
	}
	td.MustHeph("context", rec, "--body", "-") // empty stdin: empty body
	td.MustHeph("context", rec, "--append", "- [x] step")
	td.MustHeph("log", rec, "watered", "the", "ferns")
	if out := td.MustHeph("log", rec); !strings.Contains(out, " watered the ferns\n") || !strings.HasPrefix(out, "- 20") {
		t.Fatalf("log: %q", out)
	}

	// done on a recurring task moves it and resets its checklist.
	out = td.MustHeph("done", rec)
	if !strings.Contains(out, "done "+rec) || !strings.Contains(out, "next tomorrow") {
		t.Fatalf("done recurring: %q", out)
	}
	if out := td.MustHeph("context", rec); out != "- [ ] step\n" {
		t.Fatalf("checklist not reset: %q", out)
	}
	td.MustHeph("skip", rec)
	if out := td.MustHeph("log", rec); strings.Count(out, "done (") != 1 {
		t.Fatalf("log after done and skip: %q", out)
	}
	td.MustHeph("done", n.Handle)
	td.MustHeph("drop", plain)
	if out := td.MustHeph("list", "--state", "done"); !strings.Contains(out, "Fix sink") || !strings.Contains(out, "done") {
		t.Fatalf("list --state done:\n%s", out)
	}

	// views.
	if out := td.MustHeph("view", "ondeck"); !strings.Contains(out, "Someday") {
		t.Fatalf("view ondeck: %q", out)
	}
	if out := td.MustHeph("view", "upcoming", "--days", "3"); !strings.Contains(out, "Water plants") {
		t.Fatalf("view upcoming: %q", out)
	}
	var late []*Node
	decodeJSON(t, td.MustHeph("--json", "view", "late"), &late)
	if len(late) != 0 {
		t.Fatalf("view late after done: %d", len(late))
	}

	// docs, get, rm, undo.
	var d Node
	decodeJSON(t, runOK(t, td, "# Plan\nbody\n", "--json", "doc", "Plan", "--body", "-"), &d)
	if out := td.MustHeph("get", d.Handle); out != "# Plan\nbody\n" {
		t.Fatalf("get: %q", out)
	}
	td.MustHeph("rm", d.Handle)
	if out := td.MustHeph("undo"); !strings.Contains(out, "Plan") {
		t.Fatalf("undo rm: %q", out)
	}
	if out := td.MustHeph("get", d.Handle); out != "# Plan\nbody\n" {
		t.Fatalf("get after undo: %q", out)
	}
	var u undoResult
	decodeJSON(t, td.MustHeph("--json", "undo", "2"), &u)
	if len(u.Reverted) != 2 {
		t.Fatalf("undo 2: %+v", u)
	}
}

func runOK(t *testing.T, td *testDaemon, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := td.HephIn(stdin, args...)
	if code != 0 {
		t.Fatalf("heph %v: exit %d: %s", args, code, errOut)
	}
	return out
}

// storeState is the op count and a digest of the store, read beside the
// running daemon.
func storeState(t *testing.T, td *testDaemon) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+td.DB+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ops, nodes int
	var sum sql.NullString
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM ops), (SELECT count(*) FROM nodes),
		(SELECT group_concat(id || title || body || coalesce(deleted,''), '|') FROM nodes)`).Scan(&ops, &nodes, &sum); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d ops, %d nodes, %s", ops, nodes, sum.String)
}

// TestTaskVerbsBadInput: every verb refuses bad input with a clear error
// and a failing exit status, and the store is unchanged.
func TestTaskVerbsBadInput(t *testing.T) {
	td := startDaemon(t)
	task := strings.TrimSpace(td.MustHeph("task", "T", "--tag", "a"))
	doc := strings.TrimSpace(td.MustHeph("doc", "D"))
	// Two nodes made in the same millisecond share an id prefix.
	var a, b Node
	decodeJSON(t, td.MustHeph("--json", "show", task), &a)
	decodeJSON(t, td.MustHeph("--json", "show", doc), &b)
	common := 0
	for common < len(a.ID) && a.ID[common] == b.ID[common] {
		common++
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"task"}, 2, "want a title"},
		{[]string{"task", "x", "--do", "someday"}, 1, "YYYY-MM-DD"},
		{[]string{"task", "x", "--late", "nope"}, 1, "RFC 3339"},
		{[]string{"task", "x", "--attention", "pink"}, 1, "white, orange, red, blue"},
		{[]string{"task", "x", "--recur", "whenever"}, 1, "recur"},
		{[]string{"task", "x", "--tag", "a b"}, 1, "one word"},
		{[]string{"task", "x", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"next", "extra"}, 1, `unknown term "extra"`},
		{[]string{"list", "colour:red"}, 1, `unknown key "colour": valid keys are project, attention`},
		{[]string{"list", "project:nowhere"}, 1, `no project "nowhere"`},
		{[]string{"next", "--limit", "-3"}, 1, "limit"},
		{[]string{"list", "--state", "open"}, 1, "unknown state"},
		{[]string{"show"}, 2, "one ID"},
		{[]string{"show", "zzzzzz"}, 1, "no task or doc"},
		{[]string{"edit", task}, 2, "nothing to change"},
		{[]string{"edit", task, "--do", "later"}, 1, "YYYY-MM-DD"},
		{[]string{"edit", task, "--tag", "-missing"}, 1, "no tag"},
		{[]string{"edit", doc, "--title", "x"}, 1, "not a task"},
		{[]string{"done"}, 2, "one ID"},
		{[]string{"done", doc}, 1, "not a task"},
		{[]string{"skip", task}, 1, "does not recur"},
		{[]string{"drop", "zzzzzz"}, 1, "no task or doc"},
		{[]string{"rm", "zzzzzz", task}, 1, "zzzzzz: no task or doc"}, // a bulk that fails changes nothing
		{[]string{"done", task, "--filter", "+x"}, 2, "not both"},
		{[]string{"log"}, 2, "want an ID"},
		{[]string{"log", doc, "text"}, 1, "not a task"},
		{[]string{"context", task, "--check", "1"}, 1, "no checklist"},
		{[]string{"context", task, "--append", "a", "--check", "1"}, 2, "give one of"},
		{[]string{"context", task, "--body", "file.txt"}, 2, "takes -"},
		{[]string{"doc"}, 2, "want a title"},
		{[]string{"doc", "x", "--body", "x"}, 2, "takes -"},
		{[]string{"get"}, 2, "one ID"},
		{[]string{"view", "soon"}, 1, "unknown view"},
		{[]string{"view", "late", "--days", "3"}, 1, "only applies"},
		{[]string{"undo", "x"}, 2, "count"},
		{[]string{"undo", "1", "2"}, 2, "at most one"},
		{[]string{"show", a.ID[:common]}, 1, "ambiguous"},
	}
	for _, c := range cases {
		before := storeState(t, td)
		_, errOut, code := td.Heph(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("heph %s: want exit %d and %q, got exit %d: %s", strings.Join(c.args, " "), c.code, c.want, code, errOut)
		}
		if after := storeState(t, td); after != before {
			t.Errorf("heph %s changed the store", strings.Join(c.args, " "))
		}
	}
	// The ambiguous id lists its candidates.
	_, errOut, _ := td.Heph("show", a.ID[:common])
	if !strings.Contains(errOut, a.Handle) || !strings.Contains(errOut, b.Handle) {
		t.Fatalf("ambiguous id lists no candidates: %s", errOut)
	}
}

// TestEmptyListsSaySo: list, view and next each print one line when nothing
// matches (naming the filters), and --json prints an empty array.
func TestEmptyListsSaySo(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("project", "add", "Home")
	td.MustHeph("project", "add", "Work")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"next"}, "Nothing is next.\n"},
		{[]string{"list", "project:Home", "-errand"}, "No matching tasks.\n"},
		{[]string{"view", "agenda"}, "Nothing is on the agenda.\n"},
		{[]string{"next", "--project", "Home", "--tag", "errand"}, "Nothing is next in project Home, tagged errand.\n"},
		{[]string{"list"}, "No outstanding tasks.\n"},
		{[]string{"list", "--state", "done"}, "No done tasks.\n"},
		{[]string{"list", "--state", "all", "--tag", "x"}, "No tasks tagged x.\n"},
		{[]string{"view", "ondeck"}, "Nothing is on deck.\n"},
		{[]string{"view", "upcoming"}, "Nothing is upcoming in the next 7 days.\n"},
		{[]string{"view", "upcoming", "--days", "1"}, "Nothing is upcoming in the next day.\n"},
		{[]string{"view", "late", "--project", "Work"}, "Nothing is late in project Work.\n"},
	}
	for _, c := range cases {
		if out := td.MustHeph(c.args...); out != c.want {
			t.Errorf("heph %q = %q, want %q", c.args, out, c.want)
		}
	}
	for _, args := range [][]string{{"list"}, {"view", "ondeck"}, {"view", "upcoming"}, {"view", "late"}} {
		if out := strings.TrimSpace(td.MustHeph(append([]string{"--json"}, args...)...)); out != "[]" {
			t.Errorf("heph --json %q = %q, want []", args, out)
		}
	}
	// Something to show: no such line.
	td.MustHeph("task", "Water plants", "--do", "tomorrow 9:00")
	if out := td.MustHeph("view", "upcoming"); !strings.Contains(out, "Water plants") || strings.Contains(out, "Nothing") {
		t.Errorf("view upcoming with a task: %q", out)
	}
}
