package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// plistConfigs is a table of configurations for the plist tests: random
// ones plus values that need XML escaping.
func plistConfigs() []DaemonConfig {
	cs := []DaemonConfig{
		{Binary: "/Users/me/go/bin/heph", Flags: map[string][]string{"log": {"/Users/me/.local/share/heph/hephd.log"}}},
		{Binary: "/Users/Jo Doe/go/bin/heph", Flags: map[string][]string{
			"log":           {"/Users/Jo Doe/.local/share/heph/hephd.log"},
			"hub-url":       {"https://hub.example/?a=1&b=<2>"},
			"oidc-audience": {`a b"c'%d$e&f<g\h ü]]>`},
			"self-update":   {"true"}, "authorized-sub": {"alice", "bob & co"},
		}, Env: []string{"GOPATH=/Users/Jo Doe/go", "HOME=/Users/Jo Doe", "PATH=/usr/local/go/bin:/usr/bin:/bin"}},
	}
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 40; i++ {
		cs = append(cs, randomConfig(r))
	}
	return cs
}

// TestPlistRoundTrip: parse(generate(c)) == c with heph's own parser, for
// many random configurations.
func TestPlistRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	cs := plistConfigs()
	for i := 0; i < 1000; i++ {
		cs = append(cs, randomConfig(r))
	}
	for _, c := range cs {
		data, err := generatePlist(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parsePlistConfig(data)
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, data)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %#v\nwant %#v\n%s", got, c, data)
		}
	}
}

// TestPlistPythonPlistlib: an independent parser (Python's plistlib) reads
// every generated plist as launchd would be given it.
func TestPlistPythonPlistlib(t *testing.T) {
	py, err := exec.LookPath("python3")
	requireComponent(t, err == nil, "python3 is not installed")
	dir := t.TempDir()
	cs := plistConfigs()
	var files []string
	for i, c := range cs {
		data, err := generatePlist(c)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("%d.plist", i))
		os.WriteFile(f, data, 0o644)
		files = append(files, f)
	}
	script := `import json, plistlib, sys
out = []
for f in sys.argv[1:]:
    with open(f, "rb") as fh:
        out.append(plistlib.load(fh))
json.dump(out, sys.stdout)`
	cmd := exec.Command(py, append([]string{"-c", script}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("plistlib: %v\n%s", err, stderr.String())
	}
	var parsed []struct {
		Label                string
		Program              string
		ProgramArguments     []string
		EnvironmentVariables map[string]string
		RunAtLoad, KeepAlive bool
		StandardOutPath      string
		StandardErrorPath    string
	}
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		p := parsed[i]
		wantArgs := append([]string{"hephd"}, c.Args()...)
		if p.Label != launchdLabel || p.Program != c.Binary || !reflect.DeepEqual(p.ProgramArguments, wantArgs) ||
			!p.RunAtLoad || !p.KeepAlive || p.StandardOutPath != c.flag("log") || p.StandardErrorPath != c.flag("log") {
			t.Errorf("config %d: plistlib read %+v\nwant program %q args %q log %q", i, p, c.Binary, wantArgs, c.flag("log"))
		}
		want := map[string]string{}
		for _, kv := range c.Env {
			k, v, _ := strings.Cut(kv, "=")
			want[k] = v
		}
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(p.EnvironmentVariables, want) {
			t.Errorf("config %d: environment %v, want %v", i, p.EnvironmentVariables, want)
		}
	}
}

// TestPlistParseErrors: a hand-edited plist that does not parse names the
// line.
func TestPlistParseErrors(t *testing.T) {
	good, _ := generatePlist(DaemonConfig{Binary: "/b/heph", Flags: map[string][]string{"log": {"/l"}}})
	lineOf := func(s, sub string) int { return 1 + strings.Count(s[:strings.Index(s, sub)], "\n") }
	g := string(good)
	for _, tc := range []struct{ plist, want string }{
		{strings.Replace(g, "<string>--log</string>", "<string>--bogus</string>", 1),
			fmt.Sprintf("line %d: ProgramArguments: unknown hephd flag", lineOf(g, "<key>ProgramArguments"))},
		{strings.Replace(g, "</array>", "", 1), "line "},
		{strings.Replace(g, "<string>hephd</string>", "<string>heph</string>", 1), "starting with \"hephd\""},
		{strings.Replace(g, launchdLabel, "com.example.other", 1), fmt.Sprintf("line %d: Label", lineOf(g, "<key>Label"))},
		{strings.Replace(g, "<key>Program</key>", "<key>Program</key><integer>x</integer>", 1), "bad integer"},
	} {
		_, err := parsePlistConfig([]byte(tc.plist))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q in:\n%s", err, tc.want, tc.plist)
		}
	}
}

