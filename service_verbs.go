// heph daemon's verbs run against one service manager: plan, show, execute.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// daemonCtl runs heph daemon's verbs against one service manager.
type daemonCtl struct {
	m           serviceManager
	out, errOut io.Writer
	getenv      getenvFunc
	env         envResolver
	argv0       string
	json        bool
	// readyTimeout bounds the wait for a started hephd to answer.
	readyTimeout time.Duration
	// binary, when set, is baked instead of the running binary's path.
	binary string
}

// installRequest is heph daemon start or restart.
type installRequest struct {
	verb    string // "start" or "restart"
	changes []flagChange
	dryRun  bool
	force   bool
}

// serviceGetenv is the environment as a service with config c sees it:
// its baked variables, then this shell's, except those the manager does
// not pass on (heph's own HEPH_DB/HEPH_SOCKET belong to the shell).
func (d *daemonCtl) serviceGetenv(c DaemonConfig) getenvFunc {
	return func(name string) string {
		for _, kv := range c.Env {
			if k, v, _ := strings.Cut(kv, "="); k == name {
				return v
			}
		}
		if name == "HEPH_DB" || name == "HEPH_SOCKET" || slices.Contains(d.m.unsetEnv(), name) {
			return ""
		}
		return d.getenv(name)
	}
}

// servicePaths are the store and socket a service with config c uses.
func (d *daemonCtl) servicePaths(c DaemonConfig) (Paths, error) {
	return resolvePaths(c.flag("db"), c.flag("socket"), d.serviceGetenv(c))
}

// defaultLogPath is hephd.log beside the default store.
func (d *daemonCtl) defaultLogPath() (string, error) {
	p, err := resolvePaths("", "/", d.serviceGetenv(DaemonConfig{}))
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(p.DB), "hephd.log"), nil
}

// logPath is the installed service's log, or the default one.
func (d *daemonCtl) logPath(c DaemonConfig) string {
	if l := c.flag("log"); l != "" {
		return l
	}
	l, _ := d.defaultLogPath()
	return l
}

// install is start and restart: build the new configuration from the old
// file and the passed flags, write it when it changed, and (re)start.
func (d *daemonCtl) install(req installRequest) error {
	p, err := d.prepare(req)
	if err != nil {
		return err
	}
	var st serviceStatus
	reachErr := d.m.reachable()
	if reachErr == nil {
		if st, err = d.m.status(); err != nil {
			return err
		}
	} else if !req.dryRun {
		return reachErr
	}
	steps := d.m.plan(req.verb, st, p.changed())
	if req.dryRun {
		return d.printDryRun(p, steps, reachErr)
	}
	if !st.Running {
		if err := d.checkSocketFree(p.new); err != nil {
			return err
		}
	}
	if len(steps) == 0 {
		fmt.Fprintf(d.out, "hephd is already running with the same config (pid %d); nothing to do\n", st.PID)
		d.printWarnings(p.new, p.note)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p.new.flag("log")), 0o700); err != nil {
		return fmt.Errorf("log directory: %w", err)
	}
	if err := d.execute(steps, p.data); err != nil {
		return err
	}
	switch {
	case p.oldData == nil:
		fmt.Fprintf(d.out, "installed %s %s\n", d.m.kind(), d.m.path())
	case p.changed():
		fmt.Fprintf(d.out, "updated %s:\n", d.m.path())
		d.printChanges(p)
	}
	info, err := d.waitRunning(p.new)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "hephd %s is running (pid %d) on %s\n", info.Version, info.PID, info.Socket)
	d.printWarnings(p.new, p.note)
	return nil
}

// checkSocketFree refuses to start the service while a hephd it does not
// manage (e.g. one started by hand) serves the service's socket: the
// service's hephd could not listen there.
func (d *daemonCtl) checkSocketFree(c DaemonConfig) error {
	paths, err := d.servicePaths(c)
	if err != nil {
		return err
	}
	info, err := queryDaemon(paths.Socket)
	if err != nil {
		return nil
	}
	return fmt.Errorf("a hephd that the service does not manage (pid %d, store %s) already serves %s; stop it first (kill %d), then run heph daemon start again",
		info.PID, info.DB, paths.Socket, info.PID)
}

