package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// testStore is a store opened in-process with a clock the test sets.
type testStore struct {
	t   testing.TB
	s   *Store
	now time.Time
}

// openTestStore opens a fresh store whose clock starts at now.
func openTestStore(t testing.TB, now time.Time) *testStore {
	t.Helper()
	s, err := openStore(context.Background(), filepath.Join(t.TempDir(), "heph.db"))
	if err != nil {
		t.Fatal(err)
	}
	ts := &testStore{t: t, s: s, now: now}
	s.now = func() time.Time { return ts.now }
	t.Cleanup(func() { s.Close() })
	return ts
}

// call invokes an RPC handler of the store by method name.
func (ts *testStore) call(method string, params any, result any) error {
	ts.t.Helper()
	h, ok := storeHandlers(ts.s)[method]
	if !ok {
		ts.t.Fatalf("no method %s", method)
	}
	b, err := json.Marshal(params)
	if err != nil {
		ts.t.Fatal(err)
	}
	out, err := h(context.Background(), b)
	if err != nil {
		return err
	}
	if result != nil {
		rb, err := json.Marshal(out)
		if err != nil {
			ts.t.Fatal(err)
		}
		if err := json.Unmarshal(rb, result); err != nil {
			ts.t.Fatal(err)
		}
	}
	return nil
}

func (ts *testStore) mustCall(method string, params any, result any) {
	ts.t.Helper()
	if err := ts.call(method, params, result); err != nil {
		ts.t.Fatalf("%s %v: %v", method, params, err)
	}
}

// task creates a task (advancing the clock a millisecond first, so
// creation order is strict) and returns it.
func (ts *testStore) task(params map[string]any) *Node {
	ts.t.Helper()
	ts.now = ts.now.Add(time.Millisecond)
	var n Node
	ts.mustCall("task.create", params, &n)
	return &n
}

func (ts *testStore) get(id string) *Node {
	ts.t.Helper()
	var n Node
	ts.mustCall("node.get", map[string]any{"id": id}, &n)
	return &n
}

