//go:build linux

package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// userManager is a private `systemd --user` instance for one test, with its
// own HOME and XDG_RUNTIME_DIR.
type userManager struct {
	t       *testing.T
	Home    string
	Runtime string
	Env     []string
	Bin     string // heph copied to a stable path inside Home
	cmd     *exec.Cmd
	done    chan struct{}
}

// weirdEnvValue is baked into the unit's Environment= (as GONOSUMDB) to
// prove its quoting against systemd.
const weirdEnvValue = `x y"z'%a$b\\c ü`

// startUserManager starts systemd --user (skipping, or failing under CI,
// when it cannot run here) and stops it, and the hephd it runs, at cleanup.
// extraEnv is added to the manager's (and so every unit's) environment.
func startUserManager(t *testing.T, extraEnv ...string) *userManager {
	t.Helper()
	_, statErr := os.Stat("/lib/systemd/systemd")
	_, lookErr := exec.LookPath("systemctl")
	requireComponent(t, statErr == nil && lookErr == nil, "systemd (/lib/systemd/systemd and systemctl) is not installed")
	requireComponent(t, os.MkdirAll("/run/systemd/system", 0o755) == nil, "cannot create /run/systemd/system (needed by systemd --user)")
	base := shortTempDir(t)
	// A home with a space and a % exercises the unit's quoting for real.
	m := &userManager{t: t, Home: filepath.Join(base, "h o%me"), Runtime: filepath.Join(base, "run"), done: make(chan struct{})}
	for _, d := range []string{m.Home, m.Runtime} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	m.Env = append(cleanEnv(), "HOME="+m.Home, "XDG_RUNTIME_DIR="+m.Runtime,
		"XDG_CONFIG_HOME="+filepath.Join(m.Home, ".config"), "XDG_DATA_HOME="+filepath.Join(m.Home, ".local", "share"),
		"DBUS_SESSION_BUS_ADDRESS=", "USER=heph-test-nobody", "GONOSUMDB="+weirdEnvValue)
	m.Env = append(m.Env, extraEnv...)
	m.cmd = exec.Command("/lib/systemd/systemd", "--user")
	m.cmd.Env = m.Env
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out syncBuffer
	m.cmd.Stdout, m.cmd.Stderr = &out, &out
	if err := m.cmd.Start(); err != nil {
		requireComponent(t, false, "start systemd --user: %v", err)
	}
	go func() { m.cmd.Wait(); close(m.done) }()
	t.Cleanup(m.stop)
	ok := false
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-m.done:
			requireComponent(t, false, "systemd --user exited at start: %s", out.String())
		default:
		}
		if err := m.systemctlErr("status"); err == nil {
			ok = true
			break
		}
	}
	requireComponent(t, ok, "systemd --user did not come up within 15s: %s", out.String())
	m.Bin = filepath.Join(m.Home, "go", "bin", "heph")
	copyFile(t, hephBinary(t), m.Bin)
	return m
}

func (m *userManager) stop() {
	m.systemctlErr("stop", "heph.service")
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(15 * time.Second):
		m.cmd.Process.Kill()
		<-m.done
	}
}

func (m *userManager) systemctlErr(args ...string) error {
	_, err := m.systemctl(args...)
	return err
}

