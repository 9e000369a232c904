// tui_test.go: heph tui end to end in a real tmux against a real hephd: navigation, triage keys, $EDITOR, live changes, resizes, signals, restarts and a sane terminal afterwards.

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxTUI is a tmux server with one pane running bash, in which heph tui
// runs against a test daemon.
type tmuxTUI struct {
	t    *testing.T
	sock string // tmux server socket
	dir  string
}

func tuiStartTmux(t *testing.T, d *testDaemon, w, h int, extraEnv ...string) *tmuxTUI {
	t.Helper()
	_, err := exec.LookPath("tmux")
	requireComponent(t, err == nil, "tmux is not installed")
	dir := shortTempDir(t)
	m := &tmuxTUI{t: t, sock: filepath.Join(dir, "tmux.sock"), dir: dir}
	bin := filepath.Dir(hephBinary(t))
	env := append([]string{}, d.Env...)
	env = append(env, "PATH="+bin+":"+os.Getenv("PATH"), "TERM=xterm-256color", "PS1=$ ")
	env = append(env, extraEnv...)
	args := []string{"-S", m.sock, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "--"}
	args = append(args, "env", "-i")
	args = append(args, env...)
	args = append(args, "bash", "--norc", "--noprofile")
	m.tmux(args...)
	t.Cleanup(func() { exec.Command("tmux", "-S", m.sock, "kill-server").Run() })
	m.tmux("set-option", "-g", "remain-on-exit", "on")
	return m
}

