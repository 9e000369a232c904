// What heph daemon shares across service managers: the baked configuration and the serviceManager interface.

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds what `heph daemon` shares across service managers: the
// baked configuration (DaemonConfig), how it becomes hephd's argument vector
// and back, how passed flags merge into an installed configuration, and the
// plan steps the systemd and launchd managers produce.

// flagKind is how a bakeable hephd flag takes its value.
type flagKind int

const (
	kindString flagKind = iota // one value
	kindPath                   // one value, a file path made absolute when baked
	kindBool                   // present or absent
	kindList                   // repeatable; any number of values
)

// bakeable is one hephd flag that `heph daemon start/restart` can bake into
// the service file.
type bakeable struct {
	name string
	kind flagKind
}

// bakeableFlags lists every hephd flag a service can carry. A new hephd
// flag is baked by adding its line here (TestBakeableFlagsMatchHephd fails
// until it is). hephd's own flag set supplies the help text.
func bakeableFlags() []bakeable {
	return []bakeable{
		{"mode", kindString},
		{"db", kindPath},
		{"socket", kindPath},
		{"log", kindPath},
		{"hub-url", kindString},
		{"hub-ca", kindPath},
		{"sync-interval", kindString},
		{"http-addr", kindString},
		{"tls-cert", kindPath},
		{"tls-key", kindPath},
		{"authorized-sub", kindList},
		{"multi-owner", kindBool},
		{"token-file", kindPath},
		{"token-load-cmd", kindString},
		{"token-save-cmd", kindString},
		{"oidc-issuer", kindString},
		{"oidc-audience", kindString},
		{"oidc-client-id", kindString},
		{"oidc-leeway", kindString},
		{"self-update", kindBool},
		{"self-update-interval-secs", kindString},
		{"self-update-module", kindString},
		{"self-update-prerelease", kindBool},
	}
}

// notBakeable reports hephd flags that make no sense in a service file.
func notBakeable(name string) bool { return name == "version" }

func lookupBakeable(name string) (bakeable, bool) {
	for _, b := range bakeableFlags() {
		if b.name == name {
			return b, true
		}
	}
	return bakeable{}, false
}

// DaemonConfig is what a service file bakes: the binary the service runs,
// hephd's flags, and the environment. One DaemonConfig generates both the
// systemd unit and the launchd plist, and each parses back to it.
type DaemonConfig struct {
	// Binary is the absolute path of the heph binary; the service runs it
	// with argv[0] "hephd".
	Binary string
	// Flags maps a bakeable flag's name to its values: one for string and
	// path flags, {"true"} for a set bool flag, one or more for a list.
	// An absent flag is not passed (hephd's default applies).
	Flags map[string][]string
	// Env is the service's extra environment as NAME=value, sorted.
	Env []string
}

// Args is hephd's argument vector (without argv[0]), in table order.
func (c DaemonConfig) Args() []string {
	var args []string
	for _, b := range bakeableFlags() {
		vals, ok := c.Flags[b.name]
		if !ok {
			continue
		}
		switch b.kind {
		case kindBool:
			args = append(args, "--"+b.name)
		default:
			for _, v := range vals {
				args = append(args, "--"+b.name, v)
			}
		}
	}
	return args
}

// flag returns a single-valued flag's value, or "".
func (c DaemonConfig) flag(name string) string {
	if v := c.Flags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// has reports whether a flag is baked.
func (c DaemonConfig) has(name string) bool {
	_, ok := c.Flags[name]
	return ok
}

// envValue returns the value of an Env entry, or "".
func (c DaemonConfig) envValue(name string) string {
	for _, kv := range c.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

// parseDaemonArgs reads hephd's argument vector back into flags. It accepts
// what Args writes and what a person may write by hand: --flag value,
// --flag=value, -flag, and --bool=false.
func parseDaemonArgs(args []string) (map[string][]string, error) {
	flags := map[string][]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return nil, fmt.Errorf("unexpected argument %q (hephd takes only flags)", a)
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		b, ok := lookupBakeable(name)
		if !ok {
			return nil, fmt.Errorf("unknown hephd flag %q", a)
		}
		switch b.kind {
		case kindBool:
			if !hasVal {
				val = "true"
			}
			switch val {
			case "true", "1":
				flags[name] = []string{"true"}
			case "false", "0":
				delete(flags, name)
			default:
				return nil, fmt.Errorf("flag --%s wants true or false, not %q", name, val)
			}
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if b.kind == kindList {
			flags[name] = append(flags[name], val)
		} else {
			flags[name] = []string{val}
		}
	}
	if len(flags) == 0 {
		return nil, nil
	}
	return flags, nil
}

// validate checks that hephd would accept the configuration and that every
// value can be written to a service file.
func (c DaemonConfig) validate() error {
	if !filepath.IsAbs(c.Binary) {
		return fmt.Errorf("binary path %q is not absolute", c.Binary)
	}
	check := func(what, s string) error {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%s is not valid UTF-8: %q", what, s)
		}
		for _, r := range s {
			if unicode.IsControl(r) {
				return fmt.Errorf("%s contains a control character (%q): service files cannot carry it", what, s)
			}
		}
		return nil
	}
	if err := check("binary path", c.Binary); err != nil {
		return err
	}
	for name, vals := range c.Flags {
		for _, v := range vals {
			if err := check("--"+name, v); err != nil {
				return err
			}
		}
	}
	for _, kv := range c.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'\\$%") {
			return fmt.Errorf("environment entry %q is not NAME=value", kv)
		}
		if err := check("environment "+k, kv); err != nil {
			return err
		}
	}
	var o daemonOptions
	var msg strings.Builder
	fs := daemonFlagSet(&o, &msg)
	if err := fs.Parse(c.Args()); err != nil {
		why := firstLine(msg.String())
		if why == "" {
			why = err.Error()
		}
		return fmt.Errorf("hephd would reject these flags: %s", strings.TrimSpace(why))
	}
	if err := checkBakedValues(o); err != nil {
		return fmt.Errorf("hephd would reject these flags: %w", err)
	}
	return nil
}

