// cli_doctor.go owns heph doctor: each check of the setup says ok, warn or fail, and how to fix it.

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// doctorCommand is heph doctor.
func doctorCommand() *command {
	return &command{name: "doctor", args: "[--json] [--hub-url URL]",
		summary: "check the setup (versions, socket, daemon, store, service, hub, login, sync, self-update) and say how to fix what is wrong",
		example: "heph doctor",
		flags: func(fs *flag.FlagSet) {
			fs.String("hub-url", "", "check this hub `URL` (default: the daemon's hub, the service's --hub-url, then $HEPH_HUB_URL)")
			fs.String("hub-ca", "", "PEM `file` of a private CA that signs the hub's certificate")
			fs.String("token-file", "", "hub token `file` (default: the service's --token-file, then $XDG_CONFIG_HOME/heph/hub-token.json)")
		},
		run: cmdDoctor}
}

// Check results.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
	checkSkip = "skip" // does not apply to this setup
)

// doctorCheck is one line of heph doctor.
type doctorCheck struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok, warn, fail, skip
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// doctorReport is heph doctor's --json output.
type doctorReport struct {
	OK     bool          `json:"ok"` // no check failed
	Checks []doctorCheck `json:"checks"`
}

// doctor gathers what the checks share.
type doctor struct {
	c       *cli
	fs      *flag.FlagSet
	ctx     context.Context
	checks  []doctorCheck
	socket  string
	info    *daemonInfo   // nil when hephd does not answer
	svc     *DaemonConfig // the installed service's configuration
	sync    *syncStatus
	hub     string
	hubHTTP *http.Client
	now     func() time.Time
}

func (d *doctor) add(name, status, msg, fix string) {
	d.checks = append(d.checks, doctorCheck{Name: name, Status: status, Message: msg, Fix: fix})
}

func cmdDoctor(c *cli, fs *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := &doctor{c: c, fs: fs, ctx: ctx, now: time.Now}
	d.checkSocket()
	d.checkDaemon()
	d.checkVersions()
	d.checkService()
	d.checkStore()
	d.checkHub()
	d.checkSync()
	d.checkSelfUpdate()
	rep := doctorReport{OK: true, Checks: d.checks}
	for _, ch := range d.checks {
		if ch.Status == checkFail {
			rep.OK = false
		}
	}
	if c.json {
		if err := c.printJSON(rep); err != nil {
			return err
		}
	} else {
		d.print()
	}
	if !rep.OK {
		return quietError{code: exitError}
	}
	return nil
}

// print writes one line per check, with its fix indented below.
func (d *doctor) print() {
	color := d.c.colorOn()
	colors := map[string]string{checkOK: colorGreen, checkWarn: colorYellow, checkFail: colorRed, checkSkip: colorDim}
	width := 0
	for _, ch := range d.checks {
		width = max(width, len(ch.Name))
	}
	for _, ch := range d.checks {
		status := fmt.Sprintf("%-4s", ch.Status)
		if color {
			status = "\x1b[" + colors[ch.Status] + "m" + status + "\x1b[0m"
		}
		fmt.Fprintf(d.c.stdout, "%s  %-*s  %s\n", status, width, ch.Name, displayText(ch.Message))
		if ch.Fix != "" && ch.Status != checkOK {
			fmt.Fprintf(d.c.stdout, "      %-*s  fix: %s\n", width, "", displayText(ch.Fix))
		}
	}
}

