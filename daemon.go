// hephd's main: its flags, one setup per mode (local, server, client), serving until shutdown, daemon.info.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// daemonOptions are hephd's flags.
type daemonOptions struct {
	Mode    string
	DB      string
	Socket  string
	Log     string
	Version bool

	// Sync (spoke, hub and thin client).
	HubURL        string
	HubCA         string
	SyncInterval  time.Duration
	HTTPAddr      string
	TLSCert       string
	TLSKey        string
	AuthorizedSub stringList
	MultiOwner    bool
	TokenFile     string
	TokenLoadCmd  string
	TokenSaveCmd  string

	// OIDC (hub verification; spoke login defaults).
	OIDCIssuer   string
	OIDCAudience string
	OIDCClientID string
	OIDCLeeway   time.Duration

	// Web app (server mode; web.go).
	WebRoot     string
	WebClientID string

	// Self-update.
	SelfUpdate           bool
	SelfUpdateInterval   int
	SelfUpdateModule     string
	SelfUpdatePrerelease bool

	// Live events (events_hook.go).
	OnChange        string
	OnChangeTimeout time.Duration
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// daemonFlagSet declares hephd's flags on a new FlagSet.
func daemonFlagSet(o *daemonOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("hephd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Mode, "mode", "local", "`mode`: local (own the store), server (sync hub) or client (forward to a hub)")
	fs.StringVar(&o.DB, "db", "", "store `path` (default $HEPH_DB, $XDG_DATA_HOME/heph/heph.db or ~/.local/share/heph/heph.db)")
	fs.StringVar(&o.Socket, "socket", "", "socket `path` (default $HEPH_SOCKET, $XDG_RUNTIME_DIR/heph/hephd.sock or ~/.local/share/heph/hephd.sock)")
	fs.StringVar(&o.Log, "log", "", "log `file`, rotated by hephd (default stderr)")
	fs.BoolVar(&o.Version, "version", false, "print the version and exit")

	fs.StringVar(&o.HubURL, "hub-url", "", "sync with the hub at `URL` (a spoke in local mode; the hub to forward to in client mode)")
	fs.StringVar(&o.HubCA, "hub-ca", "", "PEM `file` of a private CA that signs the hub's certificate")
	fs.DurationVar(&o.SyncInterval, "sync-interval", 30*time.Second, "time between background syncs with the hub")
	fs.StringVar(&o.HTTPAddr, "http-addr", "127.0.0.1:8417", "server mode: listen `address` for the hub's HTTP API")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "server mode: serve HTTPS with this certificate `file`")
	fs.StringVar(&o.TLSKey, "tls-key", "", "server mode: the TLS certificate's key `file`")
	fs.Var(&o.AuthorizedSub, "authorized-sub", "server mode: admit this OIDC `subject` to the hub's owner (repeatable)")
	fs.BoolVar(&o.MultiOwner, "multi-owner", false, "server mode: every authenticated subject is its own owner")
	fs.StringVar(&o.TokenFile, "token-file", "", "spoke: the hub token `file` (default $XDG_CONFIG_HOME/heph/hub-token.json)")
	fs.StringVar(&o.TokenLoadCmd, "token-load-cmd", "", "spoke: shell `command` printing the hub token JSON (instead of --token-file)")
	fs.StringVar(&o.TokenSaveCmd, "token-save-cmd", "", "spoke: shell `command` storing the hub token JSON read on stdin")
	fs.StringVar(&o.OIDCIssuer, "oidc-issuer", "", "server mode: the OIDC issuer `URL` whose tokens the hub accepts")
	fs.StringVar(&o.OIDCAudience, "oidc-audience", "", "server mode: the audience hub tokens must carry")
	fs.StringVar(&o.OIDCClientID, "oidc-client-id", "", "the public OIDC client id spokes log in with (served on /config)")
	fs.DurationVar(&o.OIDCLeeway, "oidc-leeway", 60*time.Second, "clock skew allowed when checking token times")
	fs.StringVar(&o.WebRoot, "web-root", "", "server mode: serve the web app from `DIR` instead of the copy built in")
	fs.StringVar(&o.WebClientID, "web-client-id", "", "server mode: the public OIDC client `id` the web app logs in with (default --oidc-client-id)")
	fs.BoolVar(&o.SelfUpdate, "self-update", false, "install newer releases with `go install` and restart onto them")
	fs.IntVar(&o.SelfUpdateInterval, "self-update-interval-secs", 21600, "seconds between self-update checks")
	fs.StringVar(&o.SelfUpdateModule, "self-update-module", "", "module to update from (default: this binary's main module)")
	fs.BoolVar(&o.SelfUpdatePrerelease, "self-update-prerelease", false, "also update to pre-release versions")
	fs.StringVar(&o.OnChange, "on-change", "", "run shell `command` for each committed change, with the event's JSON on stdin (in order, one at a time)")
	fs.DurationVar(&o.OnChangeTimeout, "on-change-timeout", 30*time.Second, "kill an --on-change command (and its process group) still running after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hephd [flags]   (or: heph hephd [flags])\n\nhephd owns heph's store and serves clients on a unix socket.\n\nExample:\n  %s\n\nFlags:\n", commandNamed("hephd").example)
		fs.PrintDefaults()
	}
	return fs
}

