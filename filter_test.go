package main

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"
)

// filterFixture is a store with tasks that each filter key can tell
// apart, named by title.
func filterFixture(t *testing.T) *testStore {
	t.Helper()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.Local) // a Wednesday
	ts := openTestStore(t, now)
	ts.now = now.Add(-72 * time.Hour)
	ts.mustCall("task.create", map[string]any{"title": "old fence", "project": "Home/Garden/Fence", "tags": []string{"errand"}}, nil)
	ts.now = now
	for _, p := range []map[string]any{
		{"title": "water plants", "project": "Home/Garden", "attention": "red", "do": "today 9:00", "tags": []string{"daily"}, "recur": "daily"},
		{"title": "fix sink", "project": "Home", "attention": "orange", "late": "yesterday", "tags": []string{"errand", "plumbing"}},
		{"title": "homework", "project": "Homework", "attention": "blue", "do": "fri"},
		{"title": "file taxes", "project": "Work", "late": "+3d"},
		{"title": "loose end"},
	} {
		ts.mustCall("task.create", p, nil)
	}
	var n Node
	ts.mustCall("task.create", map[string]any{"title": "done thing", "project": "Work"}, &n)
	ts.mustCall("task.done", map[string]any{"id": n.ID}, nil)
	ts.mustCall("task.create", map[string]any{"title": "dropped thing"}, &n)
	ts.mustCall("task.drop", map[string]any{"id": n.ID}, nil)
	ts.mustCall("task.create", map[string]any{"title": "removed thing", "project": "Home"}, &n)
	ts.mustCall("node.rm", map[string]any{"id": n.ID}, nil)
	// A tag that holds another's JSON string never makes it match.
	ts.mustCall("task.create", map[string]any{"title": "quoted tag", "project": "Work", "tags": []string{`x"errand"`, `[plumbing`}}, nil)
	var sink Node
	ts.mustCall("task.list", map[string]any{"filter": "+plumbing"}, &[]*Node{&sink})
	ts.mustCall("context.edit", map[string]any{"id": sink.ID, "append": "- [ ] buy a washer"}, nil)
	return ts
}

// TestFilterKeys: every key, its combinations and or/parentheses pick
// exactly the tasks they say.
func TestFilterKeys(t *testing.T) {
	ts := filterFixture(t)
	cases := []struct {
		filter string
		want   string // titles, sorted, comma-separated
	}{
		{"", "file taxes, fix sink, homework, loose end, old fence, quoted tag, water plants"},
		{"project:Home", "fix sink, old fence, water plants"}, // sub-projects, not Homework
		{"project:home/garden", "old fence, water plants"},
		{"project:Garden", "old fence, water plants"}, // a unique name
		{"project:Fence", "old fence"},
		{"project:none", "loose end"},
		{"project:Homework", "homework"},
		{"attention:red,orange", "fix sink, water plants"},
		{"attention:p3", "homework"},
		{"attention:white", "file taxes, loose end, old fence, quoted tag"},
		{"+errand", "fix sink, old fence"},
		{"-errand", "file taxes, homework, loose end, quoted tag, water plants"},
		{"+[plumbing", "quoted tag"},
		{"tag:plumbing", "fix sink"},
		{"+errand -plumbing", "old fence"},
		{"state:done", "done thing"},
		{"state:done,dropped", "done thing, dropped thing"},
		{"state:all project:Work", "done thing, file taxes, quoted tag"},
		{"do:today", "water plants"},
		{"do:none", "file taxes, fix sink, loose end, old fence, quoted tag"},
		{"do.before:tomorrow", "water plants"},
		{"do.after:tomorrow", "homework"},
		{"late.before:now", "fix sink"},
		{"late.before:+4d", "file taxes, fix sink"},
		{"late.after:now", "file taxes"},
		{"late:none", "homework, loose end, old fence, quoted tag, water plants"},
		{"late:+3d", "file taxes"},
		{"recurring", "water plants"},
		{"text:plan", "water plants"},   // prefix of a title word
		{"text:washer", "fix sink"},     // in its context doc
		{`text:"fix sink"`, "fix sink"}, // quoted words
		{"created.after:yesterday", "file taxes, fix sink, homework, loose end, quoted tag, water plants"},
		{"created.before:yesterday", "old fence"},
		{"created:today", "file taxes, fix sink, homework, loose end, quoted tag, water plants"},
		{"+errand or recurring", "fix sink, old fence, water plants"},
		{"project:Work or attention:blue", "file taxes, homework, quoted tag"},
		{"(project:Work or attention:blue) late:none", "homework, quoted tag"},
		{"project:Home and (+plumbing or recurring)", "fix sink, water plants"},
		{"project:Home (+plumbing OR recurring)", "fix sink, water plants"},
		{"((project:Home))", "fix sink, old fence, water plants"},
	}
	for _, c := range cases {
		var nodes []*Node
		if err := ts.call("task.list", map[string]any{"filter": c.filter}, &nodes); err != nil {
			t.Errorf("filter %q: %v", c.filter, err)
			continue
		}
		var got []string
		for _, n := range nodes {
			got = append(got, n.Title)
		}
		sort.Strings(got)
		if g := strings.Join(got, ", "); g != c.want {
			t.Errorf("filter %q: got %q, want %q", c.filter, g, c.want)
		}
	}
}