// snapshot is the live content of the store: nodes (without updated),
// tasks, links and live log entries, as comparable text.
func (ts *testStore) snapshot() string {
	ts.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	queries := []string{
		`SELECT n.id, n.kind, n.title, n.body, coalesce(t.state,''), coalesce(t.attention,''), coalesce(t.do_at,0), coalesce(t.late_at,0),
			coalesce(t.recur,''), coalesce(t.occurrences,0), coalesce(t.project,''), coalesce(t.tags,'') FROM nodes n LEFT JOIN tasks t ON t.node_id=n.id
			WHERE n.deleted IS NULL ORDER BY n.id`,
		`SELECT src, dst, kind, label, '', '', '', '', '', '', '', '' FROM links ORDER BY src, dst, kind`,
		`SELECT op_id, log_id, text, '', '', '', '', '', '', '', '', '' FROM log_entries WHERE removed=0 ORDER BY op_id`,
	}
	for _, q := range queries {
		rows, err := ts.s.db.QueryContext(ctx, q)
		if err != nil {
			ts.t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, 12)
			ptrs := make([]any, 12)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				ts.t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// opCount is the number of ops in the store.
func (ts *testStore) opCount() int {
	var n int
	if err := ts.s.db.QueryRow(`SELECT count(*) FROM ops`).Scan(&n); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

// base is a fixed local time the model tests start at.
var base = time.Date(2026, 11, 26, 10, 0, 0, 0, time.Local)

func TestCreateTaskMakesContextAndLog(t *testing.T) {
	ts := openTestStore(t, base)
	before := ts.opCount()
	n := ts.task(map[string]any{"title": "Fix sink", "project": "/Home/Repairs/", "tags": []string{"+b", "a", "b"}, "attention": "a3",
		"do": "2026-11-27", "late": "2026-11-30 17:00"})
	if n.Task.Attention != "red" || n.Task.Project != "Home/Repairs" || !reflect.DeepEqual(n.Task.Tags, []string{"a", "b"}) {
		t.Fatalf("task fields: %+v", n.Task)
	}
	if got := n.Task.Do.Format("2006-01-02 15:04"); got != "2026-11-27 00:00" {
		t.Fatalf("do = %s", got)
	}
	if got := n.Task.Late.Format("2006-01-02 15:04"); got != "2026-11-30 17:00" {
		t.Fatalf("late = %s", got)
	}
	c, l := ts.get(n.Task.Context), ts.get(n.Task.Log)
	if c.Kind != "doc" || c.Title != "Fix sink context" || l.Title != "Fix sink log" {
		t.Fatalf("companions: %q %q", c.Title, l.Title)
	}
	// One batch: the three nodes, their two links, and the two projects
	// of the new path Home/Repairs.
	var batches int
	if err := ts.s.db.QueryRow(`SELECT count(DISTINCT batch) FROM ops`).Scan(&batches); err != nil {
		t.Fatal(err)
	}
	if batches != 1 || ts.opCount()-before != 7 {
		t.Fatalf("want 7 ops in 1 batch, got %d ops in %d batches", ts.opCount()-before, batches)
	}
	var links int
	ts.s.db.QueryRow(`SELECT count(*) FROM links WHERE src=? AND kind IN ('context','log')`, n.ID).Scan(&links)
	if links != 2 {
		t.Fatalf("want context and log links, got %d", links)
	}
	if len(n.Handle) < 4 || len(n.Handle) > 5 {
		t.Fatalf("handle %q", n.Handle)
	}
}

func TestNextRanking(t *testing.T) {
	ts := openTestStore(t, base)
	day := 24 * time.Hour
	type spec struct {
		name, attention string
		do, late        time.Duration // relative to base; 0 = unset
		state           string
		project         string
		tags            []string
		rm              bool
	}
	specs := []spec{
		{name: "white old", attention: "white"},
		{name: "orange", attention: "orange"},
		{name: "red", attention: "red"},
		{name: "blue hidden", attention: "blue"},
		{name: "white future hidden", attention: "white", do: 2 * day},
		{name: "orange future hidden", attention: "orange", do: 2 * day},
		{name: "red future shown", attention: "red", do: 2 * day},
		{name: "late 1d white", attention: "white", late: -day},
		{name: "late 3d white", attention: "white", late: -3 * day},
		{name: "late 1d red", attention: "red", late: -day},
		{name: "late future", attention: "white", late: day},
		{name: "late but blue", attention: "blue", late: -5 * day},
		{name: "white do past", attention: "white", do: -day, project: "Home/Repairs", tags: []string{"x"}},
		{name: "done", attention: "red", state: "done"},
		{name: "dropped", attention: "red", state: "dropped"},
		{name: "removed", attention: "red", rm: true},
		{name: "white new", attention: "white", project: "Homework"},
	}
	ids := map[string]string{}
	for _, s := range specs {
		p := map[string]any{"title": s.name, "attention": s.attention}
		if s.do != 0 {
			p["do"] = base.Add(s.do).Format(time.RFC3339)
		}
		if s.late != 0 {
			p["late"] = base.Add(s.late).Format(time.RFC3339)
		}
		if s.project != "" {
			p["project"] = s.project
		}
		if s.tags != nil {
			p["tags"] = s.tags
		}
		n := ts.task(p)
		ids[n.ID] = s.name
		switch {
		case s.state == "done":
			ts.mustCall("task.done", map[string]any{"id": n.ID}, nil)
		case s.state == "dropped":
			ts.mustCall("task.drop", map[string]any{"id": n.ID}, nil)
		case s.rm:
			ts.mustCall("node.rm", map[string]any{"id": n.ID}, nil)
		}
	}
	ts.now = base.Add(2 * time.Hour)
	names := func(p map[string]any) (out []string, why []string) {
		t.Helper()
		var res nextResult
		ts.mustCall("task.next", p, &res)
		for _, x := range res.Tasks {
			out = append(out, ids[x.ID])
			why = append(why, x.Why)
		}
		return out, why
	}
	got, why := names(map[string]any{"limit": 0})
	want := []string{"late 3d white", "late 1d red", "late 1d white", "red", "red future shown", "orange", "white old", "late future", "white do past", "white new"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("next order:\n got %q\nwant %q", got, want)
	}
	wantWhy := []string{"3d late", "1d late", "1d late", "red", "red", "orange", "white, waiting 1h since created", "white, waiting 1h since created", "white, waiting 1h since created", "white, waiting 1h since created"}
	if !reflect.DeepEqual(why, wantWhy) {
		t.Fatalf("why:\n got %q\nwant %q", why, wantWhy)
	}
	if got, _ := names(map[string]any{"limit": 4}); !reflect.DeepEqual(got, want[:4]) {
		t.Fatalf("limit 4: %q", got)
	}
	if got, _ := names(map[string]any{"limit": 2}); !reflect.DeepEqual(got, want[:2]) {
		t.Fatalf("limit 2: %q", got)
	}
	if got, _ := names(map[string]any{}); len(got) != defaultNextLimit && len(got) != len(want) {
		t.Fatalf("default limit: %d", len(got))
	}
	if got, _ := names(map[string]any{"project": "Home"}); !reflect.DeepEqual(got, []string{"white do past"}) {
		t.Fatalf("project Home (prefix on /, not Homework): %q", got)
	}
	if got, _ := names(map[string]any{"tag": "x"}); !reflect.DeepEqual(got, []string{"white do past"}) {
		t.Fatalf("tag x: %q", got)
	}
	// A task whose do date comes moves into next; ties in created order by id.
	ts.now = base.Add(3 * day)
	got, _ = names(map[string]any{"limit": 0})
	if !contains(got, "white future hidden") || !contains(got, "orange future hidden") {
		t.Fatalf("do dates passed, want the future tasks in next: %q", got)
	}
	if contains(got, "blue hidden") || contains(got, "late but blue") {
		t.Fatalf("blue in next: %q", got)
	}
}

func TestNextTiesByID(t *testing.T) {
	ts := openTestStore(t, base)
	var created []string
	for i := 0; i < 5; i++ {
		var n Node
		ts.mustCall("task.create", map[string]any{"title": fmt.Sprint("same ms ", i)}, &n) // clock not advanced
		created = append(created, n.ID)
	}
	var res nextResult
	ts.mustCall("task.next", map[string]any{}, &res)
	var got []string
	for _, x := range res.Tasks {
		got = append(got, x.ID)
	}
	want := append([]string{}, created...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("same created ms: want id order %q, got %q", want, got)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestViews(t *testing.T) {
	ts := openTestStore(t, base)
	day := 24 * time.Hour
	deck := ts.task(map[string]any{"title": "deck", "attention": "blue"})
	soon := ts.task(map[string]any{"title": "soon", "do": base.Add(2 * day).Format(time.RFC3339)})
	far := ts.task(map[string]any{"title": "far", "do": base.Add(10 * day).Format(time.RFC3339)})
	late := ts.task(map[string]any{"title": "late", "late": base.Add(-day).Format(time.RFC3339), "attention": "blue"})
	ids := func(name string, days int) []string {
		var nodes []*Node
		p := map[string]any{"name": name}
		if days > 0 {
			p["days"] = days
		}
		ts.mustCall("task.view", p, &nodes)
		var out []string
		for _, n := range nodes {
			out = append(out, n.Title)
		}
		return out
	}
	if got := ids("ondeck", 0); !reflect.DeepEqual(got, []string{deck.Title, late.Title}) {
		t.Fatalf("ondeck: %q", got)
	}
	if got := ids("upcoming", 0); !reflect.DeepEqual(got, []string{soon.Title}) {
		t.Fatalf("upcoming: %q", got)
	}
	if got := ids("upcoming", 14); !reflect.DeepEqual(got, []string{soon.Title, far.Title}) {
		t.Fatalf("upcoming 14: %q", got)
	}
	if got := ids("late", 0); !reflect.DeepEqual(got, []string{late.Title}) {
		t.Fatalf("late: %q", got)
	}
	for _, bad := range []map[string]any{{"name": "soon"}, {}, {"name": "upcoming", "days": 0}, {"name": "late", "days": 3}} {
		if err := ts.call("task.view", bad, nil); err == nil {
			t.Fatalf("view %v: want an error", bad)
		}
	}
}

func TestChecklist(t *testing.T) {
	body := "intro\n- [x] one\n  * [X] two\n- [ ] three\n- [x]four (not an item)\n"
	if got := resetChecklist(body); got != "intro\n- [ ] one\n  * [ ] two\n- [ ] three\n- [x]four (not an item)\n" {
		t.Fatalf("reset: %q", got)
	}
	got, err := setCheck(resetChecklist(body), 3, true)
	if err != nil || got != "intro\n- [ ] one\n  * [ ] two\n- [x] three\n- [x]four (not an item)\n" {
		t.Fatalf("check 3: %q %v", got, err)
	}
	if _, err := setCheck(body, 4, true); err == nil || !strings.Contains(err.Error(), "has 3") {
		t.Fatalf("check 4: %v", err)
	}
	if _, err := setCheck("no items", 1, true); err == nil {
		t.Fatal("check on no items: want an error")
	}
}

func TestRecurringDoneSkipDrop(t *testing.T) {
	ts := openTestStore(t, base)
	day := 24 * time.Hour
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.Local)
	n := ts.task(map[string]any{"title": "Water plants", "recur": "daily", "do": start.Format(time.RFC3339),
		"late": start.Add(2 * time.Hour).Format(time.RFC3339)})
	ts.mustCall("context.edit", map[string]any{"id": n.ID, "body": "- [x] kitchen\n- [ ] balcony\n"}, nil)
	// Done on the 26th at 10:00: the missed occurrences (21st..26th 09:00)
	// are skipped; the next is the 27th 09:00, late moves with it.
	var d Node
	ts.mustCall("task.done", map[string]any{"id": n.ID}, &d)
	wantDo := time.Date(2026, 11, 27, 9, 0, 0, 0, time.Local)
	if d.Task.State != "outstanding" || !d.Task.Do.Equal(wantDo) || !d.Task.Late.Equal(wantDo.Add(2*time.Hour)) {
		t.Fatalf("after done: state %s do %v late %v", d.Task.State, d.Task.Do, d.Task.Late)
	}
	if d.Task.Occurrences != 7 {
		t.Fatalf("occurrences = %d, want 7 (20th is 0, 27th is 7)", d.Task.Occurrences)
	}
	if c := ts.get(n.Task.Context); c.Body != "- [ ] kitchen\n- [ ] balcony\n" {
		t.Fatalf("checklist not reset: %q", c.Body)
	}
	if l := ts.get(n.Task.Log); !strings.Contains(l.Body, "done (2026-11-20 09:00)") || strings.Count(l.Body, "\n") != 1 {
		t.Fatalf("log: %q", l.Body)
	}
	// Completing early (before the 27th) moves to the 28th, not to the 27th.
	ts.mustCall("task.done", map[string]any{"id": n.ID}, &d)
	if want := wantDo.Add(day); !d.Task.Do.Equal(want) {
		t.Fatalf("early done: do %v, want %v", d.Task.Do, want)
	}
	// Skip advances without logging.
	logBefore := ts.get(n.Task.Log).Body
	ts.mustCall("task.skip", map[string]any{"id": n.ID}, &d)
	if want := wantDo.Add(2 * day); !d.Task.Do.Equal(want) || ts.get(n.Task.Log).Body != logBefore {
		t.Fatalf("skip: do %v, log changed %v", d.Task.Do, ts.get(n.Task.Log).Body != logBefore)
	}
	// Drop ends the series.
	ts.mustCall("task.drop", map[string]any{"id": n.ID}, &d)
	if d.Task.State != "dropped" {
		t.Fatalf("drop: %s", d.Task.State)
	}
	if err := ts.call("task.done", map[string]any{"id": n.ID}, nil); err == nil || !strings.Contains(err.Error(), "already dropped") {
		t.Fatalf("done after drop: %v", err)
	}
}

func TestRecurringCountExhausted(t *testing.T) {
	ts := openTestStore(t, base)
	n := ts.task(map[string]any{"title": "Three times", "recur": "FREQ=DAILY;COUNT=3", "do": base.Format(time.RFC3339)})
	var d Node
	for i, want := range []string{"outstanding", "outstanding", "done"} {
		ts.mustCall("task.done", map[string]any{"id": n.ID}, &d)
		if d.Task.State != want {
			t.Fatalf("done #%d: state %s, want %s", i+1, d.Task.State, want)
		}
		if want == "outstanding" && !d.Task.Do.Equal(base.AddDate(0, 0, i+1)) {
			t.Fatalf("done #%d: do %v", i+1, d.Task.Do)
		}
		ts.now = ts.now.Add(24 * time.Hour)
	}
	if l := ts.get(n.Task.Log); strings.Count(l.Body, "- ") != 3 || !strings.Contains(l.Body, "the series is complete") {
		t.Fatalf("log: %q", l.Body)
	}
	// Skipping the last occurrence also ends the series.
	m := ts.task(map[string]any{"title": "Twice", "recur": "FREQ=DAILY;COUNT=2", "do": ts.now.Format(time.RFC3339)})
	ts.mustCall("task.skip", map[string]any{"id": m.ID}, &d)
	ts.mustCall("task.skip", map[string]any{"id": m.ID}, &d)
	if d.Task.State != "done" {
		t.Fatalf("skip past COUNT: %s", d.Task.State)
	}
}

func TestRecurAfterDone(t *testing.T) {
	ts := openTestStore(t, base)
	start := time.Date(2026, 11, 20, 8, 0, 0, 0, time.Local)
	n := ts.task(map[string]any{"title": "Haircut", "recur": "FREQ=DAILY;INTERVAL=3", "recur_after_done": true, "do": start.Format(time.RFC3339)})
	var d Node
	ts.mustCall("task.done", map[string]any{"id": n.ID}, &d) // on the 26th
	if want := time.Date(2026, 11, 29, 8, 0, 0, 0, time.Local); !d.Task.Do.Equal(want) {
		t.Fatalf("after done: do %v, want %v (3 days from completion)", d.Task.Do, want)
	}
	// Keeping the schedule instead: from the 20th every 3 days, the first
	// after the 26th 10:00 is the 29th too, but from the 21st it is the 27th.
	m := ts.task(map[string]any{"title": "Schedule", "recur": "FREQ=DAILY;INTERVAL=3", "do": start.AddDate(0, 0, 1).Format(time.RFC3339)})
	ts.mustCall("task.done", map[string]any{"id": m.ID}, &d)
	if want := time.Date(2026, 11, 27, 8, 0, 0, 0, time.Local); !d.Task.Do.Equal(want) {
		t.Fatalf("schedule: do %v, want %v", d.Task.Do, want)
	}
}

func TestNonRecurringDoneAndSkip(t *testing.T) {
	ts := openTestStore(t, base)
	n := ts.task(map[string]any{"title": "Once"})
	if err := ts.call("task.skip", map[string]any{"id": n.ID}, nil); err == nil || !strings.Contains(err.Error(), "does not recur") {
		t.Fatalf("skip a one-off: %v", err)
	}
	var d Node
	ts.mustCall("task.done", map[string]any{"id": n.ID}, &d)
	if d.Task.State != "done" || !strings.Contains(ts.get(n.Task.Log).Body, "done") {
		t.Fatalf("done: %s %q", d.Task.State, ts.get(n.Task.Log).Body)
	}
}

// opsOf returns a store's ops after seq, in order (what sync would ship).
func opsOf(t testing.TB, s *Store, after int) []Op {
	t.Helper()
	rows, err := s.db.Query(`SELECT id, hlc, node, type, data FROM ops WHERE seq>? ORDER BY seq`, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Op
	for rows.Next() {
		var op Op
		var data string
		if err := rows.Scan(&op.ID, &op.HLC, &op.Node, &op.Type, &data); err != nil {
			t.Fatal(err)
		}
		op.Data = json.RawMessage(data)
		out = append(out, op)
	}
	return out
}

func maxSeq(t testing.TB, s *Store) int {
	var n int
	if err := s.db.QueryRow(`SELECT coalesce(max(seq),0) FROM ops`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func applyRemote(t testing.TB, s *Store, ops []Op) {
	t.Helper()
	err := s.Write(context.Background(), func(tx *Tx) error {
		for _, op := range ops {
			if _, _, err := tx.ApplyRemote(op); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompleteSameOccurrenceOnTwoReplicas(t *testing.T) {
	a := openTestStore(t, base)
	b := openTestStore(t, base)
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.Local)
	n := a.task(map[string]any{"title": "Feed cat", "recur": "daily", "do": start.Format(time.RFC3339)})
	applyRemote(t, b.s, opsOf(t, a.s, 0))
	seqA, seqB := maxSeq(t, a.s), maxSeq(t, b.s)
	// Both complete the 26th offline, a minute apart; both also log.
	a.now = base.Add(time.Minute)
	b.now = base.Add(2 * time.Minute)
	a.mustCall("task.done", map[string]any{"id": n.ID}, nil)
	a.mustCall("log.append", map[string]any{"id": n.ID, "text": "from a"}, nil)
	b.mustCall("task.done", map[string]any{"id": n.ID}, nil)
	b.mustCall("log.append", map[string]any{"id": n.ID, "text": "from b"}, nil)
	fromA, fromB := opsOf(t, a.s, seqA), opsOf(t, b.s, seqB)
	applyRemote(t, a.s, fromB)
	applyRemote(t, b.s, fromA)
	// Replays are no-ops.
	applyRemote(t, a.s, fromB)
	na, nb := a.get(n.ID), b.get(n.ID)
	if !na.Task.Do.Equal(*nb.Task.Do) || na.Task.Occurrences != nb.Task.Occurrences {
		t.Fatalf("replicas differ: a do %v occ %d, b do %v occ %d", na.Task.Do, na.Task.Occurrences, nb.Task.Do, nb.Task.Occurrences)
	}
	if want := start.AddDate(0, 0, 1); !na.Task.Do.Equal(want) || na.Task.Occurrences != 1 {
		t.Fatalf("the occurrence advanced more than once: do %v occ %d", na.Task.Do, na.Task.Occurrences)
	}
	la, lb := a.get(n.Task.Log).Body, b.get(n.Task.Log).Body
	if la != lb {
		t.Fatalf("logs differ:\n%s\n--\n%s", la, lb)
	}
	if strings.Count(la, "done (") != 1 || !strings.Contains(la, "from a") || !strings.Contains(la, "from b") {
		t.Fatalf("log after sync: %q", la)
	}
	if a.snapshot() != b.snapshot() {
		t.Fatalf("stores differ:\n%s\n--\n%s", a.snapshot(), b.snapshot())
	}
}

func TestUndoEachKind(t *testing.T) {
	ts := openTestStore(t, base)
	rec := ts.task(map[string]any{"title": "Recurring", "recur": "daily", "do": base.Format(time.RFC3339)})
	one := ts.task(map[string]any{"title": "One-off", "tags": []string{"a"}})
	ts.mustCall("context.edit", map[string]any{"id": rec.ID, "body": "- [x] step\n"}, nil)
	var doc Node
	ts.mustCall("doc.create", map[string]any{"title": "Notes", "body": "hi"}, &doc)
	link := func(add bool) func() error {
		return func() error {
			return ts.s.Write(context.Background(), func(tx *Tx) error { return tx.Link(doc.ID, one.ID, "explicit", "see", add) })
		}
	}
	kinds := []struct {
		name string
		do   func() error
	}{
		{"task.create", func() error { return ts.call("task.create", map[string]any{"title": "New", "recur": "weekly"}, nil) }},
		{"doc.create", func() error { return ts.call("doc.create", map[string]any{"title": "Doc"}, nil) }},
		{"task.edit", func() error {
			return ts.call("task.edit", map[string]any{"id": one.ID, "title": "Renamed", "do": "+2d", "attention": "red", "tags_add": []string{"b"}, "tags_remove": []string{"a"}}, nil)
		}},
		{"node.update", func() error { return ts.call("node.update", map[string]any{"id": doc.ID, "body": "changed"}, nil) }},
		{"context.edit", func() error { return ts.call("context.edit", map[string]any{"id": rec.ID, "uncheck": 1}, nil) }},
		{"log.append", func() error { return ts.call("log.append", map[string]any{"id": one.ID, "text": "note"}, nil) }},
		{"task.done recurring", func() error { return ts.call("task.done", map[string]any{"id": rec.ID}, nil) }},
		{"task.done", func() error { return ts.call("task.done", map[string]any{"id": one.ID}, nil) }},
		{"task.skip", func() error { return ts.call("task.skip", map[string]any{"id": rec.ID}, nil) }},
		{"task.drop", func() error { return ts.call("task.drop", map[string]any{"id": one.ID}, nil) }},
		{"node.rm", func() error { return ts.call("node.rm", map[string]any{"id": rec.ID}, nil) }},
		{"link.add", link(true)},
	}
	for _, k := range kinds {
		ts.now = ts.now.Add(time.Second)
		before := ts.snapshot()
		if err := k.do(); err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		if ts.snapshot() == before {
			t.Fatalf("%s changed nothing", k.name)
		}
		var res undoResult
		ts.mustCall("store.undo", map[string]any{}, &res)
		if len(res.Reverted) == 0 {
			t.Fatalf("%s: undo reverted nothing", k.name)
		}
		if after := ts.snapshot(); after != before {
			t.Fatalf("undo of %s did not restore the store:\nbefore:\n%s\nafter:\n%s", k.name, before, after)
		}
	}
	// link.rm: with a link in place.
	if err := link(true)(); err != nil {
		t.Fatal(err)
	}
	before := ts.snapshot()
	if err := link(false)(); err != nil {
		t.Fatal(err)
	}
	ts.mustCall("store.undo", map[string]any{}, nil)
	if ts.snapshot() != before {
		t.Fatal("undo of link.rm did not restore the link")
	}
}

func TestUndoSteps(t *testing.T) {
	ts := openTestStore(t, base)
	if err := ts.call("store.undo", map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "nothing to undo") {
		t.Fatalf("undo on an empty store: %v", err)
	}
	s0 := ts.snapshot()
	ts.task(map[string]any{"title": "A"})
	s1 := ts.snapshot()
	ts.task(map[string]any{"title": "B"})
	ts.task(map[string]any{"title": "C"})
	var res undoResult
	ts.mustCall("store.undo", map[string]any{"n": 2}, &res)
	if len(res.Reverted) != 2 || res.Reverted[0].Title != "C" || res.Reverted[1].Title != "B" {
		t.Fatalf("undo 2: %+v", res.Reverted)
	}
	if ts.snapshot() != s1 {
		t.Fatal("undo 2 did not go back two steps")
	}
	// Undo never undoes an undo: the next one reverts A.
	ts.mustCall("store.undo", map[string]any{}, &res)
	if len(res.Reverted) != 1 || res.Reverted[0].Title != "A" || ts.snapshot() != s0 {
		t.Fatalf("third undo: %+v", res.Reverted)
	}
	for _, bad := range []map[string]any{{"n": 0}, {"n": -1}, {"n": "x"}} {
		if err := ts.call("store.undo", bad, nil); err == nil {
			t.Fatalf("undo %v: want an error", bad)
		}
	}
}

func TestNodeUpdateConflict(t *testing.T) {
	ts := openTestStore(t, base)
	var doc Node
	ts.mustCall("doc.create", map[string]any{"title": "Plan", "body": "v1"}, &doc)
	stamp := doc.Updated.Format(time.RFC3339Nano)
	ts.now = ts.now.Add(time.Second)
	var d Node
	ts.mustCall("node.update", map[string]any{"id": doc.ID, "body": "v2", "expect_updated": stamp}, &d)
	ts.now = ts.now.Add(time.Second)
	before := ts.opCount()
	err := ts.call("node.update", map[string]any{"id": doc.ID, "body": "v3", "expect_updated": stamp}, nil)
	var re *rpcError
	if !errors.As(err, &re) || re.Code != codeConflict {
		t.Fatalf("stale expect_updated: %v", err)
	}
	if ts.get(doc.ID).Body != "v2" || ts.opCount() != before {
		t.Fatal("a conflicting update changed the store")
	}
	n := ts.task(map[string]any{"title": "T"})
	if err := ts.call("node.update", map[string]any{"id": n.Task.Log, "body": "rewrite"}, nil); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("rewrite a log: %v", err)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	ts := openTestStore(t, base)
	n := ts.task(map[string]any{"title": "T", "tags": []string{"a"}})
	var doc Node
	ts.mustCall("doc.create", map[string]any{"title": "D"}, &doc)
	cases := []struct {
		method string
		params map[string]any
		want   string
	}{
		{"task.create", map[string]any{}, "needs a title"},
		{"task.create", map[string]any{"title": "x", "do": "someday"}, "YYYY-MM-DD"},
		{"task.create", map[string]any{"title": "x", "late": "32nd"}, "YYYY-MM-DD"},
		{"task.create", map[string]any{"title": "x", "attention": "purple"}, "want white"},
		{"task.create", map[string]any{"title": "x", "recur": "sometimes"}, "recurrence"},
		{"task.create", map[string]any{"title": "x", "project": "a//b"}, "empty path"},
		{"task.create", map[string]any{"title": "x", "tags": []string{"two words"}}, "one word"},
		{"task.create", map[string]any{"title": "x", "recur_after_done": true}, "needs a recurrence"},
		{"task.create", map[string]any{"title": "x", "bogus": 1}, "unknown param"},
		{"task.edit", map[string]any{"id": n.ID}, "nothing to change"},
		{"task.edit", map[string]any{"id": n.ID, "do": "later"}, "YYYY-MM-DD"},
		{"task.edit", map[string]any{"id": n.ID, "title": "ok", "tags_remove": []string{"zz"}}, "no tag"},
		{"task.edit", map[string]any{"id": doc.ID, "title": "x"}, "not a task"},
		{"task.edit", map[string]any{"id": "nope", "title": "x"}, "no task or doc"},
		{"task.done", map[string]any{}, "missing param"},
		{"task.done", map[string]any{"id": doc.ID}, "not a task"},
		{"task.skip", map[string]any{"id": n.ID}, "does not recur"},
		{"task.drop", map[string]any{"id": "zzzzzzzz"}, "no task or doc"},
		{"node.rm", map[string]any{"id": ""}, "missing param"},
		{"log.append", map[string]any{"id": n.ID, "text": "  "}, "needs text"},
		{"log.append", map[string]any{"id": doc.ID, "text": "x"}, "not a task"},
		{"context.edit", map[string]any{"id": n.ID}, "exactly one"},
		{"context.edit", map[string]any{"id": n.ID, "check": 1}, "no checklist"},
		{"context.edit", map[string]any{"id": n.ID, "append": "a", "body": "b"}, "exactly one"},
		{"doc.create", map[string]any{"title": " "}, "needs a title"},
		{"node.update", map[string]any{"id": doc.ID}, "nothing to change"},
		{"node.update", map[string]any{"id": doc.ID, "body": "x", "expect_updated": "yesterday"}, "RFC 3339"},
		{"task.next", map[string]any{"limit": -1}, "limit"},
		{"task.list", map[string]any{"state": "open"}, "unknown state"},
		{"task.view", map[string]any{"name": "soon"}, "unknown view"},
		{"store.undo", map[string]any{"n": 0}, "between 1"},
		{"node.rm", map[string]any{"id": n.Task.Context}, "belongs to a task"},
		{"node.rm", map[string]any{"id": n.Task.Log}, "belongs to a task"},
	}
	for _, c := range cases {
		before, ops := ts.snapshot(), ts.opCount()
		err := ts.call(c.method, c.params, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: want an error containing %q, got %v", c.method, c.params, c.want, err)
		}
		if ts.snapshot() != before || ts.opCount() != ops {
			t.Errorf("%s %v changed the store", c.method, c.params)
		}
	}
	// Removed nodes refuse changes.
	ts.mustCall("node.rm", map[string]any{"id": n.ID}, nil)
	if err := ts.call("task.done", map[string]any{"id": n.ID}, nil); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("done on a removed task: %v", err)
	}
}

func TestRecurringTaskStartsOnAPickedDay(t *testing.T) {
	ts := openTestStore(t, base) // Thursday 2026-11-26
	n := ts.task(map[string]any{"title": "Gym", "recur": "every mon,wed"})
	if want := time.Date(2026, 11, 30, 0, 0, 0, 0, time.Local); !n.Task.Do.Equal(want) {
		t.Fatalf("every mon,wed from a Thursday: do %v, want %v", n.Task.Do, want)
	}
	m := ts.task(map[string]any{"title": "Stretch", "recur": "every 3 weeks"})
	if want := startOfDay(base); !m.Task.Do.Equal(want) {
		t.Fatalf("every 3 weeks: do %v, want today %v", m.Task.Do, want)
	}
	var d Node
	ts.mustCall("task.done", map[string]any{"id": n.ID}, &d)
	if want := time.Date(2026, 12, 2, 0, 0, 0, 0, time.Local); !d.Task.Do.Equal(want) {
		t.Fatalf("done: do %v, want Wednesday %v", d.Task.Do, want)
	}
	// Monthly on the 31st skips months without one.
	jan := time.Date(2026, 12, 31, 9, 0, 0, 0, time.Local)
	ts.now = jan.Add(time.Hour)
	mo := ts.task(map[string]any{"title": "Rent", "recur": "monthly", "do": jan.Format(time.RFC3339)})
	ts.mustCall("task.done", map[string]any{"id": mo.ID}, &d)
	if want := time.Date(2027, 1, 31, 9, 0, 0, 0, time.Local); !d.Task.Do.Equal(want) {
		t.Fatalf("monthly: %v", d.Task.Do)
	}
	ts.now = d.Task.Do.Add(time.Hour)
	ts.mustCall("task.done", map[string]any{"id": mo.ID}, &d)
	if want := time.Date(2027, 3, 31, 9, 0, 0, 0, time.Local); !d.Task.Do.Equal(want) {
		t.Fatalf("monthly on the 31st after January: %v, want March 31", d.Task.Do)
	}
}

// TestMigration2Backfills: a store made before migration 2 gets its tasks'
// created/deleted copies, so next sees them.
func TestMigration2Backfills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{migrations[0], `PRAGMA user_version = 1`,
		`INSERT INTO nodes(id,handle,kind,title,created,updated) VALUES('01AAAAAAAAAAAAAAAAAAAAAAAA','aaaa','task','old one',1000,1000)`,
		`INSERT INTO tasks(node_id,attention) VALUES('01AAAAAAAAAAAAAAAAAAAAAAAA','orange')`,
		`INSERT INTO nodes(id,handle,kind,title,created,updated,deleted) VALUES('01BBBBBBBBBBBBBBBBBBBBBBBB','bbbb','task','gone',2000,2000,3000)`,
		`INSERT INTO tasks(node_id) VALUES('01BBBBBBBBBBBBBBBBBBBBBBBB')`}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := openStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := nextTasks(context.Background(), s.db, base, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Title != "old one" || got[0].Why != "orange" {
		t.Fatalf("next after migrating: %+v", got)
	}
}

// TestAdvanceAcrossDST: a daily 09:00 task with a late date at 17:00 two
// days later keeps both wall-clock times across DST in two zones.
func TestAdvanceAcrossDST(t *testing.T) {
	for _, c := range []struct {
		zone      string
		y         int
		m         time.Month
		d         int // the day before the change
		afterDone bool
	}{
		{"America/New_York", 2026, time.March, 7, false},
		{"America/New_York", 2026, time.October, 31, true},
		{"Europe/Berlin", 2026, time.March, 28, false},
		{"Europe/Berlin", 2026, time.October, 24, true},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Skipf("no zoneinfo for %s: %v", c.zone, err)
		}
		do := time.Date(c.y, c.m, c.d, 9, 0, 0, 0, loc)
		late := time.Date(c.y, c.m, c.d+2, 17, 0, 0, 0, loc)
		task := &Task{State: "outstanding", Recur: "daily", RecurAfterDone: c.afterDone, Do: &do, Late: &late}
		now := do.Add(30 * time.Minute)
		fields, _, err := advanceTask(task, now)
		if err != nil {
			t.Fatal(err)
		}
		next := time.UnixMilli(fields["do"].(int64)).In(loc)
		nextLate := time.UnixMilli(fields["late"].(int64)).In(loc)
		if want := time.Date(c.y, c.m, c.d+1, 9, 0, 0, 0, loc); !next.Equal(want) {
			t.Errorf("%s %s: do %v, want %v", c.zone, do.Format("01-02"), next, want)
		}
		if want := time.Date(c.y, c.m, c.d+3, 17, 0, 0, 0, loc); !nextLate.Equal(want) {
			t.Errorf("%s %s: late %v, want %v", c.zone, do.Format("01-02"), nextLate, want)
		}
	}
}

// TestNextWhyWaitingSince: a white task's why counts from when it became a
// candidate: its do date when that is past and later than its creation,
// else its creation; and it says which.
func TestNextWhyWaitingSince(t *testing.T) {
	ts := openTestStore(t, base)
	day := 24 * time.Hour
	deferred := ts.task(map[string]any{"title": "deferred", "do": base.Add(4 * day).Format(time.RFC3339)})
	backdated := ts.task(map[string]any{"title": "backdated", "do": base.Add(-10 * day).Format(time.RFC3339)})
	plain := ts.task(map[string]any{"title": "plain"})
	ts.now = base.Add(6*day + time.Hour)
	var res nextResult
	ts.mustCall("task.next", map[string]any{}, &res)
	want := map[string]string{
		deferred.ID:  "white, waiting 2d since do date", // a candidate since its do date, 2 days ago
		backdated.ID: "white, waiting 6d since created", // its do date was past when it was made
		plain.ID:     "white, waiting 6d since created",
	}
	if len(res.Tasks) != len(want) {
		t.Fatalf("next: %d tasks, want %d", len(res.Tasks), len(want))
	}
	// A task made a moment ago has waited less than a minute, not "0m".
	if got := waitingSince(&Node{Created: ts.now.Add(-20 * time.Second)}, ts.now); got != "waiting <1m since created" {
		t.Errorf("a new task: %q", got)
	}
	for _, x := range res.Tasks {
		if x.Why != want[x.ID] {
			t.Errorf("%s: why %q, want %q", x.Title, x.Why, want[x.ID])
		}
	}
}

// TestBadTagsAndProjects: heph task --tag -x would make a tag that heph
// edit --tag -x removes instead of adding; it is refused, as are tags and
// projects with control characters, and nothing is stored.
func TestBadTagsAndProjects(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	for _, project := range []string{"Home\x1b[31m", "Home/\tRepairs", "Work/\u202eevil"} {
		err := ts.call("task.create", map[string]any{"title": "Pack", "project": project}, nil)
		var re *rpcError
		if !errors.As(err, &re) || re.Code != -32602 || !strings.Contains(re.Message, "bad project") {
			t.Errorf("project %q: %v", project, err)
		}
	}
	for _, tag := range []string{"-x", "+-x", "a\x1bb", "a\u00a0b"} {
		err := ts.call("task.create", map[string]any{"title": "Pack", "tags": []string{tag}}, nil)
		var re *rpcError
		if !errors.As(err, &re) || re.Code != -32602 || !strings.Contains(re.Message, "bad tag") {
			t.Errorf("tag %q: %v", tag, err)
		}
	}
	var list []Node
	if err := ts.call("task.list", map[string]any{}, &list); err != nil || len(list) != 0 {
		t.Errorf("stored: %v %v", list, err)
	}
}