func TestParseLaunchctlPrint(t *testing.T) {
	out := "gui/501/org.hephaestus.hephd = {\n\tactive count = 1\n\tpath = /Users/me/Library/LaunchAgents/org.hephaestus.hephd.plist\n" +
		"\tstate = running\n\n\tprogram = /Users/me/go/bin/heph\n\targuments = {\n\t\thephd\n\t}\n\tendpoints = {\n\t\tstate = active\n\t\tpid = 9\n\t}\n\tpid = 4242\n}\n"
	if s, p := parseLaunchctlPrint(out); s != "running" || p != 4242 {
		t.Errorf("parse print = %q %d", s, p)
	}
	if s, p := parseLaunchctlPrint("gui/501/x = {\n\tstate = not running\n}\n"); s != "not running" || p != 0 {
		t.Errorf("not running: %q %d", s, p)
	}
}

// fakeLaunchctl puts a recording launchctl on the PATH. Its state file
// ("unloaded", "running" or "stopped") drives what print reports; a
// running service reports pid.
type fakeLaunchctl struct {
	t     *testing.T
	log   string
	state string
}

const fakeLaunchctlScript = `#!/bin/sh
echo "$*" >> "$FAKE_LAUNCHCTL_LOG"
s=$(cat "$FAKE_LAUNCHCTL_STATE" 2>/dev/null || echo unloaded)
case "$1" in
print)
  if [ "$s" = unloaded ]; then echo "Could not find service \"$2\" in domain for port" >&2; exit 113; fi
  echo "$2 = {"
  echo "	active count = 1"
  if [ "$s" = running ]; then echo "	state = running"; else echo "	state = not running"; fi
  echo "	endpoints = {"
  echo "		state = active"
  echo "	}"
  if [ "$s" = running ]; then echo "	pid = $FAKE_LAUNCHCTL_PID"; fi
  echo "}" ;;
bootstrap)
  if [ "$s" != unloaded ]; then echo "Bootstrap failed: 5: Input/output error" >&2; exit 5; fi
  [ -f "$3" ] || { echo "Bootstrap failed: 2: No such file or directory" >&2; exit 2; }
  echo running > "$FAKE_LAUNCHCTL_STATE" ;;
bootout)
  if [ "$s" = unloaded ]; then echo "Boot-out failed: 3: No such process" >&2; exit 3; fi
  echo unloaded > "$FAKE_LAUNCHCTL_STATE" ;;
kickstart)
  if [ "$s" = unloaded ]; then echo "Could not find service" >&2; exit 113; fi
  echo running > "$FAKE_LAUNCHCTL_STATE" ;;
*) echo "fake launchctl: unexpected $*" >&2; exit 64 ;;
esac
`