// TestFilterBadInput: each mistake is an invalid-params error that names
// it, and an unknown key lists the valid ones.
func TestFilterBadInput(t *testing.T) {
	ts := filterFixture(t)
	cases := []struct{ filter, want string }{
		{"colour:red", `unknown key "colour": valid keys are project, attention, state, do, do.before, do.after, late, late.before, late.after, created, created.before, created.after, text, tag`},
		{"do.whenever:fri", `unknown key "do.whenever"`},
		{"plants", `unknown term "plants"`},
		{"plants", "text:plants"},
		{"project:Nowhere", `no project "Nowhere"`},
		{"project:", "project: needs a value"},
		{"attention:pink", `unknown level "pink"`},
		{"state:open", `unknown state "open"`},
		{"do:someday", "do:someday"},
		{"created:none", "only do:none and late:none"},
		{"late.before:none", "only do:none and late:none"},
		{"text:!!", "no word to search for"},
		{"+", "bad tag term"},
		{"+a,b", "bad tag term"},
		{"(project:Home", `"(" without its ")"`},
		{"project:Home)", `unexpected ")"`},
		{"or +errand", `a term is missing before "or"`},
		{"+errand or", "a term is missing at the end"},
		{"()", `a term is missing before ")"`},
		{"and +x", `"and" needs a term before it`},
		{`text:"open`, "unterminated quote"},
		{"+x\x01", "control character"},
	}
	for _, c := range cases {
		err := ts.call("task.list", map[string]any{"filter": c.filter}, nil)
		var re *rpcError
		if err == nil || !asRPCError(err, &re) || re.Code != codeInvalidParams || !strings.Contains(err.Error(), c.want) {
			t.Errorf("filter %q: want invalid params containing %q, got %v", c.filter, c.want, err)
		}
	}
}

func asRPCError(err error, re **rpcError) bool {
	r, ok := err.(*rpcError)
	*re = r
	return ok
}

// TestFilterUsesIndexes: project: and attention: (alone and with a tag)
// compile to queries whose plan searches an index of tasks, never a scan
// of every task or node.
func TestFilterUsesIndexes(t *testing.T) {
	ts := filterFixture(t)
	ctx := context.Background()
	for _, filter := range []string{"project:Home", "project:Home +errand", "attention:red,orange", "attention:red state:done", "project:Home attention:red"} {
		f, err := compileFilter(ctx, ts.s.db, filter, ts.now)
		if err != nil {
			t.Fatal(err)
		}
		order, oargs, _ := sortClause("", ts.now)
		plan := queryPlan(t, ts.s, taskSelect+` WHERE 1`+f.where+order, append(f.args, oargs...))
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", filter, text)
		if !strings.Contains(text, "SEARCH t USING INDEX") {
			t.Errorf("filter %q: plan does not search a tasks index:\n%s", filter, text)
		}
		for _, l := range plan {
			if strings.HasPrefix(l, "SCAN t") || strings.HasPrefix(l, "SCAN n") {
				t.Errorf("filter %q: plan scans a table: %s\n%s", filter, l, text)
			}
		}
	}
	// A listing by project (task_listcache.go) reads its rows from the
	// covering index alone, in every sort but title, with any other key.
	for _, filter := range []string{"project:Home", "project:Home +errand -plumbing", "project:Home (attention:red,orange or +errand)",
		"project:Home do.before:fri late:none recurring", "project:Home state:all", "project:Home created.after:2026-01-01"} {
		f, err := compileFilter(ctx, ts.s.db, filter, ts.now)
		if err != nil {
			t.Fatal(err)
		}
		for _, sortBy := range []string{"created", "next", "do", "late"} {
			query, args, _, err := listingQuery(f, sortBy, ts.now)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(queryPlan(t, ts.s, query, args), "\n")
			if !strings.Contains(text, "SEARCH t USING COVERING INDEX tasks_project") || strings.Contains(text, " n ") {
				t.Errorf("listing %q sort %s: plan is not the covering index alone:\n%s", filter, sortBy, text)
			}
		}
	}
}

// queryPlan is EXPLAIN QUERY PLAN's details for a query.
func queryPlan(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}

