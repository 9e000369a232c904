package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Shared helpers for tests that run the real binary.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// TestMain removes the shared build directory after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// hephBinary builds the working tree's heph once per test process and
// returns its path; "hephd" beside it is a symlink to it.
func hephBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "heph-test-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "heph")
		cmd := exec.Command("go", "build", "-o", builtBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		buildErr = os.Symlink("heph", filepath.Join(buildDir, "hephd"))
	})
	if buildErr != nil {
		t.Fatalf("build heph: %v", buildErr)
	}
	return builtBin
}

// requireComponent skips a test whose external component is missing, or
// fails it when CI=true (CI must provide every component).
func requireComponent(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but a required component is missing: %s", msg)
	}
	t.Skipf("skipping: %s (CI=true makes this a failure)", msg)
}

// shortTempDir returns a private temp dir with a short path, so socket
// paths stay under the sun_path limit.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "hp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testDaemon is a hephd process started by a test.
type testDaemon struct {
	t      testing.TB
	Dir    string
	DB     string
	Socket string
	Cmd    *exec.Cmd
	Stderr *syncBuffer
	Env    []string // environment for clients (HEPH_DB, HEPH_SOCKET, HOME)
	done   chan struct{}
}

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs the built hephd on a fresh store and socket in a temp
// dir, waits for its socket, and stops it when the test ends.
func startDaemon(t testing.TB, extraArgs ...string) *testDaemon {
	t.Helper()
	dir := shortTempDir(t)
	return startDaemonIn(t, dir, extraArgs...)
}

// startDaemonIn is startDaemon on a given directory (reused across restarts).
func startDaemonIn(t testing.TB, dir string, extraArgs ...string) *testDaemon {
	t.Helper()
	return startDaemonEnv(t, dir, nil, extraArgs...)
}

// startDaemonEnv is startDaemonIn with extra environment variables.
func startDaemonEnv(t testing.TB, dir string, env []string, extraArgs ...string) *testDaemon {
	t.Helper()
	return startDaemonBinEnv(t, hephBinary(t), dir, env, extraArgs...)
}

// startDaemonBin is startDaemonIn with another build of heph (bin, with
// a "hephd" symlink beside it), such as an older release.
func startDaemonBin(t testing.TB, bin, dir string, extraArgs ...string) *testDaemon {
	t.Helper()
	return startDaemonBinEnv(t, bin, dir, nil, extraArgs...)
}

// startDaemonBinEnv starts bin's hephd on dir with extra environment.
func startDaemonBinEnv(t testing.TB, bin, dir string, env []string, extraArgs ...string) *testDaemon {
	t.Helper()
	d := &testDaemon{t: t, Dir: dir, DB: filepath.Join(dir, "heph.db"), Socket: filepath.Join(dir, "s.sock"),
		Stderr: &syncBuffer{}, done: make(chan struct{})}
	d.Env = append(cleanEnv(), "HOME="+dir, "HEPH_DB="+d.DB, "HEPH_SOCKET="+d.Socket, "XDG_RUNTIME_DIR=", "XDG_DATA_HOME=", "XDG_CONFIG_HOME=")
	d.Env = append(d.Env, env...)
	args := append([]string{"--db", d.DB, "--socket", d.Socket}, extraArgs...)
	d.Cmd = exec.Command(filepath.Join(filepath.Dir(bin), "hephd"), args...)
	d.Cmd.Env = d.Env
	d.Cmd.Stderr = d.Stderr
	d.Cmd.Stdout = d.Stderr
	if err := d.Cmd.Start(); err != nil {
		t.Fatalf("start hephd: %v", err)
	}
	go func() { d.Cmd.Wait(); close(d.done) }()
	t.Cleanup(d.Stop)
	d.WaitReady()
	return d
}

// cleanEnv is the test process's environment without heph's own variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HEPH_") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// WaitReady waits until the daemon answers daemon.info.
func (d *testDaemon) WaitReady() {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			d.t.Fatalf("hephd exited early: %v\n%s", d.Cmd.ProcessState, d.Stderr.String())
		default:
		}
		if c, err := dialDaemon(d.Socket); err == nil {
			err = c.Call(context.Background(), "daemon.info", nil, nil)
			c.Close()
			if err == nil {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Fatalf("hephd did not answer on %s within 15s\n%s", d.Socket, d.Stderr.String())
}

// Stop sends SIGTERM and waits for the daemon to exit.
func (d *testDaemon) Stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.Cmd.Process.Kill()
		<-d.done
	}
}

// Kill sends SIGKILL and waits.
func (d *testDaemon) Kill() {
	d.Cmd.Process.Kill()
	<-d.done
}

// Exited returns a channel closed when the process has exited.
func (d *testDaemon) Exited() <-chan struct{} { return d.done }

// Heph runs the heph CLI against this daemon and returns stdout, stderr and
// the exit status.
func (d *testDaemon) Heph(args ...string) (stdout, stderr string, code int) {
	d.t.Helper()
	return runHeph(d.t, d.Env, "", args...)
}

// HephIn is Heph with standard input.
func (d *testDaemon) HephIn(stdin string, args ...string) (stdout, stderr string, code int) {
	d.t.Helper()
	return runHeph(d.t, d.Env, stdin, args...)
}

// MustHeph runs heph and fails the test on a non-zero exit.
func (d *testDaemon) MustHeph(args ...string) string {
	d.t.Helper()
	out, errOut, code := d.Heph(args...)
	if code != 0 {
		d.t.Fatalf("heph %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// Call makes one RPC over a fresh connection and decodes the result.
func (d *testDaemon) Call(method string, params, result any) error {
	c, err := dialDaemon(d.Socket)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Call(ctx, method, params, result)
}

// MustCall is Call that fails the test on error.
func (d *testDaemon) MustCall(method string, params, result any) {
	d.t.Helper()
	if err := d.Call(method, params, result); err != nil {
		d.t.Fatalf("%s %v: %v", method, params, err)
	}
}

func runHeph(t testing.TB, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(hephBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run heph %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// decodeJSON unmarshals s into v or fails the test.
func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
}

// storeHandlers is the method table bound to a daemon around store s
// (local mode, no hub), for calling handlers in process.
func storeHandlers(s *Store) map[string]handler {
	return (&daemon{opts: daemonOptions{Mode: "local"}, store: s}).handlers(nil)
}