// daemon is a running hephd.
type daemon struct {
	opts    daemonOptions
	paths   Paths
	store   *Store
	log     *log.Logger
	started time.Time
	srv     *socketServer
	stop    context.CancelFunc // begins a clean shutdown
	syncer  *syncer            // a spoke's sync loop (nil without --hub-url)
	updater *selfUpdater       // nil unless --self-update
	tokens  *tokenSource       // the hub's access tokens (nil without --hub-url)
	// hubEvents and ownerKey: on a hub, its event tickets and the owner
	// this daemon's store belongs to (events_hub.go).
	hubEvents *hubEvents
	ownerKey  string
	fwd       *forwarder // a thin client's link to its hub (nil unless --mode client)
}

// runDaemon is hephd's main. It returns the exit status.
func runDaemon(args []string, stdout, stderr io.Writer) int {
	var o daemonOptions
	fs := daemonFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hephd: unexpected argument %q (hephd takes only flags; see hephd -h)\n", fs.Arg(0))
		return 2
	}
	if o.Version {
		v, rev := buildVersion()
		fmt.Fprintf(stdout, "hephd %s (%s)\n", v, rev)
		return 0
	}
	logger, closeLog, err := openDaemonLog(o.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "hephd: %v\n", err)
		return 1
	}
	defer closeLog()
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	if err := serveDaemon(ctx, o, logger); err != nil {
		logger.Printf("hephd: %v", err)
		if o.Log != "" {
			fmt.Fprintf(stderr, "hephd: %v\n", err)
		}
		return 1
	}
	return 0
}

func openDaemonLog(path string, stderr io.Writer) (*log.Logger, func(), error) {
	if path == "" {
		return log.New(stderr, "", log.LstdFlags), func() {}, nil
	}
	f, err := openRotatingFile(path, 10<<20, 3)
	if err != nil {
		return nil, nil, err
	}
	return log.New(f, "", log.LstdFlags), func() { f.Close() }, nil
}

// serveDaemon runs hephd in its mode until ctx ends, then shuts down
// cleanly: stop accepting, finish requests, close the store (once),
// remove the socket.
//   - local: own the store; with --hub-url also sync with that hub.
//   - server: own the hub's store, serve the hub's HTTP API and the socket.
//   - client: keep no store; forward requests to the hub (--hub-url).
func serveDaemon(ctx context.Context, o daemonOptions, logger *log.Logger) error {
	if err := checkModeOptions(o); err != nil {
		return err
	}
	paths, err := resolvePaths(o.DB, o.Socket, osGetenv)
	if err != nil {
		return err
	}
	d := &daemon{opts: o, paths: paths, log: logger, started: time.Now()}
	if o.Mode != "client" {
		if d.store, err = openStore(ctx, paths.DB); err != nil {
			return err
		}
		d.store.events.log = logger
	}
	err = d.serve(ctx)
	if d.store != nil {
		if cerr := d.store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store %s: %w", paths.DB, cerr)
		}
	}
	if err == nil {
		logger.Printf("hephd stopped")
	}
	return err
}

// storeDamage delivers the verdict of the store's integrity check
// (startHealthCheck) when it finds damage: hephd then stops, exit 1, with
// what to do. Nothing arrives for a healthy store or a thin client.
func (d *daemon) storeDamage() <-chan error {
	c := make(chan error, 1)
	if d.store == nil {
		return c
	}
	go func() {
		<-d.store.Health()
		if err := d.store.HealthErr(); err != nil {
			c <- err
		}
	}()
	return c
}

