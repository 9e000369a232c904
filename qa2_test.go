package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Regression tests from the second QA pass: what a demanding user meets at
// the edges of the CLI.

// TestSocketPathNotASocket: --socket naming a regular file or a directory
// says it is not a socket (not "no socket at"), and hephd refuses to take
// the path over instead of deleting what is there.
func TestSocketPathNotASocket(t *testing.T) {
	dir := shortTempDir(t)
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(), "HOME="+dir, "XDG_RUNTIME_DIR=", "XDG_CONFIG_HOME=", "XDG_DATA_HOME=")
	for _, c := range []struct{ path, kind string }{{file, "a regular file"}, {dir, "a directory"}} {
		_, stderr, code := runHeph(t, env, "", "--socket", c.path, "next")
		want := c.path + " is " + c.kind + ", not a socket: point --socket (or HEPH_SOCKET) at hephd's socket"
		if code != exitError || !strings.Contains(stderr, want) || strings.Contains(stderr, "no socket at") {
			t.Errorf("heph --socket %s next: exit %d, stderr %q; want exit 1 and %q", c.kind, code, stderr, want)
		}
		_, stderr, _ = runHeph(t, append(env, "HEPH_SOCKET="+c.path), "", "list")
		if !strings.Contains(stderr, "not a socket") {
			t.Errorf("HEPH_SOCKET=%s: stderr %q", c.kind, stderr)
		}
	}
	// hephd on that path: a clear refusal, and the file is untouched.
	bin := filepath.Join(filepath.Dir(hephBinary(t)), "hephd")
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "heph.db"), "--socket", file)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), file+" is a regular file, not a socket: hephd will not replace it") {
		t.Errorf("hephd --socket on a regular file: err %v, output %q", err, out)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me\n" {
		t.Fatalf("hephd touched the file at --socket: %q, %v", b, err)
	}
}

// TestVersionFlag: heph --version is heph version; -h prints usage to
// stdout; an unknown top-level flag is one line pointing at -h.
func TestVersionFlag(t *testing.T) {
	td := startDaemon(t)
	want := td.MustHeph("version")
	if got := td.MustHeph("--version"); got != want || !strings.Contains(got, "hephd ") {
		t.Errorf("heph --version = %q, want heph version's %q", got, want)
	}
	if got := td.MustHeph("--json", "--version"); !strings.Contains(got, `"daemon"`) || !strings.Contains(got, `"client"`) {
		t.Errorf("heph --json --version = %q", got)
	}
	out, stderr, code := td.Heph("-h")
	if code != 0 || !strings.Contains(out, "heph --version") || !strings.Contains(out, "Commands:") || stderr != "" {
		t.Errorf("heph -h: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	_, stderr, code = td.Heph("--verison")
	if code != exitUsage || stderr != "heph: flag provided but not defined: -verison (see heph -h)\n" {
		t.Errorf("heph --verison: exit %d, stderr %q", code, stderr)
	}
}
