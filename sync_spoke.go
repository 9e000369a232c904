// The spoke: the sync loop with its hub (pull, merge, push), backoff, and sync.status / sync.now.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A spoke (hephd --mode local --hub-url URL) keeps its full replica and
// exchanges ops with the hub: pull (merge what others made) then push
// (what was made here), on a timer, soon after each local mutation, and
// on demand (sync.now). Cursors are persisted per hub, so a restarted
// spoke resumes where it stopped; pushes carry op ids, so a retried push
// is a no-op at the hub.

// Spoke tuning.
const (
	syncDebounce   = time.Second     // wait after a local mutation before syncing
	syncMaxBackoff = 5 * time.Minute // longest wait after failures
)

// hubTokenSource supplies the bearer token for hub requests.
type hubTokenSource interface {
	Token(ctx context.Context) (string, error)
}

// hubAuthError is the hub refusing the credentials (401/403).
type hubAuthError struct {
	status int
	msg    string
}

func (e *hubAuthError) Error() string {
	if e.status == http.StatusForbidden {
		return "the hub refused this identity (403): " + e.msg
	}
	return "the hub rejected the token (401): " + e.msg + " — run: heph auth login"
}

// hubClient talks to a hub's HTTP API.
type hubClient struct {
	base   string // without a trailing slash
	http   *http.Client
	tokens hubTokenSource
	// bytesOut and bytesIn count body bytes on the wire (for the bench).
	mu                sync.Mutex
	bytesOut, bytesIn int64
}

// newHubClient builds a client for hubURL. caFile, when set, is a PEM
// bundle of a private CA that signs the hub's certificate, trusted besides
// the system roots.
func newHubClient(hubURL, caFile string, tokens hubTokenSource) (*hubClient, error) {
	u, err := url.Parse(hubURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--hub-url %q: want http://HOST[:PORT] or https://HOST[:PORT]", hubURL)
	}
	hc, err := newHubHTTPClient(caFile)
	if err != nil {
		return nil, fmt.Errorf("--hub-ca: %w", err)
	}
	hc.Timeout = 2 * time.Minute
	return &hubClient{base: normalizeHubURL(hubURL), http: hc, tokens: tokens}, nil
}

// do sends one request with the bearer token and decodes a 200 reply
// into out. Non-2xx replies become errors carrying the hub's message.
func (c *hubClient) do(ctx context.Context, method, path string, body, out any) error {
	req, n, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("hub %s unreachable: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := c.readReply(method, path, resp, n)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return hubReplyError(method, path, resp, data)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: bad reply: %w", method, path, err)
		}
	}
	return nil
}

// newRequest builds a request to the hub with body (nil for none) as
// JSON and the bearer token; n is the body's size.
func (c *hubClient) newRequest(ctx context.Context, method, path string, body any) (req *http.Request, n int64, err error) {
	var rd io.Reader
	if body != nil {
		b, err := marshalJSON(body)
		if err != nil {
			return nil, 0, fmt.Errorf("encode %s: %w", path, err)
		}
		rd, n = bytes.NewReader(b), int64(len(b))
	}
	req, err = http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.tokens != nil {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("hub token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, n, nil
}

// readReply reads a whole reply body of at most syncMaxBody bytes,
// counting it and the sent bytes (sent) in the wire totals.
func (c *hubClient) readReply(method, path string, resp *http.Response, sent int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, syncMaxBody+1))
	c.mu.Lock()
	c.bytesOut += sent
	c.bytesIn += int64(len(data))
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s %s: the reply was cut off after %d bytes: %w", method, path, len(data), err)
	}
	if len(data) > syncMaxBody {
		return nil, fmt.Errorf("%s %s: the reply is over %d bytes, more than any page may be: refusing it", method, path, syncMaxBody)
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, fmt.Errorf("%s %s: the reply was cut off after %d of %d bytes", method, path, len(data), resp.ContentLength)
	}
	return data, nil
}

// hubReplyError is the error of a non-2xx reply: its JSON error message
// or its text; a hubAuthError for 401 and 403.
func hubReplyError(method, path string, resp *http.Response, data []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(data, &e)
	if e.Error == "" {
		e.Error = strings.TrimSpace(string(data))
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return &hubAuthError{status: resp.StatusCode, msg: e.Error}
	}
	return fmt.Errorf("hub %s %s: %s: %s", method, path, resp.Status, e.Error)
}

// wireBytes reports body bytes sent and received so far.
func (c *hubClient) wireBytes() (out, in int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytesOut, c.bytesIn
}

