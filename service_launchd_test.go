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
	"strings"
	"syscall"
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
		assertRoundTrip(t, c, generatePlist, parsePlistConfig)
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

// fakeLaunchctl puts a recording launchctl on the PATH that acts like
// launchd for one agent: bootstrap loads the plist and starts its Program
// with its ProgramArguments, environment and log; bootout stops and
// unloads; kickstart (-k) starts (restarts); print reports state and pid.
type fakeLaunchctl struct {
	t     *testing.T
	log   string
	state string
}

const fakeLaunchctlScript = `
import json, os, plistlib, signal, subprocess, sys, time

with open(os.environ["FAKE_LAUNCHCTL_LOG"], "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")
state_file = os.environ["FAKE_LAUNCHCTL_STATE"]
try:
    with open(state_file) as f:
        st = json.load(f)
except FileNotFoundError:
    st = {"loaded": False, "pid": 0, "plist": ""}

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except (OSError, IndexError):
        return False

def spawn():
    with open(st["plist"], "rb") as f:
        p = plistlib.load(f)
    out = open(p["StandardOutPath"], "ab")
    env = dict(os.environ)
    env.update(p.get("EnvironmentVariables", {}))
    proc = subprocess.Popen(p["ProgramArguments"], executable=p["Program"], stdout=out, stderr=out,
                            env=env, start_new_session=True)
    st["pid"] = proc.pid

def kill():
    pid = st["pid"]
    if pid and alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not alive(pid):
                break
            time.sleep(0.05)
    st["pid"] = 0

def save():
    with open(state_file, "w") as f:
        json.dump(st, f)

cmd = sys.argv[1]
if cmd == "print":
    if not st["loaded"]:
        sys.stderr.write('Could not find service "%s" in domain for port\n' % sys.argv[2])
        sys.exit(113)
    running = st["pid"] and alive(st["pid"])
    print("%s = {" % sys.argv[2])
    print("\tactive count = %d" % (1 if running else 0))
    print("\tpath = %s" % st["plist"])
    print("\tstate = %s" % ("running" if running else "not running"))
    print("\tendpoints = {\n\t\tstate = active\n\t\tpid = 1\n\t}")
    if running:
        print("\tpid = %d" % st["pid"])
    print("}")
elif cmd == "bootstrap":
    if st["loaded"]:
        sys.stderr.write("Bootstrap failed: 5: Input/output error\n")
        sys.exit(5)
    st["loaded"], st["plist"] = True, sys.argv[3]
    spawn()  # RunAtLoad
    save()
elif cmd == "bootout":
    if not st["loaded"]:
        sys.stderr.write("Boot-out failed: 3: No such process\n")
        sys.exit(3)
    kill()
    st["loaded"] = False
    save()
elif cmd == "kickstart":
    if not st["loaded"]:
        sys.exit(113)
    if sys.argv[2] == "-k":
        kill()
    if not (st["pid"] and alive(st["pid"])):
        spawn()
    save()
else:
    sys.stderr.write("fake launchctl: unexpected %s\n" % " ".join(sys.argv[1:]))
    sys.exit(64)
`

func newFakeLaunchctl(t *testing.T) *fakeLaunchctl {
	// The system's python starts faster than a version manager's shim.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py, err = exec.LookPath("python3")
		requireComponent(t, err == nil, "python3 is not installed (the fake launchctl is a python script)")
	}
	dir := t.TempDir()
	f := &fakeLaunchctl{t: t, log: filepath.Join(dir, "calls"), state: filepath.Join(dir, "state")}
	script := "#!" + py + " -S" + fakeLaunchctlScript
	if err := os.WriteFile(filepath.Join(dir, "launchctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_LAUNCHCTL_LOG", f.log)
	t.Setenv("FAKE_LAUNCHCTL_STATE", f.state)
	t.Cleanup(f.killAgent)
	return f
}

