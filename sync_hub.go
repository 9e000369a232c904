// The hub (hephd --mode server): the HTTP sync API, owners, limits and POST /rpc.

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The hub (hephd --mode server) keeps each owner's ops and serves them
// over HTTP to spokes, thin clients and web clients:
//
//	GET  /config        unauthenticated: issuer, client id, audience, version
//	GET  /healthz       unauthenticated liveness
//	POST /sync/push     {replica, ops:[Op]} → {applied, known, cursor}
//	GET  /sync/pull     ?after=SEQ&limit=N&replica=R → {ops, cursor, more}
//	POST /rpc           one JSON-RPC 2.0 request → its reply (Idempotency-Key: web_idempotency.go)
//	GET  /, /callback, /v/…  the web app (web.go)
//
// Every endpoint but /config and /healthz needs "Authorization: Bearer
// JWT" that the OIDC verifier accepts; a request without one gets 401 and
// reads and writes nothing.

// Hub limits.
const (
	hubRatePerSecond = 200 // sustained requests per subject
	hubRateBurst     = 400 // burst per subject
	hubMaxClockAhead = 24 * time.Hour
	hubOwnerKey      = "hub_owner" // meta key: the subject that owns a single-owner hub

	// A multi-owner hub keeps at most hubMaxOpenOwners owner stores open
	// (least recently used closed first) and admits at most
	// hubNewOwnersBurst new owners at once, hubNewOwnersPerMinute after.
	hubMaxOpenOwners      = 64
	hubNewOwnersPerMinute = 30
	hubNewOwnersBurst     = 60
)

// bearerVerifier checks a bearer token and returns its subject.
type bearerVerifier interface {
	VerifySubject(ctx context.Context, token string) (subject string, err error)
}

// hub serves the sync API.
type hub struct {
	opts     daemonOptions
	main     *daemon // the hub's own store (the single owner's, or the socket's)
	verifier bearerVerifier
	log      *log.Logger
	limiter  *rateLimiter
	authz    map[string]bool // --authorized-sub

	mu        sync.Mutex
	owners    map[string]*ownerStore // open owner stores, by owner key
	maxOpen   int                    // owner stores kept open (LRU beyond)
	newOwners *rateLimiter           // owners whose store does not exist yet
	events    *hubEvents             // GET /events and its tickets (events_hub.go)
	web       *webServer             // the web app (web.go)
	idem      *idemKeys              // Idempotency-Key on /rpc (web_idempotency.go)
}

// ownerStore is one owner's store and its RPC dispatcher.
type ownerStore struct {
	d     *daemon
	disp  *dispatcher
	users int       // requests using it now (never closed while > 0)
	used  time.Time // last use, for the LRU
}

// errTooManyNewOwners refuses a new owner beyond hubNewOwnersPerMinute.
var errTooManyNewOwners = errors.New("too many new owners: try again in a minute")

// newHub builds the hub around the daemon serving the main store.
func newHub(main *daemon, verifier bearerVerifier) *hub {
	h := &hub{opts: main.opts, main: main, verifier: verifier, log: main.log,
		limiter: newRateLimiter(hubRatePerSecond, hubRateBurst), authz: map[string]bool{}, owners: map[string]*ownerStore{},
		maxOpen: hubMaxOpenOwners, newOwners: newRateLimiter(hubNewOwnersPerMinute/60.0, hubNewOwnersBurst),
		web: newWebServer(main.opts.WebRoot, main.opts.OIDCIssuer, main.log), idem: newIdemKeys()}
	for _, s := range main.opts.AuthorizedSub {
		h.authz[s] = true
	}
	h.events = newHubEvents(func(key string) (*ownerStore, error) {
		if key == "" {
			return h.ownerStore("", h.main)
		}
		return h.ownerStore(key, nil)
	})
	main.hubEvents = h.events
	return h
}

// handler is the hub's HTTP handler.
func (h *hub) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config", h.serveConfig)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /sync/push", h.authed(h.servePush))
	mux.HandleFunc("GET /sync/pull", h.authed(h.servePull))
	mux.HandleFunc("POST /rpc", h.authed(h.serveRPC))
	mux.HandleFunc("GET /events", h.serveEvents)
	mux.Handle("/", h.web)
	return h.recoverer(mux)
}

// recoverer turns a panic in a handler into a 500 and a log line.
func (h *hub) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Printf("hub: panic serving %s %s: %v", r.Method, r.URL.Path, p)
				httpError(w, http.StatusInternalServerError, "internal error (logged by the hub)")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (h *hub) serveConfig(w http.ResponseWriter, r *http.Request) {
	// Unauthenticated: what login needs, and not the exact version (a
	// map of known holes for anyone scanning).
	writeJSON(w, http.StatusOK, hubConfig{Issuer: h.opts.OIDCIssuer, ClientID: h.opts.OIDCClientID,
		Audience: h.opts.OIDCAudience, WebClientID: webClientID(h.opts)})
}