// exchangeReport describes one sync exchange (sync.now's reply).
type exchangeReport struct {
	Pulled    int       `json:"pulled"`    // ops received
	Applied   int       `json:"applied"`   // of those, new here
	Pushed    int       `json:"pushed"`    // ops sent
	Accepted  int       `json:"accepted"`  // of those, new at the hub
	Conflicts int       `json:"conflicts"` // conflicts recorded by this exchange
	At        time.Time `json:"at"`
	Took      string    `json:"took"`
}

// exchange runs one pull → merge → push with the hub and persists the
// cursors after every page, so an interrupted exchange resumes.
func exchange(ctx context.Context, s *Store, c *hubClient) (exchangeReport, error) {
	start := time.Now()
	rep := exchangeReport{At: start}
	st, err := s.loadSyncState(ctx, c.base)
	if err != nil {
		return rep, err
	}
	if err := pullAll(ctx, s, c, &st, &rep); err != nil {
		return rep, err
	}
	// Project strings that old ops brought become project nodes.
	if _, err := s.adoptLegacyProjects(ctx); err != nil {
		return rep, err
	}
	if err := pushAll(ctx, s, c, &st, &rep); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// fetchedPage is a pull page, or why it could not be fetched.
type fetchedPage struct {
	page pullReply
	err  error
}

// fetchPull fetches the pull page after the hub cursor after in the
// background.
func fetchPull(ctx context.Context, s *Store, c *hubClient, after int64) <-chan fetchedPage {
	ch := make(chan fetchedPage, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- fetchedPage{err: fmt.Errorf("pull: internal error (panic: %v)", p)}
			}
		}()
		var page pullReply
		q := "/sync/pull?after=" + strconv.FormatInt(after, 10) + "&limit=" + strconv.Itoa(syncPageOps) + "&replica=" + url.QueryEscape(s.replica) + "&format=" + strconv.Itoa(syncFormat)
		err := c.do(ctx, http.MethodGet, q, nil, &page)
		ch <- fetchedPage{page, err}
	}()
	return ch
}

// pullAll pulls pages in order, fetching the next page while this one
// merges.
func pullAll(ctx context.Context, s *Store, c *hubClient, st *syncState, rep *exchangeReport) error {
	next := fetchPull(ctx, s, c, st.Pulled)
	for {
		f := <-next
		if f.err != nil {
			return f.err
		}
		page := f.page
		if page.Format != syncFormat {
			// Checked before any op of the page is merged.
			return syncFormatError(page.Format, syncFormat)
		}
		if page.More {
			next = fetchPull(ctx, s, c, page.Cursor)
		}
		if err := takePage(ctx, s, c, page, st, rep); err != nil {
			if page.More {
				<-next // let the prefetch finish
			}
			return err
		}
		if !page.More {
			return nil
		}
	}
}

// takePage merges one pulled page and saves the cursor past it.
func takePage(ctx context.Context, s *Store, c *hubClient, page pullReply, st *syncState, rep *exchangeReport) error {
	if len(page.Ops) > 0 {
		res, err := s.mergePulled(ctx, page, st.Pushed)
		if err != nil {
			return err
		}
		rep.Pulled += len(page.Ops)
		rep.Applied += res.Applied
		rep.Conflicts += res.Conflicts
	}
	if page.Cursor > st.Pulled {
		st.Pulled = page.Cursor
		if err := s.saveCursors(ctx, c.base, st.Pulled, st.Pushed); err != nil {
			return err
		}
	}
	return nil
}

// pushAll pushes the local ops the hub lacks, a page at a time, saving
// the pushed cursor after each.
func pushAll(ctx context.Context, s *Store, c *hubClient, st *syncState, rep *exchangeReport) error {
	for {
		batch, err := s.localOpsAfter(ctx, st.Pushed, syncPageOps)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		req := pushRequest{Replica: s.replica, Format: syncFormat, Ops: make([]Op, len(batch))}
		for i, o := range batch {
			req.Ops[i] = o.Op
		}
		var reply pushReply
		if err := c.do(ctx, http.MethodPost, "/sync/push", req, &reply); err != nil {
			return err
		}
		if reply.Format != syncFormat {
			return syncFormatError(reply.Format, syncFormat)
		}
		rep.Pushed += len(batch)
		rep.Accepted += reply.Applied
		st.Pushed = batch[len(batch)-1].Seq
		if err := s.saveCursors(ctx, c.base, st.Pulled, st.Pushed); err != nil {
			return err
		}
	}
}

// syncer runs a spoke's background sync.
type syncer struct {
	store  *Store
	client *hubClient
	tokens hubTokenSource
	log    *log.Logger
	every  time.Duration
	// auth, when set, reports the login state (the daemon's token source).
	auth func() authStatus

	kick chan struct{}      // a local mutation happened
	now  chan chan syncDone // sync.now requests

	mu        sync.Mutex
	lastOK    time.Time
	lastErr   string
	lastErrAt time.Time
	failures  int
	nextTry   time.Time
	last      *exchangeReport
	running   bool
}

