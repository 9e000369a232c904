package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Regression tests for the hostile review of the hub (issue 12): a real
// hub process over HTTP, real tokens from the real OpenID provider.

// TestHostileHub runs the hub findings against one provider.
func TestHostileHub(t *testing.T) {
	p := startOIDCProvider(t)

	// Finding 1: with --authorized-sub, nobody else can claim the hub.
	t.Run("authorized-sub closes the claim", func(t *testing.T) {
		hub := startHub(t, "", p, "--authorized-sub", "alice")
		_, mallory := login(t, p, hub.URL, "mallory")
		if got := hubRequest(t, hub.URL, "POST /sync/push", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("mallory's push with --authorized-sub alice: status %d, want 403", got)
		}
		if got := hubRequest(t, hub.URL, "POST /rpc", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("mallory's rpc: status %d, want 403", got)
		}
		_, alice := login(t, p, hub.URL, "alice")
		if got := hubRequest(t, hub.URL, "POST /sync/push", alice.AccessToken); got != http.StatusOK {
			t.Fatalf("alice's push: status %d, want 200", got)
		}
		if got := hubRequest(t, hub.URL, "POST /rpc", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("mallory after alice: status %d, want 403", got)
		}
		var info daemonInfo
		hub.MustCall("daemon.info", nil, &info)
		if info.Hub == nil || strings.Join(info.Hub.Owners, ",") != "alice" || info.Hub.Source != "authorized-sub" {
			t.Fatalf("daemon.info hub owners: %+v, want alice from authorized-sub", info.Hub)
		}
		// Without --authorized-sub the first subject claims, once.
		open := startHub(t, "", p)
		if got := hubRequest(t, open.URL, "POST /rpc", alice.AccessToken); got != http.StatusOK {
			t.Fatalf("first subject: %d", got)
		}
		if got := hubRequest(t, open.URL, "POST /rpc", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("second subject: %d, want 403", got)
		}
		open.MustCall("daemon.info", nil, &info)
		if info.Hub == nil || strings.Join(info.Hub.Owners, ",") != "alice" || info.Hub.Source != "claimed" {
			t.Fatalf("daemon.info hub owners: %+v, want alice claimed", info.Hub)
		}
	})

	// Finding 14: hub clients get what a client needs, not the machine's
	// paths, pid, exact version or self-update state.
	t.Run("hub info is minimal", func(t *testing.T) {
		hub := startHub(t, "", p)
		_, alice := login(t, p, hub.URL, "alice")
		req, _ := http.NewRequest("POST", hub.URL+"/rpc", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"daemon.info"}`))
		req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp.Body)
		resp.Body.Close()
		resp, err = http.Get(hub.URL + "/config")
		if err != nil {
			t.Fatal(err)
		}
		config := readAll(t, resp.Body)
		resp.Body.Close()
		if !strings.Contains(body, `"protocol"`) {
			t.Fatalf("/rpc daemon.info: %s", body)
		}
		for _, leak := range []string{`"db"`, `"socket"`, `"pid"`, `"self_update"`, `"version"`, hub.DB} {
			if strings.Contains(body, leak) {
				t.Errorf("/rpc daemon.info tells a hub client %s: %s", leak, body)
			}
		}
		if strings.Contains(config, `"version"`) {
			t.Errorf("/config advertises the version to anyone: %s", config)
		}
	})

	// Finding 2: ids that arrive by sync are checked like local input, at
	// the hub on push and at the spoke on pull, and export stays in its
	// directory.
	t.Run("remote ops are validated", func(t *testing.T) {
		hub := startHub(t, "", p)
		file, tok := login(t, p, hub.URL, "alice")
		evil := newULID(time.Now()) + "/../../../../escaped"
		now := time.Now()
		bad := []Op{
			{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: evil, Type: opNodeCreate,
				Data: json.RawMessage(`{"kind":"doc","fields":{"title":"x","body":"pwned"}}`)},
			{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: "short", Type: opNodeCreate,
				Data: json.RawMessage(`{"kind":"doc","fields":{"title":"x"}}`)},
			{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: newULID(now), Type: opNodeCreate,
				Data: json.RawMessage(`{"kind":"doc","fields":{"title":"a\u001b]0;owned\u0007"}}`)},
			{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: newULID(now), Type: opNodeSet,
				Data: json.RawMessage(`{"fields":{"owner":"mallory"}}`)},
			{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: newULID(now), Type: opNodeCreate,
				Data: json.RawMessage(`{"kind":"task","fields":{"title":"x","project_id":"../../x"}}`)},
			{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: newULID(now), Type: opNodeCreate,
				Data: json.RawMessage(`{"kind":"widget","fields":{"title":"x"}}`)},
		}
		for _, op := range bad {
			code, body := pushOps(t, hub.URL, tok.AccessToken, op)
			if code != http.StatusBadRequest || !strings.Contains(body, op.ID) {
				t.Errorf("push of bad op %s on %q: %d %s, want 400 naming the op", op.ID, op.Node, code, body)
			}
		}
		if n := hubOpsAt(t, hub.DB); n != 0 {
			t.Fatalf("the hub stored %d bad ops", n)
		}
		// A hostile hub (here: a store written behind the hub's back) sends
		// the op on pull: the spoke refuses it and exports nothing outside.
		insertRawOp(t, hub.DB, bad[0])
		spoke := startSpoke(t, hub.URL, file)
		err := spoke.Call("sync.now", nil, nil)
		if err == nil || !strings.Contains(err.Error(), bad[0].ID) || !strings.Contains(err.Error(), "not a ULID") {
			t.Fatalf("spoke pull of a bad op: %v, want an error naming it", err)
		}
		out := filepath.Join(spoke.Dir, "a", "b", "c", "export")
		spoke.MustCall("export", map[string]any{"dir": out}, nil)
		if _, err := os.Stat(filepath.Join(spoke.Dir, "escaped.md")); err == nil {
			t.Fatal("export wrote outside its directory")
		}
		var got []string
		filepath.WalkDir(spoke.Dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".md") {
				got = append(got, path)
			}
			return nil
		})
		if len(got) != 0 {
			t.Fatalf("the bad op reached the spoke's store: %v", got)
		}
	})

	// Finding 3: batches are split by encoded bytes, so ops that grow when
	// escaped (a 4 MiB body full of "<") sync both ways.
	t.Run("large ops never jam sync", func(t *testing.T) {
		hub := startHub(t, "", p)
		file, _ := login(t, p, hub.URL, "alice")
		a := startSpoke(t, hub.URL, file)
		body := strings.Repeat("<", 3<<20+900<<10)
		var ids []string
		for i := 0; i < 3; i++ {
			var n Node
			rawCall(t, a.Socket, `{"jsonrpc":"2.0","id":1,"method":"doc.create","params":{"title":"big `+string(rune('a'+i))+`","body":"`+body+`"}}`, &n)
			ids = append(ids, n.ID)
		}
		rawCall(t, a.Socket, `{"jsonrpc":"2.0","id":1,"method":"node.update","params":{"id":"`+ids[0]+`","body":"`+strings.Repeat("&", len(body))+`"}}`, nil)
		var rep exchangeReport
		if err := a.Call("sync.now", nil, &rep); err != nil {
			t.Fatalf("push of large ops: %v", err)
		}
		b := startSpoke(t, hub.URL, file)
		if err := b.Call("sync.now", nil, &rep); err != nil {
			t.Fatalf("fresh spoke's pull of large ops: %v", err)
		}
		for i, id := range ids {
			want := body
			if i == 0 {
				want = strings.Repeat("&", len(body))
			}
			if n := getTask(t, b, id); n.Body != want {
				t.Fatalf("doc %d arrived with a %d-byte body, want %d bytes", i, len(n.Body), len(want))
			}
		}
	})
}

// rawCall writes one request line as given (the test controls its
// encoding) to a daemon's socket and decodes the result into out.
func rawCall(t *testing.T, socket, line string, out any) {
	t.Helper()
	reply := rawLine(t, socket, line)
	var resp struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(reply, &resp); err != nil || resp.Error != nil {
		t.Fatalf("reply: %v %v", err, resp.Error)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			t.Fatal(err)
		}
	}
}

// pushOps pushes ops to a hub with a bearer token and returns the status
// and body.
func pushOps(t *testing.T, base, token string, ops ...Op) (int, string) {
	t.Helper()
	b, err := json.Marshal(pushRequest{Replica: "evil", Format: syncFormat, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/sync/push", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(t, resp.Body)
}

// insertRawOp writes op into the ops table of the store at path, behind
// its daemon's back: what a compromised or impersonated hub would serve.
func insertRawOp(t *testing.T, path string, op Op) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO ops(id,hlc,node,type,data,local) VALUES(?,?,?,?,?,0)`, op.ID, op.HLC, op.Node, op.Type, string(op.Data)); err != nil {
		t.Fatal(err)
	}
}

// readAll reads a response body for a test.
func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeTokenFile writes a token file that logs a spoke in to hubURL with a
// long-lived opaque token (for fake hubs that check nothing).
func writeTokenFile(t *testing.T, hubURL string) string {
	t.Helper()
	file := filepath.Join(shortTempDir(t), "token.json")
	tf := tokenFile{Version: 1, Hubs: map[string]*storedToken{normalizeHubURL(hubURL): {
		HubURL: normalizeHubURL(hubURL), Issuer: "https://issuer.invalid", ClientID: "heph", Audience: "heph",
		TokenEndpoint: "https://issuer.invalid/token", AccessToken: "opaque", Expiry: time.Now().Add(24 * time.Hour),
		Subject: "alice", Obtained: time.Now()}}}
	b, err := json.Marshal(tf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// Finding 4: a hostile or impersonated hub (a fake one here) cannot crash
// a spoke: its bad ops are refused with an error naming them, the cursor
// stays, and the spoke keeps serving. A cut-off reply is reported as such.
func TestHostileHubCannotCrashSpoke(t *testing.T) {
	now := time.Now()
	short := Op{ID: newULID(now), HLC: HLC{Wall: now.UnixMilli(), Replica: "evil"}.String(), Node: "x",
		Type: opNodeCreate, Data: json.RawMessage(`{"kind":"doc","fields":{"title":"boom"}}`)}
	var mode atomic.Value
	mode.Store("short")
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sync/pull" {
			writeJSON(w, http.StatusOK, pushReply{Format: syncFormat})
			return
		}
		if mode.Load() == "cut" {
			w.Header().Set("Content-Length", "100000")
			w.Write([]byte(`{"ops":[{"seq":1,"id":"` + short.ID + `","data":"\u`))
			return
		}
		writeJSON(w, http.StatusOK, pullReply{Ops: []seqOp{{Seq: 1, Op: short}}, Cursor: 1, Format: syncFormat})
	}))
	defer fake.Close()
	spoke := startSpoke(t, fake.URL, writeTokenFile(t, fake.URL))
	for i := 0; i < 2; i++ {
		err := spoke.Call("sync.now", nil, nil)
		if err == nil || !strings.Contains(err.Error(), short.ID) {
			t.Fatalf("sync with a hub sending a bad id: %v, want an error naming op %s\n%s", err, short.ID, spoke.Stderr.String())
		}
	}
	var st syncStatus
	spoke.MustCall("sync.status", nil, &st)
	if !strings.Contains(st.LastError, "not a ULID") {
		t.Fatalf("sync.status last error %q", st.LastError)
	}
	mode.Store("cut")
	err := spoke.Call("sync.now", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("a cut-off reply: %v, want it reported as cut off", err)
	}
	select {
	case <-spoke.Exited():
		t.Fatalf("the spoke died:\n%s", spoke.Stderr.String())
	default:
	}
	spoke.MustCall("daemon.info", nil, nil)
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	requireComponent(t, err == nil, "/proc/self/fd to count open files: %v", err)
	return len(ents)
}

