// heph daemon's systemd user unit: writing and parsing it, driving it with systemctl --user.

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// heph daemon's systemd user unit (Linux): writing and parsing the unit,
// and driving it with systemctl --user. No build tag, so its tests run
// and it compiles everywhere; service_linux.go selects it.

const systemdUnitName = "heph.service"

// newSystemdManager places the unit under $XDG_CONFIG_HOME (or
// ~/.config)/systemd/user.
func newSystemdManager(getenv getenvFunc) (serviceManager, error) {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return nil, fmt.Errorf("cannot place the systemd unit: neither XDG_CONFIG_HOME nor HOME is set")
		}
		dir = filepath.Join(home, ".config")
	}
	return &systemdManager{unitPath: filepath.Join(dir, "systemd", "user", systemdUnitName), getenv: getenv}, nil
}

// systemdManager is heph's systemd user unit.
type systemdManager struct {
	unitPath string
	getenv   getenvFunc
}

func (m *systemdManager) kind() string     { return "systemd user unit" }
func (m *systemdManager) path() string     { return m.unitPath }
func (m *systemdManager) basePath() string { return "/usr/local/bin:/usr/bin:/bin" }

// unsetEnv: a user manager gives its services XDG_RUNTIME_DIR, and the
// rest of the environment comes from the manager, not the shell; heph
// assumes the shell's XDG variables match the manager's.
func (m *systemdManager) unsetEnv() []string { return nil }

func (m *systemdManager) stopNote() string {
	return "the unit stays enabled, so it starts again at your next login (heph daemon start starts it now; heph daemon uninstall removes it)"
}

// unitText is the unit file template (parsed when a unit is written).
const unitText = `# heph's daemon, written by heph daemon start / restart.
# Change the baked flags with: heph daemon restart --FLAG VALUE (see heph daemon -h).
[Unit]
Description=heph daemon (hephd): your tasks and notes
Documentation=https://github.com/hephaestus/heph/blob/main/docs/how-to/run-the-daemon.md
StartLimitIntervalSec=60
StartLimitBurst=10

[Service]
Type=simple
ExecStart={{.ExecStart}}
{{- range .Env}}
Environment={{.}}
{{- end}}
Restart=always
RestartSec=1
TimeoutStopSec=15

[Install]
WantedBy=default.target
`

// generate renders the unit. ExecStart runs the binary with argv[0]
// "hephd" (systemd's @ prefix); every word is quoted and escaped so that
// systemd hands hephd exactly the configured strings.
func (m *systemdManager) generate(c DaemonConfig) ([]byte, error) {
	return generateUnit(c)
}

func generateUnit(c DaemonConfig) ([]byte, error) {
	words := []string{systemdWord("@"+c.Binary, true), "hephd"}
	for _, a := range c.Args() {
		words = append(words, systemdWord(a, true))
	}
	var env []string
	for _, kv := range c.Env {
		env = append(env, systemdWord(kv, false))
	}
	tmpl, err := template.New("unit").Parse(unitText)
	if err != nil {
		return nil, fmt.Errorf("unit template: %w", err)
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, struct {
		ExecStart string
		Env       []string
	}{strings.Join(words, " "), env})
	if err != nil {
		return nil, fmt.Errorf("render systemd unit: %w", err)
	}
	return b.Bytes(), nil
}