func newFakeLaunchctl(t *testing.T, pid int) *fakeLaunchctl {
	dir := t.TempDir()
	f := &fakeLaunchctl{t: t, log: filepath.Join(dir, "calls"), state: filepath.Join(dir, "state")}
	if err := os.WriteFile(filepath.Join(dir, "launchctl"), []byte(fakeLaunchctlScript), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_LAUNCHCTL_LOG", f.log)
	t.Setenv("FAKE_LAUNCHCTL_STATE", f.state)
	t.Setenv("FAKE_LAUNCHCTL_PID", strconv.Itoa(pid))
	return f
}

// calls returns and clears the recorded commands.
func (f *fakeLaunchctl) calls() []string {
	data, _ := os.ReadFile(f.log)
	os.Remove(f.log)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (f *fakeLaunchctl) set(state string) { os.WriteFile(f.state, []byte(state+"\n"), 0o644) }

// TestLaunchdCommandSequences runs every verb against a recording fake
// launchctl and checks the exact commands, including the idempotent paths.
// A real hephd stands in for the agent's process, so start's wait for the
// socket is the real one.
func TestLaunchdCommandSequences(t *testing.T) {
	td := startDaemon(t)
	fake := newFakeLaunchctl(t, td.Cmd.Process.Pid)
	home := shortTempDir(t)
	m := newLaunchdManager(home, 501)
	env := map[string]string{"HOME": home}
	var out, errOut bytes.Buffer
	d := &daemonCtl{m: m, out: &out, errOut: &errOut, getenv: func(k string) string { return env[k] },
		env: envResolver{getenv: func(k string) string { return env[k] },
			lookPath: func(string) (string, error) { return "/usr/local/go/bin/go", nil },
			goEnv:    func(string, string) string { return "" }},
		readyTimeout: 3 * time.Second, binary: "/Users/me/go/bin/heph"}
	target := "gui/501/" + launchdLabel
	plist := m.path()
	print := "print " + target
	socket := []flagChange{{name: "socket", values: []string{td.Socket}}}
	step := func(name string, verb func() error, wantCalls []string, wantOut string) {
		t.Helper()
		out.Reset()
		errOut.Reset()
		err := verb()
		var nr *notRunningError
		if err != nil && !(errors.As(err, &nr) && name == "status stopped") {
			t.Fatalf("%s: %v\n%s", name, err, errOut.String())
		}
		if got := fake.calls(); !reflect.DeepEqual(got, wantCalls) {
			t.Errorf("%s: launchctl calls\n got %q\nwant %q", name, got, wantCalls)
		}
		if !strings.Contains(out.String(), wantOut) {
			t.Errorf("%s: output lacks %q:\n%s", name, wantOut, out.String())
		}
	}
	install := func(verb string, changes ...flagChange) func() error {
		return func() error { return d.install(installRequest{verb: verb, changes: append(socket, changes...)}) }
	}

	step("start fresh", install("start"), []string{print, "bootstrap gui/501 " + plist, print}, "installed launchd agent")
	if _, err := os.Stat(plist); err != nil {
		t.Fatalf("no plist: %v", err)
	}
	step("start again", install("start"), []string{print}, "already running with the same config")
	step("start changed", install("start", flagChange{name: "hub-url", values: []string{"https://hub"}}),
		[]string{print, "bootout " + target, print, "bootstrap gui/501 " + plist, print}, "--hub-url: added https://hub")
	step("restart unchanged", install("restart"), []string{print, "kickstart -k " + target, print}, "is running")
	step("restart changed", install("restart", flagChange{name: "self-update", values: []string{"true"}}),
		[]string{print, "bootout " + target, print, "bootstrap gui/501 " + plist, print}, "environment PATH: set to /usr/local/go/bin:")
	step("dry-run", func() error {
		return d.install(installRequest{verb: "restart", changes: []flagChange{{name: "hub-url"}}, dryRun: true})
	}, []string{print}, "bootout "+target)
	fake.set("stopped")
	step("start loaded but not running", install("start"), []string{print, "kickstart " + target, print}, "is running")
	step("status running", d.status, []string{print}, "hephd is running: pid")
	step("stop", d.stop, []string{print, "bootout " + target, print}, "starts it again at your next login")
	step("stop again", d.stop, []string{print}, "not running; nothing to stop")
	step("status stopped", d.status, []string{print}, "hephd is not running (not loaded)")
	step("start after stop", install("start"), []string{print, "bootstrap gui/501 " + plist, print}, "is running")
	step("uninstall", d.uninstall, []string{print, "bootout " + target, print}, "your store is kept at")
	if _, err := os.Stat(plist); !os.IsNotExist(err) {
		t.Errorf("plist still there after uninstall: %v", err)
	}
	step("uninstall again", d.uninstall, []string{print}, "not installed; nothing to remove")
	// A plist with a bad flag is refused, kept and backed up.
	os.WriteFile(plist, []byte(strings.Replace(mustPlist(t), "<string>--log</string>", "<string>--bogus</string>", 1)), 0o644)
	err := d.install(installRequest{verb: "restart", changes: socket})
	if err == nil || !strings.Contains(err.Error(), "unknown hephd flag") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("broken plist: %v", err)
	}
	if _, err := os.Stat(plist + ".bak"); err != nil {
		t.Errorf("no backup: %v", err)
	}
	fake.calls()
}

func mustPlist(t *testing.T) string {
	data, err := generatePlist(DaemonConfig{Binary: "/Users/me/go/bin/heph", Flags: map[string][]string{"log": {"/l"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
