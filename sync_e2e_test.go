package main

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// End to end: real hephd processes (hub, spokes, a thin client) over HTTP
// on loopback, with tokens from the real OpenID provider
// (testdata/node/oidc/provider.mjs). One provider serves the whole test to keep the
// suite fast.

// hubProc is a hub process.
type hubProc struct {
	*testDaemon
	URL string
}

func startHub(t *testing.T, dir string, p *testProvider, extra ...string) *hubProc {
	t.Helper()
	addr := freeLoopbackAddr(t)
	args := append([]string{"--mode", "server", "--http-addr", addr, "--oidc-issuer", p.Issuer,
		"--oidc-audience", p.Audience, "--oidc-client-id", p.ClientID}, extra...)
	var d *testDaemon
	if dir == "" {
		d = startDaemon(t, args...)
	} else {
		d = startDaemonIn(t, dir, args...)
	}
	for _, a := range extra { // a later --http-addr wins, as with flag
		if strings.HasPrefix(a, "127.0.0.1:") {
			addr = a
		}
	}
	h := &hubProc{testDaemon: d, URL: "http://" + addr}
	h.waitHTTP(t, h.URL+"/healthz")
	return h
}

func (h *hubProc) waitHTTP(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-h.Exited():
			t.Fatalf("hub exited: %s", h.Stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v\n%s", u, err, h.Stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// login logs subject in to hubURL with the device flow and returns the
// token file a spoke can use.
func login(t *testing.T, p *testProvider, hubURL, subject string) (file string, tok *storedToken) {
	t.Helper()
	file = filepath.Join(shortTempDir(t), "token.json")
	store, err := openTokenStore(tokenStoreOptions{File: file}, osGetenv)
	if err != nil {
		t.Fatal(err)
	}
	return file, loginWithProvider(t, p, hubURL, store, subject)
}

// startSpoke runs a spoke of hubURL with the token file.
func startSpoke(t *testing.T, hubURL, tokenFile string, extra ...string) *testDaemon {
	t.Helper()
	return startDaemon(t, append([]string{"--hub-url", hubURL, "--token-file", tokenFile, "--sync-interval", "1h"}, extra...)...)
}

func syncNow(t *testing.T, d *testDaemon) exchangeReport {
	t.Helper()
	var rep exchangeReport
	d.MustCall("sync.now", nil, &rep)
	return rep
}

func mustCreate(t *testing.T, d *testDaemon, params map[string]any) *Node {
	t.Helper()
	var n Node
	d.MustCall("task.create", params, &n)
	return &n
}

func getTask(t *testing.T, d *testDaemon, id string) *Node {
	t.Helper()
	var n Node
	d.MustCall("node.get", map[string]any{"id": id}, &n)
	return &n
}

// listTitles is the sorted titles of a daemon's tasks in every state.
func listTitles(t *testing.T, d *testDaemon) []string {
	t.Helper()
	var nodes []*Node
	d.MustCall("task.list", map[string]any{"state": "all"}, &nodes)
	var out []string
	for _, n := range nodes {
		out = append(out, n.Title+"|"+n.Task.State)
	}
	return out
}

func TestSyncEndToEnd(t *testing.T) {
	p := startOIDCProvider(t)
	hub := startHub(t, "", p)
	aliceFile, alice := login(t, p, hub.URL, "alice")

	t.Run("spokes converge both ways", func(t *testing.T) {
		a := startSpoke(t, hub.URL, aliceFile)
		bFile, _ := login(t, p, hub.URL, "alice")
		b := startSpoke(t, hub.URL, bFile)
		milk := mustCreate(t, a, map[string]any{"title": "buy milk"})
		plants := mustCreate(t, a, map[string]any{"title": "water plants", "do": "today", "recur": "weekly"})
		old := mustCreate(t, a, map[string]any{"title": "old idea"})
		if rep := syncNow(t, a); rep.Accepted == 0 {
			t.Fatalf("a pushed nothing: %+v", rep)
		}
		syncNow(t, b)
		if n := getTask(t, b, milk.ID); n.Title != "buy milk" {
			t.Fatalf("b: %+v", n)
		}
		// b edits, deletes and completes the recurring task; a completes
		// the same occurrence offline.
		b.MustCall("task.edit", map[string]any{"id": milk.ID, "title": "buy oat milk", "tags_add": []string{"errand"}}, nil)
		b.MustCall("node.rm", map[string]any{"id": old.ID}, nil)
		var doneB, doneA Node
		b.MustCall("task.done", map[string]any{"id": plants.ID}, &doneB)
		a.MustCall("task.done", map[string]any{"id": plants.ID}, &doneA)
		syncNow(t, b)
		syncNow(t, a)
		syncNow(t, b)
		for _, d := range []*testDaemon{a, b} {
			if n := getTask(t, d, milk.ID); n.Title != "buy oat milk" {
				t.Fatalf("edit did not converge: %q", n.Title)
			}
			if n := getTask(t, d, old.ID); n.Deleted == nil {
				t.Fatal("delete did not converge")
			}
			if n := getTask(t, d, plants.ID); !n.Task.Do.Equal(*doneA.Task.Do) || n.Task.Occurrences != doneA.Task.Occurrences {
				t.Fatalf("recurring task advanced more than once: do %v occ %d, want %v %d", n.Task.Do, n.Task.Occurrences, doneA.Task.Do, doneA.Task.Occurrences)
			}
		}
		// A third spoke starts empty and gets everything.
		cFile, _ := login(t, p, hub.URL, "alice")
		c := startSpoke(t, hub.URL, cFile)
		syncNow(t, c)
		want := fmt.Sprint(listTitles(t, a))
		for _, d := range []*testDaemon{b, c} {
			if got := fmt.Sprint(listTitles(t, d)); got != want {
				t.Fatalf("spokes differ:\n%s\n%s", want, got)
			}
		}
		// The hub's own socket serves the same data.
		if got := fmt.Sprint(listTitles(t, hub.testDaemon)); got != want {
			t.Fatalf("hub socket differs:\n%s\n%s", want, got)
		}

		// Concurrent edit: LWW plus a recorded conflict, resolved from the CLI.
		a.MustCall("task.edit", map[string]any{"id": milk.ID, "title": "buy soy milk"}, nil)
		time.Sleep(5 * time.Millisecond)
		b.MustCall("task.edit", map[string]any{"id": milk.ID, "title": "buy rice milk"}, nil)
		syncNow(t, a)
		if rep := syncNow(t, b); rep.Conflicts != 1 {
			t.Fatalf("want one conflict at b: %+v", rep)
		}
		syncNow(t, a)
		if n := getTask(t, a, milk.ID); n.Title != "buy rice milk" {
			t.Fatalf("LWW: a has %q", n.Title)
		}
		out := b.MustHeph("conflicts")
		if !strings.Contains(out, "buy soy milk") || !strings.Contains(out, "title") {
			t.Fatalf("heph conflicts:\n%s", out)
		}
		var list []conflict
		b.MustCall("conflict.list", nil, &list)
		b.MustHeph("conflicts", "resolve", list[0].ID, "--keep", "theirs")
		syncNow(t, b)
		syncNow(t, a)
		if n := getTask(t, a, milk.ID); n.Title != "buy soy milk" {
			t.Fatalf("resolution did not sync: %q", n.Title)
		}
		st := b.MustHeph("sync", "--status")
		for _, want := range []string{"last success:", "waiting to push:  0", "auth:", "ok", "open conflicts:   0"} {
			if !strings.Contains(st, want) {
				t.Fatalf("heph sync --status lacks %q:\n%s", want, st)
			}
		}
		if out := b.MustHeph("sync", "--now"); !strings.Contains(out, "synced") {
			t.Fatalf("heph sync --now: %s", out)
		}
	})

	t.Run("thin client", func(t *testing.T) {
		tc := startDaemon(t, "--mode", "client", "--hub-url", hub.URL, "--token-file", aliceFile)
		n := mustCreate(t, tc, map[string]any{"title": "made on a thin client"})
		if got := getTask(t, hub.testDaemon, n.ID); got.Title != "made on a thin client" {
			t.Fatalf("hub: %+v", got)
		}
		var info daemonInfo
		tc.MustCall("daemon.info", nil, &info)
		if info.Mode != "client" {
			t.Fatalf("mode %q", info.Mode)
		}
		// A hub that is down: the same login, another (closed) address.
		deadURL := "http://" + freeLoopbackAddr(t)
		deadFile := filepath.Join(shortTempDir(t), "token.json")
		store, _ := openTokenStore(tokenStoreOptions{File: deadFile}, osGetenv)
		moved := *alice
		moved.HubURL = deadURL
		if err := store.Save(context.Background(), &moved); err != nil {
			t.Fatal(err)
		}
		dead := startDaemon(t, "--mode", "client", "--hub-url", deadURL, "--token-file", deadFile)
		err := dead.Call("task.list", nil, nil)
		if re, ok := err.(*rpcError); !ok || re.Code != codeUnavailable || !strings.Contains(re.Message, "unreachable") {
			t.Fatalf("thin client with the hub down: %v", err)
		}
	})

	t.Run("rejected tokens", func(t *testing.T) {
		before := hubOps(t, hub)
		other := startOIDCProvider(t, "--access-ttl", "1")
		otherTok := func() string {
			_, tok := login(t, other, startHubConfig(t, other), "alice")
			return tok.AccessToken
		}()
		header, payload := splitJWT(t, alice.AccessToken)
		pub := providerRSAKey(t, p, header["kid"].(string))
		forged := map[string]string{
			"no token":                  "",
			"garbage":                   "not.a.jwt",
			"wrong issuer":              otherTok,
			"alg none":                  signJWT(t, map[string]any{"alg": "none", "kid": header["kid"], "typ": "JWT"}, payload, nil),
			"HS256 with the public key": signJWT(t, map[string]any{"alg": "HS256", "kid": header["kid"]}, payload, pub),
			"another key, same kid":     signJWT(t, map[string]any{"alg": "RS256", "kid": header["kid"]}, payload, newRSAKey(t)),
		}
		for name, tok := range forged {
			for _, ep := range []string{"GET /sync/pull", "POST /sync/push", "POST /rpc"} {
				if code := hubRequest(t, hub.URL, ep, tok); code != http.StatusUnauthorized {
					t.Errorf("%s at %s: status %d, want 401", name, ep, code)
				}
			}
		}
		// Wrong audience: a hub for another audience refuses the real token.
		other2 := startHub(t, "", p, "--oidc-audience", "urn:another:hub")
		if code := hubRequest(t, other2.URL, "GET /sync/pull", alice.AccessToken); code != http.StatusUnauthorized {
			t.Errorf("wrong audience: status %d", code)
		}
		// Expired: the short-lived provider's token at its own hub, after it
		// expired (no leeway).
		expHub := startHub(t, "", other, "--oidc-leeway", "0s")
		time.Sleep(2100 * time.Millisecond)
		if code := hubRequest(t, expHub.URL, "GET /sync/pull", otherTok); code != http.StatusUnauthorized {
			t.Errorf("expired: status %d", code)
		}
		// The hub logs the reason before answering; its stderr reaches
		// us through a pipe, so give the copy a moment.
		for i := 0; i < 100 && !strings.Contains(expHub.Stderr.String(), "token rejected"); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(expHub.Stderr.String(), "exp") {
			t.Errorf("expired token: hub log does not say why:\n%s", expHub.Stderr.String())
		}
		// A stranger authenticates but does not own this hub.
		_, mallory := login(t, p, hub.URL, "mallory")
		for _, ep := range []string{"GET /sync/pull", "POST /sync/push", "POST /rpc"} {
			if code := hubRequest(t, hub.URL, ep, mallory.AccessToken); code != http.StatusForbidden {
				t.Errorf("stranger at %s: status %d, want 403", ep, code)
			}
		}
		if after := hubOps(t, hub); after != before {
			t.Fatalf("rejected requests changed the hub: %d ops before, %d after", before, after)
		}
		// The real token still works.
		if code := hubRequest(t, hub.URL, "GET /sync/pull", alice.AccessToken); code != 200 {
			t.Fatalf("valid token: %d", code)
		}
	})

	t.Run("owners isolated", func(t *testing.T) {
		multi := startHub(t, "", p, "--multi-owner")
		aFile, _ := login(t, p, multi.URL, "alice")
		bFile, _ := login(t, p, multi.URL, "bob")
		a := startSpoke(t, multi.URL, aFile)
		b := startSpoke(t, multi.URL, bFile)
		mustCreate(t, a, map[string]any{"title": "alice's secret"})
		mustCreate(t, b, map[string]any{"title": "bob's secret"})
		syncNow(t, a)
		syncNow(t, b)
		syncNow(t, a)
		at, bt := fmt.Sprint(listTitles(t, a)), fmt.Sprint(listTitles(t, b))
		if strings.Contains(at, "bob") || strings.Contains(bt, "alice") || !strings.Contains(at, "alice") || !strings.Contains(bt, "bob") {
			t.Fatalf("owners mixed: alice sees %s, bob sees %s", at, bt)
		}
	})

	t.Run("hub killed mid-push", func(t *testing.T) {
		hdir := shortTempDir(t)
		h := startHub(t, hdir, p)
		file, _ := login(t, p, h.URL, "alice")
		// A spoke store with many ops, made before its daemon starts.
		sdir := shortTempDir(t)
		s := openSyncStore(t, filepath.Join(sdir, "heph.db"))
		if err := s.Write(context.Background(), func(tx *Tx) error {
			for i := 0; i < 3000; i++ {
				if _, err := createTask(tx, taskInput{Title: fmt.Sprintf("task %d", i)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var localOps int
		s.db.QueryRow(`SELECT count(*) FROM ops`).Scan(&localOps)
		s.Close()
		sp := startDaemonIn(t, sdir, "--hub-url", h.URL, "--token-file", file, "--sync-interval", "1h")
		errc := make(chan error, 1)
		go func() { errc <- sp.Call("sync.now", nil, nil) }()
		// Kill the hub once some pushes have landed.
		deadline := time.Now().Add(30 * time.Second)
		for hubOpsAt(t, h.DB) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		h.Kill()
		partial := hubOpsAt(t, h.DB)
		if err := <-errc; err == nil && partial == localOps {
			t.Log("the push finished before the kill; the retry below still must not duplicate")
		}
		h = startHub(t, hdir, p, "--http-addr", strings.TrimPrefix(h.URL, "http://"))
		rep := syncNow(t, sp)
		if got := hubOpsAt(t, h.DB); got != localOps {
			t.Fatalf("after retry the hub has %d ops, the spoke made %d (had %d at the kill; retry pushed %d, %d new)",
				got, localOps, partial, rep.Pushed, rep.Accepted)
		}
		fresh := startSpoke(t, h.URL, file)
		syncNow(t, fresh)
		var info daemonInfo
		fresh.MustCall("daemon.info", nil, &info)
		if info.Counts["tasks"] != 3000 {
			t.Fatalf("a fresh spoke has %d tasks, want 3000", info.Counts["tasks"])
		}
	})
}

// hubOps counts the ops in a hub's store.
func hubOps(t *testing.T, h *hubProc) int { return hubOpsAt(t, h.DB) }

// hubOpsAt reads the op count of a store another process holds (WAL
// readers do not block the writer).
func hubOpsAt(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ops`).Scan(&n); err != nil {
		return 0 // not created yet
	}
	return n
}

// hubRequest makes an authenticated request ("METHOD /path") and returns
// the status; an empty token sends no Authorization header.
func hubRequest(t *testing.T, base, endpoint, token string) int {
	t.Helper()
	method, path, _ := strings.Cut(endpoint, " ")
	var body io.Reader
	switch path {
	case "/sync/push":
		op := Op{ID: newULID(time.Now()), HLC: HLC{Wall: time.Now().UnixMilli(), Replica: "intruder"}.String(),
			Node: newULID(time.Now()), Type: opNodeCreate, Data: json.RawMessage(`{"kind":"task","fields":{"title":"intruder"}}`)}
		b, _ := json.Marshal(pushRequest{Replica: "intruder", Format: syncFormat, Ops: []Op{op}})
		body = strings.NewReader(string(b))
	case "/sync/pull":
		path += fmt.Sprintf("?format=%d", syncFormat)
	case "/rpc":
		body = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"task.create","params":{"title":"intruder"}}`)
	}
	req, _ := http.NewRequest(method, base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge")
	}
	return resp.StatusCode
}

func splitJWT(t *testing.T, tok string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	for i, v := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

// signJWT builds a compact JWS. key is nil (alg none), []byte (an HMAC
// secret) or *rsa.PrivateKey (RS256).
func signJWT(t *testing.T, header, payload map[string]any, key any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	var sig []byte
	switch k := key.(type) {
	case nil:
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case *rsa.PrivateKey:
		sum := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:]); err != nil {
			t.Fatal(err)
		}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func newRSAKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// providerRSAKey returns the provider's public key kid as PEM bytes: the
// secret of the classic RS256→HS256 confusion attack.
func providerRSAKey(t *testing.T, p *testProvider, kid string) []byte {
	t.Helper()
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	resp, err = http.Get(meta.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, N, E string }
	}
	json.NewDecoder(resp.Body).Decode(&set)
	for _, k := range set.Keys {
		if k.Kid != kid || k.Kty != "RSA" {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	t.Fatalf("provider publishes no RSA key %q", kid)
	return nil
}