// authedHandler serves a request for an authenticated owner.
type authedHandler func(w http.ResponseWriter, r *http.Request, o *ownerStore, subject string)

// authed checks the bearer token, the owner, and the rate limit before
// anything is read from the request body or the store.
func (h *hub) authed(next authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			unauthorized(w, "invalid_request", "missing bearer token: log in with heph auth login")
			return
		}
		sub, err := h.verifier.VerifySubject(r.Context(), token)
		if err != nil {
			h.log.Printf("hub: %s %s from %s: token rejected: %v", r.Method, r.URL.Path, r.RemoteAddr, err)
			unauthorized(w, "invalid_token", "token rejected")
			return
		}
		if !h.limiter.allow(sub, time.Now()) {
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusTooManyRequests, "rate limit exceeded: slow down")
			return
		}
		o, err := h.ownerFor(r.Context(), sub)
		if errors.Is(err, errTooManyNewOwners) {
			h.log.Printf("hub: new owner %q refused: more than %d new owners a minute", sub, hubNewOwnersPerMinute)
			w.Header().Set("Retry-After", "60")
			httpError(w, http.StatusTooManyRequests, err.Error())
			return
		}
		if errors.Is(err, errForbidden) {
			h.log.Printf("hub: subject %q is not an owner of this hub (add it with --authorized-sub)", sub)
			httpError(w, http.StatusForbidden, "this hub belongs to another owner; ask them to add your subject with --authorized-sub")
			return
		}
		if err != nil {
			h.log.Printf("hub: owner store for %q: %v", sub, err)
			httpError(w, http.StatusInternalServerError, "owner store unavailable (logged by the hub)")
			return
		}
		defer h.release(o)
		r.Body = http.MaxBytesReader(w, r.Body, syncMaxBody)
		next(w, r, o, sub)
	}
}

var errForbidden = errors.New("subject is not an owner of this hub")

// ownerFor finds (or, in multi-owner mode, opens) the store of sub's
// owner. In single-owner mode with --authorized-sub, exactly those subjects
// are the owners and nobody can claim the hub; without it, the first
// subject to authenticate claims it, once and atomically (persisted in the
// main store).
func (h *hub) ownerFor(ctx context.Context, sub string) (*ownerStore, error) {
	if h.opts.MultiOwner {
		return h.ownerStore(ownerKey(sub), nil)
	}
	if len(h.authz) > 0 {
		if !h.authz[sub] {
			return nil, errForbidden
		}
		return h.ownerStore("", h.main)
	}
	owner, err := h.main.store.claimMeta(ctx, hubOwnerKey, sub)
	if err != nil {
		return nil, err
	}
	if owner != sub {
		return nil, errForbidden
	}
	return h.ownerStore("", h.main)
}

// hubOwnership says who owns a hub, for daemon.info.
type hubOwnership struct {
	MultiOwner bool     `json:"multi_owner"`
	Owners     []string `json:"owners"`            // the subjects admitted (single owner)
	Source     string   `json:"source"`            // "authorized-sub", "claimed", "unclaimed" or "multi-owner"
	Stale      string   `json:"stale,omitempty"`   // a claimed owner that --authorized-sub shuts out
	Warning    string   `json:"warning,omitempty"` // what to do about Stale
}

// hubOwners reports the owners of the hub whose main store is s, under
// opts (ownerFor's rule, read-only).
func hubOwners(ctx context.Context, s *Store, opts daemonOptions) (*hubOwnership, error) {
	if opts.MultiOwner {
		return &hubOwnership{MultiOwner: true, Owners: []string{}, Source: "multi-owner"}, nil
	}
	claimed, err := s.metaValue(ctx, hubOwnerKey)
	if err != nil {
		return nil, err
	}
	if len(opts.AuthorizedSub) > 0 {
		o := &hubOwnership{Owners: append([]string{}, opts.AuthorizedSub...), Source: "authorized-sub"}
		if claimed != "" && !slices.Contains(opts.AuthorizedSub, claimed) {
			o.Stale = claimed
			o.Warning = fmt.Sprintf("subject %q claimed this hub before --authorized-sub was set and is now shut out; add --authorized-sub %q if it is yours", claimed, claimed)
		}
		return o, nil
	}
	if claimed == "" {
		return &hubOwnership{Owners: []string{}, Source: "unclaimed"}, nil
	}
	return &hubOwnership{Owners: []string{claimed}, Source: "claimed"}, nil
}