// prepared is a start/restart's new service file next to the old one.
type prepared struct {
	old, new DaemonConfig
	oldData  []byte // nil when nothing (usable) is installed
	data     []byte
	note     string // a warning about the new configuration
}

func (p *prepared) changed() bool { return !bytes.Equal(p.data, p.oldData) }

// prepare reads the installed file, merges the passed flags into it, and
// renders and checks the new file.
func (d *daemonCtl) prepare(req installRequest) (*prepared, error) {
	binary := d.binary
	if binary == "" {
		var err error
		if binary, err = stableBinary(d.argv0, d.getenv, req.force); err != nil {
			return nil, err
		}
	}
	p := &prepared{}
	var err error
	p.old, p.oldData, err = readServiceFile(d.m)
	var broken *brokenFileError
	switch {
	case errors.Is(err, errNotInstalled):
	case errors.As(err, &broken) && req.force:
		fmt.Fprintf(d.errOut, "heph: replacing %s, which does not parse (%v); the old file is kept at %s\n", broken.path, broken.err, broken.backup)
		p.old, p.oldData = DaemonConfig{}, nil
	case err != nil:
		return nil, err
	}
	flags := mergeFlags(p.old.Flags, req.changes)
	if _, ok := flags["log"]; !ok {
		l, err := d.defaultLogPath()
		if err != nil {
			return nil, err
		}
		if flags == nil {
			flags = map[string][]string{}
		}
		flags["log"] = []string{l}
	}
	var env []string
	env, p.note = serviceEnv(d.env, flags["self-update"] != nil, p.old.Env, d.m.basePath())
	p.new = DaemonConfig{Binary: binary, Flags: flags, Env: env}
	if err := p.new.validate(); err != nil {
		return nil, err
	}
	if p.data, err = d.m.generate(p.new); err != nil {
		return nil, err
	}
	return p, nil
}

// printChanges lists what a rewrite changes.
func (d *daemonCtl) printChanges(p *prepared) {
	lines := describeChanges(p.old, p.new)
	if len(lines) == 0 {
		lines = []string{"service file regenerated in the current format"}
	}
	for _, l := range lines {
		fmt.Fprintf(d.out, "  %s\n", l)
	}
}

// printWarnings tells the owner about problems the new service will have:
// a missing go for self-update, clients in this shell that look for
// another socket, and the manager's own (lingering).
func (d *daemonCtl) printWarnings(c DaemonConfig, note string) {
	if note != "" {
		fmt.Fprintf(d.errOut, "heph: warning: %s\n", note)
	}
	svc, err1 := d.servicePaths(c)
	here, err2 := resolvePaths("", "", d.getenv)
	if err1 == nil && err2 == nil && svc.Socket != here.Socket {
		fmt.Fprintf(d.errOut, "heph: warning: the service listens on %s, but heph in this shell looks for %s (HEPH_SOCKET or XDG_RUNTIME_DIR differ), so clients here will not reach it; bake this shell's socket with: heph --socket %s daemon restart\n",
			svc.Socket, here.Socket, shellQuote(here.Socket))
	}
	for _, w := range d.m.warnings() {
		fmt.Fprintf(d.errOut, "heph: warning: %s\n", w)
	}
}

func (d *daemonCtl) printDryRun(p *prepared, steps []step, reachErr error) error {
	if reachErr != nil {
		fmt.Fprintf(d.out, "(the service manager is not reachable, so this plan assumes nothing is installed or running: %v)\n\n", reachErr)
	}
	if p.oldData != nil && p.changed() {
		fmt.Fprintf(d.out, "changes:\n")
		d.printChanges(p)
		fmt.Fprintln(d.out)
	}
	if len(steps) == 0 {
		fmt.Fprintf(d.out, "hephd is already running with the same config; nothing would change\n")
		return nil
	}
	for _, s := range steps {
		if s.op == "write" {
			fmt.Fprintf(d.out, "would write %s:\n%s\n", d.m.path(), p.data)
		}
	}
	fmt.Fprintf(d.out, "would run:\n")
	for _, s := range steps {
		fmt.Fprintf(d.out, "  %s\n", s)
	}
	return nil
}

