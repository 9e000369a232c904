// hephd --self-update: finding a newer release with the go command, installing it and restarting onto it.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Self-update: when --self-update is on, hephd asks the go command for the
// newest release of its module every interval; when one is strictly newer
// than the running build it installs it with `go install` into a temporary
// GOBIN, checks that the new binary reports that version, renames it over
// the stable path the service runs (keeping the old one beside it as
// <path>.previous until the new one has started once), and exits cleanly so
// the service manager (systemd Restart=always, launchd KeepAlive) starts the
// new binary. Every failure is logged once and retried next interval; the
// daemon keeps serving.

// selfUpdateConfig is what the updater needs to know.
type selfUpdateConfig struct {
	Interval   time.Duration
	Module     string // module path, e.g. github.com/hephaestus/heph
	Prerelease bool   // also take pre-release versions
	Current    string // the running version, from build info
	Executable string // the stable path of the binary the service runs
	Env        []string
}

// selfUpdateStatus is reported by daemon.info and `heph daemon status`.
type selfUpdateStatus struct {
	Enabled      bool       `json:"enabled"`
	IntervalSecs int        `json:"interval_secs"`
	Module       string     `json:"module"`
	Running      string     `json:"running_version"`
	LastCheck    *time.Time `json:"last_check,omitempty"`
	LastResult   string     `json:"last_result,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
}

// selfUpdater runs the checks.
type selfUpdater struct {
	cfg        selfUpdateConfig
	log        *log.Logger
	mu         sync.Mutex
	status     selfUpdateStatus
	lastLogged string
}

func newSelfUpdater(cfg selfUpdateConfig, logger *log.Logger) *selfUpdater {
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	return &selfUpdater{cfg: cfg, log: logger, status: selfUpdateStatus{
		Enabled: true, IntervalSecs: int(cfg.Interval / time.Second), Module: cfg.Module, Running: cfg.Current}}
}

// Status returns a snapshot of the updater's state.
func (u *selfUpdater) Status() selfUpdateStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status
}

// Run checks every interval until ctx ends or an update is installed, in
// which case it calls handoff(old, new) and returns.
func (u *selfUpdater) Run(ctx context.Context, handoff func(from, to string)) {
	t := time.NewTimer(u.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		to, err := u.checkAndInstall(ctx)
		u.record(to, err)
		if err == nil && to != "" {
			handoff(u.cfg.Current, to)
			return
		}
		t.Reset(u.cfg.Interval)
	}
}

// record notes a check's outcome and logs an error only when it differs
// from the last one logged, so a persistent problem is logged once.
func (u *selfUpdater) record(installed string, err error) {
	now := time.Now()
	u.mu.Lock()
	u.status.LastCheck = &now
	switch {
	case err != nil:
		u.status.LastResult = "error"
		u.status.LastError = err.Error()
	case installed != "":
		u.status.LastResult = "installed " + installed
		u.status.LastError = ""
	default:
		u.status.LastResult = "up to date"
		u.status.LastError = ""
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	logIt := msg != "" && msg != u.lastLogged
	u.lastLogged = msg
	u.mu.Unlock()
	if logIt {
		u.log.Printf("self-update: %s (keeps serving %s; retrying every %s)", msg, u.cfg.Current, formatInterval(u.cfg.Interval))
	}
}

// checkAndInstall performs one check. It returns the version installed, or
// "" when there is nothing newer.
func (u *selfUpdater) checkAndInstall(ctx context.Context) (string, error) {
	cur, ok := parseSemver(u.cfg.Current)
	if !ok {
		return "", fmt.Errorf("this binary has no release version (it reports %q, a build from a working tree): self-update only replaces a binary installed with `go install %s@<version>`; install one with `go install %s@latest`, then run `heph daemon restart`", u.cfg.Current, u.cfg.Module, u.cfg.Module)
	}
	goBin, err := u.lookGo()
	if err != nil {
		return "", err
	}
	latest, err := u.newest(ctx, goBin)
	if err != nil {
		return "", err
	}
	lv, ok := parseSemver(latest)
	if !ok || compareSemver(lv, cur) <= 0 {
		return "", nil
	}
	if lv.isPrerelease() && !u.cfg.Prerelease {
		return "", nil
	}
	dir, err := os.MkdirTemp(filepath.Dir(u.cfg.Executable), ".heph-update-")
	if err != nil {
		return "", fmt.Errorf("make a temporary GOBIN beside %s: %w", u.cfg.Executable, err)
	}
	defer os.RemoveAll(dir)
	newBin, err := u.install(ctx, goBin, latest, dir)
	if err != nil {
		return "", err
	}
	if err := verifyBinaryVersion(ctx, newBin, latest); err != nil {
		return "", err
	}
	if err := replaceBinary(newBin, u.cfg.Executable); err != nil {
		return "", err
	}
	return latest, nil
}

// lookGo finds the go command on the service's PATH.
func (u *selfUpdater) lookGo() (string, error) {
	pathEnv := envLookup(u.cfg.Env, "PATH")
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "go")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("`go` is not on the daemon's PATH (%s): install Go, then run `heph daemon restart --self-update` so the service's PATH includes it", pathEnv)
}

func envLookup(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// newest asks the go command for the newest version of the module, so
// GOPROXY, GOPRIVATE, GONOSUMDB and direct work as they do for the user.
func (u *selfUpdater) newest(ctx context.Context, goBin string) (string, error) {
	out, err := u.goCmd(ctx, goBin, "", "list", "-m", "-json", u.cfg.Module+"@latest")
	if err != nil {
		return "", fmt.Errorf("ask for the newest %s: %w", u.cfg.Module, err)
	}
	var m struct{ Version string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("ask for the newest %s: bad `go list` output: %w", u.cfg.Module, err)
	}
	best := m.Version
	if !u.cfg.Prerelease {
		return best, nil
	}
	out, err = u.goCmd(ctx, goBin, "", "list", "-m", "-versions", "-json", u.cfg.Module)
	if err != nil {
		return "", fmt.Errorf("list versions of %s: %w", u.cfg.Module, err)
	}
	var mv struct{ Versions []string }
	if err := json.Unmarshal(out, &mv); err != nil {
		return "", fmt.Errorf("list versions of %s: bad `go list` output: %w", u.cfg.Module, err)
	}
	bestV, _ := parseSemver(best)
	for _, v := range mv.Versions {
		if sv, ok := parseSemver(v); ok && compareSemver(sv, bestV) > 0 {
			best, bestV = v, sv
		}
	}
	return best, nil
}

// install runs `go install module@version` with GOBIN=dir and returns the
// new binary's path.
func (u *selfUpdater) install(ctx context.Context, goBin, version, dir string) (string, error) {
	if _, err := u.goCmd(ctx, goBin, dir, "install", u.cfg.Module+"@"+version); err != nil {
		return "", fmt.Errorf("build %s@%s: %w", u.cfg.Module, version, err)
	}
	bin := filepath.Join(dir, moduleBinaryName(u.cfg.Module))
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("build %s@%s: no binary at %s: %w", u.cfg.Module, version, bin, err)
	}
	return bin, nil
}

// goCmd runs the go command with the updater's environment (and GOBIN when
// gobin is set), returning stdout or an error carrying stderr's tail.
func (u *selfUpdater) goCmd(ctx context.Context, goBin, gobin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Env = append([]string{}, u.cfg.Env...)
	if gobin != "" {
		cmd.Env = append(cmd.Env, "GOBIN="+gobin)
		cmd.Dir = gobin // outside any module, so the user's go.mod plays no part
	} else {
		cmd.Dir = os.TempDir()
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, tail(stderr.String(), 800))
	}
	return stdout.Bytes(), nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// moduleBinaryName is the name `go install` gives the module's main package.
func moduleBinaryName(module string) string {
	base := path.Base(module)
	if digits, ok := strings.CutPrefix(base, "v"); ok && digits != "" && strings.Trim(digits, "0123456789") == "" { // a /vN major suffix
		base = path.Base(path.Dir(module))
	}
	return base
}

// verifyBinaryVersion runs the new binary's version and checks it.
func verifyBinaryVersion(ctx context.Context, bin, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "hephd", "--version").Output()
	if err != nil {
		return fmt.Errorf("check new binary %s: %w", bin, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 || fields[0] != "hephd" || fields[1] != want {
		return fmt.Errorf("check new binary: it reports %q, want hephd %s", strings.TrimSpace(string(out)), want)
	}
	return nil
}

// replaceBinary atomically renames newBin over exe, keeping the current exe
// as exe+".previous". A failure leaves exe as it was.
func replaceBinary(newBin, exe string) error {
	prev := exe + ".previous"
	if err := os.Remove(prev); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove old %s: %w", prev, err)
	}
	if err := os.Link(exe, prev); err != nil {
		if err := copyExecutable(exe, prev); err != nil {
			return fmt.Errorf("keep the previous binary as %s: %w", prev, err)
		}
	}
	if err := os.Chmod(newBin, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", newBin, err)
	}
	if err := os.Rename(newBin, exe); err != nil {
		return fmt.Errorf("replace %s: %w", exe, err)
	}
	return nil
}

// copyExecutable copies src to a new file dst with the same mode, synced.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// selfExecutable is the stable path of the running binary: $HEPH_EXECUTABLE
// when the service sets it (the path in its unit or plist), else the
// executable the OS reports.
func selfExecutable(getenv getenvFunc) (string, error) {
	if p := getenv("HEPH_EXECUTABLE"); p != "" {
		return filepath.Abs(p)
	}
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own executable: %w", err)
	}
	return p, nil
}

// removePreviousBinary deletes the binary kept by the last update, once the
// new one has started and serves.
func removePreviousBinary(exe string, logger *log.Logger) {
	prev := exe + ".previous"
	if _, err := os.Stat(prev); err != nil {
		return
	}
	if err := os.Remove(prev); err != nil {
		logger.Printf("self-update: remove %s: %v", prev, err)
		return
	}
	logger.Printf("self-update: started; removed %s", prev)
}

// describeSelfUpdate is what `heph daemon status` prints of self-update:
// a first line with the settings, then, once it has checked, what the last
// check did and, after a refusal, why and what happens next.
func describeSelfUpdate(s selfUpdateStatus, now time.Time) []string {
	if !s.Enabled {
		return []string{"off (turn on with: heph daemon restart --self-update)"}
	}
	every := formatInterval(time.Duration(s.IntervalSecs) * time.Second)
	lines := []string{fmt.Sprintf("on, every %s, module %s, running %s", every, s.Module, s.Running)}
	if s.LastCheck == nil {
		return append(lines, "not checked yet: the first check is "+every+" after hephd started")
	}
	ago := now.Sub(*s.LastCheck).Round(time.Second)
	when := "last check " + formatInterval(ago) + " ago"
	if ago < time.Second {
		when = "last check just now"
	}
	if s.LastError == "" {
		return append(lines, when+": "+s.LastResult)
	}
	return append(lines, when+": did not update: "+s.LastError,
		fmt.Sprintf("keeps serving %s and tries again every %s", s.Running, every))
}

// formatInterval prints a duration without zero tails: 6h, 1h30m, 90s → 1m30s.
func formatInterval(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
