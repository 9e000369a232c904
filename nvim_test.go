package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests of heph.nvim (nvim/): headless Neovim runs a Lua script from
// nvim/tests against a real hephd. Each script prints "ok"/"FAIL" lines
// and exits non-zero when a check failed.

// nvimPath finds nvim or skips (fails under CI=true).
func nvimPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("nvim")
	requireComponent(t, err == nil, "nvim not found on PATH (apt-get install neovim)")
	return p
}

// runNvim is runNvimSync without sync points.
func runNvim(t *testing.T, env []string, script string, cmds ...string) (string, int) {
	t.Helper()
	return runNvimSync(t, env, nil, script, cmds...)
}

// runNvimSync runs script (a file in nvim/tests, or "" for none) in headless
// nvim with heph.nvim on the runtimepath, extra -c commands after it, and
// env added to the daemon's client environment. It returns the combined
// output and the exit status. When the script calls H.sync(name), the
// test runs syncs[name] and then lets the script go on.
func runNvimSync(t *testing.T, env []string, syncs map[string]func(), script string, cmds ...string) (string, int) {
	t.Helper()
	nvim := nvimPath(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(wd, "nvim")
	home := shortTempDir(t)
	syncDir := filepath.Join(home, "sync")
	if err := os.Mkdir(syncDir, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "-u", "NONE", "-i", "NONE", "-n",
		"--cmd", "set rtp^=" + plugin, "-c", "runtime plugin/heph.lua"}
	if script != "" {
		args = append(args, "-c", "luafile "+filepath.Join(plugin, "tests", script))
	}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	args = append(args, "-c", "qall!")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, args...)
	cmd.Env = append(append(cleanEnv(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home,
		"XDG_STATE_HOME="+home, "XDG_CACHE_HOME="+home, "HEPH_NVIM_TESTS="+filepath.Join(plugin, "tests"), "HEPH_TEST_SYNC="+syncDir), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nvim: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	err = waitNvim(t, exited, syncDir, syncs)
	if ctx.Err() != nil {
		t.Fatalf("nvim %s timed out:\n%s", script, out.String())
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run nvim: %v", err)
		}
		code = ee.ExitCode()
	}
	return out.String(), code
}

// waitNvim runs the sync hooks the script asks for until nvim exits.
func waitNvim(t *testing.T, exited <-chan error, dir string, syncs map[string]func()) error {
	t.Helper()
	done := map[string]bool{}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return err
		case <-tick.C:
		}
		for name, hook := range syncs {
			if done[name] {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, name+".ready")); err != nil {
				continue
			}
			done[name] = true
			hook()
			if err := os.WriteFile(filepath.Join(dir, name+".go"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// mustNvimScript runs a test script and fails the test when it fails.
func mustNvimScript(t *testing.T, td *testDaemon, script string, env ...string) string {
	t.Helper()
	return mustNvimScriptSync(t, td, nil, script, env...)
}

// mustNvimScriptSync is mustNvimScript with sync hooks (see runNvimSync).
func mustNvimScriptSync(t *testing.T, td *testDaemon, syncs map[string]func(), script string, env ...string) string {
	t.Helper()
	out, code := runNvimSync(t, append([]string{"HEPH_SOCKET=" + td.Socket}, env...), syncs, script)
	t.Logf("nvim %s:\n%s", script, out)
	if code != 0 || !strings.Contains(out, "all checks passed") {
		t.Fatalf("nvim %s failed (exit %d)", script, code)
	}
	return out
}

func nodeOf(t *testing.T, td *testDaemon, id string) Node {
	t.Helper()
	var n Node
	td.MustCall("node.get", map[string]any{"id": id}, &n)
	return n
}

func TestNvimNextListAndDone(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	for _, p := range []map[string]any{
		{"title": "plain white task"},
		{"title": "red and urgent", "attention": "red", "tags": []string{"call", "now"}},
		{"title": "late report", "late": "yesterday", "project": "work/reports", "do": "-3d"},
		{"title": "orange, due soon", "attention": "orange", "late": "+2d"},
		{"title": "later, blue", "attention": "blue", "do": "+3d"},
		{"title": "water plants", "recur": "daily", "do": "today"},
	} {
		td.MustCall("task.create", p, nil)
	}
	var next struct {
		Tasks []Node `json:"tasks"`
	}
	td.MustCall("task.next", map[string]any{"limit": 50}, &next)
	if len(next.Tasks) < 4 {
		t.Fatalf("task.next gave %d tasks, want at least 4", len(next.Tasks))
	}
	var handles []string
	for _, n := range next.Tasks {
		handles = append(handles, n.Handle)
	}
	cli := strings.Split(strings.TrimRight(td.MustHeph("next", "--limit", "50"), "\n"), "\n")
	hb, _ := json.Marshal(handles)
	cb, _ := json.Marshal(cli)
	out := mustNvimScript(t, td, "next_spec.lua", "HEPH_TEST_HANDLES="+string(hb), "HEPH_TEST_CLI="+string(cb))

	for _, n := range next.Tasks[:2] {
		if got := nodeOf(t, td, n.ID); got.Task.State != "done" {
			t.Errorf("task %s (%s) is %q after d / :Heph done in nvim, want done", n.Handle, n.Title, got.Task.State)
		}
	}
	third := next.Tasks[2]
	if !strings.Contains(out, "CONTEXT_TASK="+third.ID) {
		t.Errorf("the context buffer opened with <CR> does not belong to task %s", third.ID)
	}
	var all []Node
	td.MustCall("task.list", map[string]any{"state": "all"}, &all)
	for _, n := range all {
		switch n.Title {
		case "water plants":
			if n.Task.State != "outstanding" || n.Task.Do == nil || !n.Task.Do.After(time.Now()) {
				t.Errorf("after s, the recurring task should wait for its next occurrence: %+v", n.Task)
			}
		case "plain white task":
			if n.Task.State != "done" || n.Task.Do != nil {
				t.Errorf("plain white task: want done (by :Heph done in its context doc) and not moved by s: %+v", n.Task)
			}
		}
	}
	var logDoc Node
	td.MustCall("log.get", map[string]any{"id": third.ID}, &logDoc)
	if !strings.Contains(logDoc.Body, "wrote from nvim") {
		t.Errorf("log of %s after :Heph log = %q, want the logged text", third.Handle, logDoc.Body)
	}
}

func TestNvimNodeBufferSaveAndConflict(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	var doc Node
	td.MustCall("doc.create", map[string]any{"title": "Notes on nvim", "body": "first line\nsecond line\n"}, &doc)
	mustNvimScript(t, td, "buffer_spec.lua", "HEPH_TEST_ID="+doc.ID)
	got := nodeOf(t, td, doc.ID)
	lines := strings.Split(got.Body, "\n")
	if len(lines) != 5001 || lines[4999] != "line 5000 "+strings.Repeat("é", 40) || lines[5000] != "" {
		t.Errorf("body after the nvim session: %d lines, last %q; want the 5000 lines nvim saved", len(lines), lines[len(lines)-2])
	}
}

func TestNvimFollowLinkAndBacklinks(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	var dst, src Node
	td.MustCall("doc.create", map[string]any{"title": "Link Target", "body": "I am the target.\n"}, &dst)
	body := "by id: see [[" + dst.ID + "]] here\nby title: see [[link target|the target]] too\nby handle: [[" + dst.Handle + "]]\nnowhere: [[No Such Page]]\n"
	td.MustCall("doc.create", map[string]any{"title": "Link Source", "body": body}, &src)
	mustNvimScript(t, td, "link_spec.lua", "HEPH_TEST_ID="+src.ID, "HEPH_TEST_TARGET="+dst.ID)
}

func TestNvimHealth(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	out := mustNvimScript(t, td, "health_spec.lua")
	if !strings.Contains(out, "hephd "+info.Version) {
		t.Errorf(":checkhealth heph does not report the daemon version %q", info.Version)
	}
}

func TestNvimDaemonNotRunning(t *testing.T) {
	nvimPath(t)
	for _, stop := range []string{"stopped", "killed"} {
		t.Run(stop, func(t *testing.T) {
			td := startDaemon(t)
			if stop == "stopped" {
				td.Stop()
			} else {
				td.Kill() // leaves a stale socket: connection refused
			}
			mustNvimScript(t, td, "notrunning_spec.lua")
			// Without the harness: what a person sees on the screen.
			out, _ := runNvim(t, []string{"HEPH_SOCKET=" + td.Socket}, "", "Heph next", "lua vim.wait(1000, function() return false end)")
			want := "hephd is not running (no socket at " + td.Socket + "). Start it with: heph daemon start"
			if strings.Count(out, want) != 1 {
				t.Errorf("nvim output should hold the message once:\n%s", out)
			}
			for _, bad := range []string{"stack traceback", "E5108", "E5113", ".lua:"} {
				if strings.Contains(out, bad) {
					t.Errorf("nvim output shows %q (a Lua error), want only the message:\n%s", bad, out)
				}
			}
		})
	}
}

func TestNvimAgenda(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	create := func(p map[string]any) Node {
		var n Node
		td.MustCall("task.create", p, &n)
		return n
	}
	dueToday := create(map[string]any{"title": "due today", "do": "today"})
	create(map[string]any{"title": "no date at all"})
	late := create(map[string]any{"title": "late since yesterday", "late": "yesterday"})
	create(map[string]any{"title": "in three days", "do": "+3d"})
	var next struct {
		Tasks []Node `json:"tasks"`
	}
	td.MustCall("task.next", map[string]any{"limit": 50}, &next)
	var want []string
	for _, n := range next.Tasks {
		if n.ID == dueToday.ID || n.ID == late.ID {
			want = append(want, n.Handle)
		}
	}
	if len(want) != 2 {
		t.Fatalf("task.next should hold both tasks due today; got %+v", next.Tasks)
	}
	b, _ := json.Marshal(want)
	mustNvimScript(t, td, "agenda_spec.lua", "HEPH_TEST_EXPECT="+string(b))
}

func TestNvimReconnectsAfterRestart(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	restart := func() {
		td.Stop()
		td = startDaemonIn(t, td.Dir)
	}
	mustNvimScriptSync(t, td, map[string]func(){"restart": restart}, "reconnect_spec.lua")
	var tasks []Node
	td.MustCall("task.list", nil, &tasks)
	if len(tasks) != 2 || tasks[1].Title != "after the restart" {
		t.Errorf("tasks after the nvim session: %+v, want the one made before and the one after the restart", tasks)
	}
}

// TestNvimSocketPathMatchesCLI checks that heph.nvim finds the socket where
// the CLI and hephd do (paths.lua against resolvePaths).
func TestNvimSocketPathMatchesCLI(t *testing.T) {
	nvimPath(t)
	cases := []map[string]string{
		{"HEPH_SOCKET": "/tmp/heph-x/s.sock", "XDG_RUNTIME_DIR": "/run/user/7", "HOME": "/home/u"},
		{"HEPH_SOCKET": "rel/dir/s.sock", "XDG_RUNTIME_DIR": "", "HOME": "/home/u"},
		{"HEPH_SOCKET": "", "XDG_RUNTIME_DIR": "/run/user/7", "HOME": "/home/u"},
		{"HEPH_SOCKET": "", "XDG_RUNTIME_DIR": "", "HOME": "/home/u"},
	}
	for _, env := range cases {
		want, err := resolvePaths("", "", func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("resolvePaths %v: %v", env, err)
		}
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		out, code := runNvim(t, kv, "", `lua io.stdout:write("SOCKET=" .. require("heph.paths").socket() .. "\n")`)
		if code != 0 {
			t.Fatalf("nvim exit %d:\n%s", code, out)
		}
		if !strings.Contains(out, "SOCKET="+want.Socket+"\n") {
			t.Errorf("env %v: heph.nvim's socket differs from the CLI's %s:\n%s", env, want.Socket, out)
		}
	}
}

// TestNvimLiveChanges: heph.nvim follows hephd's events (live_spec.lua).
func TestNvimLiveChanges(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	td.MustCall("task.create", map[string]any{"title": "already there"}, nil)
	var doc Node
	td.MustCall("doc.create", map[string]any{"title": "Live doc", "body": "original body\n"}, &doc)
	stampDir := shortTempDir(t)
	stamp := func(name string) {
		at := strconv.FormatInt(time.Now().UnixMicro(), 10)
		if err := os.WriteFile(filepath.Join(stampDir, name+".at"), []byte(at+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	syncs := map[string]func(){
		"cli_task": func() {
			td.MustHeph("task", "made with the CLI")
			stamp("cli_task")
		},
		"do_soon": func() {
			do := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
			td.MustHeph("task", "due in a moment", "--do", do)
		},
		"edit_doc": func() {
			td.MustCall("node.update", map[string]any{"id": doc.ID, "body": "changed by another client\n"}, nil)
		},
		"edit_doc_again": func() {
			td.MustCall("node.update", map[string]any{"id": doc.ID, "body": "changed once more\n"}, nil)
		},
	}
	out := mustNvimScriptSync(t, td, syncs, "live_spec.lua", "HEPH_TEST_ID="+doc.ID, "HEPH_TEST_STAMPS="+stampDir)
	if i := strings.Index(out, "LATENCY_MS="); i >= 0 {
		t.Logf("CLI change to :Heph next: %s", strings.Fields(out[i:])[0])
	}
}

// TestNvimCapture: :Heph add gives the fields task.parse and heph add give
// for the same text; :Heph today, gp and :Heph journals (capture_spec.lua).
func TestNvimCapture(t *testing.T) {
	nvimPath(t)
	td := startDaemon(t)
	td.MustCall("task.create", map[string]any{"title": "seed", "project": "Home/Garden"}, nil)
	const text = "Water plants tomorrow p2 #garden every 3 days +green by fri"
	mustNvimScript(t, td, "capture_spec.lua", "HEPH_TEST_TEXT="+text)
	var parsed quickAddResult
	td.MustCall("task.parse", map[string]any{"text": text}, &parsed)
	var viaCLI Node
	decodeJSON(t, td.MustHeph("--json", "add", text), &viaCLI)
	var list []*Node
	td.MustCall("task.list", map[string]any{}, &list)
	var viaNvim *Node
	for _, n := range list {
		if n.Title == "Water plants" && n.ID != viaCLI.ID {
			viaNvim = n
		}
	}
	if viaNvim == nil {
		t.Fatalf(":Heph add created no task: %+v", list)
	}
	for _, n := range []*Node{viaNvim, &viaCLI} {
		checkQuickAdded(t, n, parsed)
		if !n.Task.Late.Equal(*parsed.Late) {
			t.Fatalf("late %v, parsed %v", n.Task.Late, parsed.Late)
		}
	}
}

// TestNvimHelpListsEverySubcommand: each :Heph subcommand in commands.lua
// has its entry in nvim/doc/heph.txt and a row in nvim/README.md.
func TestNvimHelpListsEverySubcommand(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("nvim", "lua", "heph", "commands.lua"))
	if err != nil {
		t.Fatal(err)
	}
	help, err := os.ReadFile(filepath.Join("nvim", "doc", "heph.txt"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("nvim", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(src), "M.subcommands = {")
	if !ok {
		t.Fatal("commands.lua has no M.subcommands table")
	}
	table, _, _ = strings.Cut(table, "\n}\n")
	n := 0
	for _, line := range strings.Split(table, "\n") {
		name, ok := strings.CutSuffix(strings.TrimSpace(line), " = function()")
		if !ok {
			name, ok = strings.CutSuffix(strings.TrimSpace(line), " = function(arg)")
		}
		if !ok || strings.HasPrefix(line, "    ") {
			continue
		}
		n++
		if !strings.Contains(string(help), ":Heph "+name) {
			t.Errorf(":Heph %s is not in nvim/doc/heph.txt", name)
		}
		if !strings.Contains(string(readme), ":Heph "+name) {
			t.Errorf(":Heph %s is not in nvim/README.md", name)
		}
	}
	if n < 10 {
		t.Fatalf("found only %d subcommands in commands.lua", n)
	}
}