// Finding 8: a multi-owner hub keeps a bounded number of owner stores
// open and caps how many new owners appear per interval.
func TestHubOwnerStoresBounded(t *testing.T) {
	h := newTestHub(t, daemonOptions{MultiOwner: true})
	h.maxOpen = 8
	h.newOwners = newRateLimiter(1000, 1000)
	pull := func(sub string) int { return pull2(t, h.URL, sub) }
	pull("warmup")
	before := openFDs(t)
	for i := 0; i < 120; i++ {
		if code := pull(fmt.Sprintf("owner-%d", i)); code != http.StatusOK {
			t.Fatalf("owner %d: status %d", i, code)
		}
	}
	if grew := openFDs(t) - before; grew > 8*4+20 {
		t.Fatalf("120 owners left %d more files open; the hub must keep at most 8 owner stores open", grew)
	}
	if code := pull("owner-0"); code != http.StatusOK { // closed earlier, opens again
		t.Fatalf("a closed owner store did not reopen: %d", code)
	}

	capped := newTestHub(t, daemonOptions{MultiOwner: true})
	capped.newOwners = newRateLimiter(hubNewOwnersPerMinute/60.0, 3)
	for i := 0; i < 3; i++ {
		if code := pull2(t, capped.URL, fmt.Sprintf("n%d", i)); code != http.StatusOK {
			t.Fatalf("new owner %d: %d", i, code)
		}
	}
	if code := pull2(t, capped.URL, "n3"); code != http.StatusTooManyRequests {
		t.Fatalf("a 4th new owner at once: status %d, want 429", code)
	}
	if code := pull2(t, capped.URL, "n0"); code != http.StatusOK {
		t.Fatalf("an existing owner after the cap: %d", code)
	}
}

// pull2 is a pull from base as subject sub (in-process token table).
func pull2(t *testing.T, base, sub string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/sync/pull?format="+strconv.Itoa(syncFormat), nil)
	req.Header.Set("Authorization", "Bearer tok:"+sub)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