// execute carries out a plan.
func (d *daemonCtl) execute(steps []step, data []byte) error {
	for _, s := range steps {
		switch s.op {
		case "write":
			if err := replaceFile(s.argv[0], data, 0o644); err != nil {
				return err
			}
		case "remove":
			if err := os.Remove(s.argv[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", s.argv[0], err)
			}
		case "run":
			if err := d.m.run(s.argv); err != nil && !s.tolerate {
				return err
			}
		}
	}
	return nil
}

// waitRunning waits for the service's hephd to answer daemon.info, so
// start reports success only when clients can really connect.
func (d *daemonCtl) waitRunning(c DaemonConfig) (daemonInfo, error) {
	paths, err := d.servicePaths(c)
	if err != nil {
		return daemonInfo{}, err
	}
	deadline := time.Now().Add(d.readyTimeout)
	var last error
	for {
		st, err := d.m.status()
		if err != nil {
			return daemonInfo{}, err
		}
		if st.Running {
			info, err := queryDaemon(paths.Socket)
			if err == nil && (st.PID == 0 || info.PID == st.PID) {
				return info, nil
			}
			if err == nil {
				err = fmt.Errorf("the socket is answered by pid %d, not the service's pid %d", info.PID, st.PID)
			}
			last = err
		} else {
			last = fmt.Errorf("the service is %s", orNone(st.State))
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return daemonInfo{}, fmt.Errorf("hephd did not answer on %s within %s (%v).\n  The end of its log (%s):\n%s\n"+
		"  Fix the cause (heph daemon status shows the baked flags; change one with heph daemon restart --FLAG VALUE, remove it with --FLAG=), or follow the log with heph daemon logs -f",
		paths.Socket, d.readyTimeout, last, d.logPath(c), indent(tailLines(d.logPath(c), 10), "    "))
}

// queryDaemon asks the hephd on socket for daemon.info.
func queryDaemon(socket string) (daemonInfo, error) {
	info, _, err := queryDaemonRaw(socket)
	return info, err
}

// queryDaemonRaw is queryDaemon that also returns the reply as sent, with
// any fields daemonInfo does not know.
func queryDaemonRaw(socket string) (daemonInfo, json.RawMessage, error) {
	var info daemonInfo
	var raw json.RawMessage
	c, err := dialDaemon(socket)
	if err != nil {
		return info, nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Call(ctx, "daemon.info", nil, &raw); err != nil {
		return info, nil, err
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, nil, fmt.Errorf("decode daemon.info: %w", err)
	}
	return info, raw, nil
}

func indent(s, prefix string) string {
	if s == "" {
		return prefix + "(empty)"
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

// stop stops the service now; it stays installed.
func (d *daemonCtl) stop() error {
	if err := d.m.reachable(); err != nil {
		return err
	}
	st, err := d.m.status()
	if err != nil {
		return err
	}
	if !st.Installed && !st.Loaded {
		fmt.Fprintf(d.out, "heph's %s is not installed; nothing to stop\n", d.m.kind())
		return nil
	}
	steps := d.m.plan("stop", st, false)
	if len(steps) == 0 {
		fmt.Fprintf(d.out, "hephd is not running; nothing to stop (%s)\n", d.m.stopNote())
		return nil
	}
	if err := d.execute(steps, nil); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "stopped hephd; %s\n", d.m.stopNote())
	return nil
}

// uninstall stops the service and removes it, keeping store and log.
func (d *daemonCtl) uninstall() error {
	if err := d.m.reachable(); err != nil {
		return err
	}
	st, err := d.m.status()
	if err != nil {
		return err
	}
	c, _, _ := readServiceFile(d.m)
	paths, _ := d.servicePaths(c)
	kept := fmt.Sprintf("your store is kept at %s and the log at %s", paths.DB, d.logPath(c))
	if !st.Installed && !st.Loaded {
		fmt.Fprintf(d.out, "heph's %s is not installed; nothing to remove (%s)\n", d.m.kind(), kept)
		return nil
	}
	if err := d.execute(d.m.plan("uninstall", st, false), nil); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "removed %s and stopped hephd; %s\n", d.m.path(), kept)
	return nil
}

// statusReport is heph daemon status's --json output.
type statusReport struct {
	Service   string              `json:"service"`
	File      string              `json:"file"`
	Installed bool                `json:"installed"`
	Enabled   bool                `json:"enabled"`
	Running   bool                `json:"running"`
	State     string              `json:"state"`
	PID       int                 `json:"pid,omitempty"`
	Uptime    string              `json:"uptime,omitempty"`
	Version   string              `json:"version,omitempty"`
	Binary    string              `json:"binary,omitempty"`
	Socket    string              `json:"socket"`
	DB        string              `json:"db"`
	Log       string              `json:"log"`
	Flags     map[string][]string `json:"flags"`
	Env       []string            `json:"environment,omitempty"`
	// Daemon is the running hephd's own daemon.info reply, as it sent it.
	Daemon json.RawMessage `json:"daemon,omitempty"`
	// SelfUpdate is the running hephd's self-update state.
	SelfUpdate *selfUpdateStatus `json:"self_update,omitempty"`
	Problem    string            `json:"problem,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
}

// status reports the service; it returns a *notRunningError (exit 3) when
// hephd is not running.
func (d *daemonCtl) status() error {
	if err := d.m.reachable(); err != nil {
		return err
	}
	st, err := d.m.status()
	if err != nil {
		return err
	}
	r := statusReport{Service: d.m.kind(), File: d.m.path(), Installed: st.Installed, Enabled: st.Enabled,
		Running: st.Running, State: st.State, PID: st.PID}
	c, _, err := readServiceFile(d.m)
	if err != nil && !errors.Is(err, errNotInstalled) {
		r.Problem = err.Error()
	}
	r.Binary, r.Flags, r.Env = c.Binary, c.Flags, c.Env
	paths, err := d.servicePaths(c)
	if err != nil {
		return err
	}
	r.Socket, r.DB, r.Log = paths.Socket, paths.DB, d.logPath(c)
	if st.Running {
		if info, raw, err := queryDaemonRaw(paths.Socket); err == nil {
			r.Version, r.PID, r.Socket, r.DB, r.Daemon = info.Version, info.PID, info.Socket, info.DB, raw
			r.SelfUpdate = &info.SelfUpdate
			r.Uptime = time.Since(info.Started).Round(time.Second).String()
		} else {
			r.Problem = strings.TrimSpace(r.Problem + "\nthe service runs but hephd does not answer on its socket: " + err.Error())
		}
	}
	r.Warnings = d.m.warnings()
	if d.json {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("encode status: %w", err)
		}
		fmt.Fprintf(d.out, "%s\n", b)
	} else {
		d.printStatus(r, c)
	}
	if !st.Running {
		// The report above says so, and how to start it.
		return &notRunningError{socket: paths.Socket, quiet: true}
	}
	return nil
}

func (d *daemonCtl) printStatus(r statusReport, c DaemonConfig) {
	w := d.out
	switch {
	case r.Running:
		fmt.Fprintf(w, "hephd is running: pid %d", r.PID)
		if r.Uptime != "" {
			fmt.Fprintf(w, ", up %s, version %s", r.Uptime, r.Version)
		}
		fmt.Fprintln(w)
	case r.Installed:
		fmt.Fprintf(w, "hephd is not running (%s); start it with: heph daemon start\n", orNone(r.State))
	default:
		fmt.Fprintf(w, "hephd is not installed as a service (run: heph daemon start)\n")
	}
	yes := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(w, "  service:   %s %s (installed: %s, enabled: %s)\n", r.Service, r.File, yes[r.Installed], yes[r.Enabled])
	if r.Binary != "" {
		fmt.Fprintf(w, "  binary:    %s\n", r.Binary)
	}
	fmt.Fprintf(w, "  socket:    %s\n  db:        %s\n  log:       %s\n", r.Socket, r.DB, r.Log)
	if r.Installed {
		args := make([]string, 0, len(c.Args()))
		for _, a := range c.Args() {
			args = append(args, shellQuote(a))
		}
		fmt.Fprintf(w, "  flags:     %s\n", orNone(strings.Join(args, " ")))
	}
	for _, kv := range r.Env {
		fmt.Fprintf(w, "  env:       %s\n", kv)
	}
	if su := r.SelfUpdate; su != nil {
		for i, line := range describeSelfUpdate(*su, time.Now()) {
			if i == 0 {
				fmt.Fprintf(w, "  self-update: %s\n", line)
			} else {
				fmt.Fprintf(w, "               %s\n", line)
			}
		}
	}
	if r.Problem != "" {
		fmt.Fprintf(w, "  problem:   %s\n", r.Problem)
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}