// checkModeOptions refuses a --mode without the flags it needs.
func checkModeOptions(o daemonOptions) error {
	switch o.Mode {
	case "local":
	case "server":
		if o.OIDCIssuer == "" {
			return fmt.Errorf("--mode server needs --oidc-issuer URL and --oidc-audience AUD: the hub only admits tokens from that issuer")
		}
		if o.OIDCAudience == "" {
			return fmt.Errorf("--mode server needs --oidc-audience AUD (the audience hub tokens carry)")
		}
	case "client":
		if o.HubURL == "" {
			return fmt.Errorf("--mode client needs --hub-url URL: a thin client forwards every request to its hub")
		}
	default:
		return fmt.Errorf("unknown --mode %q: want local, server or client", o.Mode)
	}
	if o.OnChange != "" && o.Mode == "client" {
		return fmt.Errorf("--on-change needs a store: a thin client (--mode client) has none; run the hook where hephd owns the store")
	}
	if o.OnChangeTimeout <= 0 {
		return fmt.Errorf("--on-change-timeout must be positive, not %s", o.OnChangeTimeout)
	}
	if o.WebRoot != "" {
		if err := checkWebRoot(o.WebRoot); err != nil {
			return err
		}
	}
	if o.SelfUpdateInterval < 1 {
		return fmt.Errorf("--self-update-interval-secs must be at least 1, not %d", o.SelfUpdateInterval)
	}
	return nil
}

// serve sets the daemon up for its mode, serves the socket (and a hub's
// HTTP API) until ctx ends or serving fails, and waits for its background
// work to stop.
func (d *daemon) serve(parent context.Context) error {
	ctx, stop := context.WithCancel(parent)
	d.stop = stop
	var bg sync.WaitGroup
	defer func() { stop(); bg.Wait() }()
	var h *hub
	var err error
	switch d.opts.Mode {
	case "client":
		err = d.setupClient(ctx, &bg)
	case "server":
		h = d.setupServer()
		defer h.close()
	default:
		err = d.setupLocal(ctx, &bg)
	}
	if err != nil {
		return err
	}
	if d.opts.OnChange != "" {
		stopHook, err := startChangeHook(ctx, d.store, &changeHook{cmd: d.opts.OnChange, timeout: d.opts.OnChangeTimeout, socket: d.paths.Socket, log: d.log})
		if err != nil {
			return err
		}
		defer stopHook()
	}
	srv, err := listenSocket(d.paths.Socket, &dispatcher{methods: d.socketMethods(d.fwd), log: d.log}, d.log)
	if err != nil {
		return err
	}
	d.srv = srv
	v, _ := buildVersion()
	d.log.Printf("hephd %s pid %d serving %s (store %s, mode %s)", v, os.Getpid(), d.paths.Socket, d.paths.DB, d.opts.Mode)
	if err := d.startSelfUpdate(ctx, v); err != nil {
		d.log.Printf("self-update: %v", err)
	}
	errc := make(chan error, 2)
	go runGuarded(ctx, d.log, "socket server", func(ctx context.Context) {
		if err := srv.serve(context.WithoutCancel(ctx)); err != nil {
			errc <- err
		}
	})
	if h != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			if err := h.serve(ctx, nil); err != nil {
				errc <- err
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	case runErr = <-d.storeDamage():
	}
	stop()
	d.log.Printf("hephd shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.shutdown(sctx); err != nil {
		d.log.Printf("%v", err)
	}
	bg.Wait() // the hub's HTTP server and the sync loop, before h.close
	return runErr
}

// startTokens keeps the hub's access token fresh in the background.
func (d *daemon) startTokens(ctx context.Context, bg *sync.WaitGroup) error {
	var err error
	if d.tokens, err = newDaemonTokenSource(d.opts); err != nil {
		return err
	}
	if cleartextHub(d.opts.HubURL) {
		d.log.Print(cleartextWarning(d.opts.HubURL))
	}
	bg.Add(1)
	go func() { defer bg.Done(); runGuarded(ctx, d.log, "token refresh", d.tokens.run) }()
	return nil
}

// setupClient makes a thin client: no store, thin methods forwarded.
func (d *daemon) setupClient(ctx context.Context, bg *sync.WaitGroup) error {
	if err := d.startTokens(ctx, bg); err != nil {
		return err
	}
	c, err := newHubClient(d.opts.HubURL, d.opts.HubCA, d.tokens)
	if err != nil {
		return err
	}
	d.fwd = &forwarder{c: c}
	return nil
}

// setupServer makes a hub around the daemon's store.
func (d *daemon) setupServer() *hub {
	if d.opts.HubURL != "" {
		d.log.Printf("--hub-url is ignored in server mode: a hub does not sync with another hub")
	}
	return newHub(d, newLazyVerifier(d.opts, d.log))
}

