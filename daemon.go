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
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hephd [flags]   (or: heph hephd [flags])\n\nhephd owns heph's store and serves clients on a unix socket.\n\nFlags:\n")
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

// serveDaemon opens the store, serves the socket until ctx ends, then shuts
// down cleanly: stop accepting, finish requests, close the store, remove
// the socket.
func serveDaemon(ctx context.Context, o daemonOptions, logger *log.Logger) error {
	switch o.Mode {
	case "local":
	case "server", "client":
		return fmt.Errorf("--mode %s is not available yet in this hephd; use --mode local", o.Mode)
	default:
		return fmt.Errorf("unknown --mode %q: want local, server or client", o.Mode)
	}
	paths, err := resolvePaths(o.DB, o.Socket, osGetenv)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, paths.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	d := &daemon{opts: o, paths: paths, store: store, log: logger, started: time.Now(), stop: stop}
	disp := &dispatcher{methods: d.methods(), log: logger}
	srv, err := listenSocket(paths.Socket, disp, logger)
	if err != nil {
		return err
	}
	d.srv = srv
	v, _ := buildVersion()
	logger.Printf("hephd %s pid %d serving %s (store %s, mode %s)", v, os.Getpid(), paths.Socket, paths.DB, o.Mode)
	errc := make(chan error, 1)
	go func() { errc <- srv.serve(context.WithoutCancel(ctx)) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			return err
		}
	}
	logger.Printf("hephd shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.shutdown(sctx); err != nil {
		logger.Printf("%v", err)
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", paths.DB, err)
	}
	logger.Printf("hephd stopped")
	return nil
}

// methods is the daemon's full RPC method table.
func (d *daemon) methods() map[string]handler {
	m := map[string]handler{
		"daemon.info": d.info,
	}
	for name, h := range nodeMethods(d.store) {
		m[name] = h
	}
	return m
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
}

// protocolVersion changes only when a change would break existing clients.
const protocolVersion = 1

func (d *daemon) info(ctx context.Context, params json.RawMessage) (any, error) {
	var p struct{}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	counts, err := d.store.counts(ctx)
	if err != nil {
		return nil, err
	}
	v, rev := buildVersion()
	return daemonInfo{Version: v, Revision: rev, PID: os.Getpid(), Mode: d.opts.Mode, DB: d.paths.DB,
		Socket: d.paths.Socket, Started: d.started, Counts: counts, Protocol: protocolVersion}, nil
}

// counts returns node counts for daemon.info.
func (s *Store) counts(ctx context.Context) (map[string]int, error) {
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