// syncDone is the outcome of one exchange, handed to a sync.now waiter.
type syncDone struct {
	rep exchangeReport
	err error
}

func newSyncer(s *Store, c *hubClient, every time.Duration, logger *log.Logger) *syncer {
	if every <= 0 {
		every = 30 * time.Second
	}
	y := &syncer{store: s, client: c, tokens: c.tokens, log: logger, every: every,
		kick: make(chan struct{}, 1), now: make(chan chan syncDone)}
	st, err := s.loadSyncState(context.Background(), c.base)
	if err == nil {
		y.lastOK, y.lastErr, y.lastErrAt = st.LastSuccess, st.LastError, st.LastErrorAt
	}
	return y
}

// notify is the store's onLocalWrite hook: schedule a debounced sync.
func (y *syncer) notify() {
	select {
	case y.kick <- struct{}{}:
	default:
	}
}

// run syncs until ctx ends: once at start, every interval, after local
// mutations (debounced) and on sync.now; failures back off exponentially
// up to syncMaxBackoff (sync.now always tries at once).
func (y *syncer) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-y.kick:
			if debounce == nil {
				debounce = time.After(syncDebounce)
			}
			continue
		case <-debounce:
			debounce = nil
			if wait := time.Until(y.retryAt()); wait > 0 {
				continue // backing off; the timer will try
			}
		case <-timer.C:
		case w := <-y.now:
			rep, err := y.once(ctx)
			w <- syncDone{rep, err}
			timer.Reset(y.nextDelay())
			continue
		}
		y.once(ctx)
		timer.Reset(y.nextDelay())
	}
}

// once runs one exchange and records its outcome.
func (y *syncer) once(ctx context.Context) (exchangeReport, error) {
	y.mu.Lock()
	y.running = true
	y.mu.Unlock()
	var rep exchangeReport
	var err error
	if perr := callRecovered(y.log, "sync", func() { rep, err = exchange(ctx, y.store, y.client) }); perr != nil {
		err = perr
	}
	now := time.Now()
	y.mu.Lock()
	defer y.mu.Unlock()
	y.running = false
	if err != nil {
		y.failures++
		y.lastErr, y.lastErrAt = err.Error(), now
		y.nextTry = now.Add(backoff(y.failures))
		y.log.Printf("sync with %s failed (attempt %d, next in %s): %v", y.client.base, y.failures, time.Until(y.nextTry).Round(time.Second), err)
	} else {
		y.failures = 0
		y.lastOK = now
		y.nextTry = time.Time{}
		y.last = &rep
		if rep.Applied+rep.Accepted+rep.Conflicts > 0 {
			y.log.Printf("synced with %s: pulled %d (%d new), pushed %d (%d new), %d conflicts, %s",
				y.client.base, rep.Pulled, rep.Applied, rep.Pushed, rep.Accepted, rep.Conflicts, rep.Took)
		}
	}
	if serr := y.store.saveSyncOutcome(context.WithoutCancel(ctx), y.client.base, now, err); serr != nil {
		y.log.Printf("%v", serr)
	}
	return rep, err
}

func (y *syncer) retryAt() time.Time {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.nextTry
}

// nextDelay is the wait before the next timed attempt.
func (y *syncer) nextDelay() time.Duration {
	if at := y.retryAt(); !at.IsZero() {
		return max(time.Until(at), 0)
	}
	return y.every
}

// backoff is the wait after n consecutive failures: 1 s doubling, capped
// at syncMaxBackoff.
func backoff(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < syncMaxBackoff; i++ {
		d *= 2
	}
	return min(d, syncMaxBackoff)
}

// syncNow asks the loop for one exchange and waits for it.
func (y *syncer) syncNow(ctx context.Context) (exchangeReport, error) {
	w := make(chan syncDone, 1)
	select {
	case y.now <- w:
	case <-ctx.Done():
		return exchangeReport{}, ctx.Err()
	}
	select {
	case d := <-w:
		return d.rep, d.err
	case <-ctx.Done():
		return exchangeReport{}, ctx.Err()
	}
}

// syncStatus is sync.status's reply.
type syncStatus struct {
	Mode         string          `json:"mode"`
	Hub          string          `json:"hub,omitempty"`
	LastSuccess  *time.Time      `json:"last_success,omitempty"`
	LastError    string          `json:"last_error,omitempty"`
	LastErrorAt  *time.Time      `json:"last_error_at,omitempty"`
	Failures     int             `json:"failures"`
	NextRetry    *time.Time      `json:"next_retry,omitempty"`
	PendingPush  int             `json:"pending_push"`
	Conflicts    int             `json:"conflicts"`
	Auth         string          `json:"auth"` // ok, needs_login, unknown
	Subject      string          `json:"subject,omitempty"`
	NeedsLogin   bool            `json:"needs_login"`
	Running      bool            `json:"running"`
	LastExchange *exchangeReport `json:"last_exchange,omitempty"`
}