// checkBakedValues catches values that parse but that hephd refuses at
// start, which would leave the service restarting in a loop.
func checkBakedValues(o daemonOptions) error {
	switch o.Mode {
	case "local", "server", "client":
	default:
		return fmt.Errorf("unknown --mode %q: want local, server or client", o.Mode)
	}
	if o.SelfUpdateInterval < 1 {
		return fmt.Errorf("--self-update-interval-secs must be at least 1, not %d", o.SelfUpdateInterval)
	}
	for name, v := range map[string]string{"hub-url": o.HubURL, "oidc-issuer": o.OIDCIssuer} {
		if v == "" {
			continue
		}
		if err := checkHubURL(name, v); err != nil {
			return err
		}
	}
	return nil
}

// flagChange is one flag passed to `heph daemon start/restart`.
type flagChange struct {
	name   string
	values []string // nil: remove the flag
}

// merge applies passed flags to an installed configuration's flags: a
// passed flag adds or replaces, an empty value or --no-FLAG removes, and
// every flag not passed carries over.
func mergeFlags(old map[string][]string, changes []flagChange) map[string][]string {
	out := map[string][]string{}
	for k, v := range old {
		out[k] = append([]string(nil), v...)
	}
	for _, ch := range changes {
		var vals []string
		for _, v := range ch.values {
			if v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			delete(out, ch.name)
			continue
		}
		out[ch.name] = vals
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// describeChanges lists how new differs from old, one line per change.
func describeChanges(old, new DaemonConfig) []string {
	var lines []string
	if old.Binary != new.Binary {
		lines = append(lines, fmt.Sprintf("binary: %s -> %s", orNone(old.Binary), new.Binary))
	}
	for _, b := range bakeableFlags() {
		o, n := old.Flags[b.name], new.Flags[b.name]
		_, had := old.Flags[b.name]
		_, has := new.Flags[b.name]
		switch {
		case had && !has:
			lines = append(lines, fmt.Sprintf("--%s: removed (was %s)", b.name, showValues(b, o)))
		case !had && has:
			lines = append(lines, fmt.Sprintf("--%s: added %s", b.name, showValues(b, n)))
		case had && has && strings.Join(o, "\x00") != strings.Join(n, "\x00"):
			lines = append(lines, fmt.Sprintf("--%s: %s -> %s", b.name, showValues(b, o), showValues(b, n)))
		}
	}
	oldEnv, newEnv := envMap(old.Env), envMap(new.Env)
	var names []string
	for k := range oldEnv {
		names = append(names, k)
	}
	for k := range newEnv {
		if _, ok := oldEnv[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		o, had := oldEnv[k]
		n, has := newEnv[k]
		switch {
		case had && !has:
			lines = append(lines, fmt.Sprintf("environment %s: removed", k))
		case !had && has:
			lines = append(lines, fmt.Sprintf("environment %s: set to %s", k, n))
		case o != n:
			lines = append(lines, fmt.Sprintf("environment %s: %s -> %s", k, o, n))
		}
	}
	return lines
}

func showValues(b bakeable, vals []string) string {
	if b.kind == kindBool {
		return "on"
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = shellQuote(v)
	}
	return strings.Join(q, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// goFetchEnv are the owner's module-fetching settings a self-updating
// service carries over when they are set at install time.
func goFetchEnv() []string {
	return []string{"GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOFLAGS", "GOTOOLCHAIN", "GOMODCACHE", "GOCACHE"}
}

// isManagedEnv reports the environment variables heph daemon sets itself
// (recomputed at every start/restart); other entries of a service file's
// environment are kept as they are.
func isManagedEnv(name string) bool {
	switch name {
	case "PATH", "HOME", "GOPATH", "GOBIN":
		return true
	}
	return slices.Contains(goFetchEnv(), name)
}

// envResolver finds what the service environment needs; tests replace it.
type envResolver struct {
	getenv   getenvFunc
	lookPath func(string) (string, error)
	// goEnv runs `go env NAME` with the go binary at path.
	goEnv func(goBin, name string) string
}

func realEnvResolver(getenv getenvFunc) envResolver {
	return envResolver{getenv: getenv, lookPath: exec.LookPath, goEnv: func(goBin, name string) string {
		out, err := exec.Command(goBin, "env", name).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}}
}

// serviceEnv computes the service's environment. With self-update baked,
// the service must be able to run `go install` the way its owner does: PATH
// holds the directory of the `go` found now, plus HOME, GOPATH, GOBIN and
// the owner's module-fetching settings (GOPROXY, GOPRIVATE, …) as set now.
// Without self-update only unmanaged entries kept from the old file remain.
// The returned note (possibly empty) tells the owner about a missing go.
func serviceEnv(r envResolver, selfUpdate bool, kept []string, basePath string) (env []string, note string) {
	for _, kv := range kept {
		k, _, _ := strings.Cut(kv, "=")
		if !isManagedEnv(k) {
			env = append(env, kv)
		}
	}
	if selfUpdate {
		dirs := []string{}
		goBin, err := r.lookPath("go")
		if err != nil {
			note = "self-update is on but no `go` is on your PATH, so it will refuse to update: install Go, then run `heph daemon restart --self-update`"
		} else {
			if abs, err := filepath.Abs(goBin); err == nil {
				goBin = abs
			}
			dirs = append(dirs, filepath.Dir(goBin))
		}
		for _, d := range filepath.SplitList(basePath) {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
		env = append(env, "PATH="+strings.Join(dirs, string(filepath.ListSeparator)))
		if h := r.getenv("HOME"); h != "" {
			env = append(env, "HOME="+h)
		}
		if goBin != "" && err == nil {
			for _, name := range []string{"GOPATH", "GOBIN"} {
				v := r.getenv(name)
				if v == "" {
					v = r.goEnv(goBin, name)
				}
				if v != "" {
					env = append(env, name+"="+v)
				}
			}
		}
		for _, name := range goFetchEnv() {
			if v := r.getenv(name); v != "" {
				env = append(env, name+"="+v)
			}
		}
	}
	sort.Strings(env)
	return env, note
}

// stableBinary is the path the service should run: the path heph was
// invoked by (so a symlink such as ~/go/bin/heph or a package manager's
// stable link is kept), when it is the running binary; else the running
// binary's own path. A temporary build (go run, a test's build directory)
// is refused unless force.
func stableBinary(argv0 string, getenv getenvFunc, force bool) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the heph binary: %w", err)
	}
	path := exe
	cand := argv0
	if !strings.Contains(cand, string(filepath.Separator)) {
		cand, _ = exec.LookPath(argv0)
	}
	if cand != "" {
		if abs, err := filepath.Abs(cand); err == nil && filepath.Base(abs) != "hephd" {
			a, errA := os.Stat(abs)
			b, errB := os.Stat(exe)
			if errA == nil && errB == nil && os.SameFile(a, b) {
				path = abs
			}
		}
	}
	if !force && isTemporaryPath(path, getenv("HOME"), os.TempDir()) {
		return "", fmt.Errorf("heph is running from a temporary path (%s), which would vanish and leave the service broken: install it (go install, or copy it to ~/go/bin or /usr/local/bin) and run that, or pass --force to bake this path anyway", path)
	}
	return path, nil
}

// isTemporaryPath reports whether a binary at path is a temporary build: in
// a go-build directory (go run, go test) or in a temp directory outside
// the home directory.
func isTemporaryPath(path, home, tmp string) bool {
	for _, elem := range strings.Split(filepath.ToSlash(path), "/") {
		if strings.HasPrefix(elem, "go-build") {
			return true
		}
	}
	if home != "" && within(path, home) {
		return false
	}
	for _, t := range []string{tmp, "/tmp", "/var/tmp", "/private/tmp", "/var/folders", "/private/var/folders"} {
		if t != "" && within(path, t) {
			return true
		}
	}
	return false
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// shellQuote renders s for a person to paste into a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < utf8.RuneSelf && (r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' || r == ',' || r == '@' || r == '+' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// step is one action of a verb's plan: write or remove the service file, or
// run a service-manager command.
type step struct {
	op   string   // "write", "remove" or "run"
	argv []string // for "run"
	// tolerate: a failure of this command is not an error (e.g.
	// reset-failed on a unit that has not failed).
	tolerate bool
}

func (s step) String() string {
	switch s.op {
	case "write", "remove":
		return s.op + " " + shellQuote(s.argv[0])
	}
	q := make([]string, len(s.argv))
	for i, a := range s.argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func writeStep(path string) step  { return step{op: "write", argv: []string{path}} }
func removeStep(path string) step { return step{op: "remove", argv: []string{path}} }
func runStep(argv ...string) step { return step{op: "run", argv: argv} }

// serviceStatus is what the service manager says about heph's service.
type serviceStatus struct {
	Installed bool   // the service file exists
	Loaded    bool   // the manager knows the service
	Enabled   bool   // it starts at login
	Running   bool   // its process is up
	Failed    bool   // the manager gave up on it (e.g. start limit)
	PID       int    // main process, when running
	State     string // the manager's own words, e.g. "active (running)"
}

// serviceManager drives one OS service manager for heph daemon.
type serviceManager interface {
	// kind names the service ("systemd user unit", "launchd agent").
	kind() string
	// path is the service file's location.
	path() string
	generate(c DaemonConfig) ([]byte, error)
	// parse reads a service file back; errors name the line.
	parse(data []byte) (DaemonConfig, error)
	// reachable reports, with a fix, why the manager cannot be used.
	reachable() error
	status() (serviceStatus, error)
	// plan lists the steps of verb ("start", "restart", "stop",
	// "uninstall") given the current status and whether the service
	// file's content changes.
	plan(verb string, st serviceStatus, changed bool) []step
	// run executes one "run" step.
	run(argv []string) error
	// basePath is the PATH a service gets besides go's directory.
	basePath() string
	// stopNote says what happens after stop (e.g. next login).
	stopNote() string
	// warnings are hints about the manager's setup (e.g. lingering).
	warnings() []string
	// unsetEnv are variables of a login shell that services do not get.
	unsetEnv() []string
}

// serviceInstalled reports whether heph's service file exists. A client
// that finds no socket while the service is installed may be seeing a
// restart (e.g. after a self-update) and can wait briefly for it.
func serviceInstalled(getenv getenvFunc) bool {
	m, err := newServiceManager(getenv)
	if err != nil {
		return false
	}
	_, err = os.Stat(m.path())
	return err == nil
}

// errNotInstalled: no service file.
var errNotInstalled = errors.New("not installed")

// readServiceFile reads and parses the installed service file. A file that
// does not parse is copied to a backup beside it.
func readServiceFile(m serviceManager) (DaemonConfig, []byte, error) {
	data, err := os.ReadFile(m.path())
	if errors.Is(err, os.ErrNotExist) {
		return DaemonConfig{}, nil, errNotInstalled
	}
	if err != nil {
		return DaemonConfig{}, nil, fmt.Errorf("read %s: %w", m.path(), err)
	}
	c, perr := m.parse(data)
	if perr != nil {
		backup := m.path() + ".bak"
		if prev, err := os.ReadFile(backup); err != nil || string(prev) != string(data) {
			if err := os.WriteFile(backup, data, 0o644); err != nil {
				return DaemonConfig{}, data, fmt.Errorf("%s: %v (and keeping a backup failed: %w)", m.path(), perr, err)
			}
		}
		return DaemonConfig{}, data, &brokenFileError{path: m.path(), backup: backup, err: perr}
	}
	return c, data, nil
}

// brokenFileError is a service file that no longer parses.
type brokenFileError struct {
	path, backup string
	err          error
}

func (e *brokenFileError) Error() string {
	return fmt.Sprintf("%s does not parse: %v\n  a copy is kept at %s; fix the file, or pass --force to replace it with a fresh one built from the flags you pass (its other baked flags are lost)",
		e.path, e.err, e.backup)
}

func (e *brokenFileError) Unwrap() error { return e.err }

// replaceFile writes data to path (creating its directory) through a
// temporary file and rename, so the file is never half-written.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// daemonFlagUsage is hephd's help text for a flag, for heph daemon's own
// mirror of it.
func daemonFlagUsage(name string) string {
	var o daemonOptions
	fs := daemonFlagSet(&o, io.Discard)
	if f := fs.Lookup(name); f != nil {
		return f.Usage
	}
	return ""
}
