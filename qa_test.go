package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Regression tests from QA: each one failed before its fix.

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

// TestCommandHelpAndFlagErrors: asked-for help goes to stdout (so it can be
// paged) with status 0; a bad flag is one line on stderr naming the
// command and where its help is, status 2; heph's own usage fits a
// terminal.
func TestCommandHelpAndFlagErrors(t *testing.T) {
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := runCLI(args, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	for _, cmd := range commands() {
		if cmd.run == nil {
			continue
		}
		out, errOut, code := run(cmd.name, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: heph "+cmd.name) || !strings.Contains(out, "-json") || errOut != "" {
			t.Errorf("heph %s --help: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.name, code, out, errOut)
		}
		out, errOut, code = run(cmd.name, "--no-such-flag")
		want := "heph " + cmd.name + ": flag provided but not defined: -no-such-flag (see heph " + cmd.name + " -h)\n"
		if code != 2 || out != "" || errOut != want {
			t.Errorf("heph %s --no-such-flag: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr %q", cmd.name, code, out, errOut, want)
		}
	}
	out, _, code := run("help")
	if code != 0 {
		t.Fatalf("heph help: exit %d", code)
	}
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 110 {
			t.Errorf("heph help: line of %d characters:\n%s", len([]rune(line)), line)
		}
	}
	if _, errOut, code := run("show"); code != 2 || errOut != "heph: want one ID, got none\n" {
		t.Errorf("heph show: exit %d, stderr %q", code, errOut)
	}
}
