package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// taskwarrior runs the real `task` on a private TASKDATA/TASKRC.
type taskwarrior struct {
	t   *testing.T
	env []string
}

func newTaskwarrior(t *testing.T) *taskwarrior {
	t.Helper()
	_, err := exec.LookPath("task")
	requireComponent(t, err == nil, "taskwarrior's `task` command is not installed (apt-get install taskwarrior)")
	dir := t.TempDir()
	rc := filepath.Join(dir, "taskrc")
	os.WriteFile(rc, []byte("uda.estimate.type=numeric\nuda.estimate.label=Estimate\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "data"), 0o700)
	return &taskwarrior{t: t, env: append(os.Environ(), "TASKDATA="+filepath.Join(dir, "data"), "TASKRC="+rc)}
}

// run runs task with non-interactive settings and returns stdout.
func (w *taskwarrior) run(args ...string) string {
	w.t.Helper()
	all := append([]string{"rc.confirmation=off", "rc.verbose=nothing", "rc.hooks=off", "rc.recurrence.confirmation=off"}, args...)
	cmd := exec.Command("task", all...)
	cmd.Env = w.env
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("task %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// twFixture makes a Taskwarrior database with one task of each kind and
// returns its `task export`.
func twFixture(t *testing.T) []byte {
	w := newTaskwarrior(t)
	w.run("add", "Pay rent", "project:Home.Bills", "+money", "+monthly", "due:2030-12-01", "priority:H")
	w.run("1", "annotate", "called the landlord")
	w.run("add", "Weekly review", "recur:weekly", "due:2030-11-28", "scheduled:2030-11-27")
	w.run("add", "Later thing", "wait:2030-01-01", "scheduled:2029-06-01", "priority:L")
	w.run("add", "Done thing", "priority:M")
	w.run("add", "Deleted thing")
	w.run("add", "Every third day", "recur:3d", "due:2030-11-27", "until:2031-01-01", "depends:1")
	w.run("add", "Estimated", "estimate:3")
	w.run("/Done thing/", "done")
	w.run("/Deleted thing/", "delete")
	w.run("/Estimated/", "start")
	return []byte(w.run("export"))
}

func TestImportTaskwarriorRealExport(t *testing.T) {
	export := twFixture(t)
	var tw []map[string]any
	if err := json.Unmarshal(export, &tw); err != nil {
		t.Fatalf("task export is not JSON: %v\n%s", err, export)
	}
	byDesc := map[string]map[string]any{}
	for _, task := range tw {
		if task["parent"] == nil {
			byDesc[task["description"].(string)] = task
		}
	}
	td := startDaemon(t)
	file := filepath.Join(td.Dir, "export.json")
	os.WriteFile(file, export, 0o600)
	var rep importReport
	decodeJSON(t, td.MustHeph("--json", "import", "taskwarrior", file), &rep)
	instances := len(tw) - len(byDesc)
	if rep.Items != len(tw) || rep.Created != len(byDesc) || rep.Skipped != instances {
		t.Fatalf("report %+v; export has %d tasks, %d of them recurring instances", rep, len(tw), instances)
	}
	if rep.Unmapped["start"] != 1 || rep.Unmapped["estimate"] != 1 {
		t.Fatalf("unmapped %v: want start and the estimate UDA reported once each", rep.Unmapped)
	}
	var all []*Node
	td.MustCall("task.list", map[string]any{"state": "all"}, &all)
	got := map[string]*Node{}
	for _, n := range all {
		got[n.Title] = n
	}
	if len(got) != len(byDesc) {
		t.Fatalf("heph has %d tasks, want %d: %v", len(got), len(byDesc), keysOf(got))
	}
	twTime := func(desc, field string) *time.Time {
		v, ok := byDesc[desc][field].(string)
		if !ok {
			t.Fatalf("%s has no %s in the export", desc, field)
		}
		tm, err := parseTWDate(v)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	sameTime := func(what string, a, b *time.Time) {
		t.Helper()
		if a == nil || b == nil || !a.Equal(*b) {
			t.Errorf("%s = %v, want %v", what, a, b)
		}
	}
	rent := got["Pay rent"]
	if rent.Task.Attention != "red" || rent.Task.Project != "Home/Bills" || !reflect.DeepEqual(rent.Task.Tags, []string{"money", "monthly"}) {
		t.Errorf("Pay rent: %+v", rent.Task)
	}
	sameTime("Pay rent late", rent.Task.Late, twTime("Pay rent", "due"))
	sameTime("Pay rent created", &rent.Created, twTime("Pay rent", "entry"))
	var logDoc Node
	td.MustCall("log.get", map[string]any{"id": rent.ID}, &logDoc)
	if !strings.Contains(logDoc.Body, "called the landlord") {
		t.Errorf("annotation not in the log: %q", logDoc.Body)
	}
	later := got["Later thing"]
	sameTime("Later thing do (the later of wait and scheduled)", later.Task.Do, twTime("Later thing", "wait"))
	if later.Task.Attention != "white" {
		t.Errorf("priority L: %s", later.Task.Attention)
	}
	if s := got["Done thing"].Task; s.State != "done" || s.Attention != "orange" {
		t.Errorf("Done thing: %+v", s)
	}
	if s := got["Deleted thing"].Task.State; s != "dropped" {
		t.Errorf("Deleted thing: %s", s)
	}
	weekly := got["Weekly review"]
	if weekly.Task.Recur == "" || weekly.Task.State != "outstanding" {
		t.Errorf("Weekly review: %+v", weekly.Task)
	}
	sameTime("Weekly review do", weekly.Task.Do, twTime("Weekly review", "scheduled"))
	third := got["Every third day"]
	if !strings.Contains(third.Task.Recur, "INTERVAL=3") || !strings.Contains(third.Task.Recur, "DAILY") || !strings.Contains(third.Task.Recur, "UNTIL=") {
		t.Errorf("recur:3d became %q", third.Task.Recur)
	}
	var links linksResult
	td.MustCall("link.list", map[string]any{"id": third.ID}, &links)
	dep := false
	for _, l := range links.Outgoing {
		dep = dep || (l.Kind == "explicit" && l.Node.ID == rent.ID && l.Label == "depends on")
	}
	if !dep {
		t.Errorf("depends:1 did not become a link: %+v", links.Outgoing)
	}
	// Heph orders next oldest first, as the tasks were entered.
	if !rent.Created.Before(got["Estimated"].Created) {
		t.Errorf("entry order lost: %v vs %v", rent.Created, got["Estimated"].Created)
	}

	// The same file again: no duplicates.
	var again importReport
	decodeJSON(t, td.MustHeph("--json", "import", "taskwarrior", file), &again)
	if again.Created != 0 || again.Unchanged != len(byDesc) {
		t.Fatalf("second import %+v", again)
	}
	var after []*Node
	td.MustCall("task.list", map[string]any{"state": "all"}, &after)
	if len(after) != len(all) {
		t.Fatalf("second import made %d tasks, had %d", len(after), len(all))
	}
	// Human output names what did not map.
	out := td.MustHeph("import", "taskwarrior", file)
	if !strings.Contains(out, "0 created") || !strings.Contains(out, "imported") {
		t.Fatalf("human report %q", out)
	}
}

func keysOf(m map[string]*Node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestImportTaskwarriorLinesAndStdin(t *testing.T) {
	td := startDaemon(t)
	lines := `{"uuid":"11111111-1111-1111-1111-111111111111","description":"From stdin","status":"pending","entry":"20260101T120000Z","recur":"fortnightly-ish","due":"20300101T000000Z","priority":"X"}
{"uuid":"22222222-2222-2222-2222-222222222222","description":"","status":"pending"}
{"description":"no uuid","status":"pending"}
{"uuid":"33333333-3333-3333-3333-333333333333","description":"Odd","status":"pending","until":"20300101T000000Z","color":"red"}
`
	out, errOut, code := td.HephIn(lines, "--json", "import", "taskwarrior", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep importReport
	decodeJSON(t, out, &rep)
	if rep.Created != 2 || rep.Skipped != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, f := range []string{"recur", "priority", "until", "color"} {
		if rep.Unmapped[f] != 1 {
			t.Errorf("unmapped %s = %d, want 1 (%v)", f, rep.Unmapped[f], rep.Unmapped)
		}
	}
	for _, p := range rep.Problems {
		if p.Item == "" || p.Message == "" {
			t.Errorf("problem without item or message: %+v", p)
		}
	}
}

func TestImportTaskwarriorBadInput(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "Keep me")
	before := storeSnapshot(t, td)
	dir := td.Dir
	cases := map[string]string{
		"truncated.json": `[{"uuid":"1","description":"x"`,
		"notjson.json":   "hello",
		"empty.json":     "   ",
		"badtype.json":   `[{"uuid":"1","description":"x","tags":"notalist"}]`,
		"scalar.json":    `[1, 2]`,
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		_, errOut, code := td.Heph("import", "taskwarrior", p)
		if code != 1 || !strings.HasPrefix(errOut, "heph: ") {
			t.Errorf("%s: exit %d, stderr %q; want a clear error", name, code, errOut)
		}
	}
	if _, errOut, code := td.Heph("import", "taskwarrior", filepath.Join(dir, "missing.json")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
	// Over RPC too.
	for _, params := range []string{`{}`, `{"data":5}`, `{"data":"[{"}`} {
		var res any
		if err := td.Call("import.taskwarrior", json.RawMessage(params), &res); err == nil {
			t.Errorf("import.taskwarrior %s: no error", params)
		}
	}
	if after := storeSnapshot(t, td); after != before {
		t.Fatalf("bad input changed the store")
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

// TestTaskwarriorImportJunk: a Taskwarrior import with a bad entry fails
// before anything is imported and names the entry; a byte order mark is
// fine; UTF-16 says what to do.
func TestTaskwarriorImportJunk(t *testing.T) {
	td := startDaemon(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	task := func(i int) string {
		return fmt.Sprintf(`{"description":"t%d","status":"pending","uuid":"%08d-1111-1111-1111-111111111111","entry":"20260101T000000Z"}`, i, i)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"number.json", []byte("[" + task(1) + "," + task(2) + ",42]"), "task 3 is a number, not a JSON task object"},
		{"null.json", []byte("[" + task(1) + ",null]"), "task 2 is null, not a JSON task object"},
		{"utf16.json", append([]byte{0xFF, 0xFE}, []byte("[\x00]\x00")...), "the file is UTF-16"},
		{"garbage.json", []byte("garbage"), "line 1 is not a JSON task object"},
	} {
		_, errOut, code := td.Heph("import", "taskwarrior", write(tc.name, tc.data))
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tc.name, code, errOut, tc.want)
		}
	}
	if out := td.MustHeph("--json", "list", "--state", "all"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a failed import left tasks: %s", out)
	}
	bom := write("bom.json", append([]byte("\xEF\xBB\xBF"), []byte("["+task(7)+"]")...))
	if out := td.MustHeph("import", "taskwarrior", bom); !strings.Contains(out, "imported 1 taskwarrior item: 1 created") {
		t.Errorf("import with a byte order mark: %q", out)
	}
	if out := td.MustHeph("import", "taskwarrior", write("empty.json", []byte("[]"))); out != "nothing to import: the export holds no tasks\n" {
		t.Errorf("import of []: %q", out)
	}
}

func TestRenumberChunkError(t *testing.T) {
	err := renumberChunkError(&rpcError{Code: codeInvalidParams, Message: "task 3: json: cannot unmarshal string"}, 2000)
	var re *rpcError
	if !errors.As(err, &re) || re.Message != "task 2003: json: cannot unmarshal string" || re.Code != codeInvalidParams {
		t.Errorf("renumbered: %v", err)
	}
	for _, e := range []error{&rpcError{Message: "task 3: x"}, &rpcError{Message: "tasks are bad"}, errors.New("task 3: x")} {
		off := 2000
		if re, ok := e.(*rpcError); ok && re.Message == "task 3: x" {
			off = 0
		}
		if got := renumberChunkError(e, off); got != e {
			t.Errorf("renumberChunkError(%v, %d) = %v, want it unchanged", e, off, got)
		}
	}
}

// TestImportChunksBySize: the CLI splits a Taskwarrior import by count and
// by bytes, so long annotations never push a request past the line limit.
func TestImportChunksBySize(t *testing.T) {
	item := func(n int) json.RawMessage { return json.RawMessage(`{"d":"` + strings.Repeat("x", n) + `"}`) }
	var items []json.RawMessage
	for i := 0; i < 10; i++ {
		items = append(items, item(100))
	}
	if got := importChunks(items, 4, 1<<20); fmt.Sprint(got) != "[[0 4] [4 8] [8 10]]" {
		t.Fatalf("by count: %v", got)
	}
	if got := importChunks(items, 100, 350); fmt.Sprint(got) != "[[0 3] [3 6] [6 9] [9 10]]" {
		t.Fatalf("by bytes: %v", got)
	}
	big := append([]json.RawMessage{item(10)}, item(1000), item(10))
	if got := importChunks(big, 100, 500); fmt.Sprint(got) != "[[0 1] [1 2] [2 3]]" {
		t.Fatalf("an item over the byte bound goes alone: %v", got)
	}
	if got := importChunks(nil, 100, 500); fmt.Sprint(got) != "[[0 0]]" {
		t.Fatalf("empty input still makes one (empty) request: %v", got)
	}
	// End to end: 2,000 tasks of 3 KiB each (6 MiB) import in several requests.
	td := startDaemon(t)
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"uuid":"00000000-0000-4000-8000-%012d","description":"task %d","status":"pending","entry":"20261101T000000Z","annotations":[{"entry":"20261101T000000Z","description":"%s"}]}`, i, i, strings.Repeat("a", 3<<10))
	}
	b.WriteString("]")
	out, errOut, code := td.HephIn(b.String(), "--json", "import", "taskwarrior", "-")
	if code != 0 {
		t.Fatalf("import of 6 MiB: exit %d\n%s\n%s", code, out, errOut)
	}
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	if info.Counts["tasks"] != 2000 {
		t.Fatalf("imported %d tasks, want 2000", info.Counts["tasks"])
	}
}

// TestTaskwarriorWrongFieldType: a task field of the wrong JSON type is
// named in Taskwarrior's terms, and nothing is imported.
func TestTaskwarriorWrongFieldType(t *testing.T) {
	td := startDaemon(t)
	in := `[{"uuid":"00000000-0000-4000-8000-000000000001","description":"x","status":"pending","tags":"x"}]`
	_, errOut, code := td.HephIn(in, "import", "taskwarrior", "-")
	if code == 0 || !strings.Contains(errOut, `field "tags" is a string`) || !strings.Contains(errOut, "want an array") || strings.Contains(errOut, "Go struct") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	if info.Counts["nodes"] != 0 {
		t.Fatalf("a refused import wrote %d nodes", info.Counts["nodes"])
	}
}