// calls returns and clears the recorded commands.
func (f *fakeLaunchctl) calls() []string {
	data, _ := os.ReadFile(f.log)
	os.Remove(f.log)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// agentPID is the pid of the agent's process the fake started (0: none).
func (f *fakeLaunchctl) agentPID() int {
	var st struct{ PID int }
	data, _ := os.ReadFile(f.state)
	json.Unmarshal(data, &st)
	return st.PID
}

// killAgent stops the agent's hephd at the end of the test.
func (f *fakeLaunchctl) killAgent() {
	if pid := f.agentPID(); pid > 0 {
		if p, err := os.FindProcess(pid); err == nil {
			p.Signal(syscall.SIGTERM)
			waitUntil(10*time.Second, func() bool { return p.Signal(syscall.Signal(0)) != nil || isZombie(pid) })
		}
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}

// TestLaunchdCommandSequences runs every verb against the recording fake
// launchctl and checks the exact commands, including the idempotent paths.
// The fake really starts the agent's hephd from the plist, so start's wait
// for the socket is the real one. (Consecutive identical print calls, from
// polling, are counted once.)
func TestLaunchdCommandSequences(t *testing.T) {
	fake := newFakeLaunchctl(t)
	home := shortTempDir(t)
	m := newLaunchdManager(home, 501)
	env := map[string]string{"HOME": home}
	var out, errOut bytes.Buffer
	d := &daemonCtl{m: m, out: &out, errOut: &errOut, getenv: func(k string) string { return env[k] },
		env: envResolver{getenv: func(k string) string { return env[k] },
			lookPath: func(string) (string, error) { return "/usr/local/go/bin/go", nil },
			goEnv:    func(string, string) string { return "" }},
		readyTimeout: 10 * time.Second, binary: hephBinary(t)}
	target := "gui/501/" + launchdLabel
	plist := m.path()
	print := "print " + target
	paths := []flagChange{{name: "socket", values: []string{filepath.Join(home, "s.sock")}}, {name: "db", values: []string{filepath.Join(home, "h.db")}}}
	step := func(name string, verb func() error, wantCalls []string, wantOut string) {
		t.Helper()
		out.Reset()
		errOut.Reset()
		err := verb()
		var nr *notRunningError
		if err != nil && !(errors.As(err, &nr) && name == "status stopped") {
			t.Fatalf("%s: %v\n%s", name, err, errOut.String())
		}
		var got []string
		for _, c := range fake.calls() {
			if len(got) == 0 || c != print || got[len(got)-1] != print {
				got = append(got, c)
			}
		}
		if !reflect.DeepEqual(got, wantCalls) {
			t.Errorf("%s: launchctl calls\n got %q\nwant %q", name, got, wantCalls)
		}
		if !strings.Contains(out.String(), wantOut) {
			t.Errorf("%s: output lacks %q:\n%s", name, wantOut, out.String())
		}
	}
	install := func(verb string, changes ...flagChange) func() error {
		return func() error { return d.install(installRequest{verb: verb, changes: append(paths, changes...)}) }
	}
	bootstrap := "bootstrap gui/501 " + plist
	bootout := "bootout " + target

	step("start fresh", install("start"), []string{print, bootstrap, print}, "installed launchd agent")
	c, err := parsePlistConfig(mustRead(t, plist))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := procArgs(t, fake.agentPID()), append([]string{"hephd"}, c.Args()...); !reflect.DeepEqual(got, want) {
		t.Errorf("agent argv %q, want %q", got, want)
	}
	pid := fake.agentPID()
	step("start again", install("start"), []string{print}, "already running with the same config")
	if fake.agentPID() != pid {
		t.Errorf("start again restarted the agent")
	}
	step("start changed", install("start", flagChange{name: "hub-url", values: []string{"http://127.0.0.1:9/hub"}}),
		[]string{print, bootout, print, bootstrap, print}, "--hub-url: added http://127.0.0.1:9/hub")
	step("restart unchanged", install("restart"), []string{print, "kickstart -k " + target, print}, "is running")
	step("restart changed", install("restart", flagChange{name: "self-update", values: []string{"true"}}),
		[]string{print, bootout, print, bootstrap, print}, "environment PATH: set to /usr/local/go/bin:")
	step("dry-run", func() error {
		return d.install(installRequest{verb: "restart", changes: []flagChange{{name: "hub-url"}}, dryRun: true})
	}, []string{print}, bootout)
	fake.killAgent() // loaded, but its process is gone
	step("start loaded but not running", install("start"), []string{print, "kickstart " + target, print}, "is running")
	step("status running", d.status, []string{print}, "hephd is running: pid")
	step("stop", d.stop, []string{print, bootout, print}, "starts it again at your next login")
	step("stop again", d.stop, []string{print}, "not running; nothing to stop")
	step("status stopped", d.status, []string{print}, "hephd is not running (not loaded)")
	step("start after stop", install("start"), []string{print, bootstrap, print}, "is running")
	step("uninstall", d.uninstall, []string{print, bootout, print}, "your store is kept at "+filepath.Join(home, "h.db"))
	if _, err := os.Stat(plist); !os.IsNotExist(err) {
		t.Errorf("plist still there after uninstall: %v", err)
	}
	step("uninstall again", d.uninstall, []string{print}, "not installed; nothing to remove")
	// A plist with a bad flag is refused, kept and backed up.
	os.WriteFile(plist, []byte(strings.Replace(mustPlist(t), "<string>--log</string>", "<string>--bogus</string>", 1)), 0o644)
	err = d.install(installRequest{verb: "restart", changes: paths})
	if err == nil || !strings.Contains(err.Error(), "unknown hephd flag") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("broken plist: %v", err)
	}
	if _, err := os.Stat(plist + ".bak"); err != nil {
		t.Errorf("no backup: %v", err)
	}
	if got := fake.calls(); len(got) != 1 || got[0] != "" {
		t.Errorf("a refused restart ran launchctl: %q", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// procArgs is a process's argv, from /proc.
func procArgs(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("read cmdline of %d: %v", pid, err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

func mustPlist(t *testing.T) string {
	data, err := generatePlist(DaemonConfig{Binary: "/Users/me/go/bin/heph", Flags: map[string][]string{"log": {"/l"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// FuzzParsePlist: any plist text parses or fails cleanly, and whatever
// parses into a valid configuration survives generate and parse again.
func FuzzParsePlist(f *testing.F) {
	seed, _ := generatePlist(DaemonConfig{Binary: "/b/heph", Flags: map[string][]string{"log": {"/l"}, "hub-url": {`<&>"'`}}, Env: []string{"A=b c"}})
	f.Add(string(seed))
	f.Fuzz(func(t *testing.T, plist string) {
		c, err := parsePlistConfig([]byte(plist))
		if err != nil || c.validate() != nil {
			return
		}
		data, err := generatePlist(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parsePlistConfig(data)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %#v: %#v, %v\n%s", c, again, err, data)
		}
	})
}
