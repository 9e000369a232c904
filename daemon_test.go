package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondDaemonRefused: a second hephd on the same store exits non-zero
// naming the store and the pid that holds it; the first keeps serving.
func TestSecondDaemonRefused(t *testing.T) {
	td := startDaemon(t)
	var out, errOut syncBuffer
	code := run([]string{"hephd", "--db", td.DB, "--socket", filepath.Join(td.Dir, "other.sock")}, strings.NewReader(""), &out, &errOut)
	want := fmt.Sprintf("store %s is in use by hephd pid %d", td.DB, td.Cmd.Process.Pid)
	if code == 0 || !strings.Contains(errOut.String(), want) {
		t.Fatalf("second hephd: exit %d, stderr:\n%s\nwant it to contain %q", code, errOut.String(), want)
	}
	if _, err := os.Stat(filepath.Join(td.Dir, "other.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused hephd left a socket: %v", err)
	}
	td.MustHeph("version")
}

// TestNotRunning: with nothing listening heph says how to start hephd and
// exits 3, whether the socket is missing or stale.
func TestNotRunning(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "s.sock")
	env := append(cleanEnv(), "HOME="+dir, "HEPH_SOCKET="+sock)
	want := fmt.Sprintf("hephd is not running (no socket at %s). Start it with: heph daemon start   (or run: hephd)\n", sock)
	for _, args := range [][]string{{"version"}, {"list"}, {"task", "x"}, {"--json", "show", "abcd"}} {
		out, errOut, code := runHeph(t, env, "", args...)
		if code != exitNotRunning || !strings.HasSuffix(errOut, want) {
			t.Fatalf("heph %v with no daemon: exit %d, stderr %q; want exit 3 and %q", args, code, errOut, want)
		}
		if args[0] != "version" && out != "" {
			t.Fatalf("heph %v printed %q on stdout", args, out)
		}
	}
	// A socket file nobody listens on (hephd was killed) is "not running" too.
	td := startDaemonIn(t, dir)
	td.Kill()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("kill -9 should leave the socket file behind: %v", err)
	}
	if _, errOut, code := runHeph(t, env, "", "version"); code != exitNotRunning || !strings.HasSuffix(errOut, want) {
		t.Fatalf("stale socket: exit %d, stderr %q", code, errOut)
	}
}

// TestKill9KeepsAcknowledgedWrite: a task acknowledged to the client is in
// the store after SIGKILL and a restart (which also replaces the stale
// socket).
func TestKill9KeepsAcknowledgedWrite(t *testing.T) {
	td := startDaemon(t)
	handle := strings.TrimSpace(td.MustHeph("task", "survive", "kill -9"))
	td.Kill()
	td2 := startDaemonIn(t, td.Dir)
	out := td2.MustHeph("show", handle)
	if !strings.Contains(out, "survive kill -9") {
		t.Fatalf("acknowledged task lost after kill -9: heph show %s:\n%s", handle, out)
	}
	if list := td2.MustHeph("list"); !strings.Contains(list, handle) {
		t.Fatalf("heph list after restart lacks %s:\n%s", handle, list)
	}
}