func (m *tmuxTUI) tmux(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", m.sock}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Escape, j) one by one.
func (m *tmuxTUI) keys(keys ...string) { m.tmux(append([]string{"send-keys", "-t", "t"}, keys...)...) }

// typeText sends text literally.
func (m *tmuxTUI) typeText(s string) { m.tmux("send-keys", "-t", "t", "-l", "--", s) }

func (m *tmuxTUI) screen() string { return m.tmux("capture-pane", "-p", "-t", "t") }

// waitFor polls the screen until ok says yes, or fails after a deadline.
func (m *tmuxTUI) waitFor(what string, ok func(screen string) bool) string {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := m.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *tmuxTUI) waitText(s string) string {
	m.t.Helper()
	return m.waitFor(fmt.Sprintf("%q on screen", s), func(sc string) bool { return strings.Contains(sc, s) })
}

func (m *tmuxTUI) waitGone(s string) string {
	m.t.Helper()
	return m.waitFor(fmt.Sprintf("%q gone from the screen", s), func(sc string) bool { return !strings.Contains(sc, s) })
}

// click sends a left click on the first row showing text, in its middle.
func (m *tmuxTUI) click(text string) {
	m.t.Helper()
	for y, l := range strings.Split(m.screen(), "\n") {
		if i := strings.Index(l, text); i >= 0 {
			x := displayWidth(l[:i]) + 2
			m.typeText(fmt.Sprintf("\x1b[<0;%d;%dM", x+1, y+1))
			return
		}
	}
	m.t.Fatalf("no %q on screen to click", text)
}

// tuiPreviewTitle is the first line of the preview pane (right of the last
// border on row 2).
func tuiPreviewTitle(screen string) string {
	lines := strings.Split(screen, "\n")
	if len(lines) < 2 {
		return ""
	}
	l := lines[1]
	i := strings.LastIndex(l, "│")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(l[i+len("│"):])
}

func (m *tmuxTUI) waitPreview(title string) {
	m.t.Helper()
	m.waitFor("the preview to show "+title, func(s string) bool { return tuiPreviewTitle(s) == title })
}

// tuiMaxWidth is the widest line of a captured screen, in columns.
func tuiMaxWidth(screen string) int {
	w := 0
	for _, l := range strings.Split(screen, "\n") {
		w = max(w, displayWidth(l))
	}
	return w
}

// tuiTaskByTitle finds a task (any state) by its title through the CLI.
func tuiTaskByTitle(t *testing.T, d *testDaemon, title string) Node {
	t.Helper()
	var nodes []Node
	d.MustCall("task.list", map[string]any{"state": "all"}, &nodes)
	for _, n := range nodes {
		if n.Title == title {
			return n
		}
	}
	t.Fatalf("no task titled %q", title)
	return Node{}
}

// runInPane starts heph tui from the pane's shell, recording stty -a
// before and after and the exit status.
func (m *tmuxTUI) runInPane(args string) {
	m.typeText(fmt.Sprintf("stty -a > %s/before; heph tui %s; echo TUI-EXIT=$?; stty -a > %s/after", m.dir, args, m.dir))
	m.keys("Enter")
}

// checkSane waits for heph tui to exit with code and compares stty -a.
func (m *tmuxTUI) checkSane(code int) {
	m.t.Helper()
	m.waitText(fmt.Sprintf("TUI-EXIT=%d", code))
	deadline := time.Now().Add(5 * time.Second)
	for {
		before, _ := os.ReadFile(filepath.Join(m.dir, "before"))
		after, err := os.ReadFile(filepath.Join(m.dir, "after"))
		if err == nil && len(after) > 0 {
			// The window's size is the terminal's business, not ours.
			size := regexp.MustCompile(`rows \d+; columns \d+;`)
			if size.ReplaceAllString(string(before), "") != size.ReplaceAllString(string(after), "") {
				m.t.Fatalf("stty -a changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatal("stty -a after heph tui was not written")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTUITmuxEndToEnd(t *testing.T) {
	d := startDaemon(t)
	d.MustHeph("task", "Alpha task", "--project", "Home")
	d.MustHeph("task", "Beta task", "--attention", "red")
	d.MustHeph("task", "Gamma task", "--project", "Work")
	editor := filepath.Join(d.Dir, "editor.sh")
	os.WriteFile(editor, []byte("#!/bin/sh\nprintf -- '- [ ] scripted step\\n' >> \"$1\"\n"), 0o755)
	m := tuiStartTmux(t, d, 120, 40, "EDITOR="+editor)
	m.runInPane("")
	m.waitText("Gamma task")
	m.waitPreview("Beta task") // red first
	// Live through events when hephd has them, else polling, said so.
	mode := "· live"
	if err := d.Call("events.subscribe", map[string]any{}, nil); err != nil {
		t.Logf("hephd has no events yet (%v): checking the polling fallback", err)
		mode = "· polling"
	}
	m.waitText(mode)

	// Navigate.
	m.keys("j")
	m.waitPreview("Alpha task")
	m.keys("G")
	m.waitPreview("Gamma task")
	m.keys("g")
	m.waitPreview("Beta task")

	// Quick add shows hephd's parse before saving; the cursor lands on
	// the new task.
	parse := d.Call("task.parse", map[string]any{"text": "x"}, nil) == nil
	m.keys("a")
	m.waitText("add: ")
	if parse {
		m.typeText("Delta task +urgent")
		m.waitText("Delta task tag:+urgent")
	} else {
		t.Log("hephd has no task.parse yet: checking the plain-title fallback")
		m.typeText("Delta task")
		m.waitText("does not parse quick add")
	}
	m.keys("Enter")
	m.waitText("added ")
	m.waitPreview("Delta task")
	if n := tuiTaskByTitle(t, d, "Delta task"); n.Task.State != "outstanding" || (parse && strings.Join(n.Task.Tags, ",") != "urgent") {
		t.Fatalf("quick add: %+v", n.Task)
	}

	// Done, then undo.
	m.keys("d")
	m.waitText("done: ")
	m.waitFor("Delta task gone from the list", func(s string) bool { return !strings.Contains(s, "· Delta task") })
	if n := tuiTaskByTitle(t, d, "Delta task"); n.Task.State != "done" {
		t.Fatalf("after d: state %s", n.Task.State)
	}
	m.keys("u")
	m.waitText("undone")
	m.waitText("· Delta task")
	if n := tuiTaskByTitle(t, d, "Delta task"); n.Task.State != "outstanding" {
		t.Fatalf("after u: state %s", n.Task.State)
	}

	// Move to project with the fuzzy picker.
	m.keys("G")
	m.waitPreview("Delta task")
	m.keys("m")
	m.typeText("wrk")
	m.waitText("  Work")
	m.keys("Enter")
	m.waitText("moved to Work")
	if n := tuiTaskByTitle(t, d, "Delta task"); n.Task.Project != "Work" {
		t.Fatalf("after m: project %q", n.Task.Project)
	}

	testTUIFilter(t, d, m)
	testTUIEditor(t, d, m)

	// A change made by the CLI appears without a key press.
	d.MustHeph("task", "Epsilon from the CLI")
	m.waitText("Epsilon from the CLI")

	// Resizes: 80x24 hides the preview, 50x20 the sidebar too.
	m.tmux("resize-window", "-t", "t", "-x", "80", "-y", "24")
	s := m.waitFor("the 80x24 layout", func(s string) bool {
		return tuiMaxWidth(s) <= 80 && !strings.Contains(s, "preview") && strings.Contains(s, "Views")
	})
	if !strings.Contains(s, "Alpha task") {
		t.Fatalf("80x24 lost the list:\n%s", s)
	}
	m.tmux("resize-window", "-t", "t", "-x", "50", "-y", "20")
	m.waitFor("the 50x20 layout", func(s string) bool {
		return tuiMaxWidth(s) <= 50 && !strings.Contains(s, "Views") && strings.Contains(s, "Alpha task")
	})
	m.keys("p")
	m.waitText("preview")
	m.keys("Escape")
	m.waitGone("preview")

	// hephd restarted under it.
	d.Stop()
	m.waitText("hephd stopped — waiting")
	d2 := startDaemonIn(t, d.Dir)
	m.waitGone("hephd stopped")
	d2.MustHeph("task", "Zeta after restart")
	m.waitText("Zeta after restart")

	m.keys("q")
	m.checkSane(0)
}

// testTUIFilter: f applies the filter language when hephd has it, and
// says so plainly when it does not.
func testTUIFilter(t *testing.T, d *testDaemon, m *tmuxTUI) {
	t.Helper()
	err := d.Call("task.list", map[string]any{"filter": "attention:red"}, nil)
	m.keys("f")
	m.typeText("attention:red")
	m.keys("Enter")
	if err != nil {
		t.Logf("hephd has no filter language yet (%v): checking the fallback message", err)
		m.waitText("no filter language yet")
		return
	}
	m.waitFor("only red tasks", func(s string) bool {
		return strings.Contains(s, "Beta task") && !strings.Contains(s, "Alpha task")
	})
	m.keys("f", "C-u", "Enter")
	m.waitText("Alpha task")
}

// testTUIEditor: e runs the scripted $EDITOR on the context doc and saves
// it; c then checks the new checklist item.
func testTUIEditor(t *testing.T, d *testDaemon, m *tmuxTUI) {
	t.Helper()
	m.keys("g")
	m.waitPreview("Beta task")
	m.keys("e")
	m.waitText("context saved")
	m.waitText("- [ ] scripted step")
	beta := tuiTaskByTitle(t, d, "Beta task")
	if out := d.MustHeph("context", beta.Handle); !strings.Contains(out, "- [ ] scripted step") {
		t.Fatalf("context after e:\n%s", out)
	}
	m.keys("c")
	m.waitText("- [x] scripted step")
	if out := d.MustHeph("context", beta.Handle); !strings.Contains(out, "- [x] scripted step") {
		t.Fatalf("context after c:\n%s", out)
	}
}

// TestTUITmuxSignals: SIGTERM and SIGHUP restore the terminal (stty -a
// unchanged) and exit as killed (143, 129); --no-mouse runs too.
func TestTUITmuxSignals(t *testing.T) {
	d := startDaemon(t)
	d.MustHeph("task", "Only task")
	for _, sig := range []struct {
		name string
		code int
	}{{"TERM", 143}, {"HUP", 129}} {
		t.Run(sig.name, func(t *testing.T) {
			m := tuiStartTmux(t, d, 100, 30)
			m.runInPane("--no-mouse")
			m.waitText("Only task")
			shell := strings.TrimSpace(m.tmux("display-message", "-p", "-t", "t", "#{pane_pid}"))
			var child string
			deadline := time.Now().Add(5 * time.Second)
			for child == "" && time.Now().Before(deadline) {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%s/task/%s/children", shell, shell))
				child = strings.TrimSpace(string(b))
				time.Sleep(20 * time.Millisecond)
			}
			if child == "" || strings.Contains(child, " ") {
				t.Fatalf("heph tui's pid: %q", child)
			}
			if out, err := exec.Command("kill", "-"+sig.name, child).CombinedOutput(); err != nil {
				t.Fatalf("kill: %v %s", err, out)
			}
			m.checkSane(sig.code)
		})
	}
}

// TestTUINotRunning: with no hephd, heph tui exits 3 with the standard
// message and never touches the terminal.
func TestTUINotRunning(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "none.sock")
	env := append(cleanEnv(), "HEPH_SOCKET="+sock, "HOME="+dir)
	out, errOut, code := runHeph(t, env, "", "tui")
	if code != exitNotRunning || !strings.Contains(errOut, "hephd is not running (no socket at "+sock+")") || out != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errOut)
	}
}

// TestTUITmuxTriageKeys: attention, tags, dates, skip, drop (with its
// confirmation), search as you type and the help, each checked through
// the CLI.
func TestTUITmuxTriageKeys(t *testing.T) {
	d := startDaemon(t)
	d.MustHeph("task", "Apple pie")
	d.MustHeph("task", "Banana bread", "--recur", "daily")
	d.MustHeph("task", "Cherry jam")
	// An editor during which another client changes the context doc (the
	// temp file is named HANDLE-context.md).
	editor := filepath.Join(d.Dir, "conflict.sh")
	os.WriteFile(editor, []byte("#!/bin/sh\nheph context \"$(basename \"$1\" -context.md)\" --append elsewhere >/dev/null\nprintf -- '- [ ] mine\\n' >> \"$1\"\n"), 0o755)
	m := tuiStartTmux(t, d, 120, 30, "EDITOR="+editor)
	m.runInPane("")
	m.waitText("Cherry jam")
	m.waitPreview("Apple pie")

	// e with the conflict check: the other change stays, ours is kept in
	// a file the message names.
	m.keys("e")
	s := m.waitText("changed while you edited it")
	apple := tuiTaskByTitle(t, d, "Apple pie")
	if out := d.MustHeph("context", apple.Handle); !strings.Contains(out, "elsewhere") || strings.Contains(out, "mine") {
		t.Fatalf("context after a conflicting edit:\n%s", out)
	}
	if i := strings.Index(s, "your text is in "); i < 0 {
		t.Fatalf("no file named:\n%s", s)
	}
	kept, _ := filepath.Glob(filepath.Join(os.TempDir(), "heph-tui-*", apple.Handle+"-context.md"))
	if len(kept) != 1 {
		t.Fatalf("kept files: %v", kept)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(kept[0])) })
	if b, _ := os.ReadFile(kept[0]); !strings.Contains(string(b), "- [ ] mine") {
		t.Fatalf("the kept file holds %q", b)
	}
	// The mouse (SGR reports, as the terminal sends them): a click
	// selects a row, the wheel scrolls.
	m.click("· Banana bread")
	m.waitPreview("Banana bread")
	m.typeText("\x1b[<65;40;5M") // wheel down
	m.waitPreview("Cherry jam")
	m.click("Apple pie")
	m.waitPreview("Apple pie")

	m.keys("1")
	m.waitText("attention red")
	if n := tuiTaskByTitle(t, d, "Apple pie"); n.Task.Attention != "red" {
		t.Fatalf("after 1: %s", n.Task.Attention)
	}
	m.keys("t")
	m.typeText("+baking +home")
	m.keys("Enter")
	m.waitText("+baking +home")
	m.keys("t")
	m.typeText("-home")
	m.keys("Enter")
	m.waitGone("+home")
	if n := tuiTaskByTitle(t, d, "Apple pie"); strings.Join(n.Task.Tags, ",") != "baking" {
		t.Fatalf("after t: tags %v", n.Task.Tags)
	}
	m.keys("L")
	m.typeText("+3d")
	m.keys("Enter")
	m.waitText("late: ")
	if n := tuiTaskByTitle(t, d, "Apple pie"); n.Task.Late == nil || n.Task.Late.Before(time.Now().Add(48*time.Hour)) {
		t.Fatalf("after L +3d: late %v", n.Task.Late)
	}
	m.keys("D")
	m.typeText("someday soon")
	m.keys("Enter")
	m.waitText("date") // hephd's message lists the date forms

	// Skip moves a recurring task on; drop asks first.
	m.keys("j")
	m.waitPreview("Banana bread")
	before := tuiTaskByTitle(t, d, "Banana bread").Task.Do
	m.keys("s")
	m.waitText("skipped: ")
	if after := tuiTaskByTitle(t, d, "Banana bread").Task.Do; after == nil || before == nil || !after.After(*before) {
		t.Fatalf("after s: do %v -> %v", before, after)
	}
	m.keys("g")
	m.waitPreview("Apple pie")
	m.keys("G")
	m.waitPreview("Cherry jam")
	m.keys("x")
	m.waitText(`drop "Cherry jam"? y/n`)
	m.keys("n")
	m.waitText("not dropped")
	m.keys("x", "y")
	m.waitText("dropped: ")
	m.waitGone("· Cherry jam")
	if n := tuiTaskByTitle(t, d, "Cherry jam"); n.Task.State != "dropped" {
		t.Fatalf("after x y: %s", n.Task.State)
	}

	// Search narrows as it is typed; Esc clears it.
	m.keys("/")
	m.typeText("pie")
	m.waitText("/pie")
	m.waitText("! Apple pie")
	m.typeText("x")
	m.waitFor("nothing matching piex", func(s string) bool {
		return strings.Contains(s, "no tasks") && !strings.Contains(s, "! Apple pie")
	})
	m.keys("Escape")
	m.waitText("! Apple pie")

	m.keys("?")
	m.waitText("quick add (shows the parse)")
	m.keys("q") // closes the help
	m.waitGone("quick add (shows the parse)")
	m.keys("q")
	m.checkSane(0)
}