// setupLocal starts a spoke's sync loop when there is a --hub-url.
func (d *daemon) setupLocal(ctx context.Context, bg *sync.WaitGroup) error {
	if d.opts.HubURL == "" {
		return nil
	}
	if err := d.startTokens(ctx, bg); err != nil {
		return err
	}
	c, err := newHubClient(d.opts.HubURL, d.opts.HubCA, d.tokens)
	if err != nil {
		return err
	}
	d.syncer = newSyncer(d.store, c, d.opts.SyncInterval, d.log)
	d.syncer.auth = d.tokens.Status
	d.store.onLocalWrite = d.syncer.notify
	bg.Add(1)
	go func() { defer bg.Done(); runGuarded(ctx, d.log, "sync", d.syncer.run) }()
	d.log.Printf("syncing with %s every %s", c.base, d.opts.SyncInterval)
	return nil
}

// startSelfUpdate runs the updater in the background when --self-update is
// on, and removes the binary a previous update kept now that this one runs.
func (d *daemon) startSelfUpdate(ctx context.Context, version string) error {
	exe, err := selfExecutable(osGetenv)
	if err != nil {
		return err
	}
	removePreviousBinary(exe, d.log)
	if !d.opts.SelfUpdate {
		return nil
	}
	module := d.opts.SelfUpdateModule
	if module == "" {
		module = mainModulePath()
	}
	d.updater = newSelfUpdater(selfUpdateConfig{
		Interval:   time.Duration(d.opts.SelfUpdateInterval) * time.Second,
		Module:     module,
		Prerelease: d.opts.SelfUpdatePrerelease,
		Current:    version,
		Executable: exe,
	}, d.log)
	d.log.Printf("self-update: on, checking %s every %s (running %s, binary %s)", module, formatInterval(time.Duration(d.opts.SelfUpdateInterval)*time.Second), version, exe)
	go runGuarded(ctx, d.log, "self-update", func(ctx context.Context) {
		d.updater.Run(ctx, func(from, to string) {
			d.log.Printf("self-update: %s -> %s", from, to)
			d.stop()
		})
	})
	return nil
}

// daemonInfo is the reply of daemon.info.
type daemonInfo struct {
	Version  string         `json:"version"`
	Revision string         `json:"revision"`
	PID      int            `json:"pid"`
	Mode     string         `json:"mode"`
	DB       string         `json:"db"`
	Socket   string         `json:"socket"`
	Started  time.Time      `json:"started"`
	Counts   map[string]int `json:"counts"`
	Protocol int            `json:"protocol"`
	// SelfUpdate is the updater's state; enabled is false when it is off.
	SelfUpdate selfUpdateStatus `json:"self_update"`
	// Hub says who owns a hub (server mode only).
	Hub *hubOwnership `json:"hub,omitempty"`
}

// protocolVersion changes only when a change would break existing clients.
const protocolVersion = 1

// rpcInfo is daemon.info.
func (d *daemon) rpcInfo(ctx context.Context, params json.RawMessage) (any, error) {
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	if d.store != nil { // a thin client keeps no store
		var err error
		if counts, err = d.store.counts(ctx); err != nil {
			return nil, err
		}
	}
	v, rev := buildVersion()
	su := selfUpdateStatus{Running: v}
	if d.updater != nil {
		su = d.updater.Status()
	}
	info := daemonInfo{Version: v, Revision: rev, PID: os.Getpid(), Mode: d.opts.Mode, DB: d.paths.DB,
		Socket: d.paths.Socket, Started: d.started, Counts: counts, Protocol: protocolVersion, SelfUpdate: su}
	if d.opts.Mode == "server" && d.store != nil {
		var err error
		if info.Hub, err = hubOwners(ctx, d.store, d.opts); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// counts returns node counts for daemon.info, recounting only after a
// write (a count over a large store takes far longer than the round trip
// `heph version` should).
func (s *Store) counts(ctx context.Context) (map[string]int, error) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	gen := s.generation.Load()
	if s.countsVal != nil && s.countsGen == gen {
		return s.countsVal, nil
	}
	c, err := s.countNodes(ctx)
	if err != nil {
		return nil, err
	}
	s.countsVal, s.countsGen = c, gen
	return c, nil
}

func (s *Store) countNodes(ctx context.Context) (map[string]int, error) {
	var nodes, tasks, docs, outstanding int
	err := s.db.QueryRowContext(ctx, `SELECT
		count(*),
		coalesce(sum(kind='task'),0),
		coalesce(sum(kind='doc'),0),
		(SELECT count(*) FROM tasks t JOIN nodes n ON n.id=t.node_id WHERE n.deleted IS NULL AND t.state='outstanding')
		FROM nodes WHERE deleted IS NULL`).Scan(&nodes, &tasks, &docs, &outstanding)
	if err != nil {
		return nil, fmt.Errorf("count nodes: %w", err)
	}
	return map[string]int{"nodes": nodes, "tasks": tasks, "docs": docs, "outstanding": outstanding}, nil
}
