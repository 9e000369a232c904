package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
		if code != 0 || !strings.HasPrefix(out, "Usage: heph "+cmd.name) || !strings.Contains(out, "\n  --json\n") || strings.Contains(out, "\n  -json") || errOut != "" {
			t.Errorf("heph %s --help: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.name, code, out, errOut)
		}
		out, errOut, code = run(cmd.name, "--no-such-flag")
		want := "heph " + cmd.name + ": flag provided but not defined: -no-such-flag (see heph " + cmd.name + " -h)\n"
		if code != 2 || out != "" || errOut != want {
			t.Errorf("heph %s --no-such-flag: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr %q", cmd.name, code, out, errOut, want)
		}
	}
	if out, _, _ := run("doc", "-h"); !strings.Contains(out, "\n  --body -\n") {
		t.Errorf("heph doc -h: --body's value is -:\n%s", out)
	}
	if out, _, _ := run("edit", "-h"); !strings.Contains(out, "[--recur-after-done]") {
		t.Errorf("heph edit -h: usage line lacks --recur-after-done:\n%s", out)
	}
	out, _, code := run("help")
	if code != 0 {
		t.Fatalf("heph help: exit %d", code)
	}
	for _, line := range strings.Split(out, "\n") {
		// Arguments and flags are in each command's -h; with them in the
		// list, every summary was pushed past column 110.
		if strings.HasPrefix(line, "  ") && strings.Contains(line, "[--") {
			t.Errorf("heph help lists a command's flags:\n%s", line)
		}
	}
	if _, errOut, code := run("show"); code != 2 || errOut != "heph: want one ID, got none\n" {
		t.Errorf("heph show: exit %d, stderr %q", code, errOut)
	}
}

// TestTitlesRejectControlCharacters: a title with a tab, ESC, NUL or a
// bidirectional override is refused by every method that sets one, and
// nothing is stored.
func TestTitlesRejectControlCharacters(t *testing.T) {
	td := startDaemon(t)
	var task, doc Node
	td.MustCall("task.create", map[string]any{"title": "fine"}, &task)
	td.MustCall("doc.create", map[string]any{"title": "fine doc"}, &doc)
	var before daemonInfo
	td.MustCall("daemon.info", nil, &before)
	for _, bad := range []string{"a\tb", "clear\x1b[2J", "nul\x00", "bell\a", "del\x7f", "rtl \u202e txt"} {
		for _, c := range []struct {
			method string
			params map[string]any
		}{
			{"task.create", map[string]any{"title": bad}},
			{"doc.create", map[string]any{"title": bad}},
			{"task.edit", map[string]any{"id": task.ID, "title": bad}},
			{"node.update", map[string]any{"id": doc.ID, "title": bad}},
		} {
			var re *rpcError
			err := td.Call(c.method, c.params, nil)
			if !errors.As(err, &re) || re.Code != -32602 || !strings.Contains(re.Message, "control characters") {
				t.Errorf("%s title %q: got %v, want invalid params naming control characters", c.method, bad, err)
			}
		}
	}
	var after daemonInfo
	td.MustCall("daemon.info", nil, &after)
	var got Node
	td.MustCall("node.get", map[string]any{"id": task.ID}, &got)
	if fmt.Sprint(after.Counts) != fmt.Sprint(before.Counts) || got.Title != "fine" {
		t.Errorf("store changed: counts %+v then %+v, title %q", before.Counts, after.Counts, got.Title)
	}
	if got := cleanTitle(" Pay\trent\x1b \u202e"); got != "Pay rent" {
		t.Errorf("cleanTitle: %q", got)
	}
}

// TestTableDisplay: columns stay aligned with wide (CJK, emoji) and
// combining characters, and control characters in stored text reach the
// terminal as harmless placeholders.
func TestTableDisplay(t *testing.T) {
	tb := &table{}
	tb.add(cell{text: "ab12"}, cell{text: "日本/東京"}, cell{text: "one"})
	tb.add(cell{text: "cd34"}, cell{text: "Home/Repairs"}, cell{text: "two"})
	tb.add(cell{text: "ef56"}, cell{text: "🎉 party"}, cell{text: "three"})
	tb.add(cell{text: "gh78"}, cell{text: "cafe\u0301"}, cell{text: "four"})
	tb.add(cell{text: "ij90"}, cell{text: "x\ty"}, cell{text: "clear\x1b[2J\u202e"})
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\t\u202e") {
		t.Errorf("control characters reached the output: %q", out)
	}
	col := -1
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		fields := strings.Fields(line)
		last := fields[len(fields)-1]
		// The column where the last cell starts, in terminal columns.
		c := displayWidth(line[:strings.LastIndex(line, last)])
		if col == -1 {
			col = c
		} else if c != col {
			t.Errorf("last column at %d, want %d:\n%s", c, col, out)
		}
	}
	for i := 1; i < len(wideRanges); i++ {
		if wideRanges[i][0] <= wideRanges[i-1][1] {
			t.Fatalf("wideRanges out of order at %d: %x", i, wideRanges[i])
		}
	}
}