// checkSocket checks the socket's path, its directory's owner and modes,
// and the socket's own mode.
func (d *doctor) checkSocket() {
	sock, err := resolveSocket(d.c.socket, osGetenv)
	d.socket = sock
	if err != nil {
		d.add("socket", checkFail, err.Error(), "set a shorter --socket or HEPH_SOCKET")
		return
	}
	dir := filepath.Dir(sock)
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		d.add("socket", checkOK, fmt.Sprintf("%s (its directory does not exist yet; hephd creates it 0700)", sock), "")
		return
	}
	if err != nil {
		d.add("socket", checkFail, fmt.Sprintf("socket directory %s: %v", dir, err), "")
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		d.add("socket", checkFail, fmt.Sprintf("socket directory %s belongs to uid %d, not to you (uid %d)", dir, st.Uid, os.Getuid()),
			"point --socket or HEPH_SOCKET at a directory of your own (the default is $XDG_RUNTIME_DIR/heph)")
		return
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		d.add("socket", checkFail, fmt.Sprintf("socket directory %s is mode %04o: other users can reach the socket's directory", dir, m),
			fmt.Sprintf("chmod 700 %s", shellQuote(dir)))
		return
	}
	sfi, err := os.Lstat(sock)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.add("socket", checkOK, fmt.Sprintf("%s (directory 0700; no socket: hephd is not serving it)", sock), "")
	case err != nil:
		d.add("socket", checkFail, fmt.Sprintf("socket %s: %v", sock, err), "")
	case sfi.Mode()&fs.ModeSocket == 0:
		d.add("socket", checkFail, fmt.Sprintf("%s is %s, not a socket", sock, fileKind(sfi.Mode())),
			"move it away, or point --socket (HEPH_SOCKET) at hephd's socket")
	case sfi.Mode().Perm()&0o077 != 0:
		d.add("socket", checkFail, fmt.Sprintf("socket %s is mode %04o: want 0600", sock, sfi.Mode().Perm()), fmt.Sprintf("chmod 600 %s", shellQuote(sock)))
	default:
		d.add("socket", checkOK, fmt.Sprintf("%s (directory 0700, socket 0600)", sock), "")
	}
}

// checkDaemon asks hephd for daemon.info.
func (d *doctor) checkDaemon() {
	var info daemonInfo
	err := d.c.call("daemon.info", nil, &info)
	var nr *notRunningError
	switch {
	case errors.As(err, &nr):
		d.add("daemon", checkFail, "hephd is not running (nothing listens on "+d.socket+")", "heph daemon start   (or run hephd in a terminal)")
		return
	case err != nil:
		d.add("daemon", checkFail, "hephd does not answer: "+err.Error(), "heph daemon restart; heph daemon logs shows why")
		return
	}
	d.info = &info
	var st syncStatus
	if d.c.call("sync.status", nil, &st) == nil {
		d.sync = &st
	}
	d.add("daemon", checkOK, fmt.Sprintf("hephd pid %d, mode %s, up %s", info.PID, info.Mode, d.now().Sub(info.Started).Round(time.Second)), "")
}

// checkVersions compares this binary's version with the daemon's.
func (d *doctor) checkVersions() {
	v, rev := buildVersion()
	if d.info == nil {
		d.add("version", checkSkip, fmt.Sprintf("heph %s (%s); hephd not reachable", v, rev), "")
		return
	}
	if d.info.Version != v || d.info.Revision != rev {
		d.add("version", checkWarn, fmt.Sprintf("heph is %s (%s) but hephd runs %s (%s)", v, rev, d.info.Version, d.info.Revision),
			"heph daemon restart   (restarts hephd onto the installed binary)")
		return
	}
	d.add("version", checkOK, fmt.Sprintf("heph and hephd are both %s (%s)", v, rev), "")
}

