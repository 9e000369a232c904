package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// filterTasks runs a compiled filter in the given order, reading every
// row afresh with SQL's ORDER BY: the oracle listings are checked against.
func filterTasks(ctx context.Context, q querier, f *compiledFilter, sortBy string, now time.Time) ([]*Node, error) {
	order, oargs, err := sortClause(sortBy, now)
	if err != nil {
		return nil, err
	}
	return queryTasks(ctx, q, taskSelect+` WHERE 1`+f.where+order, append(append([]any{}, f.args...), oargs...)...)
}

// uncachedListing is what a listing must equal: the filter run through
// filterTasks (every row read afresh) and encoded.
func uncachedListing(t *testing.T, ts *testStore, filter, sortBy string) []byte {
	t.Helper()
	f, err := compileFilter(context.Background(), ts.s.db, filter, ts.now)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := filterTasks(context.Background(), ts.s.db, f, sortBy, ts.now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := marshalJSON(nodes)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cachedListing is task.list's reply as hephd sends it.
func cachedListing(t *testing.T, ts *testStore, filter, sortBy string, brief bool) []byte {
	t.Helper()
	p, _ := json.Marshal(taskListParams{Filter: filter, Sort: sortBy, Brief: brief})
	res, err := ts.s.rpcTaskList(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := res.(encodedNodes)
	if !ok {
		t.Fatalf("task.list returned %T, not encodedNodes", res)
	}
	return enc
}

// TestListingCacheFollowsEveryChange: after each kind of change — to a
// task's node, its tasks row, its project's path, by any write path
// including raw SQL that records no op — a cached listing equals one
// read afresh, byte for byte.
func TestListingCacheFollowsEveryChange(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	a := ts.task(map[string]any{"title": "paint shed", "project": "Home/Garden", "tags": []string{"diy"}})
	b := ts.task(map[string]any{"title": "fix tap", "project": "Home", "attention": "orange"})
	ts.task(map[string]any{"title": "file taxes", "project": "Work"})
	var garden Node
	ts.mustCall("project.get", map[string]any{"id": "Home/Garden"}, &garden)
	ctx := context.Background()
	steps := []struct {
		name string
		do   func()
	}{
		{"nothing changed", func() {}},
		{"title", func() { ts.mustCall("task.edit", map[string]any{"id": a.ID, "title": "paint the shed"}, nil) }},
		{"attention", func() { ts.mustCall("task.edit", map[string]any{"id": b.ID, "attention": "red"}, nil) }},
		{"tags", func() { ts.mustCall("task.edit", map[string]any{"id": a.ID, "tags_add": []string{"weekend"}}, nil) }},
		{"do and late", func() { ts.mustCall("task.edit", map[string]any{"id": b.ID, "do": "tomorrow", "late": "fri"}, nil) }},
		{"project renamed", func() { ts.mustCall("project.rename", map[string]any{"id": garden.ID, "name": "Yard"}, nil) }},
		{"project moved", func() { ts.mustCall("project.move", map[string]any{"id": garden.ID, "parent": "Work"}, nil) }},
		{"task moved to another project", func() { ts.mustCall("task.edit", map[string]any{"id": a.ID, "project": "Home"}, nil) }},
		{"done", func() { ts.mustCall("task.done", map[string]any{"id": b.ID}, nil) }},
		{"undo", func() { ts.mustCall("store.undo", map[string]any{}, nil) }},
		{"removed", func() { ts.mustCall("node.rm", map[string]any{"id": a.ID}, nil) }},
		{"raw SQL on the node", func() {
			if _, err := ts.s.db.ExecContext(ctx, `UPDATE nodes SET title = 'renamed behind our back' WHERE id = ?`, b.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"raw SQL on the task", func() {
			if _, err := ts.s.db.ExecContext(ctx, `UPDATE tasks SET attention = 'blue' WHERE node_id = ?`, b.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"raw SQL on the project path", func() {
			if _, err := ts.s.db.ExecContext(ctx, `UPDATE projects SET path = 'Elsewhere' WHERE node_id = (SELECT project_id FROM tasks WHERE node_id = ?)`, b.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"a new task", func() { ts.task(map[string]any{"title": "mow", "project": "Home"}) }},
	}
	filters, sorts := []string{"", "project:Home", "state:all", "project:Work state:all"}, []string{"created", "next", "title"}
	for _, st := range steps {
		st.do()
		hits := ts.s.listResults.hits.Load()
		for _, filter := range filters {
			for _, sortBy := range sorts {
				want := uncachedListing(t, ts, filter, sortBy)
				// Twice: the first fills the caches, the second reads them.
				for i := 0; i < 2; i++ {
					if got := cachedListing(t, ts, filter, sortBy, false); !bytes.Equal(got, want) {
						t.Fatalf("after %s, listing %q sort %s (read %d):\n got %s\nwant %s", st.name, filter, sortBy, i, got, want)
					}
				}
			}
		}
		// Every step changed the store, so each listing's first read was
		// made afresh and its second was the reply kept.
		if got, want := ts.s.listResults.hits.Load()-hits, int64(len(filters)*len(sorts)); got != want {
			t.Fatalf("after %s: %d listings answered from kept replies, want %d (one per listing)", st.name, got, want)
		}
	}
}

// TestListingResultsFollowTheClock: a kept "next" listing (late tasks
// first) is reused while the clock crosses no listed task's late time,
// and made afresh once it does, or when the clock goes back.
func TestListingResultsFollowTheClock(t *testing.T) {
	start := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	ts := openTestStore(t, start)
	ts.task(map[string]any{"title": "early", "attention": "red"})
	ts.task(map[string]any{"title": "due soon", "attention": "blue", "late": "2026-12-02 14:00"})
	first := func(when time.Time) string {
		t.Helper()
		ts.now = when
		var nodes []*Node
		if err := json.Unmarshal(cachedListing(t, ts, "", "next", false), &nodes); err != nil || len(nodes) != 2 {
			t.Fatalf("listing at %s: %v %d", when, err, len(nodes))
		}
		if want := uncachedListing(t, ts, "", "next"); !bytes.Equal(cachedListing(t, ts, "", "next", false), want) {
			t.Fatalf("listing at %s differs from one made afresh", when)
		}
		return nodes[0].Title
	}
	for _, c := range []struct {
		at    time.Time
		first string
		kept  bool // answered from the reply kept at the step before
	}{
		{start, "early", false},
		{start.Add(time.Hour), "early", true},
		{start.Add(2*time.Hour - time.Millisecond), "early", true},
		{start.Add(2 * time.Hour), "due soon", false}, // late now: first
		{start.Add(3 * time.Hour), "due soon", true},
		{start, "early", false}, // the clock went back
	} {
		hits := ts.s.listResults.hits.Load()
		if got := first(c.at); got != c.first {
			t.Fatalf("at %s the first task is %q, want %q", c.at.Format(time.Kitchen), got, c.first)
		}
		// first() asks task.list twice: the second always reuses the first.
		if kept := ts.s.listResults.hits.Load()-hits == 2; kept != c.kept {
			t.Fatalf("at %s: listing reused %v, want %v", c.at.Format(time.Kitchen), kept, c.kept)
		}
	}
}

// TestListingBrief: a brief listing carries, for each task, exactly the
// full node's id, handle, kind, title, state, attention, dates,
// recurrence, project path and tags, and decodes into Node.
func TestListingBrief(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	ts.task(map[string]any{"title": "water plants", "project": "Home/Garden", "attention": "red", "do": "today 9:00", "late": "fri", "tags": []string{"daily"}, "recur": "daily"})
	ts.task(map[string]any{"title": "loose end"})
	ts.mustCall("task.create", map[string]any{"title": "with a context"}, nil)
	var full, brief []*Node
	if err := json.Unmarshal(cachedListing(t, ts, "", "", false), &full); err != nil {
		t.Fatal(err)
	}
	raw := cachedListing(t, ts, "", "", true)
	if err := json.Unmarshal(raw, &brief); err != nil {
		t.Fatal(err)
	}
	if len(full) != 3 || len(brief) != 3 {
		t.Fatalf("%d full and %d brief tasks, want 3 each", len(full), len(brief))
	}
	for i, f := range full {
		want := &Node{ID: f.ID, Handle: f.Handle, Kind: f.Kind, Title: f.Title, Task: &Task{
			State: f.Task.State, Attention: f.Task.Attention, Do: f.Task.Do, Late: f.Task.Late,
			Recur: f.Task.Recur, Project: f.Task.Project, Tags: f.Task.Tags}}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(brief[i])
		if !bytes.Equal(wb, gb) {
			t.Errorf("brief task %d:\n got %s\nwant %s", i, gb, wb)
		}
	}
	for _, field := range []string{`"body"`, `"created"`, `"context"`, `"log"`, `"project_id"`} {
		if bytes.Contains(raw, []byte(field)) {
			t.Errorf("brief listing carries %s: %s", field, raw)
		}
	}
}

// TestAttentionRankIsArank: the sorts' attentionRank ranks attention as
// the tasks.arank column does.
func TestAttentionRankIsArank(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	for _, a := range []string{"red", "orange", "white", "blue"} {
		ts.task(map[string]any{"title": a, "attention": a})
	}
	rows, err := ts.s.db.Query(`SELECT t.attention, t.arank, ` + attentionRank + ` FROM tasks t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var a string
		var arank, rank int
		if err := rows.Scan(&a, &arank, &rank); err != nil {
			t.Fatal(err)
		}
		if arank != rank {
			t.Errorf("attention %s: arank %d, attentionRank %d", a, arank, rank)
		}
		n++
	}
	if n != 4 {
		t.Fatalf("%d tasks, want 4", n)
	}
}

// TestListingCacheBounded: the cache never holds more than its bound.
func TestListingCacheBounded(t *testing.T) {
	var c listCache
	big := &cachedTask{rev: 1, full: bytes.Repeat([]byte("x"), 1<<20)}
	for i := int64(0); i < 40; i++ {
		c.put(i, big)
		if c.bytes > listCacheMaxBytes {
			t.Fatalf("after %d entries the cache holds %d bytes, more than %d", i+1, c.bytes, listCacheMaxBytes)
		}
	}
	if len(c.rows) == 0 || len(c.rows) >= 40 {
		t.Fatalf("%d entries kept", len(c.rows))
	}
}

// TestListingStatementsBounded: listings prepare their queries once, and
// the prepared statements of request-shaped queries stay bounded while
// every listing stays right.
func TestListingStatementsBounded(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	for i := 0; i < 5; i++ {
		ts.task(map[string]any{"title": fmt.Sprintf("task %d", i), "tags": []string{fmt.Sprintf("t%d", i)}})
	}
	for i := 0; i < 150; i++ {
		// 150 distinct query texts: i+1 alternatives of tags.
		filter := "+t0"
		for j := 1; j <= i; j++ {
			filter += fmt.Sprintf(" or +t%d", j%5)
		}
		if got, want := cachedListing(t, ts, filter, "created", true), uncachedListing(t, ts, filter, "created"); countTasks(t, got) != min(i+1, 5) || countTasks(t, want) != min(i+1, 5) {
			t.Fatalf("filter %d: listing %s, want the tasks of %s", i, got, want)
		}
		if n := len(ts.s.listStmts.stmts); n > ts.s.listStmts.limit {
			t.Fatalf("after %d filters %d statements are prepared, more than %d", i+1, n, ts.s.listStmts.limit)
		}
	}
}

func countTasks(t *testing.T, b []byte) int {
	t.Helper()
	var nodes []*Node
	if err := json.Unmarshal(b, &nodes); err != nil {
		t.Fatal(err)
	}
	return len(nodes)
}