// TestFarDatesPrintedOnce: a date far enough to be shown as a date is not
// repeated in parentheses, and done on a series that has only a late date
// says when it is next late.
func TestFarDatesPrintedOnce(t *testing.T) {
	td := startDaemon(t)
	y := strings.TrimSpace(td.MustHeph("task", "Renew passport", "--recur", "yearly", "--do", "2031-06-01"))
	if out := td.MustHeph("show", y); !strings.Contains(out, "do         2031-06-01\n") {
		t.Errorf("show:\n%s", out)
	}
	if out := td.MustHeph("done", y); out != "done "+y+"  Renew passport; next 2032-06-01\n" {
		t.Errorf("done: %q", out)
	}
	w := strings.TrimSpace(td.MustHeph("task", "Bins out", "--recur", "weekly", "--late", "+2d"))
	td.MustHeph("edit", w, "--do", "none")
	want := "; next late in 9d (" + time.Now().AddDate(0, 0, 9).Format("2006-01-02") + ")\n"
	if out := td.MustHeph("done", w); !strings.HasSuffix(out, want) {
		t.Errorf("done without a do date: %q, want it to end %q", out, want)
	}
}

// TestPrefixIgnoresRemovedNodes: a prefix that matches one live node and
// any number of removed ones resolves to the live one; an ambiguous prefix
// lists ten candidates and says there are more.
func TestPrefixIgnoresRemovedNodes(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	var docs []Node
	for i := 0; i < 12; i++ {
		var n Node
		if err := ts.call("doc.create", map[string]any{"title": fmt.Sprintf("doc %d", i)}, &n); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, n)
	}
	prefix := docs[0].ID[:10] // the ULIDs' shared time part
	_, err := resolveID(context.Background(), ts.s.db, prefix)
	var amb *ambiguousError
	if !errors.As(err, &amb) || len(amb.candidates) != 10 || !strings.Contains(err.Error(), "and more") {
		t.Fatalf("12 matches: %v", err)
	}
	for _, n := range docs[1:] {
		if err := ts.call("node.rm", map[string]any{"id": n.ID}, nil); err != nil {
			t.Fatal(err)
		}
	}
	id, err := resolveID(context.Background(), ts.s.db, prefix)
	if err != nil || id != docs[0].ID {
		t.Fatalf("one live match among removed ones: %q, %v; want %s", id, err, docs[0].ID)
	}
	if err := ts.call("node.rm", map[string]any{"id": docs[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveID(context.Background(), ts.s.db, prefix); !errors.As(err, &amb) {
		t.Fatalf("only removed matches: %v, want ambiguous", err)
	}
}

// TestOversizedRequestSaysSo: text too long for one request is refused by
// the client with the limit, instead of "broken pipe" when hephd drops
// the connection mid-write; nothing is stored.
func TestOversizedRequestSaysSo(t *testing.T) {
	td := startDaemon(t)
	big := strings.Repeat("z", maxLine)
	_, errOut, code := td.HephIn(big, "doc", "Big", "--body", "-")
	if code != 1 || !strings.Contains(errOut, "4 MiB") || !strings.Contains(errOut, "shorter") {
		t.Fatalf("doc with a %d-byte body: exit %d: %s", len(big), code, errOut)
	}
	if out := td.MustHeph("search", "Big"); strings.Contains(out, "Big") {
		t.Fatalf("the oversized doc was stored: %s", out)
	}
}

// TestErrorsNameTheFlag: an error about a request parameter names the
// flag the person typed (--do), not the parameter (param "do").
func TestErrorsNameTheFlag(t *testing.T) {
	td := startDaemon(t)
	id := strings.TrimSpace(td.MustHeph("task", "Water plants"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"task", "x", "--do", "blah"}, `heph: --do: bad date "blah"`},
		{[]string{"edit", id, "--late", "soonish"}, `heph: --late: bad date "soonish"`},
		{[]string{"next", "--limit", "-3"}, "heph: --limit must be 0 (no limit) or more"},
		{[]string{"view", "late", "--days", "3"}, "heph: --days only applies to the upcoming view"},
	} {
		_, errOut, code := td.Heph(c.args...)
		if code != 1 || !strings.HasPrefix(errOut, c.want) {
			t.Errorf("heph %s: exit %d: %q, want it to start %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

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

// TestRecurAfterDoneNeedsRecur: the CLI names both flags.
func TestRecurAfterDoneNeedsRecur(t *testing.T) {
	td := startDaemon(t)
	_, errOut, code := td.Heph("task", "Stretch", "--recur-after-done")
	if want := "heph: --recur-after-done needs a recurrence: give --recur\n"; code != 1 || errOut != want {
		t.Errorf("exit %d: %q, want %q", code, errOut, want)
	}
}

// TestLogEmptyText: an empty entry is a usage error that says how to log
// and how to read the log, and logs nothing.
func TestLogEmptyText(t *testing.T) {
	td := startDaemon(t)
	id := strings.TrimSpace(td.MustHeph("task", "Fix bike"))
	for _, text := range []string{"", "   "} {
		_, errOut, code := td.Heph("log", id, text)
		if code != 2 || !strings.Contains(errOut, "heph log ID TEXT") {
			t.Errorf("log %q: exit %d: %s", text, code, errOut)
		}
	}
	if out := td.MustHeph("log", id); out != "" {
		t.Errorf("log: %q", out)
	}
}

// TestStateAndViewNamesIgnoreCase: --state Done and view Late work like
// --attention Red does.
func TestStateAndViewNamesIgnoreCase(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	var n Node
	if err := ts.call("task.create", map[string]any{"title": "Call bank", "late": "2026-11-25"}, &n); err != nil {
		t.Fatal(err)
	}
	var list []Node
	if err := ts.call("task.list", map[string]any{"state": " Outstanding"}, &list); err != nil || len(list) != 1 {
		t.Errorf("state Outstanding: %v %v", list, err)
	}
	if err := ts.call("task.view", map[string]any{"name": "LATE"}, &list); err != nil || len(list) != 1 {
		t.Errorf("view LATE: %v %v", list, err)
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

// TestVerbHints: a Taskwarrior habit such as "heph add" names heph's verb.
func TestVerbHints(t *testing.T) {
	for name, verb := range verbHints {
		var out, errOut bytes.Buffer
		code := runCLI([]string{name, "x"}, strings.NewReader(""), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), fmt.Sprintf("heph's verb for that is %q", verb)) {
			t.Errorf("heph %s: exit %d: %s", name, code, errOut.String())
		}
		found := false
		for _, c := range commands() {
			found = found || (c.name == verb && c.run != nil)
		}
		if !found {
			t.Errorf("hint %s -> %s: no such verb", name, verb)
		}
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

// TestTaskwarriorRecurringKeepsItsDueDay: a Taskwarrior monthly task due
// on the 1st stays a series on the 1st (anchored on its late date) instead
// of moving to the day of the import, and a task made with only --late
// and --recur does the same.
func TestTaskwarriorRecurringKeepsItsDueDay(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.Local))
	export := `[{"uuid":"1e4bd8a2-3ef9-452d-834d-70ff59deb2c9","description":"Pay rent","status":"recurring","due":"20261201T000000Z","recur":"monthly","entry":"20261120T100000Z","modified":"20261120T100000Z"}]`
	if _, err := storeHandlers(ts.s)["import.taskwarrior"](context.Background(), json.RawMessage(`{"data":`+strconv.Quote(export)+`}`)); err != nil {
		t.Fatal(err)
	}
	var list []Node
	if err := ts.call("task.list", map[string]any{}, &list); err != nil || len(list) != 1 {
		t.Fatalf("imported: %v %v", list, err)
	}
	var made Node
	if err := ts.call("task.create", map[string]any{"title": "Bins", "recur": "weekly", "late": "2026-11-27 07:00"}, &made); err != nil {
		t.Fatal(err)
	}
	for _, n := range []Node{list[0], made} {
		task := n.Task
		if task.Do != nil || task.Late == nil {
			t.Fatalf("%s: do %v late %v, want no do and a late date", n.Title, task.Do, task.Late)
		}
		late := task.Late.In(time.Local)
		var done Node
		if err := ts.call("task.done", map[string]any{"id": n.ID}, &done); err != nil {
			t.Fatal(err)
		}
		want := late.AddDate(0, 1, 0)
		if n.Title == "Bins" {
			want = late.AddDate(0, 0, 7)
		}
		if done.Task.Late == nil || !done.Task.Late.Equal(want) || done.Task.State != "outstanding" {
			t.Errorf("%s done: late %v, want %v", n.Title, done.Task.Late, want)
		}
	}
}