// systemdWord quotes one word of a unit's ExecStart (exec: $ is escaped as
// $$) or Environment line. % is escaped as %% (specifiers); words with
// anything but plain characters are double-quoted with C escapes.
func systemdWord(s string, exec bool) string {
	plain := s != ""
	for _, r := range s {
		if !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' || r == ',' || r == '@' || r == '+' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			plain = false
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '%':
			b.WriteString("%%")
		case r == '$' && exec:
			b.WriteString("$$")
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parse reads a unit back into a DaemonConfig. It reads what generate
// writes and what a person may reasonably write by hand; anything else is
// an error naming the line.
func (m *systemdManager) parse(data []byte) (DaemonConfig, error) {
	return parseUnit(data)
}

func parseUnit(data []byte) (DaemonConfig, error) {
	var c DaemonConfig
	u, err := readUnitService(data)
	if err != nil {
		return c, err
	}
	if u.execStart == "" {
		return c, fmt.Errorf("no ExecStart= line in [Service]")
	}
	bin, flags, err := parseUnitExec(u.execStart, u.execLine)
	if err != nil {
		return c, err
	}
	sort.Strings(u.env)
	c.Binary, c.Flags, c.Env = bin, flags, u.env
	return c, nil
}

// unitService is what heph reads of a unit's [Service] section.
type unitService struct {
	execStart string
	execLine  int // the line of ExecStart=
	env       []string
}

// readUnitService reads a unit's lines (joining those a trailing
// backslash continues) and keeps ExecStart= and Environment= of
// [Service]; a line that is no section header, comment or KEY=VALUE is
// an error in any section.
func readUnitService(data []byte) (unitService, error) {
	var u unitService
	section := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimSpace(lines[i])
		// A trailing backslash continues the line.
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return u, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			section = line[1 : len(line)-1]
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return u, fmt.Errorf("line %d: want KEY=VALUE, got %q", n, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if section != "Service" {
			continue
		}
		if err := u.set(n, key, val); err != nil {
			return u, err
		}
	}
	return u, nil
}

// set applies line n's key=val of [Service]: an empty value resets
// ExecStart= or Environment=, as in systemd.
func (u *unitService) set(n int, key, val string) error {
	switch key {
	case "ExecStart":
		if val == "" { // an empty assignment resets the list
			u.execStart, u.execLine = "", 0
			return nil
		}
		if u.execStart != "" {
			return fmt.Errorf("line %d: a second ExecStart= (heph's unit runs one command)", n)
		}
		u.execStart, u.execLine = val, n
	case "Environment":
		if val == "" {
			u.env = nil
			return nil
		}
		words, err := splitSystemdWords(val, false)
		if err != nil {
			return fmt.Errorf("line %d: Environment=: %v", n, err)
		}
		for _, w := range words {
			if k, _, ok := strings.Cut(w, "="); !ok || k == "" {
				return fmt.Errorf("line %d: Environment=: %q is not NAME=value", n, w)
			}
			u.env = append(u.env, w)
		}
	}
	return nil
}

// parseUnitExec reads the command of ExecStart= (line execLine): the
// absolute path of heph, run as hephd, and hephd's flags.
func parseUnitExec(execStart string, execLine int) (bin string, flags map[string][]string, err error) {
	words, err := splitSystemdWords(execStart, true)
	if err != nil {
		return "", nil, fmt.Errorf("line %d: ExecStart=: %v", execLine, err)
	}
	if len(words) == 0 {
		return "", nil, fmt.Errorf("line %d: ExecStart= names no command", execLine)
	}
	bin, args := words[0], words[1:]
	setArgv0 := false
	for len(bin) > 0 && strings.ContainsRune("@-:+!", rune(bin[0])) {
		setArgv0 = setArgv0 || bin[0] == '@'
		bin = bin[1:]
	}
	switch {
	case setArgv0 || filepath.Base(bin) != "hephd":
		// "@/path/heph hephd ..." or "/path/heph hephd ...".
		if len(args) == 0 || args[0] != "hephd" {
			return "", nil, fmt.Errorf("line %d: ExecStart= must run %s as hephd (…%s hephd --flags)", execLine, bin, bin)
		}
		args = args[1:]
	}
	if !filepath.IsAbs(bin) {
		return "", nil, fmt.Errorf("line %d: ExecStart= binary %q is not an absolute path", execLine, bin)
	}
	flags, err = parseDaemonArgs(args)
	if err != nil {
		return "", nil, fmt.Errorf("line %d: ExecStart=: %v", execLine, err)
	}
	return bin, flags, nil
}

// splitSystemdWords splits a unit value into words the way systemd does:
// whitespace separates, single and double quotes group, C escapes work
// inside and outside quotes, %% is a literal % and (exec) $$ a literal $.
// Other specifiers and variable references are rejected: heph never
// writes them.
func splitSystemdWords(s string, exec bool) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case quote == 0 && (r == '"' || r == '\''):
			quote, inWord = r, true
		case quote != 0 && r == quote:
			quote = 0
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("a trailing backslash")
			}
			adv, err := cUnescape(rs[i+1:], &cur)
			if err != nil {
				return nil, err
			}
			i += adv
			inWord = true
		case r == '%':
			if i+1 < len(rs) && rs[i+1] == '%' {
				cur.WriteRune('%')
				i++
			} else {
				return nil, fmt.Errorf("specifier %q is not supported here (write %%%% for a literal %%)", string(rs[i:min(i+2, len(rs))]))
			}
			inWord = true
		case r == '$' && exec:
			if i+1 < len(rs) && rs[i+1] == '$' {
				cur.WriteRune('$')
				i++
			} else {
				return nil, fmt.Errorf("variable reference at %q is not supported (write $$ for a literal $)", string(rs[i:min(i+8, len(rs))]))
			}
			inWord = true
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// cUnescape decodes the escape after a backslash into b and returns how
// many runes it used.
func cUnescape(rs []rune, b *strings.Builder) (int, error) {
	simple := map[rune]rune{'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
		'\\': '\\', '"': '"', '\'': '\'', 's': ' '}
	if r, ok := simple[rs[0]]; ok {
		b.WriteRune(r)
		return 1, nil
	}
	hex := func(n int) (int, error) {
		if len(rs) < 1+n {
			return 0, fmt.Errorf("short escape \\%s", string(rs))
		}
		v, err := strconv.ParseUint(string(rs[1:1+n]), 16, 32)
		if err != nil {
			return 0, fmt.Errorf("bad escape \\%s", string(rs[:1+n]))
		}
		if n == 2 {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		return 1 + n, nil
	}
	switch rs[0] {
	case 'x':
		return hex(2)
	case 'u':
		return hex(4)
	case 'U':
		return hex(8)
	}
	return 0, fmt.Errorf("unknown escape \\%c", rs[0])
}

// systemctl runs systemctl --user with args and returns its output.
func (m *systemdManager) systemctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	argv := append([]string{"--user"}, args...)
	out, err := exec.CommandContext(ctx, "systemctl", argv...).CombinedOutput()
	if err != nil {
		text := strings.TrimSpace(string(out))
		if isBusError(text) {
			return string(out), m.unreachable(text)
		}
		return string(out), fmt.Errorf("systemctl --user %s: %v: %s", strings.Join(args, " "), err, text)
	}
	return string(out), nil
}

func isBusError(text string) bool {
	return strings.Contains(text, "Failed to connect to bus") || strings.Contains(text, "Failed to connect to user scope bus") ||
		strings.Contains(text, "$DBUS_SESSION_BUS_ADDRESS") || strings.Contains(text, "XDG_RUNTIME_DIR")
}

// unreachable explains how to get a user manager.
func (m *systemdManager) unreachable(why string) error {
	return fmt.Errorf("no systemd user manager is reachable: %s.\n"+
		"  heph daemon runs hephd under your own systemd instance (systemctl --user). To fix:\n"+
		"  - run heph daemon from your own login session, not through sudo or su;\n"+
		"  - if XDG_RUNTIME_DIR is unset (e.g. over su or in a bare ssh command): export XDG_RUNTIME_DIR=/run/user/$(id -u);\n"+
		"  - on a server without a login session: loginctl enable-linger $USER (once), then log in again;\n"+
		"  - in a container without systemd: run hephd yourself, e.g. hephd --log ~/.local/share/heph/hephd.log &", why)
}

func (m *systemdManager) reachable() error {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return m.unreachable("systemctl is not on the PATH (is this a systemd system?)")
	}
	rt := m.getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return m.unreachable("XDG_RUNTIME_DIR is not set")
	}
	if _, err := os.Stat(rt); err != nil {
		return m.unreachable(fmt.Sprintf("XDG_RUNTIME_DIR=%s does not exist", rt))
	}
	_, err := m.systemctl("show", "--property=Version")
	return err
}