// TestViewsBuiltinAndSaved: built-in views, saved views (create, replace,
// run with an extra filter, list with counts, remove) and their errors.
func TestViewsBuiltinAndSaved(t *testing.T) {
	ts := filterFixture(t)
	titles := func(nodes []*Node) string {
		var out []string
		for _, n := range nodes {
			out = append(out, n.Title)
		}
		return strings.Join(out, ", ")
	}
	run := func(name, filter string) string {
		var nodes []*Node
		ts.mustCall("task.view", map[string]any{"name": name, "filter": filter}, &nodes)
		return titles(nodes)
	}
	if got := run("agenda", ""); got != "fix sink, water plants" { // late first, then red
		t.Errorf("agenda: %q", got)
	}
	if got := run("ondeck", ""); got != "homework" {
		t.Errorf("ondeck: %q", got)
	}
	if got := run("late", ""); got != "fix sink" {
		t.Errorf("late: %q", got)
	}
	if got := run("next", "project:Home"); got != "fix sink, water plants, old fence" {
		t.Errorf("next project:Home: %q", got)
	}
	var v Node
	ts.mustCall("view.save", map[string]any{"name": "Errands", "filter": "+errand or project:Work", "sort": "title"}, &v)
	if v.Kind != "view" || v.View == nil || v.View.Filter != "+errand or project:Work" || v.View.Sort != "title" {
		t.Fatalf("saved view: %+v", v)
	}
	if got := run("errands", ""); got != "file taxes, fix sink, old fence, quoted tag" {
		t.Errorf("saved view: %q", got)
	}
	if got := run("Errands", "project:Home"); got != "fix sink, old fence" {
		t.Errorf("saved view narrowed: %q", got)
	}
	// Saving the name again replaces the filter of the same node.
	var v2 Node
	ts.mustCall("view.save", map[string]any{"name": "errands", "filter": "+errand", "sort": "created"}, &v2)
	if v2.ID != v.ID || run("errands", "") != "old fence, fix sink" {
		t.Errorf("replace: %s vs %s, %q", v2.ID, v.ID, run("errands", ""))
	}
	var list []viewInfo
	ts.mustCall("view.list", map[string]any{}, &list)
	counts := map[string]int{}
	var names []string
	for _, e := range list {
		counts[e.Name] = e.Count
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "next,ondeck,upcoming,late,agenda,errands" || counts["errands"] != 2 || counts["agenda"] != 2 || counts["ondeck"] != 1 || counts["upcoming"] != 1 {
		t.Errorf("view.list: %+v", list)
	}
	for _, bad := range []struct {
		method string
		params map[string]any
		want   string
	}{
		{"view.save", map[string]any{"name": "late", "filter": "+x"}, "built-in"},
		{"view.save", map[string]any{"name": "x", "filter": "colour:red"}, `unknown key "colour"`},
		{"view.save", map[string]any{"name": "x", "filter": "+x", "sort": "random"}, "unknown sort"},
		{"view.save", map[string]any{"name": "x", "filter": ""}, "filter"},
		{"view.rm", map[string]any{"name": "next"}, "built-in"},
		{"view.rm", map[string]any{"name": "nope"}, "unknown view"},
		{"task.view", map[string]any{"name": "nope"}, "unknown view"},
		{"task.view", map[string]any{"name": "agenda", "filter": "(+x"}, "without its"},
	} {
		if err := ts.call(bad.method, bad.params, nil); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %v: want %q, got %v", bad.method, bad.params, bad.want, err)
		}
	}
	ts.mustCall("view.rm", map[string]any{"name": "ERRANDS"}, nil)
	if err := ts.call("task.view", map[string]any{"name": "errands"}, nil); err == nil {
		t.Error("a removed view still runs")
	}
	// Undo brings it back.
	ts.mustCall("store.undo", map[string]any{}, nil)
	if got := run("errands", ""); got != "old fence, fix sink" {
		t.Errorf("after undo: %q", got)
	}
}

// TestSearchFilter: node.search's filter keeps the tasks it matches and
// their context docs.
func TestSearchFilter(t *testing.T) {
	ts := filterFixture(t)
	hits := func(query, filter string) []string {
		var res []searchHit
		ts.mustCall("node.search", map[string]any{"query": query, "filter": filter}, &res)
		var out []string
		for _, h := range res {
			out = append(out, h.Node.Title)
		}
		sort.Strings(out)
		return out
	}
	if got := strings.Join(hits("washer", "project:Home"), ","); got != "fix sink context" {
		t.Errorf("washer in project:Home: %q", got)
	}
	if got := hits("washer", "project:Work"); len(got) != 0 {
		t.Errorf("washer in project:Work: %q", got)
	}
	if got := strings.Join(hits("fence", ""), ","); !strings.Contains(got, "old fence") {
		t.Errorf("fence without a filter: %q", got)
	}
	if err := ts.call("node.search", map[string]any{"query": "x", "filter": "colour:red"}, nil); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("bad search filter: %v", err)
	}
}
