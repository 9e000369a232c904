package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// In-process sync tests: a real hub handler on a loopback HTTP server and
// spokes that are real stores exchanging over HTTP. Token checking here is
// subjectTokens (below), a table of opaque tokens, because these tests are
// about merging; every test of authentication runs the real hub against
// the real OpenID provider (sync_e2e_test.go).

// subjectTokens is the in-process tests' bearerVerifier: "tok:SUB" is
// SUB's token; anything else is rejected.
type subjectTokens struct{}

func (subjectTokens) VerifySubject(ctx context.Context, token string) (string, error) {
	sub, ok := strings.CutPrefix(token, "tok:")
	if !ok || sub == "" {
		return "", fmt.Errorf("unknown token")
	}
	return sub, nil
}

// staticToken is a spoke's token in in-process tests.
type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

func openSyncStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := openStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func quietLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// testHub is an in-process hub on loopback.
type testHub struct {
	*hub
	srv *httptest.Server
	URL string
}

func newTestHub(t testing.TB, opts daemonOptions) *testHub {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.db")
	s := openSyncStore(t, path)
	opts.Mode = "server"
	d := &daemon{opts: opts, paths: Paths{DB: path}, store: s, log: quietLogger(), started: time.Now()}
	h := newHub(d, subjectTokens{})
	srv := httptest.NewServer(h.handler())
	t.Cleanup(func() { srv.Close(); h.close() })
	return &testHub{hub: h, srv: srv, URL: srv.URL}
}

// testSpoke is a replica that syncs with a hub.
type testSpoke struct {
	t      testing.TB
	s      *Store
	c      *hubClient
	path   string
	hubURL string
	token  string
}

func newTestSpoke(t testing.TB, hubURL, token string) *testSpoke {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spoke.db")
	sp := &testSpoke{t: t, s: openSyncStore(t, path), path: path, hubURL: hubURL, token: token}
	sp.connect()
	return sp
}

func (sp *testSpoke) connect() {
	c, err := newHubClient(sp.hubURL, "", staticToken(sp.token))
	if err != nil {
		sp.t.Fatal(err)
	}
	sp.c = c
}

// sync runs one exchange and fails the test on error.
func (sp *testSpoke) sync() exchangeReport {
	sp.t.Helper()
	rep, err := exchange(context.Background(), sp.s, sp.c)
	if err != nil {
		sp.t.Fatalf("sync: %v", err)
	}
	return rep
}

func (sp *testSpoke) create(kind, title string) string {
	sp.t.Helper()
	var id string
	if err := sp.s.Write(context.Background(), func(tx *Tx) error {
		var err error
		id, err = tx.Create(kind, map[string]any{"title": title})
		return err
	}); err != nil {
		sp.t.Fatal(err)
	}
	return id
}

