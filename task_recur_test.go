package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRecurAfterDoneNeedsRecur: the CLI names both flags.
func TestRecurAfterDoneNeedsRecur(t *testing.T) {
	td := startDaemon(t)
	_, errOut, code := td.Heph("task", "Stretch", "--recur-after-done")
	if want := "heph: --recur-after-done needs a recurrence: give --recur\n"; code != 1 || errOut != want {
		t.Errorf("exit %d: %q, want %q", code, errOut, want)
	}
}

// TestRecurrenceThatNeverOccurs: a rule whose UNTIL is before the series
// starts, or whose BY parts match no date, is refused (it used to make a
// task due today that its first done ended); a rule with a single
// occurrence ahead is fine.
func TestRecurrenceThatNeverOccurs(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.Local))
	for _, r := range []string{"FREQ=DAILY;UNTIL=20200101", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20261130"} {
		err := ts.call("task.create", map[string]any{"title": "Never", "recur": r}, nil)
		var re *rpcError
		if !errors.As(err, &re) || re.Code != -32602 || !strings.Contains(re.Message, "recurrence") {
			t.Errorf("create with %s: %v", r, err)
		}
	}
	var n Node
	if err := ts.call("task.create", map[string]any{"title": "Year end", "recur": "FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20261231"}, &n); err != nil {
		t.Fatalf("one occurrence ahead: %v", err)
	}
	if got := n.Task.Do.In(time.Local).Format("2006-01-02"); got != "2026-12-31" {
		t.Errorf("one occurrence ahead: do %s", got)
	}
	if err := ts.call("task.create", map[string]any{"title": "Today only", "recur": "FREQ=DAILY;UNTIL=20261126"}, nil); err != nil {
		t.Errorf("until today: %v", err)
	}
	err := ts.call("task.edit", map[string]any{"id": n.ID, "recur": "FREQ=DAILY;UNTIL=20200101"}, nil)
	var re *rpcError
	if !errors.As(err, &re) || re.Code != -32602 {
		t.Errorf("edit to a rule ended in 2020: %v", err)
	}
	var list []Node
	if err := ts.call("task.list", map[string]any{}, &list); err != nil || len(list) != 2 {
		t.Errorf("tasks: %d, %v", len(list), err)
	}
}