// checkService checks the installed service file: it parses, hephd would
// accept its flags, its binary exists, and (Linux) lingering is on.
func (d *doctor) checkService() {
	m, err := newServiceManager(osGetenv)
	if err != nil {
		d.add("service", checkSkip, "no service manager: "+err.Error(), "")
		return
	}
	cfg, _, err := readServiceFile(m)
	switch {
	case errors.Is(err, errNotInstalled):
		d.add("service", checkSkip, fmt.Sprintf("no %s installed (hephd runs only when started by hand)", m.kind()), "")
		return
	case err != nil:
		d.add("service", checkFail, err.Error(), "heph daemon restart --force   (rewrites the service file)")
		return
	}
	d.svc = &cfg
	if err := cfg.validate(); err != nil {
		d.add("service", checkFail, fmt.Sprintf("%s %s: %v", m.kind(), m.path(), err), "heph daemon restart with corrected flags (heph daemon status shows the baked ones)")
		return
	}
	if fi, err := os.Stat(cfg.Binary); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		d.add("service", checkFail, fmt.Sprintf("%s %s runs %s, which is not an executable file", m.kind(), m.path(), cfg.Binary),
			"heph daemon restart   (bakes the heph you run now; add --force if it lives in a temporary directory)")
		return
	}
	if w := m.warnings(); len(w) > 0 {
		d.add("service", checkWarn, strings.Join(w, "; "), "")
		return
	}
	d.add("service", checkOK, fmt.Sprintf("%s %s runs %s", m.kind(), m.path(), cfg.Binary), "")
}

// storePath is the store hephd serves, else the service's --db, else the
// default.
func (d *doctor) storePath() (string, error) {
	if d.info != nil && d.info.DB != "" {
		return d.info.DB, nil
	}
	flagDB := ""
	if d.svc != nil {
		flagDB = d.svc.flag("db")
	}
	p, err := resolvePaths(flagDB, d.c.socket, osGetenv)
	return p.DB, err
}

// checkStore runs quick_check on the store and reports its size, its
// write-ahead log's size and the free disk space.
func (d *doctor) checkStore() {
	if d.info != nil && d.info.Mode == "client" {
		d.add("store", checkSkip, "a thin client keeps no store", "")
		return
	}
	db, err := d.storePath()
	if err != nil {
		d.add("store", checkFail, err.Error(), "")
		return
	}
	fi, err := os.Stat(db)
	if errors.Is(err, fs.ErrNotExist) {
		d.add("store", checkWarn, db+" does not exist yet", "start hephd once (heph daemon start); it creates the store")
		return
	}
	info, err := checkStoreFile(d.ctx, db, "quick_check")
	if err != nil {
		d.add("store", checkFail, err.Error(), "restore a backup: heph daemon stop; heph restore FILE (docs/how-to/back-up-and-restore.md)")
		return
	}
	d.add("store", checkOK, fmt.Sprintf("%s passes quick_check (%s, %d tasks, schema %d)", db, formatBytes(fi.Size()), info.Tasks, info.SchemaVersion), "")
	d.checkWAL(db, fi.Size())
	d.checkDisk(db)
}

// walWarnBytes: a write-ahead log this large means checkpoints stall
// (a reader that never finishes).
const walWarnBytes = 256 << 20

func (d *doctor) checkWAL(db string, size int64) {
	wal, err := os.Stat(db + "-wal")
	switch {
	case err != nil:
		d.add("wal", checkOK, "no write-ahead log (hephd is stopped or has checkpointed)", "")
	case wal.Size() > walWarnBytes && wal.Size() > size:
		d.add("wal", checkWarn, fmt.Sprintf("the write-ahead log is %s, larger than the store (%s): checkpoints are not keeping up", formatBytes(wal.Size()), formatBytes(size)),
			"heph daemon restart   (a clean shutdown checkpoints it)")
	default:
		d.add("wal", checkOK, fmt.Sprintf("write-ahead log %s", formatBytes(wal.Size())), "")
	}
}

// Free space below which the store's writes (and backups) are at risk.
const (
	diskFailBytes = 64 << 20
	diskWarnBytes = 1 << 30
)

