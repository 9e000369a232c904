package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSelfUpdateUnderSystemd runs the whole self-update story against a
// real systemd user manager and a real `go install` from a local file://
// GOPROXY: v1.0.0 installed and running as the service updates itself to
// v1.1.0 and is restarted onto it with the store intact; a v1.2.0 that
// does not compile leaves v1.1.0 serving with the error in the log and in
// status; an older v1.0.5 changes nothing.
func TestSelfUpdateUnderSystemd(t *testing.T) {
	goBin, err := exec.LookPath("go")
	requireComponent(t, err == nil, "the go command is not on PATH")
	const module = "github.com/hephaestus/heph"
	work := shortTempDir(t)
	proxy := newModuleProxy(t, filepath.Join(work, "proxy"), module)
	src := workingTreeSources(t)
	proxy.publish(t, "v1.0.0", src)
	proxy.publish(t, "v1.1.0", withFile(src, "release_marker.go", "package main\n\n// releaseMarker marks a test release.\nconst releaseMarker = \"v1.1.0\"\n"))
	proxy.publish(t, "v1.2.0", withFile(src, "broken.go", "package main\n\nthis release does not compile\n"))
	proxy.publish(t, "v1.0.5", withFile(src, "release_marker.go", "package main\n\nconst releaseMarker = \"v1.0.5\"\n"))
	proxy.list(t, "v1.0.0")

	goEnv := append(goEnvForProxy(t, proxy, work), "GONOSUMDB=")
	m := startUserManager(t, goEnv...)

	// Install v1.0.0 the way a user does, at the stable path the service runs.
	install := exec.Command(goBin, "install", module+"@v1.0.0")
	install.Dir = work
	install.Env = append(append([]string{}, m.Env...), "GOBIN="+filepath.Dir(m.Bin))
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@v1.0.0: %v\n%s", module, err, out)
	}
	if got := binaryVersion(t, m.Bin); got != "v1.0.0" {
		t.Fatalf("installed binary reports %q, want v1.0.0", got)
	}

	m.mustHeph("daemon", "start", "--self-update", "--self-update-interval-secs", "1")
	m.mustHeph("task", "Survive the update")
	if v := daemonVersion(t, m); v != "v1.0.0" {
		t.Fatalf("service runs %q, want v1.0.0", v)
	}

	// A newer release appears: the daemon installs it, exits, systemd
	// restarts it onto the new binary.
	proxy.list(t, "v1.0.0", "v1.1.0")
	waitFor(t, 4*time.Minute, "the daemon to run v1.1.0", func() bool { return daemonVersion(t, m) == "v1.1.0" })
	if got := binaryVersion(t, m.Bin); got != "v1.1.0" {
		t.Fatalf("the stable path holds %q after the update, want v1.1.0", got)
	}
	if list := m.mustHeph("list"); !strings.Contains(list, "Survive the update") {
		t.Fatalf("store lost its task across the update:\n%s", list)
	}
	logText := readFileString(t, m.logPath())
	if !strings.Contains(logText, "self-update: v1.0.0 -> v1.1.0") {
		t.Fatalf("log lacks the hand-off line:\n%s", tailString(logText, 2000))
	}
	waitFor(t, 10*time.Second, "the previous binary to be removed once v1.1.0 started", func() bool {
		_, err := os.Stat(m.Bin + ".previous")
		return os.IsNotExist(err)
	})
	pid := m.mainPID()

	// A release that does not compile: v1.1.0 keeps serving; the error is
	// in the log and in status.
	proxy.list(t, "v1.0.0", "v1.1.0", "v1.2.0")
	var info daemonInfo
	waitFor(t, 4*time.Minute, "the failed v1.2.0 build to be reported", func() bool {
		info = daemonInfoOf(t, m)
		return strings.Contains(info.SelfUpdate.LastError, "v1.2.0")
	})
	if info.Version != "v1.1.0" || m.mainPID() != pid {
		t.Fatalf("after a failed build: version %s pid %d, want v1.1.0 pid %d", info.Version, m.mainPID(), pid)
	}
	if got := binaryVersion(t, m.Bin); got != "v1.1.0" {
		t.Fatalf("a failed build touched the binary: it reports %q", got)
	}
	if !strings.Contains(readFileString(t, m.logPath()), "build "+module+"@v1.2.0") {
		t.Fatalf("log lacks the build failure:\n%s", tailString(readFileString(t, m.logPath()), 2000))
	}
	status := m.mustHeph("daemon", "status")
	if !strings.Contains(status, "self-update: on") || !strings.Contains(status, "v1.2.0") {
		t.Fatalf("daemon status does not show the self-update error:\n%s", status)
	}

	// Only an older release is offered: nothing happens.
	proxy.list(t, "v1.0.0", "v1.0.5")
	changed := time.Now()
	waitFor(t, 2*time.Minute, "a check to find nothing newer", func() bool {
		info = daemonInfoOf(t, m)
		su := info.SelfUpdate
		return su.LastCheck != nil && su.LastCheck.After(changed) && su.LastResult == "up to date"
	})
	if now, bin := m.mainPID(), binaryVersion(t, m.Bin); info.Version != "v1.1.0" || now != pid || bin != "v1.1.0" {
		t.Fatalf("an older release changed something: daemon %s pid %d (was %d), binary %s\nlog:\n%s",
			info.Version, now, pid, bin, tailString(readFileString(t, m.logPath()), 3000))
	}
}

// withFile returns a copy of files with one more (or a replaced) file.
func withFile(files map[string][]byte, name, content string) map[string][]byte {
	out := make(map[string][]byte, len(files)+1)
	for k, v := range files {
		out[k] = v
	}
	out[name] = []byte(content)
	return out
}

// binaryVersion runs bin's `hephd --version` and returns the version.
func binaryVersion(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "hephd", "--version").Output()
	if err != nil {
		t.Fatalf("%s hephd --version: %v", bin, err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("%s hephd --version printed %q", bin, out)
	}
	return f[1]
}

// daemonInfoOf asks the service's daemon for daemon.info (zero when it
// does not answer, e.g. mid-restart).
func daemonInfoOf(t *testing.T, m *userManager) daemonInfo {
	t.Helper()
	var info daemonInfo
	c, err := dialDaemon(m.socket())
	if err != nil {
		return info
	}
	defer c.Close()
	if err := c.Call(t.Context(), "daemon.info", nil, &info); err != nil {
		return daemonInfo{}
	}
	return info
}

// daemonVersion is the daemon version `heph version` reports ("" when the
// daemon does not answer).
func daemonVersion(t *testing.T, m *userManager) string {
	t.Helper()
	out, _, code := m.heph("--json", "version")
	if code != 0 {
		return ""
	}
	var v struct {
		Daemon struct {
			Version string `json:"version"`
		} `json:"daemon"`
	}
	if json.Unmarshal([]byte(out), &v) != nil {
		return ""
	}
	return v.Daemon.Version
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
