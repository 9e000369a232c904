package main

import (
	"strings"
	"testing"
	"time"
)

// TestAdvanceWithoutDoDate: a recurring task whose do date was cleared
// moves on from the start of a day (not the moment it was completed), and
// one with only a late date moves that late date along its series.
func TestAdvanceWithoutDoDate(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no zoneinfo: %v", err)
	}
	now := time.Date(2026, time.November, 26, 19, 33, 0, 0, loc)

	task := &Task{State: "outstanding", Recur: "FREQ=WEEKLY"}
	fields, _, err := advanceTask(task, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := time.UnixMilli(fields["do"].(int64)).In(loc), time.Date(2026, time.December, 3, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("weekly without do or late: do %v, want %v", got, want)
	}

	late := time.Date(2026, time.November, 29, 17, 0, 0, 0, loc)
	task = &Task{State: "outstanding", Recur: "FREQ=WEEKLY", Late: &late}
	fields, _, err = advanceTask(task, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["do"]; ok {
		t.Errorf("weekly with only a late date: do set to %v, want it left unset", fields["do"])
	}
	l, ok := fields["late"].(int64)
	if !ok {
		t.Fatalf("weekly with only a late date: late not moved: %v", fields)
	}
	if got, want := time.UnixMilli(l).In(loc), time.Date(2026, time.December, 6, 17, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("weekly with only a late date: late %v, want %v", got, want)
	}

	task = &Task{State: "outstanding", Recur: "FREQ=DAILY;INTERVAL=3", RecurAfterDone: true}
	fields, _, err = advanceTask(task, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := time.UnixMilli(fields["do"].(int64)).In(loc), time.Date(2026, time.November, 29, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("every 3 days after done, without do: do %v, want %v", got, want)
	}
}

// TestDoneLogsEachOccurrenceWithoutDoDate: a series anchored on its late
// date logs every completion, each with its own occurrence (all used to
// share occurrence 0, so only the first was logged).
func TestDoneLogsEachOccurrenceWithoutDoDate(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.Local))
	var n Node
	if err := ts.call("task.create", map[string]any{"title": "Bins", "recur": "weekly", "late": "2026-11-27"}, &n); err != nil {
		t.Fatal(err)
	}
	if err := ts.call("task.edit", map[string]any{"id": n.ID, "do": "none"}, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := ts.call("task.done", map[string]any{"id": n.ID}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var log Node
	if err := ts.call("log.get", map[string]any{"id": n.ID}, &log); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"done (2026-11-27)", "done (2026-12-04)", "done (2026-12-11)"} {
		if !strings.Contains(log.Body, want) {
			t.Errorf("log lacks %q:\n%s", want, log.Body)
		}
	}
}