// createMany creates n tasks in one transaction.
func (sp *testSpoke) createMany(n int) {
	sp.t.Helper()
	if err := sp.s.Write(context.Background(), func(tx *Tx) error {
		for i := 0; i < n; i++ {
			if _, err := tx.Create("task", map[string]any{"title": fmt.Sprintf("task %d", i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		sp.t.Fatal(err)
	}
}

func (sp *testSpoke) set(id string, fields map[string]any) {
	sp.t.Helper()
	if err := sp.s.Write(context.Background(), func(tx *Tx) error { return tx.Set(id, fields) }); err != nil {
		sp.t.Fatal(err)
	}
}

func (sp *testSpoke) link(src, dst string, add bool) {
	sp.t.Helper()
	if err := sp.s.Write(context.Background(), func(tx *Tx) error { return tx.Link(src, dst, "explicit", "", add) }); err != nil {
		sp.t.Fatal(err)
	}
}

func (sp *testSpoke) node(id string) *Node {
	sp.t.Helper()
	n, err := getNode(context.Background(), sp.s.db, id)
	if err != nil {
		sp.t.Fatal(err)
	}
	return n
}

// storeDigest renders a store's user-visible state (nodes, task fields,
// links) and its op ids, for comparing replicas.
func storeDigest(t testing.TB, s *Store) (state string, opIDs []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.db.QueryContext(ctx, nodeSelect+` ORDER BY n.id`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			t.Fatal(err)
		}
		v := n.fieldValues()
		v["id"], v["kind"] = n.ID, n.Kind
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteByte('\n')
	}
	rows.Close()
	lrows, err := s.db.QueryContext(ctx, `SELECT src,dst,kind,label FROM links ORDER BY src,dst,kind`)
	if err != nil {
		t.Fatal(err)
	}
	for lrows.Next() {
		var a, c, k, l string
		lrows.Scan(&a, &c, &k, &l)
		fmt.Fprintf(&b, "link %s %s %s %s\n", a, c, k, l)
	}
	lrows.Close()
	orows, err := s.db.QueryContext(ctx, `SELECT id FROM ops ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for orows.Next() {
		var id string
		orows.Scan(&id)
		opIDs = append(opIDs, id)
	}
	orows.Close()
	return b.String(), opIDs
}

// assertConverged fails unless every store has the same state and ops.
func assertConverged(t testing.TB, stores ...*Store) {
	t.Helper()
	want, wantOps := storeDigest(t, stores[0])
	for i, s := range stores[1:] {
		got, gotOps := storeDigest(t, s)
		if got != want {
			t.Fatalf("replica %d differs from replica 0:\n--- replica 0\n%s--- replica %d\n%s", i+1, want, i+1, got)
		}
		if strings.Join(gotOps, ",") != strings.Join(wantOps, ",") {
			t.Fatalf("replica %d has %d ops, replica 0 has %d", i+1, len(gotOps), len(wantOps))
		}
	}
}

func TestSyncThreeSpokesConverge(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	b := newTestSpoke(t, h.URL, "tok:me")
	c := newTestSpoke(t, h.URL, "tok:me")

	t1 := a.create("task", "buy milk")
	d1 := a.create("doc", "shopping notes")
	a.link(t1, d1, true)
	a.sync()
	b.sync()
	if n := b.node(t1); n.Title != "buy milk" || n.Task == nil {
		t.Fatalf("b did not get a's task: %+v", n)
	}
	// b edits and deletes; c creates; the edits flow back to a.
	b.set(t1, map[string]any{"title": "buy oat milk", "tags": []any{"errand"}, "do": float64(1893456000000)})
	b.set(d1, map[string]any{"deleted": float64(time.Now().UnixMilli())})
	t2 := c.create("task", "call mum")
	c.link(t2, t1, true)
	b.sync()
	c.sync()
	a.sync()
	b.sync()
	if n := a.node(t1); n.Title != "buy oat milk" || len(n.Task.Tags) != 1 || n.Task.Do == nil {
		t.Fatalf("a did not get b's edit: %+v %+v", n, n.Task)
	}
	if n := a.node(d1); n.Deleted == nil {
		t.Fatalf("a did not get b's delete")
	}
	// A link removal syncs too.
	a.link(t1, d1, false)
	a.sync()
	b.sync()
	c.sync()
	assertConverged(t, h.main.store, a.s, b.s, c.s)
	var links int
	b.s.db.QueryRow(`SELECT count(*) FROM links`).Scan(&links)
	if links != 1 {
		t.Fatalf("want only c's link left, have %d links", links)
	}
	// A second round moves nothing.
	if rep := a.sync(); rep.Applied != 0 || rep.Pushed != 0 {
		t.Fatalf("idle sync moved ops: %+v", rep)
	}
}

func TestSyncTombstoneIsFinal(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	b := newTestSpoke(t, h.URL, "tok:me")
	id := a.create("task", "old idea")
	a.sync()
	b.sync()
	a.set(id, map[string]any{"deleted": float64(time.Now().UnixMilli())})
	time.Sleep(2 * time.Millisecond)
	// b, not knowing, clears deleted later in HLC order (an undelete) and
	// edits the title: the title edit lands, the node stays deleted.
	b.set(id, map[string]any{"deleted": nil, "title": "old idea, revived"})
	b.sync()
	a.sync()
	b.sync()
	for _, sp := range []*testSpoke{a, b} {
		n := sp.node(id)
		if n.Deleted == nil {
			t.Fatalf("a delete was undone by another replica")
		}
		if n.Title != "old idea, revived" {
			t.Fatalf("title edit lost: %q", n.Title)
		}
	}
	assertConverged(t, h.main.store, a.s, b.s)
}

func TestSyncConcurrentEditConflict(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	b := newTestSpoke(t, h.URL, "tok:me")
	id := a.create("task", "plan trip")
	a.sync()
	b.sync()
	// Both edit the title offline; b's edit is newer.
	a.set(id, map[string]any{"title": "plan trip to Rome"})
	time.Sleep(2 * time.Millisecond)
	b.set(id, map[string]any{"title": "plan trip to Lisbon", "project": "travel"})
	a.sync() // a pushes first: no conflict yet
	rep := b.sync()
	if rep.Conflicts != 1 {
		t.Fatalf("b should record one conflict (title), got %+v", rep)
	}
	a.sync() // a pulls b's newer title: its own pushed value loses, no new conflict here
	for _, sp := range []*testSpoke{a, b} {
		if n := sp.node(id); n.Title != "plan trip to Lisbon" {
			t.Fatalf("LWW: want the newer title, got %q", n.Title)
		}
	}
	list, err := b.s.listConflicts(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Field != "title" || list[0].Winner != "mine" ||
		string(list[0].Theirs) != `"plan trip to Rome"` || string(list[0].Mine) != `"plan trip to Lisbon"` {
		t.Fatalf("conflict not recorded as expected: %+v", list)
	}
	// Now the other way round: the incoming op wins over a value written
	// here and not yet pushed.
	b.set(id, map[string]any{"body": "from b"})
	time.Sleep(2 * time.Millisecond)
	a.set(id, map[string]any{"body": "from a"})
	a.sync()
	rep = b.sync()
	if rep.Conflicts != 1 {
		t.Fatalf("want a conflict where theirs won, got %+v", rep)
	}
	list, _ = b.s.listConflicts(context.Background(), false)
	last := list[len(list)-1]
	if last.Field != "body" || last.Winner != "theirs" || string(last.Mine) != `"from b"` {
		t.Fatalf("overwritten local value not kept: %+v", last)
	}
	// Resolve keeping b's value: a normal mutation that syncs to a.
	if _, err := b.s.resolveConflict(context.Background(), last.ID[:20], "mine"); err != nil {
		t.Fatal(err)
	}
	b.sync()
	a.sync()
	if n := a.node(id); n.Body != "from b" {
		t.Fatalf("resolution did not sync: body %q", n.Body)
	}
	if n, _ := b.s.countOpenConflicts(context.Background()); n != 1 {
		t.Fatalf("want 1 open conflict left, have %d", n)
	}
	if _, err := b.s.resolveConflict(context.Background(), last.ID, "mine"); err == nil {
		t.Fatal("resolving twice should fail")
	}
	assertConverged(t, h.main.store, a.s, b.s)
}

// TestSyncSpokeResumesFromCursor interrupts a pull after its first page,
// restarts the spoke (reopens its store) and checks the next exchange
// starts at the saved cursor and ends converged.
func TestSyncSpokeResumesFromCursor(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	a.createMany(syncPageOps + 500)
	a.sync()
	b := newTestSpoke(t, h.URL, "tok:me")
	rec := &failingTransport{base: http.DefaultTransport, failPull: 2}
	b.c.http.Transport = rec
	if _, err := exchange(context.Background(), b.s, b.c); err == nil {
		t.Fatal("exchange should fail on the second pull page")
	}
	st, err := b.s.loadSyncState(context.Background(), b.c.base)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pulled == 0 {
		t.Fatal("cursor not saved after the first page")
	}
	b.s.Close()
	b.s = openSyncStore(t, b.path) // the restart
	rec2 := &failingTransport{base: http.DefaultTransport}
	b.connect()
	b.c.http.Transport = rec2
	b.sync()
	if first := rec2.urls[0]; !strings.Contains(first, fmt.Sprintf("after=%d&", st.Pulled)) {
		t.Fatalf("restarted spoke did not resume at cursor %d: %s", st.Pulled, first)
	}
	assertConverged(t, h.main.store, a.s, b.s)
}

// failingTransport records request URLs and fails the failPull-th pull.
type failingTransport struct {
	base     http.RoundTripper
	failPull int
	mu       sync.Mutex
	pulls    int
	urls     []string
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.urls = append(f.urls, r.URL.String())
	if strings.HasPrefix(r.URL.Path, "/sync/pull") {
		f.pulls++
		if f.pulls == f.failPull {
			f.mu.Unlock()
			return nil, fmt.Errorf("connection reset (injected)")
		}
	}
	f.mu.Unlock()
	return f.base.RoundTrip(r)
}

func TestHubOwners(t *testing.T) {
	h := newTestHub(t, daemonOptions{AuthorizedSub: stringList{"me", "me-at-work"}})
	a := newTestSpoke(t, h.URL, "tok:me")
	a.create("task", "mine")
	a.sync() // "me" is an owner by --authorized-sub
	w := newTestSpoke(t, h.URL, "tok:me-at-work")
	w.sync()
	assertConverged(t, a.s, w.s)
	stranger := newTestSpoke(t, h.URL, "tok:stranger")
	stranger.create("task", "intruder")
	_, err := exchange(context.Background(), stranger.s, stranger.c)
	if ae, ok := err.(*hubAuthError); !ok || ae.status != http.StatusForbidden {
		t.Fatalf("stranger: want 403, got %v", err)
	}
	bad := newTestSpoke(t, h.URL, "garbage")
	_, err = exchange(context.Background(), bad.s, bad.c)
	if ae, ok := err.(*hubAuthError); !ok || ae.status != http.StatusUnauthorized {
		t.Fatalf("bad token: want 401, got %v", err)
	}
	assertConverged(t, h.main.store, a.s)

	// Multi-owner: each subject sees only its own ops.
	m := newTestHub(t, daemonOptions{MultiOwner: true})
	x := newTestSpoke(t, m.URL, "tok:x")
	y := newTestSpoke(t, m.URL, "tok:y")
	x.create("task", "x's secret")
	y.create("task", "y's secret")
	x.sync()
	y.sync()
	x.sync()
	xs, _ := storeDigest(t, x.s)
	ys, _ := storeDigest(t, y.s)
	if strings.Contains(xs, "y's secret") || strings.Contains(ys, "x's secret") {
		t.Fatal("owners' data leaked between owners")
	}
	if !strings.Contains(xs, "x's secret") || !strings.Contains(ys, "y's secret") {
		t.Fatal("owner lost its own data")
	}
}

func TestHubRejectsBadRequests(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	do := func(method, path, body, token string) (int, string) {
		req, _ := http.NewRequest(method, h.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("401 without WWW-Authenticate")
		}
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		method, path, body, token string
		want                      int
	}{
		{"POST", "/sync/push", `{"ops":[]}`, "", 401},
		{"GET", "/sync/pull", "", "", 401},
		{"POST", "/rpc", `{"jsonrpc":"2.0","id":1,"method":"daemon.info"}`, "", 401},
		{"POST", "/sync/push", `{not json`, "tok:me", 400},
		{"POST", "/sync/push", `{"format":2,"ops":[{"id":"x","hlc":"bad","node":"n","type":"node.set","data":{}}]}`, "tok:me", 400},
		{"POST", "/sync/push", `{"format":2,"ops":[{"id":"x","hlc":"9999999999999.000000.r","node":"n","type":"node.set","data":{}}]}`, "tok:me", 400},
		{"POST", "/sync/push", `{"format":2,"ops":[{"id":"x","hlc":"0000000000001.000000.r","node":"n","type":"bogus","data":{}}]}`, "tok:me", 400},
		{"GET", "/sync/pull?format=2&after=-1", "", "tok:me", 400},
		{"GET", "/sync/pull?format=2&limit=x", "", "tok:me", 400},
		{"GET", "/sync/pull", "", "tok:me", 409},            // a spoke from before sync formats
		{"POST", "/sync/push", `{"ops":[]}`, "tok:me", 409}, // likewise
		{"GET", "/sync/pull?format=3", "", "tok:me", 409},   // a newer spoke
		{"GET", "/healthz", "", "", 200},
		{"GET", "/config", "", "", 200},
	}
	for _, c := range cases {
		if got, body := do(c.method, c.path, c.body, c.token); got != c.want {
			t.Errorf("%s %s %q: status %d, want %d (%s)", c.method, c.path, c.body, got, c.want, body)
		}
	}
	n, _ := h.main.store.maxSeq(context.Background())
	if n != 0 {
		t.Fatalf("rejected requests wrote %d ops", n)
	}
	// /rpc works for the owner.
	code, body := do("POST", "/rpc", `{"jsonrpc":"2.0","id":1,"method":"task.create","params":{"title":"over http"}}`, "tok:me")
	if code != 200 || !strings.Contains(body, "over http") {
		t.Fatalf("rpc: %d %s", code, body)
	}
	code, body = do("POST", "/rpc", `{"jsonrpc":"2.0","id":1,"method":"export.markdown","params":{"dir":"/tmp"}}`, "tok:me")
	if code != 200 || !strings.Contains(body, "-32601") {
		t.Fatalf("export must not be reachable over HTTP: %d %s", code, body)
	}
	// Oversized body.
	big := `{"ops":[` + strings.Repeat(" ", syncMaxBody) + `]}`
	if got, _ := do("POST", "/sync/push", big, "tok:me"); got != 413 {
		t.Fatalf("oversized push: status %d, want 413", got)
	}
}

func TestSyncNowAndStatusOverSocket(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	y := newSyncer(a.s, a.c, time.Hour, quietLogger())
	a.s.onLocalWrite = y.notify
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { y.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	a.create("task", "debounced")
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := y.status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.PendingPush == 0 && st.LastSuccess != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("debounced sync did not run: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.create("task", "now")
	rep, err := y.syncNow(context.Background())
	if err != nil || rep.Pushed != 1 {
		t.Fatalf("sync.now: %+v %v", rep, err)
	}
	n, _ := h.main.store.maxSeq(context.Background())
	if n != 2 {
		t.Fatalf("hub has %d ops, want 2", n)
	}
	// A hub that is gone: the error is reported and the op kept.
	h.srv.Close()
	a.create("task", "offline")
	if _, err := y.syncNow(context.Background()); err == nil {
		t.Fatal("sync.now against a dead hub should fail")
	}
	st, _ := y.status(context.Background())
	if st.PendingPush != 1 || st.LastError == "" || st.Failures == 0 || st.NextRetry == nil {
		t.Fatalf("status after failure: %+v", st)
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n < 20; n++ {
		d := backoff(n)
		if d < prev || d > syncMaxBackoff {
			t.Fatalf("backoff(%d)=%s after %s", n, d, prev)
		}
		prev = d
	}
	if prev != syncMaxBackoff {
		t.Fatalf("backoff never reaches %s", syncMaxBackoff)
	}
}

// rpc calls one of the store's RPC methods in process.
func (sp *testSpoke) rpc(method string, params any) *Node {
	sp.t.Helper()
	raw, _ := json.Marshal(params)
	res, err := storeHandlers(sp.s)[method](context.Background(), raw)
	if err != nil {
		sp.t.Fatalf("%s %s: %v", method, raw, err)
	}
	b, _ := json.Marshal(res)
	var n Node
	json.Unmarshal(b, &n)
	return &n
}

func TestSyncRecurringCompletionAdvancesOnce(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	b := newTestSpoke(t, h.URL, "tok:me")
	task := a.rpc("task.create", map[string]any{"title": "water plants", "do": "today", "recur": "weekly"})
	a.sync()
	b.sync()
	// Both replicas complete the same occurrence while offline.
	da := a.rpc("task.done", map[string]any{"id": task.ID})
	db := b.rpc("task.done", map[string]any{"id": task.ID})
	if da.Task.Do == nil || !da.Task.Do.After(*task.Task.Do) {
		t.Fatalf("done did not advance the recurring task: %+v", da.Task)
	}
	a.sync()
	b.sync()
	a.sync()
	for _, sp := range []*testSpoke{a, b} {
		n := sp.node(task.ID)
		if !n.Task.Do.Equal(*da.Task.Do) || !n.Task.Do.Equal(*db.Task.Do) || n.Task.Occurrences != da.Task.Occurrences {
			t.Fatalf("advanced more than once: do %v occurrences %d (each replica alone: %v, %d)", n.Task.Do, n.Task.Occurrences, da.Task.Do, da.Task.Occurrences)
		}
		var completions int
		sp.s.db.QueryRow(`SELECT count(*) FROM completions WHERE node=?`, task.ID).Scan(&completions)
		if completions != 1 {
			t.Fatalf("want one counted completion, have %d", completions)
		}
	}
	// Log entries (a union) and a second occurrence flow both ways.
	a.rpc("log.append", map[string]any{"id": task.ID, "text": "from a"})
	b.rpc("log.append", map[string]any{"id": task.ID, "text": "from b"})
	b.rpc("task.done", map[string]any{"id": task.ID})
	b.sync()
	a.sync()
	b.sync()
	assertConverged(t, h.main.store, a.s, b.s)
	lg := a.rpc("log.get", map[string]any{"id": task.ID})
	if !strings.Contains(lg.Body, "from a") || !strings.Contains(lg.Body, "from b") {
		t.Fatalf("log entries not merged: %q", lg.Body)
	}
}

// TestSyncUndeleteRules: undoing your own delete syncs; it never revives
// a delete made on another replica.
func TestSyncUndeleteRules(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	b := newTestSpoke(t, h.URL, "tok:me")
	id := a.create("task", "keep me")
	a.sync()
	b.sync()
	a.set(id, map[string]any{"deleted": float64(time.Now().UnixMilli())})
	a.sync()
	b.sync()
	if b.node(id).Deleted == nil {
		t.Fatal("delete did not reach b")
	}
	a.set(id, map[string]any{"deleted": nil}) // a's undo of its own delete
	a.sync()
	b.sync()
	if b.node(id).Deleted != nil || a.node(id).Deleted != nil {
		t.Fatal("undoing one's own delete did not sync")
	}
	// b deletes while a deletes and undoes: b's delete stands everywhere.
	b.set(id, map[string]any{"deleted": float64(time.Now().UnixMilli())})
	a.set(id, map[string]any{"deleted": float64(time.Now().UnixMilli())})
	time.Sleep(2 * time.Millisecond)
	a.set(id, map[string]any{"deleted": nil})
	a.sync()
	b.sync()
	a.sync()
	if a.node(id).Deleted == nil || b.node(id).Deleted == nil {
		t.Fatal("another replica's delete came back")
	}
	assertConverged(t, h.main.store, a.s, b.s)
}

// TestSyncLinksAddWins: a removal on one replica and a concurrent add on
// another leave the link; a removal that saw the add removes it.
func TestSyncLinksAddWins(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	a := newTestSpoke(t, h.URL, "tok:me")
	b := newTestSpoke(t, h.URL, "tok:me")
	x, y := a.create("doc", "x"), a.create("doc", "y")
	a.link(x, y, true)
	a.sync()
	b.sync()
	a.link(x, y, false) // a removes the link it saw
	time.Sleep(2 * time.Millisecond)
	b.link(x, y, false)
	b.link(x, y, true) // b re-adds concurrently (newer, unseen by a)
	b.sync()
	a.sync()
	b.sync()
	count := func(sp *testSpoke) (n int) {
		sp.s.db.QueryRow(`SELECT count(*) FROM links WHERE src=? AND dst=? AND kind='explicit'`, x, y).Scan(&n)
		return n
	}
	if count(a) != 1 || count(b) != 1 {
		t.Fatalf("concurrent add lost: a has %d, b has %d", count(a), count(b))
	}
	// An add made earlier (in HLC) but arriving after a removal that did
	// not see it still wins.
	z := a.create("doc", "z")
	a.sync()
	b.sync()
	b.link(x, z, true)
	time.Sleep(2 * time.Millisecond)
	a.link(x, z, false) // saw nothing: removes nothing
	a.sync()
	b.sync()
	a.sync()
	var n int
	a.s.db.QueryRow(`SELECT count(*) FROM links WHERE src=? AND dst=?`, x, z).Scan(&n)
	if n != 1 {
		t.Fatalf("an add the removal never saw was removed")
	}
	b.link(x, z, false) // b saw its add: the removal takes it away
	b.sync()
	a.sync()
	a.s.db.QueryRow(`SELECT count(*) FROM links WHERE src=? AND dst=?`, x, z).Scan(&n)
	if n != 0 {
		t.Fatalf("an observed removal did not remove the link")
	}
	assertConverged(t, h.main.store, a.s, b.s)
}
