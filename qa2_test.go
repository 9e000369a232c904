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

func TestCheckHubURL(t *testing.T) {
	for _, u := range []string{"https://hub.example.com", "http://127.0.0.1:8417", "https://example.com/heph/", "http://[::1]:80"} {
		if err := checkHubURL("hub-url", u); err != nil {
			t.Errorf("checkHubURL(%q): %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"hub.example.com":            "scheme must be http or https",
		"ftp://hub":                  "scheme must be http or https",
		"https://":                   "names no host",
		"http://:80":                 "names no host",
		"https://hub?x=1":            "leave out",
		"https://u:p@hub":            "leave out",
		"http://bad host":            "is not a URL",
		"https://hub.example.com#me": "leave out",
	} {
		err := checkHubURL("hub-url", u)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--hub-url https://hub.example.com") {
			t.Errorf("checkHubURL(%q) = %v, want %q and an example", u, err, want)
		}
	}
}

// TestAuthErrorsWithoutAHub: heph auth without a reachable hub says what is
// wrong in words (not a Go dial error), a malformed URL is a usage error,
// status says "not logged in" once, and logging out of a hub never logged
// in to says there was nothing to delete.
func TestAuthErrorsWithoutAHub(t *testing.T) {
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	for _, tc := range []struct {
		args    []string
		code    int
		want    string
		wantNot string
	}{
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1"}, 1,
			"heph: cannot reach the hub at http://127.0.0.1:1 (connection refused): check the URL and that the hub is running; or give --oidc-issuer", "dial tcp"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "c", "--oidc-audience", "a"}, 1,
			"heph: cannot reach the OIDC provider http://127.0.0.1:1 (connection refused)", "dial tcp"},
		{[]string{"auth", "login", "--hub-url", "hub.example.com"}, 2, `--hub-url "hub.example.com": the scheme must be http or https`, "/config"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1", "--oidc-issuer", "issuer"}, 2, `--oidc-issuer "issuer"`, "/config"},
		{[]string{"auth", "status"}, 1, "Not logged in to any hub", "heph:"},
		{[]string{"auth", "logout", "--hub-url", "http://127.0.0.1:1"}, 0, "Not logged in to http://127.0.0.1:1; nothing to delete", "Logged out"},
	} {
		out, errOut, code := runHeph(t, env, "", tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) || strings.Contains(out+errOut, tc.wantNot) {
			t.Errorf("heph %q: exit %d (want %d)\nstdout %q\nstderr %q\nwant %q, not %q", tc.args, code, tc.code, out, errOut, tc.want, tc.wantNot)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cfg", "heph", "hub-token.json")); err == nil {
		t.Error("a failed login wrote a token file")
	}
}