func (m *userManager) systemctl(args ...string) (string, error) {
	cmd := exec.Command("systemctl", append([]string{"--user"}, args...)...)
	cmd.Env = m.Env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// show returns one property of heph.service.
func (m *userManager) show(prop string) string {
	out, _ := m.systemctl("show", "heph.service", "--property="+prop, "--value")
	return out
}

func (m *userManager) mainPID() int {
	n, _ := strconv.Atoi(m.show("MainPID"))
	return n
}

// heph runs the stable copy of heph in the manager's environment.
func (m *userManager) heph(args ...string) (string, string, int) {
	m.t.Helper()
	cmd := exec.Command(m.Bin, args...)
	cmd.Env = m.Env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		m.t.Fatalf("run heph %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

func (m *userManager) mustHeph(args ...string) string {
	m.t.Helper()
	out, errOut, code := m.heph(args...)
	if code != 0 {
		m.t.Fatalf("heph %s: exit %d\nstdout: %s\nstderr: %s\nlog:\n%s", strings.Join(args, " "), code, out, errOut, tailLines(m.logPath(), 20))
	}
	return out + errOut
}

// getenv looks a variable up in the manager's environment.
func (m *userManager) getenv(name string) string {
	v := ""
	for _, kv := range m.Env {
		if k, val, _ := strings.Cut(kv, "="); k == name {
			v = val
		}
	}
	return v
}

func (m *userManager) unitPath() string {
	return filepath.Join(m.Home, ".config", "systemd", "user", "heph.service")
}
func (m *userManager) logPath() string {
	return filepath.Join(m.Home, ".local", "share", "heph", "hephd.log")
}
func (m *userManager) socket() string { return filepath.Join(m.Runtime, "heph", "hephd.sock") }

func (m *userManager) unit() DaemonConfig {
	m.t.Helper()
	data, err := os.ReadFile(m.unitPath())
	if err != nil {
		m.t.Fatal(err)
	}
	c, err := parseUnit(data)
	if err != nil {
		m.t.Fatalf("parse unit: %v\n%s", err, data)
	}
	return c
}

// cmdline is the argv of a running process.
func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("read cmdline of %d: %v", pid, err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// TestDaemonServiceSystemd drives heph daemon against a real systemd user
// manager, one manager shared by the subtests in order.
func TestDaemonServiceSystemd(t *testing.T) {
	m := startUserManager(t)
	weird := `a b"c'%d$e&f<g\h ü`
	var pid int
	t.Run("start", func(t *testing.T) {
		out := m.mustHeph("daemon", "start", "--hub-url", "http://127.0.0.1:9/hub", "--self-update", "--self-update-interval-secs", "3600", "--oidc-audience", weird)
		if !strings.Contains(out, "installed systemd user unit") || !strings.Contains(out, "is running") {
			t.Errorf("start output:\n%s", out)
		}
		if s := m.show("ActiveState"); s != "active" {
			t.Fatalf("ActiveState = %q", s)
		}
		pid = m.mainPID()
		info, err := queryDaemon(m.socket())
		if err != nil || info.PID != pid {
			t.Fatalf("daemon.info on %s: %+v, %v (MainPID %d)", m.socket(), info, err, pid)
		}
		// systemd handed hephd exactly the configured strings.
		want := []string{"hephd", "--log", m.logPath(), "--hub-url", "http://127.0.0.1:9/hub", "--oidc-audience", weird,
			"--self-update", "--self-update-interval-secs", "3600"}
		if got := cmdline(t, pid); !reflect.DeepEqual(got, want) {
			t.Errorf("hephd argv:\n got %q\nwant %q", got, want)
		}
		unit, _ := os.ReadFile(m.unitPath())
		for _, s := range []string{"Restart=always", "RestartSec=1", "StartLimitBurst=", "WantedBy=default.target"} {
			if !bytes.Contains(unit, []byte(s)) {
				t.Errorf("unit lacks %s:\n%s", s, unit)
			}
		}
		goBin, _ := exec.LookPath("go")
		c := m.unit()
		if goBin != "" && !strings.HasPrefix(c.envValue("PATH"), filepath.Dir(goBin)+":") {
			t.Errorf("PATH %q does not start with go's dir %s", c.envValue("PATH"), filepath.Dir(goBin))
		}
		// systemd handed hephd exactly the baked environment.
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		vars := strings.Split(string(environ), "\x00")
		for _, kv := range []string{"HOME=" + m.Home, "GONOSUMDB=" + weirdEnvValue, "PATH=" + c.envValue("PATH")} {
			if !slices.Contains(vars, kv) {
				t.Errorf("hephd's environment lacks %q: %q", kv, vars)
			}
		}
		if c.envValue("GONOSUMDB") != weirdEnvValue {
			t.Errorf("GONOSUMDB not baked: %v", c.Env)
		}
		if e := m.show("UnitFileState"); e != "enabled" {
			t.Errorf("UnitFileState = %q", e)
		}
		if !serviceInstalled(m.getenv) {
			t.Errorf("serviceInstalled = false after start")
		}
	})
	t.Run("start again is a no-op", func(t *testing.T) {
		out := m.mustHeph("daemon", "start")
		if !strings.Contains(out, "already running with the same config") {
			t.Errorf("output: %s", out)
		}
		if p := m.mainPID(); p != pid {
			t.Errorf("pid changed %d -> %d", pid, p)
		}
	})
	t.Run("status", func(t *testing.T) {
		out, errOut, code := m.heph("daemon", "status")
		if code != 0 {
			t.Fatalf("status exit %d: %s %s", code, out, errOut)
		}
		for _, s := range []string{fmt.Sprintf("pid %d", pid), "version (devel)", m.unitPath(), "enabled: yes", m.socket(), m.logPath(), "--hub-url http://127.0.0.1:9/hub"} {
			if !strings.Contains(out, s) {
				t.Errorf("status lacks %q:\n%s", s, out)
			}
		}
		jout, _, _ := m.heph("--json", "daemon", "status")
		var r statusReport
		decodeJSON(t, jout, &r)
		if !r.Running || r.PID != pid || r.Flags["self-update-interval-secs"][0] != "3600" {
			t.Errorf("status --json: %+v", r)
		}
	})
	t.Run("kill -9 brings it back within 3s", func(t *testing.T) {
		old := m.mainPID()
		syscall.Kill(old, syscall.SIGKILL)
		killed := time.Now()
		if !waitUntil(3*time.Second, func() bool { p := m.mainPID(); return p != 0 && p != old && m.show("ActiveState") == "active" }) {
			t.Fatalf("not restarted within 3s: %s %d", m.show("ActiveState"), m.mainPID())
		}
		if !waitUntil(5*time.Second, func() bool { _, err := queryDaemon(m.socket()); return err == nil }) {
			t.Fatalf("socket does not answer after restart")
		}
		t.Logf("back after %s", time.Since(killed).Round(time.Millisecond))
	})
	t.Run("a clean exit is restarted too", func(t *testing.T) {
		old := m.mainPID()
		syscall.Kill(old, syscall.SIGTERM)
		if !waitUntil(5*time.Second, func() bool { p := m.mainPID(); return p != 0 && p != old }) {
			t.Fatalf("not restarted after exit 0: %s", m.show("ActiveState"))
		}
		if r := m.show("ExecMainStatus"); r != "0" && m.show("NRestarts") == "0" {
			t.Errorf("ExecMainStatus %s NRestarts %s", r, m.show("NRestarts"))
		}
	})
	t.Run("restart keeps baked flags", func(t *testing.T) {
		old := m.mainPID()
		m.mustHeph("daemon", "restart")
		c := m.unit()
		if c.flag("hub-url") != "http://127.0.0.1:9/hub" || c.flag("self-update-interval-secs") != "3600" || c.flag("oidc-audience") != weird || !c.has("self-update") {
			t.Errorf("flags lost: %v", c.Flags)
		}
		if p := m.mainPID(); p == old || p == 0 {
			t.Errorf("pid %d -> %d: not restarted", old, p)
		}
	})
	t.Run("override replaces one flag", func(t *testing.T) {
		out := m.mustHeph("daemon", "restart", "--self-update-interval-secs", "7200")
		if !strings.Contains(out, "--self-update-interval-secs: 3600 -> 7200") {
			t.Errorf("changes not listed:\n%s", out)
		}
		c := m.unit()
		if c.flag("self-update-interval-secs") != "7200" || c.flag("hub-url") != "http://127.0.0.1:9/hub" || !c.has("self-update") {
			t.Errorf("flags: %v", c.Flags)
		}
		if got := cmdline(t, m.mainPID()); !slices.Contains(got, "7200") {
			t.Errorf("running hephd argv %q", got)
		}
	})
	t.Run("start with a change rewrites and restarts", func(t *testing.T) {
		old := m.mainPID()
		out := m.mustHeph("daemon", "start", "--oidc-audience=")
		if !strings.Contains(out, "--oidc-audience: removed") {
			t.Errorf("output:\n%s", out)
		}
		if m.unit().has("oidc-audience") || m.mainPID() == old {
			t.Errorf("not removed or not restarted")
		}
	})
	t.Run("no-self-update removes it", func(t *testing.T) {
		out := m.mustHeph("daemon", "restart", "--no-self-update")
		c := m.unit()
		if c.has("self-update") || c.envValue("PATH") != "" || !strings.Contains(out, "--self-update: removed") {
			t.Errorf("flags %v env %v\n%s", c.Flags, c.Env, out)
		}
		if c.flag("hub-url") == "" {
			t.Errorf("hub-url lost")
		}
	})
	t.Run("dry-run changes nothing", func(t *testing.T) {
		before, _ := os.ReadFile(m.unitPath())
		old := m.mainPID()
		out := m.mustHeph("daemon", "restart", "--hub-url", "http://127.0.0.1:9/other", "--dry-run")
		after, _ := os.ReadFile(m.unitPath())
		if !bytes.Equal(before, after) || m.mainPID() != old {
			t.Errorf("dry-run changed the unit or restarted")
		}
		for _, s := range []string{"would write", "other", "systemctl --user restart heph.service", "--hub-url: http://127.0.0.1:9/hub -> http://127.0.0.1:9/other"} {
			if !strings.Contains(out, s) {
				t.Errorf("dry-run output lacks %q:\n%s", s, out)
			}
		}
	})
	t.Run("a broken unit is refused", func(t *testing.T) {
		good, _ := os.ReadFile(m.unitPath())
		broken := strings.Replace(string(good), " hephd ", " hephd --frobnicate ", 1)
		os.WriteFile(m.unitPath(), []byte(broken), 0o644)
		line := 1 + strings.Count(broken[:strings.Index(broken, "ExecStart=")], "\n")
		_, errOut, code := m.heph("daemon", "restart")
		if code == 0 || !strings.Contains(errOut, fmt.Sprintf("line %d", line)) || !strings.Contains(errOut, "--frobnicate") || !strings.Contains(errOut, "--force") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		if now, _ := os.ReadFile(m.unitPath()); string(now) != broken {
			t.Errorf("broken unit was overwritten")
		}
		if bak, _ := os.ReadFile(m.unitPath() + ".bak"); string(bak) != broken {
			t.Errorf("no backup of the broken unit")
		}
		m.mustHeph("daemon", "restart", "--force", "--hub-url", "http://127.0.0.1:9/hub")
		if c := m.unit(); c.flag("hub-url") != "http://127.0.0.1:9/hub" {
			t.Errorf("after --force: %v", c.Flags)
		}
	})
	t.Run("restart migrates an old Restart=on-failure unit", func(t *testing.T) {
		old := fmt.Sprintf("[Unit]\nDescription=heph\n\n[Service]\nExecStart=%s hephd --hub-url http://127.0.0.1:9/old --self-update-interval-secs 900\nRestart=on-failure\n\n[Install]\nWantedBy=default.target\n",
			systemdWord(m.Bin, true))
		os.WriteFile(m.unitPath(), []byte(old), 0o644)
		m.mustHeph("daemon", "restart")
		unit, _ := os.ReadFile(m.unitPath())
		if !bytes.Contains(unit, []byte("Restart=always")) || bytes.Contains(unit, []byte("on-failure")) {
			t.Errorf("not migrated:\n%s", unit)
		}
		c := m.unit()
		if c.flag("hub-url") != "http://127.0.0.1:9/old" || c.flag("self-update-interval-secs") != "900" {
			t.Errorf("flags not carried over: %v", c.Flags)
		}
		if m.show("Restart") != "always" {
			t.Errorf("systemd Restart=%s", m.show("Restart"))
		}
	})
	t.Run("a hephd that cannot start is reported, with its log", func(t *testing.T) {
		_, errOut, code := m.heph("daemon", "restart", "--db", "/proc/heph-cannot-be-here/heph.db")
		if code != 1 || !strings.Contains(errOut, "did not answer") || !strings.Contains(errOut, "heph-cannot-be-here") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		out := m.mustHeph("daemon", "restart", "--db=")
		if !strings.Contains(out, "--db: removed") || m.unit().has("db") {
			t.Errorf("--db= did not remove it:\n%s", out)
		}
	})
	t.Run("logs", func(t *testing.T) {
		out := m.mustHeph("daemon", "logs", "-n", "3")
		if n := strings.Count(out, "\n"); n != 3 || !strings.Contains(tailLines(m.logPath(), 3), strings.TrimSpace(out)) {
			t.Errorf("logs -n 3 gave %d lines:\n%s", n, out)
		}
	})
	t.Run("logs -f follows", func(t *testing.T) {
		cmd := exec.Command(m.Bin, "daemon", "logs", "-f", "-n", "1")
		cmd.Env = m.Env
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(5*time.Second, func() bool { return strings.Count(out.String(), "\n") >= 1 }) {
			t.Fatalf("no first line: %q", out.String())
		}
		old := m.mainPID()
		syscall.Kill(old, syscall.SIGTERM) // hephd logs its shutdown and systemd restarts it
		want := fmt.Sprintf("pid %d serving", 0)
		ok := waitUntil(10*time.Second, func() bool {
			p := m.mainPID()
			want = fmt.Sprintf("pid %d serving", p)
			return p != old && strings.Contains(out.String(), want)
		})
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		if !ok {
			t.Errorf("logs -f did not show %q:\n%s", want, out.String())
		}
		if err != nil {
			t.Errorf("logs -f exit after SIGINT: %v", err)
		}
	})
	t.Run("stop keeps it enabled", func(t *testing.T) {
		out := m.mustHeph("daemon", "stop")
		if !strings.Contains(out, "stays enabled") {
			t.Errorf("output: %s", out)
		}
		if s := m.show("ActiveState"); s != "inactive" {
			t.Errorf("ActiveState %q", s)
		}
		if e := m.show("UnitFileState"); e != "enabled" {
			t.Errorf("UnitFileState %q", e)
		}
		// Exit 3, and the report alone says so: no second "not running" on stderr.
		if out, errOut, code := m.heph("daemon", "status"); code != 3 || errOut != "" || !strings.Contains(out, "hephd is not running (inactive") || !strings.Contains(out, "start it with: heph daemon start") {
			t.Errorf("status: exit %d (want 3), stdout %q, stderr %q", code, out, errOut)
		}
		if out := m.mustHeph("daemon", "stop"); !strings.Contains(out, "not running") {
			t.Errorf("second stop: %s", out)
		}
	})
	t.Run("a hephd started by hand on the socket is reported", func(t *testing.T) {
		other := exec.Command(filepath.Join(filepath.Dir(hephBinary(t)), "hephd"), "--socket", m.socket(), "--db", filepath.Join(m.Home, "other.db"))
		other.Env = m.Env
		if err := other.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { other.Process.Kill(); other.Wait() }()
		if !waitUntil(10*time.Second, func() bool { _, err := queryDaemon(m.socket()); return err == nil }) {
			t.Fatal("hand-started hephd does not answer")
		}
		_, errOut, code := m.heph("daemon", "start")
		if code != 1 || !strings.Contains(errOut, fmt.Sprintf("does not manage (pid %d", other.Process.Pid)) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("uninstall keeps store and log", func(t *testing.T) {
		m.mustHeph("daemon", "start")
		out := m.mustHeph("daemon", "uninstall")
		db := filepath.Join(m.Home, ".local", "share", "heph", "heph.db")
		if !strings.Contains(out, db) || !strings.Contains(out, m.logPath()) {
			t.Errorf("uninstall does not say where store and log are:\n%s", out)
		}
		if _, err := os.Stat(m.unitPath()); !os.IsNotExist(err) {
			t.Errorf("unit still there: %v", err)
		}
		for _, p := range []string{db, m.logPath()} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s gone: %v", p, err)
			}
		}
		if serviceInstalled(m.getenv) {
			t.Errorf("serviceInstalled = true after uninstall")
		}
		if s := m.show("LoadState"); s != "not-found" {
			t.Errorf("LoadState %q", s)
		}
		if out := m.mustHeph("daemon", "uninstall"); !strings.Contains(out, "not installed") {
			t.Errorf("second uninstall: %s", out)
		}
	})
}

// TestDaemonRefusesTemporaryBinary: a go-build or /tmp binary is not baked
// without --force (checked before any service manager is needed).
func TestDaemonRefusesTemporaryBinary(t *testing.T) {
	home := shortTempDir(t)
	cmd := exec.Command(hephBinary(t), "daemon", "start", "--dry-run")
	cmd.Env = append(cleanEnv(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "XDG_RUNTIME_DIR=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "temporary path") || !strings.Contains(string(out), "--force") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
	cmd = exec.Command(hephBinary(t), "daemon", "start", "--dry-run", "--force")
	cmd.Env = append(cleanEnv(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "XDG_RUNTIME_DIR=")
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ExecStart=@"+hephBinary(t)+" hephd") {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(home, ".config")); !os.IsNotExist(err) {
		t.Errorf("dry-run created files: %v", err)
	}
}

// TestDaemonNoUserManager: without a reachable manager, heph says what is
// missing and how to fix it.
func TestDaemonNoUserManager(t *testing.T) {
	home := shortTempDir(t)
	bin := filepath.Join(home, "bin", "heph")
	copyFile(t, hephBinary(t), bin)
	for _, rt := range []string{"", home} { // unset; set but no manager there
		cmd := exec.Command(bin, "daemon", "start")
		cmd.Env = append(cleanEnv(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "XDG_RUNTIME_DIR="+rt, "DBUS_SESSION_BUS_ADDRESS=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no systemd user manager is reachable") ||
			!strings.Contains(string(out), "loginctl enable-linger") || !strings.Contains(string(out), "XDG_RUNTIME_DIR=/run/user/") {
			t.Errorf("XDG_RUNTIME_DIR=%q: err %v\n%s", rt, err, out)
		}
	}
}

// TestSystemdUnitRoundTrip: parse(generate(c)) == c for random configs.
func TestSystemdUnitRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		c := randomConfig(r)
		assertRoundTrip(t, c, generateUnit, parseUnit)
	}
}

// TestSystemdUnitParseErrors: a unit that does not parse names the line.
func TestSystemdUnitParseErrors(t *testing.T) {
	for _, tc := range []struct{ unit, want string }{
		{"[Service]\nRestart=always\n", "no ExecStart"},
		{"[Service]\n\nExecStart=\"@/bin/heph hephd\n", "line 3: ExecStart=: unterminated"},
		{"[Service]\nExecStart=@/bin/heph hephd --frobnicate 1\n", `line 2: ExecStart=: unknown hephd flag "--frobnicate"`},
		{"[Service]\nExecStart=@/bin/heph hephd --hub-url %h/x\n", "line 2: ExecStart=: specifier"},
		{"[Service]\nExecStart=@/bin/heph hephd --hub-url $HUB\n", "line 2: ExecStart=: variable reference"},
		{"[Service]\nExecStart=@/bin/heph other\n", "line 2: ExecStart= must run"},
		{"[Service]\nExecStart=heph hephd\n", "not an absolute path"},
		{"[Service]\nthis is not a key\n", "line 2: want KEY=VALUE"},
		{"[Service]\nExecStart=@/bin/heph hephd --mode\n", "needs a value"},
	} {
		_, err := parseUnit([]byte(tc.unit))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.unit, err, tc.want)
		}
	}
	// Hand-written forms systemd accepts are read.
	c, err := parseUnit([]byte("[Service]\nExecStart=/bin/heph hephd \\\n  --hub-url='a b' -self-update --mode=local --multi-owner=false\nEnvironment=\"A=1 2\" B=3\n"))
	want := DaemonConfig{Binary: "/bin/heph", Flags: map[string][]string{"hub-url": {"a b"}, "self-update": {"true"}, "mode": {"local"}}, Env: []string{"A=1 2", "B=3"}}
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Errorf("hand-written unit: %#v, %v", c, err)
	}
}

// TestDaemonStartFlagsDryRun: heph daemon's flags map onto hephd's, paths
// are made absolute, and hephd's own parser vets values before anything is
// written.
func TestDaemonStartFlagsDryRun(t *testing.T) {
	home := shortTempDir(t)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(hephBinary(t), args...)
		cmd.Dir = home
		cmd.Env = append(cleanEnv(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "XDG_RUNTIME_DIR=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("--socket", "rel.sock", "daemon", "start", "--dry-run", "--force", "--db", "rel.db",
		"--authorized-sub", "a", "--authorized-sub", "b c", "--multi-owner", "--sync-interval", "10s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range []string{"--db " + filepath.Join(home, "rel.db"), "--socket " + filepath.Join(home, "rel.sock"),
		`--authorized-sub a --authorized-sub "b c"`, "--multi-owner", "--sync-interval 10s",
		"--log " + filepath.Join(home, ".local", "share", "heph", "hephd.log")} {
		if !strings.Contains(out, s) {
			t.Errorf("dry-run lacks %q:\n%s", s, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"daemon", "start", "--dry-run", "--force", "--sync-interval", "soon"}, "hephd would reject"},
		{[]string{"daemon", "start", "--dry-run", "--force", "--no-self-update=false"}, "not meaningful"},
		{[]string{"daemon", "stop", "--hub-url", "x"}, "does not take --hub-url"},
		{[]string{"daemon", "logs", "--dry-run"}, "does not take --dry-run"},
	} {
		out, err := run(tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%v: %v, want %q in:\n%s", tc.args, err, tc.want, out)
		}
	}
}

// TestSystemdLingerWarning: status and start warn when lingering is off,
// and say nothing when loginctl cannot tell (no logind).
func TestSystemdLingerWarning(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "loginctl")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	m := &systemdManager{getenv: func(k string) string { return map[string]string{"USER": "alice"}[k] }}
	for _, tc := range []struct{ body, want string }{
		{`[ "$*" = "show-user alice --property=Linger" ] && echo Linger=no`, "loginctl enable-linger alice"},
		{`echo Linger=yes`, ""},
		{`echo "Failed to connect to bus" >&2; exit 1`, ""},
	} {
		os.WriteFile(script, []byte("#!/bin/sh\n"+tc.body+"\n"), 0o755)
		got := strings.Join(m.warnings(), "\n")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("loginctl %q: warnings %q, want %q", tc.body, got, tc.want)
		}
	}
}

// FuzzParseUnit: any unit text parses or fails cleanly, and whatever
// parses into a valid configuration survives generate and parse again.
func FuzzParseUnit(f *testing.F) {
	seed, _ := generateUnit(DaemonConfig{Binary: "/b/heph", Flags: map[string][]string{"hub-url": {`a "b" %c $d \e`}, "self-update": {"true"}}, Env: []string{"A=b c"}})
	f.Add(string(seed))
	f.Add("[Service]\nExecStart=/x/heph hephd \\\n --mode=local -self-update=false\nEnvironment='A=1' B=\\x41\n")
	f.Fuzz(func(t *testing.T, unit string) {
		c, err := parseUnit([]byte(unit))
		if err != nil || c.validate() != nil {
			return
		}
		data, err := generateUnit(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseUnit(data)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %#v: %#v, %v\n%s", c, again, err, data)
		}
	})
}
