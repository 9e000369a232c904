// heph daemon's launchd agent (macOS): writing and parsing the plist, driving it with launchctl.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// heph's launchd agent (macOS). This file has no build tag so that the
// plist and the launchctl command sequences are tested on every platform;
// service_darwin.go selects it.

const launchdLabel = "org.hephaestus.hephd"

// launchdManager is heph's LaunchAgent in the gui/<uid> domain.
type launchdManager struct {
	plistPath string
	uid       int
	// launchctl is the command run for launchctl (tests put a fake first
	// on the PATH).
	launchctl string
	// bootoutWait bounds the wait for a booted-out service to go away.
	bootoutWait time.Duration
}

func newLaunchdManager(home string, uid int) *launchdManager {
	return &launchdManager{
		plistPath:   filepath.Join(home, "Library", "LaunchAgents", launchdLabel+".plist"),
		uid:         uid,
		launchctl:   "launchctl",
		bootoutWait: 10 * time.Second,
	}
}

func (m *launchdManager) kind() string { return "launchd agent" }
func (m *launchdManager) path() string { return m.plistPath }
func (m *launchdManager) basePath() string {
	return "/usr/local/bin:/opt/homebrew/bin:/usr/bin:/bin:/usr/sbin:/sbin"
}
func (m *launchdManager) domain() string     { return fmt.Sprintf("gui/%d", m.uid) }
func (m *launchdManager) target() string     { return m.domain() + "/" + launchdLabel }
func (m *launchdManager) warnings() []string { return nil }

// unsetEnv: launchd agents get only HOME, USER, PATH, TMPDIR and the
// like, plus the plist's EnvironmentVariables, never a shell's XDG ones.
func (m *launchdManager) unsetEnv() []string {
	return []string{"XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME"}
}

func (m *launchdManager) stopNote() string {
	return "the agent stays installed, so launchd starts it again at your next login (heph daemon start starts it now; heph daemon uninstall removes it)"
}

// plistText is the agent's plist template (parsed when a plist is written).
const plistText = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- heph's daemon, written by heph daemon start / restart.
     Change the baked flags with: heph daemon restart FLAGS (see heph daemon -h). -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{{xml .Label}}</string>
	<key>Program</key>
	<string>{{xml .Binary}}</string>
	<key>ProgramArguments</key>
	<array>
{{- range .Args}}
		<string>{{xml .}}</string>
{{- end}}
	</array>
{{- if .Env}}
	<key>EnvironmentVariables</key>
	<dict>
{{- range .Env}}
		<key>{{xml .Name}}</key>
		<string>{{xml .Value}}</string>
{{- end}}
	</dict>
{{- end}}
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<true/>
	<key>StandardOutPath</key>
	<string>{{xml .Log}}</string>
	<key>StandardErrorPath</key>
	<string>{{xml .Log}}</string>