func (m *systemdManager) status() (serviceStatus, error) {
	var st serviceStatus
	if _, err := os.Stat(m.unitPath); err == nil {
		st.Installed = true
	}
	out, err := m.systemctl("show", systemdUnitName, "--property=LoadState,ActiveState,SubState,UnitFileState,MainPID")
	if err != nil {
		return st, err
	}
	props := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			props[k] = v
		}
	}
	st.Loaded = props["LoadState"] == "loaded"
	st.Enabled = props["UnitFileState"] == "enabled" || props["UnitFileState"] == "enabled-runtime"
	st.PID, _ = strconv.Atoi(props["MainPID"])
	st.Running = props["ActiveState"] == "active" && st.PID > 0
	st.Failed = props["ActiveState"] == "failed"
	st.State = props["ActiveState"]
	if s := props["SubState"]; s != "" {
		st.State += " (" + s + ")"
	}
	return st, nil
}

func (m *systemdManager) plan(verb string, st serviceStatus, changed bool) []step {
	sc := func(args ...string) step { return runStep(append([]string{"systemctl", "--user"}, args...)...) }
	u := systemdUnitName
	var steps []step
	switch verb {
	case "start", "restart":
		if verb == "start" && !changed && st.Running && st.Enabled {
			return nil
		}
		if changed || verb == "restart" {
			steps = append(steps, writeStep(m.unitPath))
		}
		// An explicit start also clears a failed state and the start
		// rate limit, which exist to stop automatic restarts.
		reset := sc("reset-failed", u)
		reset.tolerate = true
		steps = append(steps, sc("daemon-reload"), reset)
		switch {
		case verb == "start" && !changed && st.Running:
			steps = append(steps, sc("enable", u))
		case verb == "start" && !st.Running:
			steps = append(steps, sc("enable", "--now", u))
		default:
			steps = append(steps, sc("enable", u), sc("restart", u))
		}
	case "stop":
		if st.Running || strings.HasPrefix(st.State, "activating") {
			steps = append(steps, sc("stop", u))
		}
	case "uninstall":
		if st.Installed {
			steps = append(steps, sc("disable", "--now", u), removeStep(m.unitPath))
		} else if st.Loaded {
			steps = append(steps, sc("stop", u))
		}
		steps = append(steps, sc("daemon-reload"))
		reset := sc("reset-failed", u)
		reset.tolerate = true
		steps = append(steps, reset)
	}
	return steps
}

func (m *systemdManager) run(argv []string) error {
	if len(argv) < 2 || argv[0] != "systemctl" || argv[1] != "--user" {
		return fmt.Errorf("unexpected command %v", argv)
	}
	_, err := m.systemctl(argv[2:]...)
	return err
}

// warnings reports when lingering is off: the user manager, and hephd
// with it, then stops when the owner's last session ends. A loginctl that
// fails (no logind, e.g. in a container) is not reported.
func (m *systemdManager) warnings() []string {
	name := m.getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "loginctl", "show-user", name, "--property=Linger").Output()
	if err != nil {
		return nil
	}
	if strings.TrimSpace(string(out)) == "Linger=no" {
		return []string{fmt.Sprintf("lingering is off for %s, so hephd stops when your last session ends; keep it running with: loginctl enable-linger %s", name, name)}
	}
	return nil
}
