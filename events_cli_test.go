package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// heph watch and hephd --on-change, end to end.

// watchProc is a running `heph watch`.
type watchProc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
	done   chan error
}

func startWatch(t *testing.T, env []string, args ...string) *watchProc {
	t.Helper()
	cmd := exec.Command(hephBinary(t), append([]string{"watch"}, args...)...)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &watchProc{cmd: cmd, lines: make(chan string, 1000), stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
		w.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return w
}

func (w *watchProc) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-w.lines:
		if !ok {
			t.Fatalf("heph watch ended; stderr: %s", w.stderr.String())
		}
		return l
	case <-time.After(15 * time.Second):
		t.Fatalf("heph watch printed nothing within 15s; stderr: %s", w.stderr.String())
	}
	return ""
}

// currentSeq is the daemon's event seq now.
func currentSeq(t *testing.T, socket string) int64 {
	t.Helper()
	s := subscribeEvents(t, socket, nil)
	s.conn.Close()
	return s.seq
}

func TestWatchEndToEnd(t *testing.T) {
	d := startDaemon(t)
	if _, errOut, code := runHeph(t, append(cleanEnv(), "HEPH_SOCKET="+filepath.Join(shortTempDir(t), "none.sock")), "", "watch"); code != 3 || !strings.Contains(errOut, "hephd is not running") {
		t.Fatalf("watch without a daemon: exit %d, %q", code, errOut)
	}
	if _, errOut, code := d.Heph("watch", "--after", "-5"); code != 2 {
		t.Fatalf("watch --after -5: exit %d %q", code, errOut)
	}
	seq := strconv.FormatInt(currentSeq(t, d.Socket), 10)
	js := startWatch(t, d.Env, "--json", "--after", seq)
	human := startWatch(t, d.Env, "--after", seq)
	task := mustCreate(t, d, map[string]any{"title": "Fix sink"})
	var ev eventParams
	decodeJSON(t, js.line(t), &ev)
	if n, ok := nodeChange(ev, task.ID); !ok || n.Change != "create" || ev.Origin != "local" {
		t.Fatalf("watch --json: %+v", ev)
	}
	first := seqOf(t, ev)
	h := human.line(t)
	want := fmt.Sprintf(`%d local: created task %s "Fix sink", created doc`, first, task.Handle)
	if !strings.HasPrefix(h, want) {
		t.Fatalf("watch line:\n got %q\nwant prefix %q", h, want)
	}

	// hephd restarts: watch waits, resumes after the last seq, and prints
	// the change made right after the restart exactly once.
	d.Stop()
	d2 := startDaemonIn(t, d.Dir)
	n2 := mustCreate(t, d2, map[string]any{"title": "after restart"})
	d2.MustHeph("done", n2.Handle)
	var seen []int64
	for len(seen) < 2 {
		decodeJSON(t, js.line(t), &ev)
		seen = append(seen, seqOf(t, ev))
		if seqOf(t, ev) <= first {
			t.Fatalf("after the restart watch printed seq %d again (already printed up to %d)", seqOf(t, ev), first)
		}
		if len(seen) == 1 {
			if _, ok := nodeChange(ev, n2.ID); !ok {
				t.Fatalf("after restart: %+v", ev)
			}
		}
	}
	if !strings.Contains(js.stderr.String(), "resuming after seq") {
		t.Fatalf("watch did not say it resumes: %q", js.stderr.String())
	}

	// Ctrl-C ends it cleanly.
	js.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-js.done:
		if err != nil {
			t.Fatalf("heph watch after SIGINT: %v (stderr %s)", err, js.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("heph watch did not exit on SIGINT")
	}
}

// howToScript extracts the shell script whose second line names it from
// docs/how-to/react-to-changes.md, so the documented hooks are the tested
// ones.
func howToScript(t *testing.T, dir, name string) string {
	t.Helper()
	doc, err := os.ReadFile("docs/how-to/react-to-changes.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```sh\n(#!/bin/sh\n# " + regexp.QuoteMeta(name) + ":.*?)```")
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("no %s in the how-to", name)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, m[1], 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// binPath puts heph and hephd first on PATH for hooks that run heph.
func binPath(t *testing.T) string {
	return "PATH=" + filepath.Dir(hephBinary(t)) + ":" + os.Getenv("PATH")
}

func TestOnChangeHook(t *testing.T) {
	_, err := exec.LookPath("jq")
	requireComponent(t, err == nil, "jq not found (apt-get install jq): the how-to's hooks use it")
	dir := shortTempDir(t)
	log := filepath.Join(dir, "events.jsonl")
	hangFlag := filepath.Join(dir, "hang")
	childPid := filepath.Join(dir, "child.pid")
	done := filepath.Join(dir, "done.txt")
	doneHook := howToScript(t, dir, "on-change-done.sh")
	// The hook logs every event; while the hang flag exists it starts a
	// grandchild and waits forever (until the timeout kills the group).
	hook := fmt.Sprintf(`ev=$(cat); if [ -e %[1]s ]; then rm %[1]s; sleep 600 & echo $! > %[2]s; wait; fi; echo "$ev" >> %[3]s; echo "$ev" | DONE=%[4]s PATH=%[5]q %[6]s`,
		hangFlag, childPid, log, done, strings.TrimPrefix(binPath(t), "PATH="), doneHook)
	d := startDaemon(t, "--on-change", hook, "--on-change-timeout", "1s")
	a := mustCreate(t, d, map[string]any{"title": "first"})
	b := mustCreate(t, d, map[string]any{"title": "second"})
	d.MustHeph("done", a.Handle)
	eventually(t, "the hook logged 3 events", func() bool { return countLines(log) >= 3 })
	if err := os.WriteFile(hangFlag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d.MustHeph("edit", b.Handle, "--attention", "red") // the hook hangs on this one
	eventually(t, "the hanging hook started its child", func() bool { _, err := os.Stat(childPid); return err == nil })
	// Writes go on while the hook hangs.
	start := time.Now()
	for i := 0; i < 20; i++ {
		mustCreate(t, d, map[string]any{"title": fmt.Sprintf("while hanging %d", i)})
	}
	t.Logf("20 writes while the hook hangs: %v", time.Since(start))
	d.MustHeph("done", b.Handle)
	eventually(t, "hephd logs the killed hook", func() bool { return strings.Contains(d.Stderr.String(), "killed after the 1s timeout") })
	pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, childPid)))
	eventually(t, "the hook's child was killed with its process group", func() bool { return !processAlive(pid) })
	eventually(t, "the hook ran for every later event", func() bool { return countLines(log) >= 3+21 })
	var last int64
	for i, l := range strings.Split(strings.TrimSpace(readFile(t, log)), "\n") {
		var ev eventParams
		decodeJSON(t, l, &ev)
		if seqOf(t, ev) <= last {
			t.Fatalf("hook event %d out of order: %d after %d", i, seqOf(t, ev), last)
		}
		last = seqOf(t, ev)
	}
	// The how-to's hook appended each completed task once.
	eventually(t, "done.txt lists the two completed tasks", func() bool { return countLines(done) == 2 })
	got := readFile(t, done)
	if !strings.Contains(got, a.ID+" ") || !strings.Contains(got, b.ID+" ") || !strings.Contains(got, " second\n") {
		t.Fatalf("done.txt:\n%s", got)
	}
}

func TestOnChangeLateTick(t *testing.T) {
	_, err := exec.LookPath("jq")
	requireComponent(t, err == nil, "jq not found (apt-get install jq): the how-to's hooks use it")
	dir := shortTempDir(t)
	notified := filepath.Join(dir, "notified")
	notify := filepath.Join(dir, "notify")
	os.WriteFile(notify, []byte("#!/bin/sh\necho \"$*\" >> "+notified+"\n"), 0o755)
	lateHook := howToScript(t, dir, "on-change-late.sh")
	d := startDaemon(t, "--on-change", fmt.Sprintf("NOTIFY=%s %s %s", notify, binPath(t), lateHook))
	late := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	mustCreate(t, d, map[string]any{"title": "pay rent", "attention": "red", "late": late})
	mustCreate(t, d, map[string]any{"title": "white one", "late": late})
	eventually(t, "the late red task was notified at its late date", func() bool { return countLines(notified) >= 1 })
	time.Sleep(300 * time.Millisecond)
	if got := readFile(t, notified); got != "heph: now late pay rent\n" {
		t.Fatalf("notifications: %q", got)
	}
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return string(b)
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}