</dict>
</plist>
`

// xmlText escapes s for XML character data.
func xmlText(s string) (string, error) {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (m *launchdManager) generate(c DaemonConfig) ([]byte, error) {
	return generatePlist(c)
}

func generatePlist(c DaemonConfig) ([]byte, error) {
	type kv struct{ Name, Value string }
	var env []kv
	for _, e := range c.Env {
		k, v, _ := strings.Cut(e, "=")
		env = append(env, kv{k, v})
	}
	tmpl, err := template.New("plist").Funcs(template.FuncMap{"xml": xmlText}).Parse(plistText)
	if err != nil {
		return nil, fmt.Errorf("launchd plist template: %w", err)
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, struct {
		Label, Binary, Log string
		Args               []string
		Env                []kv
	}{launchdLabel, c.Binary, c.flag("log"), append([]string{"hephd"}, c.Args()...), env})
	if err != nil {
		return nil, fmt.Errorf("render launchd plist: %w", err)
	}
	return b.Bytes(), nil
}

func (m *launchdManager) parse(data []byte) (DaemonConfig, error) {
	return parsePlistConfig(data)
}

// parsePlistConfig reads heph's agent plist back into a DaemonConfig.
func parsePlistConfig(data []byte) (DaemonConfig, error) {
	var c DaemonConfig
	d, err := parsePlist(data)
	if err != nil {
		return c, err
	}
	at := func(key string) string { return fmt.Sprintf("line %d: %s", d.lines[key], key) }
	if l, _ := d.vals["Label"].(string); l != launchdLabel {
		return c, fmt.Errorf("%s is %q, want %q", at("Label"), d.vals["Label"], launchdLabel)
	}
	prog, ok := d.vals["Program"].(string)
	if !ok || !filepath.IsAbs(prog) {
		return c, fmt.Errorf("Program: want the absolute path of the heph binary, got %v (line %d)", d.vals["Program"], d.lines["Program"])
	}
	arr, ok := d.vals["ProgramArguments"].([]any)
	if !ok || len(arr) == 0 || arr[0] != "hephd" {
		return c, fmt.Errorf("%s: want an array starting with \"hephd\"", at("ProgramArguments"))
	}
	var args []string
	for _, a := range arr[1:] {
		s, ok := a.(string)
		if !ok {
			return c, fmt.Errorf("%s: %v is not a string", at("ProgramArguments"), a)
		}
		args = append(args, s)
	}
	flags, err := parseDaemonArgs(args)
	if err != nil {
		return c, fmt.Errorf("%s: %v", at("ProgramArguments"), err)
	}
	if ev, ok := d.vals["EnvironmentVariables"]; ok {
		dict, ok := ev.(plistDict)
		if !ok {
			return c, fmt.Errorf("%s: want a dict", at("EnvironmentVariables"))
		}
		for k, v := range dict.vals {
			s, ok := v.(string)
			if !ok {
				return c, fmt.Errorf("line %d: EnvironmentVariables %s: want a string", dict.lines[k], k)
			}
			c.Env = append(c.Env, k+"="+s)
		}
		sort.Strings(c.Env)
	}
	c.Binary, c.Flags = prog, flags
	return c, nil
}

// plistDict is a parsed <dict> with the line of each key.
type plistDict struct {
	vals  map[string]any
	lines map[string]int
}

// parsePlist parses an XML property list whose root is a dict. Values are
// plistDict, []any, string, bool or int64 (real, date and data stay
// strings).
func parsePlist(data []byte) (plistDict, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	p := &plistParser{dec: dec}
	start, err := p.nextStart()
	if err != nil {
		return plistDict{}, err
	}
	if start.Name.Local != "plist" {
		return plistDict{}, p.errorf("root element is <%s>, want <plist>", start.Name.Local)
	}
	v, err := p.value()
	if err != nil {
		return plistDict{}, err
	}
	d, ok := v.(plistDict)
	if !ok {
		return plistDict{}, p.errorf("the plist holds a %T, want a dict", v)
	}
	return d, nil
}

type plistParser struct {
	dec *xml.Decoder
}

func (p *plistParser) errorf(format string, args ...any) error {
	line, _ := p.dec.InputPos()
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// nextStart skips to the next start element; an end element first is
// returned as errEndElement.
func (p *plistParser) nextStart() (xml.StartElement, error) {
	for {
		tok, err := p.dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return xml.StartElement{}, p.errorf("unexpected end of the plist")
			}
			return xml.StartElement{}, p.errorf("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, errEndElement
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, p.errorf("unexpected text %q", strings.TrimSpace(string(t)))
			}
		}
	}
}

var errEndElement = errors.New("end element")

// text reads character data up to the current element's end.
func (p *plistParser) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := p.dec.Token()
		if err != nil {
			return "", p.errorf("%v", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement:
			return "", p.errorf("unexpected <%s> inside text", t.Name.Local)
		}
	}
}

// value reads the next value element.
func (p *plistParser) value() (any, error) {
	start, err := p.nextStart()
	if err != nil {
		if errors.Is(err, errEndElement) {
			return nil, p.errorf("missing value")
		}
		return nil, err
	}
	return p.valueOf(start)
}

// valueOf reads the value start opens.
func (p *plistParser) valueOf(start xml.StartElement) (any, error) {
	switch start.Name.Local {
	case "dict":
		return p.dict()
	case "array":
		return p.array()
	case "true", "false":
		if _, err := p.text(); err != nil {
			return nil, err
		}
		return start.Name.Local == "true", nil
	case "integer":
		s, err := p.text()
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, p.errorf("bad integer %q", s)
		}
		return n, nil
	case "string", "real", "date", "data":
		return p.text()
	}
	return nil, p.errorf("unknown plist element <%s>", start.Name.Local)
}

// dict reads a <dict>'s keys and values up to its end, with each key's
// line.
func (p *plistParser) dict() (any, error) {
	d := plistDict{vals: map[string]any{}, lines: map[string]int{}}
	for {
		k, err := p.nextStart()
		if errors.Is(err, errEndElement) {
			return d, nil
		}
		if err != nil {
			return nil, err
		}
		if k.Name.Local != "key" {
			return nil, p.errorf("<%s> where a <key> belongs", k.Name.Local)
		}
		line, _ := p.dec.InputPos()
		key, err := p.text()
		if err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		d.vals[key], d.lines[key] = v, line
	}
}

// array reads an <array>'s values up to its end.
func (p *plistParser) array() (any, error) {
	var a []any
	for {
		s, err := p.nextStart()
		if errors.Is(err, errEndElement) {
			return a, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := p.valueOf(s)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

// launchctlCmd runs launchctl with args.
func (m *launchdManager) launchctlCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, m.launchctl, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("launchctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (m *launchdManager) reachable() error {
	if _, err := exec.LookPath(m.launchctl); err != nil {
		return fmt.Errorf("launchctl is not on the PATH: heph daemon needs macOS's launchd (or run hephd yourself)")
	}
	return nil
}

func (m *launchdManager) status() (serviceStatus, error) {
	var st serviceStatus
	if _, err := os.Stat(m.plistPath); err == nil {
		st.Installed, st.Enabled = true, true // RunAtLoad: loaded at every login
	}
	out, err := m.launchctlCmd("print", m.target())
	if err != nil {
		st.State = "not loaded"
		return st, nil
	}
	st.Loaded = true
	state, pid := parseLaunchctlPrint(out)
	st.State, st.PID = state, pid
	st.Running = state == "running" && pid > 0
	return st, nil
}

// parseLaunchctlPrint reads the service's own "state = …" and "pid = …"
// from launchctl print output, ignoring nested blocks.
func parseLaunchctlPrint(out string) (state string, pid int) {
	depth := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, "{") {
			depth++
			continue
		}
		if line == "}" {
			depth--
			continue
		}
		if depth != 1 {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		switch k {
		case "state":
			state = v
		case "pid":
			pid, _ = strconv.Atoi(v)
		}
	}
	return state, pid
}

func (m *launchdManager) plan(verb string, st serviceStatus, changed bool) []step {
	lc := func(args ...string) step { return runStep(append([]string{"launchctl"}, args...)...) }
	bootstrap := lc("bootstrap", m.domain(), m.plistPath)
	bootout := lc("bootout", m.target())
	var steps []step
	switch verb {
	case "start":
		switch {
		case !changed && st.Running:
			return nil
		case !st.Loaded:
			if changed {
				steps = append(steps, writeStep(m.plistPath))
			}
			steps = append(steps, bootstrap)
		case changed:
			steps = append(steps, writeStep(m.plistPath), bootout, bootstrap)
		default:
			steps = append(steps, lc("kickstart", m.target()))
		}
	case "restart":
		steps = append(steps, writeStep(m.plistPath))
		switch {
		case !st.Loaded:
			steps = append(steps, bootstrap)
		case changed:
			steps = append(steps, bootout, bootstrap)
		default:
			steps = append(steps, lc("kickstart", "-k", m.target()))
		}
	case "stop":
		if st.Loaded {
			steps = append(steps, bootout)
		}
	case "uninstall":
		if st.Loaded {
			steps = append(steps, bootout)
		}
		if st.Installed {
			steps = append(steps, removeStep(m.plistPath))
		}
	}
	return steps
}

// run executes a launchctl step. bootout returns before the service is
// gone, so it waits until print no longer finds it; otherwise a bootstrap
// right after would fail.
func (m *launchdManager) run(argv []string) error {
	if len(argv) < 2 || argv[0] != "launchctl" {
		return fmt.Errorf("unexpected command %v", argv)
	}
	if out, err := m.launchctlCmd(argv[1:]...); err != nil {
		if argv[1] == "bootstrap" && (strings.Contains(out, "125") || strings.Contains(out, "Domain does not support")) {
			return fmt.Errorf("%w\n  launchd has no %s domain for you: LaunchAgents need a login at the Mac's console (or Screen Sharing), not only ssh", err, m.domain())
		}
		return err
	}
	if argv[1] != "bootout" {
		return nil
	}
	deadline := time.Now().Add(m.bootoutWait)
	for {
		if _, err := m.launchctlCmd("print", m.target()); err != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("launchctl bootout %s: the service is still loaded after %s", m.target(), m.bootoutWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