func (d *doctor) checkDisk(db string) {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(db), &st); err != nil {
		d.add("disk", checkWarn, fmt.Sprintf("cannot read free space of %s: %v", filepath.Dir(db), err), "")
		return
	}
	free := int64(uint64(st.Bavail) * uint64(st.Bsize))
	msg := fmt.Sprintf("%s free on the store's file system", formatBytes(free))
	switch {
	case free < diskFailBytes:
		d.add("disk", checkFail, msg+": writes will soon fail", "free disk space on "+filepath.Dir(db))
	case free < diskWarnBytes:
		d.add("disk", checkWarn, msg, "free disk space on "+filepath.Dir(db))
	default:
		d.add("disk", checkOK, msg, "")
	}
}

// checkSync reports the last sync's age, its error and open conflicts.
func (d *doctor) checkSync() {
	if d.info == nil || d.sync == nil {
		d.add("sync", checkSkip, "hephd not reachable", "")
		return
	}
	st := d.sync
	switch {
	case st.Mode == "none" || st.Mode == "":
		if st.Conflicts > 0 {
			d.add("sync", checkWarn, fmt.Sprintf("no hub, but %d open conflict(s) from earlier syncs", st.Conflicts), "heph conflicts")
			return
		}
		d.add("sync", checkSkip, "hephd syncs with no hub", "")
		return
	case st.Mode != "spoke":
		d.add("sync", checkSkip, "a "+st.Mode+" does not sync a replica", "")
		return
	}
	var problems, fixes []string
	switch {
	case st.LastSuccess == nil:
		problems = append(problems, "never synced")
	case d.now().Sub(*st.LastSuccess) > time.Hour:
		problems = append(problems, "last synced "+d.now().Sub(*st.LastSuccess).Round(time.Minute).String()+" ago")
	}
	if st.LastError != "" {
		problems = append(problems, "last error: "+st.LastError)
		fixes = append(fixes, "heph sync --now shows the error as it happens")
	}
	if st.Conflicts > 0 {
		problems = append(problems, fmt.Sprintf("%d open conflict(s)", st.Conflicts))
		fixes = append(fixes, "heph conflicts")
	}
	if len(problems) > 0 {
		d.add("sync", checkWarn, strings.Join(problems, "; "), strings.Join(fixes, "; "))
		return
	}
	d.add("sync", checkOK, fmt.Sprintf("last synced %s ago, %d op(s) waiting to push", d.now().Sub(*st.LastSuccess).Round(time.Second), st.PendingPush), "")
}

// checkSelfUpdate reports the updater's state.
func (d *doctor) checkSelfUpdate() {
	if d.info == nil {
		d.add("self-update", checkSkip, "hephd not reachable", "")
		return
	}
	su := d.info.SelfUpdate
	switch {
	case !su.Enabled:
		d.add("self-update", checkSkip, "off (heph daemon restart --self-update turns it on)", "")
	case su.LastError != "":
		d.add("self-update", checkWarn, "the last check failed: "+su.LastError, "heph daemon logs shows the attempts")
	case su.LastCheck == nil:
		d.add("self-update", checkOK, fmt.Sprintf("on, every %s from %s; not checked yet", formatInterval(time.Duration(su.IntervalSecs)*time.Second), su.Module), "")
	default:
		d.add("self-update", checkOK, fmt.Sprintf("on; last check %s ago: %s", d.now().Sub(*su.LastCheck).Round(time.Second), su.LastResult), "")
	}
}

// isLoopbackURL reports whether u's host is a loopback address or name.
func isLoopbackURL(u *url.URL) bool {
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// tlsSummary describes a verified TLS connection's certificate.
func tlsSummary(cs *tls.ConnectionState, now time.Time) (string, string) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return checkOK, "TLS"
	}
	leaf := cs.PeerCertificates[0]
	left := leaf.NotAfter.Sub(now)
	msg := fmt.Sprintf("TLS %s, certificate for %s valid until %s", tls.VersionName(cs.Version), leaf.Subject.CommonName, leaf.NotAfter.Format(time.DateOnly))
	if left < 14*24*time.Hour {
		return checkWarn, msg + fmt.Sprintf(" (%d days left)", int(left.Hours()/24))
	}
	return checkOK, msg
}