// ownerKey names a subject's directory without putting the subject (which
// may hold any character) in a path.
func ownerKey(sub string) string {
	sum := sha256.Sum256([]byte(sub))
	return hex.EncodeToString(sum[:16])
}

// ownerStore returns the owner store for key, in use until release,
// opening it under <data dir>/owners/<key>/heph.db when it is not open (d
// is the main daemon for the single owner). Opening one past h.maxOpen
// closes the least recently used idle one; a store that does not exist yet
// (a new owner) counts against h.newOwners.
func (h *hub) ownerStore(key string, d *daemon) (*ownerStore, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if o := h.owners[key]; o != nil {
		o.users++
		o.used = now
		return o, nil
	}
	if d == nil {
		path := filepath.Join(filepath.Dir(h.main.paths.DB), "owners", key, "heph.db")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !h.newOwners.allow("", now) {
			return nil, errTooManyNewOwners
		}
		h.evictLocked()
		s, err := openStore(context.Background(), path)
		if err != nil {
			return nil, err
		}
		s.events.log = h.log
		d = &daemon{opts: h.opts, paths: Paths{DB: path}, store: s, log: h.log, started: h.main.started,
			hubEvents: h.events, ownerKey: key}
	}
	methods := d.hubMethods()
	methods["daemon.info"] = d.rpcHubInfo
	o := &ownerStore{d: d, disp: &dispatcher{methods: methods, log: h.log}, users: 1, used: now}
	h.owners[key] = o
	return o, nil
}

// release ends a request's use of o.
func (h *hub) release(o *ownerStore) {
	h.mu.Lock()
	o.users--
	h.mu.Unlock()
}

// evictLocked closes idle owner stores, least recently used first, until
// there is room for one more under h.maxOpen. Stores in use stay open
// (the bound is then exceeded until they are released).
func (h *hub) evictLocked() {
	for len(h.owners) >= h.maxOpen {
		var lruKey string
		var lru *ownerStore
		for k, o := range h.owners {
			if o.users == 0 && o.d != h.main && (lru == nil || o.used.Before(lru.used)) {
				lruKey, lru = k, o
			}
		}
		if lru == nil {
			return
		}
		if err := lru.d.store.Close(); err != nil {
			h.log.Printf("hub: close owner store %s: %v", lru.d.paths.DB, err)
		}
		delete(h.owners, lruKey)
	}
}

// close closes the owner stores the hub opened (not the main one).
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, o := range h.owners {
		if o.d != h.main {
			o.d.store.Close()
		}
		delete(h.owners, k)
	}
}

// pushRequest is the body of POST /sync/push.
type pushRequest struct {
	Replica string `json:"replica"`
	Format  int    `json:"format"` // syncFormat (sync_format.go)
	Ops     []Op   `json:"ops"`
}

// pushReply answers a push.
type pushReply struct {
	Applied int   `json:"applied"` // new to the hub
	Known   int   `json:"known"`   // already there (retries)
	Cursor  int64 `json:"cursor"`  // the hub's newest seq after the push
	Format  int   `json:"format"`  // syncFormat
}

func (h *hub) servePush(w http.ResponseWriter, r *http.Request, o *ownerStore, sub string) {
	req, err := decodePush(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("push body over %d bytes: push fewer ops at once", syncMaxBody))
			return
		}
		httpError(w, http.StatusBadRequest, "bad push body: "+err.Error())
		return
	}
	if !checkPushFormat(w, req.Format) {
		return
	}
	if len(req.Ops) > syncPageOps {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("push of %d ops: push at most %d at once", len(req.Ops), syncPageOps))
		return
	}
	if err := validateOps(req.Ops, time.Now()); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := o.d.store.mergeRemote(r.Context(), req.Ops, false, 0)
	if err != nil {
		h.log.Printf("hub: push of %d ops from %q rejected: %v", len(req.Ops), sub, err)
		httpError(w, http.StatusUnprocessableEntity, "push rejected, nothing applied: "+err.Error())
		return
	}
	cursor, err := o.d.store.maxSeq(r.Context())
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, pushReply{Applied: res.Applied, Known: res.Known, Cursor: cursor, Format: syncFormat})
}

// decodePush decodes a push body strictly: one object, no unknown keys.
func decodePush(r io.Reader) (pushRequest, error) {
	var req pushRequest
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	return req, err
}

// pullReply answers a pull.
type pullReply struct {
	Ops    []seqOp `json:"ops"`
	Cursor int64   `json:"cursor"` // pass as ?after= next time
	More   bool    `json:"more"`   // another page is waiting
	Format int     `json:"format"` // syncFormat
}