func (y *syncer) status(ctx context.Context) (syncStatus, error) {
	st, err := y.store.loadSyncState(ctx, y.client.base)
	if err != nil {
		return syncStatus{}, err
	}
	pending, err := y.store.countLocalAfter(ctx, st.Pushed)
	if err != nil {
		return syncStatus{}, err
	}
	open, err := y.store.countOpenConflicts(ctx)
	if err != nil {
		return syncStatus{}, err
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	out := syncStatus{Mode: "spoke", Hub: y.client.base, LastError: y.lastErr, Failures: y.failures,
		PendingPush: pending, Conflicts: open, Auth: "unknown", Running: y.running, LastExchange: y.last}
	if !y.lastOK.IsZero() {
		t := y.lastOK
		out.LastSuccess = &t
		out.Auth = "ok"
	}
	if !y.lastErrAt.IsZero() {
		t := y.lastErrAt
		out.LastErrorAt = &t
	}
	if !y.nextTry.IsZero() {
		t := y.nextTry
		out.NextRetry = &t
	}
	if y.auth != nil {
		a := y.auth()
		out.Subject = a.Subject
		switch {
		case a.NeedsLogin:
			out.Auth = "needs_login"
		case a.LoggedIn:
			out.Auth = "ok"
		}
	}
	if y.lastErrAt.After(y.lastOK) && isAuthFailure(y.lastErr) {
		out.Auth = "needs_login"
	}
	out.NeedsLogin = out.Auth == "needs_login"
	return out, nil
}

// isAuthFailure tells whether a recorded error means the spoke must log
// in again.
func isAuthFailure(msg string) bool {
	return strings.Contains(msg, "(401)") || strings.Contains(msg, "heph auth login") || strings.Contains(msg, "needs login")
}

// errNoSync is returned by sync methods on a daemon without a hub.
var errNoSync = &rpcError{Code: codeUnavailable, Message: "this hephd does not sync: start it with --hub-url URL"}

// syncErrorToRPC maps an exchange failure to an RPC error.
func syncErrorToRPC(err error) error {
	var ae *hubAuthError
	if errors.As(err, &ae) {
		return &rpcError{Code: codeUnauthorized, Message: err.Error()}
	}
	if isAuthFailure(err.Error()) {
		return &rpcError{Code: codeUnauthorized, Message: err.Error()}
	}
	return &rpcError{Code: codeUnavailable, Message: "sync failed: " + err.Error()}
}

// rpcSyncStatus is sync.status: a spoke's sync state, a thin client's
// hub reachability, a hub's {"mode":"server","hub":true}, or mode "none"
// (with the open conflicts) for a daemon without a hub.
func (d *daemon) rpcSyncStatus(ctx context.Context, params json.RawMessage) (any, error) {
	if d.fwd != nil {
		return d.fwd.status(ctx, params)
	}
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	switch {
	case d.opts.Mode == "server":
		return map[string]any{"mode": "server", "hub": true}, nil
	case d.syncer != nil:
		return d.syncer.status(ctx)
	}
	open, err := d.store.countOpenConflicts(ctx)
	if err != nil {
		return nil, err
	}
	return syncStatus{Mode: "none", Auth: "none", Conflicts: open}, nil
}

// rpcSyncNow is sync.now: one exchange with the hub, now.
func (d *daemon) rpcSyncNow(ctx context.Context, params json.RawMessage) (any, error) {
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	switch {
	case d.store == nil:
		return nil, errNoStore
	case d.syncer == nil:
		return nil, errNoSync
	}
	rep, err := d.syncer.syncNow(ctx)
	if err != nil {
		return nil, syncErrorToRPC(err)
	}
	return rep, nil
}

// mergePulled checks every op of a pulled page (validateOp: a hub may be
// hostile or impersonated) and merges them, all or none.
func (s *Store) mergePulled(ctx context.Context, page pullReply, pushed int64) (mergeResult, error) {
	ops := make([]Op, len(page.Ops))
	for i, o := range page.Ops {
		ops[i] = o.Op
	}
	if err := validateOps(ops, time.Now()); err != nil {
		return mergeResult{}, fmt.Errorf("the hub sent a bad op, nothing of its page applied: %w", err)
	}
	res, err := s.mergeRemote(ctx, ops, true, pushed)
	if err != nil {
		return res, fmt.Errorf("merge ops from the hub: %w", err)
	}
	return res, nil
}