// TestSIGTERMShutdown: SIGTERM lets the request in flight finish and be
// answered, then hephd exits 0, removes its socket and releases the store
// so a new hephd starts on it.
func TestSIGTERMShutdown(t *testing.T) {
	td := startDaemon(t)
	idle := dialRaw(t, td.Socket) // an idle connection must not hold shutdown up
	idle.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"daemon.info"}`)

	// Hold SQLite's write lock from outside so task.create waits in hephd.
	db, err := sql.Open("sqlite", "file:"+td.DB+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	busy := dialRaw(t, td.Socket)
	if _, err := busy.c.Write([]byte(`{"jsonrpc":"2.0","id":2,"method":"task.create","params":{"title":"in flight"}}` + "\n")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		line string
		err  error
	}
	replies := make(chan result, 1)
	go func() {
		busy.c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := busy.r.ReadString('\n')
		replies <- result{line, err}
	}()
	time.Sleep(500 * time.Millisecond) // let hephd read the request and block on the lock
	if err := td.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case <-td.Exited():
		t.Fatalf("hephd exited with a request in flight:\n%s", td.Stderr.String())
	case r := <-replies:
		t.Fatalf("request answered while the store was locked: %q %v", r.line, r.err)
	default:
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-replies:
		if r.err != nil || !strings.Contains(r.line, `"result"`) || !strings.Contains(r.line, "in flight") {
			t.Fatalf("in-flight request not answered: %q %v\n%s", r.line, r.err, td.Stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("in-flight request never answered:\n%s", td.Stderr.String())
	}
	select {
	case <-td.Exited():
	case <-time.After(15 * time.Second):
		t.Fatalf("hephd did not exit after SIGTERM:\n%s", td.Stderr.String())
	}
	if code := td.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("hephd exited %d after SIGTERM:\n%s", code, td.Stderr.String())
	}
	if _, err := os.Lstat(td.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket still there after SIGTERM: %v", err)
	}
	if !strings.Contains(td.Stderr.String(), "hephd stopped") {
		t.Fatalf("no clean stop logged:\n%s", td.Stderr.String())
	}
	conn.Close()
	db.Close()
	td2 := startDaemonIn(t, td.Dir) // the store lock was released
	if list := td2.MustHeph("list"); !strings.Contains(list, "in flight") {
		t.Fatalf("the in-flight task is not in the store:\n%s", list)
	}
	if strings.Contains(td2.Stderr.String(), "stale socket") {
		t.Fatalf("a clean shutdown left a stale socket:\n%s", td2.Stderr.String())
	}
}

// TestSIGINTShutdown: Ctrl-C in a foreground hephd is a clean stop too.
func TestSIGINTShutdown(t *testing.T) {
	td := startDaemon(t)
	td.Cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-td.Exited():
	case <-time.After(15 * time.Second):
		t.Fatal("hephd ignored SIGINT")
	}
	if code := td.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGINT:\n%s", code, td.Stderr.String())
	}
	if _, err := os.Lstat(td.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after SIGINT: %v", err)
	}
}

// TestModeFlagErrors: a mode without what it needs, or an unknown mode,
// is a clear error and a non-zero exit.
func TestModeFlagErrors(t *testing.T) {
	dir := shortTempDir(t)
	cases := map[string]string{
		"server": "--mode server needs --oidc-issuer URL and --oidc-audience AUD",
		"client": "--mode client needs --hub-url URL",
		"bogus":  `unknown --mode "bogus"`,
	}
	for mode, want := range cases {
		var out, errOut syncBuffer
		code := run([]string{"hephd", "--mode", mode, "--db", dir + "/h.db", "--socket", dir + "/s"}, strings.NewReader(""), &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), want) {
			t.Fatalf("--mode %s: exit %d: %s (want %q)", mode, code, errOut.String(), want)
		}
	}
}

// TestDaemonInfo: daemon.info reports what the issue promises.
func TestDaemonInfo(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "one")
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	if info.PID != td.Cmd.Process.Pid || info.Mode != "local" || info.DB != td.DB || info.Socket != td.Socket ||
		info.Version == "" || info.Protocol != protocolVersion || time.Since(info.Started) > time.Minute ||
		info.Counts["tasks"] != 1 || info.Counts["outstanding"] != 1 || info.Counts["nodes"] != info.Counts["tasks"]+info.Counts["docs"] {
		t.Fatalf("daemon.info: %+v", info)
	}
	out := td.MustHeph("version")
	if !strings.Contains(out, fmt.Sprintf("pid %d", info.PID)) || !strings.HasPrefix(out, "heph  ") {
		t.Fatalf("heph version: %q", out)
	}
}