func (h *hub) servePull(w http.ResponseWriter, r *http.Request, o *ownerStore, sub string) {
	if !checkPullFormat(w, r) {
		return
	}
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		httpError(w, http.StatusBadRequest, "after must be a non-negative integer (the cursor of the last pull)")
		return
	}
	limit := syncPageOps
	if s := q.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit < 1 {
			httpError(w, http.StatusBadRequest, "limit must be a positive integer")
			return
		}
		limit = min(limit, syncPageOps)
	}
	ops, cursor, more, err := o.d.store.opsAfter(r.Context(), after, limit, q.Get("replica"))
	if err != nil {
		h.log.Printf("hub: pull for %q: %v", sub, err)
		httpError(w, http.StatusInternalServerError, "read ops failed (logged by the hub)")
		return
	}
	if ops == nil {
		ops = []seqOp{}
	}
	writeJSON(w, http.StatusOK, pullReply{Ops: ops, Cursor: cursor, More: more, Format: syncFormat})
}

func (h *hub) serveRPC(w http.ResponseWriter, r *http.Request, o *ownerStore, sub string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLine))
	if err != nil {
		httpError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), hubSubjectKey{}, sub))
	reply, ok := h.dispatchRPC(w, r, o, body)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if reply == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Write(reply)
}

// maxSeq is the newest op sequence number in the store.
func (s *Store) maxSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq),0) FROM ops`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read newest op: %w", err)
	}
	return n, nil
}

// bearerToken extracts the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	a := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(a, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// unauthorized answers 401 with an RFC 6750 WWW-Authenticate challenge.
func unauthorized(w http.ResponseWriter, code, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="heph", error=%q, error_description=%q`, code, desc))
	httpError(w, http.StatusUnauthorized, desc)
}

// httpError writes {"error": msg} with status.
func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// rateLimiter is a token bucket per key (the subject).
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate, burst float64) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket, if there is one.
func (l *rateLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 10000 {
			l.buckets = map[string]*bucket{} // bound memory; forgetting only forgives
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// serveHub listens on --http-addr and serves until ctx ends. With
// --tls-cert/--tls-key it serves HTTPS; plain HTTP on a non-loopback
// address logs a warning (fine behind a TLS proxy, dangerous otherwise).
func (h *hub) serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", h.opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("hub listen on %s: %w", h.opts.HTTPAddr, err)
	}
	tlsOn := h.opts.TLSCert != "" || h.opts.TLSKey != ""
	if tlsOn && (h.opts.TLSCert == "" || h.opts.TLSKey == "") {
		ln.Close()
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if !tlsOn && !isLoopback(ln.Addr()) {
		h.log.Printf("WARNING: the hub listens on %s without TLS: tokens and tasks cross the network in clear. Use --tls-cert/--tls-key or a TLS proxy.", ln.Addr())
	}
	srv := &http.Server{
		Handler:           h.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          h.log,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(h.events.shutdown)
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	h.log.Printf("hub serving %s://%s (issuer %s, audience %s, multi-owner %v)", scheme, ln.Addr(), h.opts.OIDCIssuer, h.opts.OIDCAudience, h.opts.MultiOwner)
	if o, err := hubOwners(ctx, h.main.store, h.opts); err == nil {
		h.log.Printf("hub owners: %s", hubOwnersLine(o))
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- srv.ServeTLS(ln, h.opts.TLSCert, h.opts.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("hub: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("hub shutdown: %w", err)
	}
	return nil
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// hubOwnersLine is a hub's owners as one terminal line.
func hubOwnersLine(o *hubOwnership) string {
	var line string
	switch o.Source {
	case "multi-owner":
		line = "every authenticated subject owns its own store (--multi-owner)"
	case "unclaimed":
		line = "none yet: the first subject to sync claims this hub"
	default:
		line = strings.Join(o.Owners, ", ") + " (" + o.Source + ")"
	}
	if o.Warning != "" {
		line += "; WARNING: " + o.Warning
	}
	return displayText(line)
}

// hubInfo is daemon.info as the hub serves it on /rpc: what a client of
// the hub needs, and none of the hub machine's details (paths, pid, exact
// version, self-update state).
type hubInfo struct {
	Mode     string         `json:"mode"`
	Protocol int            `json:"protocol"`
	Counts   map[string]int `json:"counts"`
}

func (d *daemon) rpcHubInfo(ctx context.Context, params json.RawMessage) (any, error) {
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	counts, err := d.store.counts(ctx)
	if err != nil {
		return nil, err
	}
	return hubInfo{Mode: "server", Protocol: protocolVersion, Counts: counts}, nil
}
