package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// versionLine is hephd --version's output: "hephd <version> (<revision>)".
var versionLine = regexp.MustCompile(`^hephd \S+ \(\S+\)\n$`)

// TestDispatchArgv0 runs the built binary under each name: the hephd
// symlink and "heph hephd" are the daemon; plain heph is the client.
func TestDispatchArgv0(t *testing.T) {
	bin := hephBinary(t)
	hephd := filepath.Join(filepath.Dir(bin), "hephd")
	for _, argv := range [][]string{{hephd, "--version"}, {bin, "hephd", "--version"}} {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
		if !versionLine.Match(out) {
			t.Fatalf("%v printed %q, want %s", argv, out, versionLine)
		}
	}
	// Plain heph is the client: its help lists commands, not daemon flags.
	out, err := exec.Command(bin, "-h").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Usage: heph ") || strings.Contains(string(out), "-mode") {
		t.Fatalf("heph -h: %v\n%s", err, out)
	}
	out, err = exec.Command(hephd, "-h").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Usage: hephd") || !strings.Contains(string(out), "-mode") {
		t.Fatalf("hephd -h: %v\n%s", err, out)
	}
}

// TestDispatchServes: the daemon started as "heph hephd" (no symlink)
// serves clients like the symlinked one.
func TestDispatchServes(t *testing.T) {
	bin := hephBinary(t)
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "s.sock")
	cmd := exec.Command(bin, "hephd", "--db", filepath.Join(dir, "heph.db"), "--socket", sock)
	var errOut syncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	td := &testDaemon{t: t, Dir: dir, Socket: sock, Cmd: cmd, Stderr: &errOut, done: make(chan struct{}),
		Env: append(cleanEnv(), "HOME="+dir, "HEPH_SOCKET="+sock)}
	go func() { cmd.Wait(); close(td.done) }()
	t.Cleanup(td.Stop)
	td.WaitReady()
	out := td.MustHeph("version")
	if !strings.Contains(out, "hephd ") || !strings.Contains(out, "mode local") {
		t.Fatalf("heph version against heph hephd: %q", out)
	}
}

// TestRunInProcess checks the dispatch function itself.
func TestRunInProcess(t *testing.T) {
	for _, args := range [][]string{{"/usr/local/bin/hephd", "--version"}, {"heph", "hephd", "--version"}, {"hephd.exe", "--version"}} {
		var out, errOut syncBuffer
		if code := run(args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		if !versionLine.MatchString(out.String()) {
			t.Fatalf("%v printed %q", args, out.String())
		}
	}
	var out, errOut syncBuffer
	if code := run([]string{"heph", "hephd", "stray"}, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Fatalf("heph hephd stray: exit %d, want 2 (usage)", code)
	}
	if code := run([]string{"heph", "no-such-verb"}, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Fatalf("heph no-such-verb: exit %d, want 2", code)
	}
}

func TestPseudoVersionRevision(t *testing.T) {
	for v, want := range map[string]string{
		"v0.0.0-20261126190000-abcdef123456":       "abcdef123456",
		"v1.2.4-0.20261126190000-0123456789ab":     "0123456789ab",
		"v0.0.0-20261126190000-abcdef123456+dirty": "abcdef123456",
		"v1.2.3":    "unknown",
		"(devel)":   "unknown",
		"v1.2.3-rc": "unknown",
	} {
		if got := pseudoVersionRevision(v); got != want {
			t.Errorf("pseudoVersionRevision(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestHelpEverywhere: -h and --help work on heph, on every command and on
// hephd, exit 0 and print usage.
func TestHelpEverywhere(t *testing.T) {
	env := append(cleanEnv(), "HOME="+shortTempDir(t))
	for _, flag := range []string{"-h", "--help"} {
		_, errOut, code := runHeph(t, env, "", flag)
		if code != 0 || !strings.Contains(errOut, "Usage: heph") {
			t.Fatalf("heph %s: exit %d\n%s", flag, code, errOut)
		}
		for _, cmd := range commands() {
			if cmd.run == nil {
				continue
			}
			out, errOut, code := runHeph(t, env, "", cmd.name, flag)
			if code != 0 || !strings.Contains(out+errOut, "Usage: heph "+cmd.name) || !strings.Contains(out+errOut, "-json") {
				t.Errorf("heph %s %s: exit %d\n%s%s", cmd.name, flag, code, out, errOut)
			}
		}
	}
	out, errOut, code := runHeph(t, env, "", "help", "list")
	if code != 0 || !strings.Contains(out+errOut, "Usage: heph list") {
		t.Errorf("heph help list: exit %d\n%s%s", code, out, errOut)
	}
}

// TestJSONOutput: --json before or after the verb gives machine output.
func TestJSONOutput(t *testing.T) {
	td := startDaemon(t)
	var created Node
	decodeJSON(t, td.MustHeph("task", "json me", "--json"), &created)
	if created.Title != "json me" || created.Task == nil || created.Handle == "" {
		t.Fatalf("heph task --json: %+v", created)
	}
	var list []Node
	decodeJSON(t, td.MustHeph("--json", "list"), &list)
	if len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("heph --json list: %+v", list)
	}
	var shown Node
	decodeJSON(t, td.MustHeph("show", "--json", created.Handle), &shown)
	if shown.ID != created.ID {
		t.Fatalf("heph show --json: %+v", shown)
	}
	var ver struct {
		Client map[string]string `json:"client"`
		Daemon map[string]any    `json:"daemon"`
	}
	decodeJSON(t, td.MustHeph("--json", "version"), &ver)
	if ver.Client["version"] == "" || ver.Daemon["pid"] != float64(td.Cmd.Process.Pid) {
		t.Fatalf("heph --json version: %+v", ver)
	}
}
