package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFileTokenStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "heph", "hub-token.json")
	s := &fileTokenStore{path: path}
	if _, err := s.Load(ctx, "https://hub.example"); !errors.Is(err, errNoToken) {
		t.Fatalf("empty store: %v", err)
	}
	a := &storedToken{HubURL: "https://hub.example", AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(time.Hour).Round(0)}
	b := &storedToken{HubURL: "https://other.example", AccessToken: "b1"}
	for _, tok := range []*storedToken{a, b} {
		if err := s.Save(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("token dir mode %v", di.Mode())
	}
	got, err := s.Load(ctx, "https://hub.example/") // trailing slash: same hub
	if err != nil || got.RefreshToken != "r1" || !got.Expiry.Equal(a.Expiry) {
		t.Fatalf("load: %+v %v", got, err)
	}
	if err := s.Delete(ctx, "https://hub.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "https://hub.example"); !errors.Is(err, errNoToken) {
		t.Fatalf("after delete: %v", err)
	}
	if got, err := s.Load(ctx, "https://other.example"); err != nil || got.AccessToken != "b1" {
		t.Fatalf("the other hub's login was lost: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
	// A file others can read is refused, not silently used.
	os.Chmod(path, 0o644)
	if _, err := s.Load(ctx, "https://other.example"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("mode 0644 accepted: %v", err)
	}
	os.Chmod(path, 0o600)
	// Corrupt JSON is an error that names the file; nothing is overwritten.
	os.WriteFile(path, []byte("{not json"), 0o600)
	if err := s.Save(ctx, a); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("save over a corrupt file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Fatal("corrupt token file was overwritten")
	}
}

func TestFileTokenStoreConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub-token.json")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &fileTokenStore{path: path} // separate stores, as CLI and daemon are
			if err := s.Save(ctx, &storedToken{HubURL: fmt.Sprintf("https://hub%d.example", i), AccessToken: "x"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	all, err := (&fileTokenStore{path: path}).List(ctx)
	if err != nil || len(all) != 20 {
		t.Fatalf("%d logins after 20 concurrent saves (%v)", len(all), err)
	}
}

func TestCommandTokenStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	vault := filepath.Join(dir, "vault.json")
	s, err := openTokenStore(tokenStoreOptions{
		LoadCmd: fmt.Sprintf("cat %q 2>/dev/null || true", vault),
		SaveCmd: fmt.Sprintf("cat > %q", vault),
	}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "https://hub.example"); !errors.Is(err, errNoToken) {
		t.Fatalf("empty: %v", err)
	}
	if err := s.Save(ctx, &storedToken{HubURL: "https://hub.example", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "https://hub.example")
	if err != nil || got.RefreshToken != "r" {
		t.Fatalf("%+v %v", got, err)
	}
	var f tokenFile
	b, _ := os.ReadFile(vault)
	if err := json.Unmarshal(b, &f); err != nil || f.Hubs["https://hub.example"] == nil {
		t.Fatalf("the save command did not get the token JSON: %s", b)
	}
	bad, _ := openTokenStore(tokenStoreOptions{LoadCmd: "echo nope >&2; exit 3", SaveCmd: "true"}, nil)
	if _, err := bad.Load(ctx, "x"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("failing load command: %v", err)
	}
	if _, err := openTokenStore(tokenStoreOptions{LoadCmd: "cat"}, nil); err == nil {
		t.Fatal("load command without save command accepted")
	}
}

func TestDefaultTokenFile(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	if p, _ := defaultTokenFile(get); p != "/home/u/.config/heph/hub-token.json" {
		t.Fatal(p)
	}
	env["XDG_CONFIG_HOME"] = "/x/cfg"
	if p, _ := defaultTokenFile(get); p != "/x/cfg/heph/hub-token.json" {
		t.Fatal(p)
	}
}

// fakeTokenEndpoint is a token endpoint that rotates refresh tokens.
type fakeTokenEndpoint struct {
	srv      *httptest.Server
	mu       sync.Mutex
	valid    string // the one refresh token it accepts
	n        int
	calls    atomic.Int32
	status   int // when set, every call fails with this status
	errCode  string
	delay    time.Duration
	lastForm map[string]string
}

func newFakeTokenEndpoint(t *testing.T, refresh string) *fakeTokenEndpoint {
	f := &fakeTokenEndpoint{valid: refresh}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		time.Sleep(f.delay)
		f.lastForm = map[string]string{}
		for k := range r.PostForm {
			f.lastForm[k] = r.PostForm.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		if f.status != 0 {
			w.WriteHeader(f.status)
			fmt.Fprintf(w, `{"error":%q}`, f.errCode)
			return
		}
		if r.PostForm.Get("refresh_token") != f.valid {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"grant request is invalid"}`)
			return
		}
		f.n++
		f.valid = fmt.Sprintf("r%d", f.n)
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("a%d", f.n), "refresh_token": f.valid, "expires_in": 600, "token_type": "Bearer"})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// failingStore fails every Save after the first failAfter ones.
type failingStore struct {
	tokenStore
	saves     atomic.Int32
	failAfter int32
}

func (s *failingStore) Save(ctx context.Context, t *storedToken) error {
	if s.saves.Add(1) > s.failAfter {
		return errors.New("disk full")
	}
	return s.tokenStore.Save(ctx, t)
}

func TestTokenSource(t *testing.T) {
	ctx := context.Background()
	const hub = "https://hub.example"
	setup := func(t *testing.T, expiry time.Time) (*fakeTokenEndpoint, *fileTokenStore) {
		ep := newFakeTokenEndpoint(t, "r0")
		store := &fileTokenStore{path: filepath.Join(t.TempDir(), "t.json")}
		store.Save(ctx, &storedToken{HubURL: hub, ClientID: "heph-cli", Audience: "urn:heph:hub", TokenEndpoint: ep.srv.URL,
			AccessToken: "a0", RefreshToken: "r0", Expiry: expiry})
		return ep, store
	}

	t.Run("valid token is used without refresh", func(t *testing.T) {
		ep, store := setup(t, time.Now().Add(time.Hour))
		at, err := newTokenSource(store, hub, nil).Token(ctx)
		if err != nil || at != "a0" || ep.calls.Load() != 0 {
			t.Fatalf("%q %v calls=%d", at, err, ep.calls.Load())
		}
	})

	t.Run("near expiry refreshes once, rotated token stored", func(t *testing.T) {
		ep, store := setup(t, time.Now().Add(30*time.Second))
		ep.delay = 50 * time.Millisecond
		ts := newTokenSource(store, hub, nil)
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if at, err := ts.Token(ctx); err != nil || at != "a1" {
					t.Errorf("%q %v", at, err)
				}
			}()
		}
		wg.Wait()
		if ep.calls.Load() != 1 {
			t.Fatalf("%d refresh calls, want 1", ep.calls.Load())
		}
		if ep.lastForm["grant_type"] != "refresh_token" || ep.lastForm["client_id"] != "heph-cli" || ep.lastForm["resource"] != "urn:heph:hub" {
			t.Fatalf("refresh form %v", ep.lastForm)
		}
		got, _ := store.Load(ctx, hub)
		if got.RefreshToken != "r1" || got.AccessToken != "a1" {
			t.Fatalf("stored %+v", got)
		}
	})

	t.Run("unsaved rotation is not handed out", func(t *testing.T) {
		ep, store := setup(t, time.Now().Add(-time.Minute))
		fs := &failingStore{tokenStore: store}
		ts := newTokenSource(fs, hub, nil)
		for range 2 {
			if at, err := ts.Token(ctx); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("save failure: %q %v", at, err)
			}
		}
		if st := ts.Status(); !strings.Contains(st.LastError, "disk full") {
			t.Fatalf("status %+v", st)
		}
		fs.failAfter = 1 << 30 // the disk recovers
		if at, err := ts.Token(ctx); err != nil || at != "a1" {
			t.Fatalf("after the store recovered: %q %v", at, err)
		}
		if got, _ := store.Load(ctx, hub); got.RefreshToken != "r1" {
			t.Fatalf("stored refresh token %q, want the rotated r1", got.RefreshToken)
		}
		if ep.calls.Load() != 1 {
			t.Fatalf("%d refresh calls, want 1", ep.calls.Load())
		}
	})

	t.Run("rejected refresh needs login, no retry", func(t *testing.T) {
		ep, store := setup(t, time.Now().Add(-time.Minute))
		ep.mu.Lock()
		ep.valid = "something-else"
		ep.mu.Unlock()
		ts := newTokenSource(store, hub, nil)
		for range 3 {
			if _, err := ts.Token(ctx); !errors.Is(err, errNeedsLogin) {
				t.Fatalf("%v", err)
			}
		}
		if ep.calls.Load() != 1 {
			t.Fatalf("%d refresh calls after a rejection, want 1", ep.calls.Load())
		}
		st := ts.Status()
		if !st.NeedsLogin || st.RefreshState != "needs_login" || !strings.Contains(st.LastError, "invalid_grant") {
			t.Fatalf("status %+v", st)
		}
		// A new login stored by the CLI is picked up.
		store.Save(ctx, &storedToken{HubURL: hub, TokenEndpoint: ep.srv.URL, AccessToken: "fresh", RefreshToken: "rf", Expiry: time.Now().Add(time.Hour)})
		if at, err := ts.Token(ctx); err != nil || at != "fresh" {
			t.Fatalf("after a new login: %q %v", at, err)
		}
	})

	t.Run("transient failure is retried, not needs-login", func(t *testing.T) {
		ep, store := setup(t, time.Now().Add(-time.Minute))
		ep.mu.Lock()
		ep.status, ep.errCode = 503, "temporarily_unavailable"
		ep.mu.Unlock()
		ts := newTokenSource(store, hub, nil)
		if _, err := ts.Token(ctx); err == nil || errors.Is(err, errNeedsLogin) {
			t.Fatalf("503: %v", err)
		}
		if st := ts.Status(); st.NeedsLogin || st.RefreshState != "failed" {
			t.Fatalf("status %+v", st)
		}
		ep.mu.Lock()
		ep.status = 0
		ep.mu.Unlock()
		if at, err := ts.Token(ctx); err != nil || at != "a1" {
			t.Fatalf("after recovery: %q %v", at, err)
		}
	})

	t.Run("no login", func(t *testing.T) {
		store := &fileTokenStore{path: filepath.Join(t.TempDir(), "t.json")}
		if _, err := newTokenSource(store, hub, nil).Token(ctx); !errors.Is(err, errNoToken) {
			t.Fatalf("%v", err)
		}
	})
}

// TestDevicePolling drives the device flow's polling against a scripted
// token endpoint: pending, slow_down (+5 intervals), and each ending.
func TestDevicePolling(t *testing.T) {
	run := func(t *testing.T, replies ...string) (*tokenResponse, error, []time.Duration, string) {
		var mu sync.Mutex
		var times []time.Time
		i := 0
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		defer srv.Close()
		mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			if r.PostForm.Get("scope") != "openid offline_access" || r.PostForm.Get("resource") != "urn:heph:hub" {
				t.Errorf("device authorization form %v", r.PostForm)
			}
			fmt.Fprintf(w, `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"%s/verify","verification_uri_complete":"%s/verify?c=ABCD-EFGH","expires_in":600,"interval":1}`, srv.URL, srv.URL)
		})
		mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			times = append(times, time.Now())
			reply := replies[min(i, len(replies)-1)]
			i++
			mu.Unlock()
			if r.PostForm.Get("grant_type") != deviceCodeGrant || r.PostForm.Get("device_code") != "dc" {
				t.Errorf("token form %v", r.PostForm)
			}
			if reply == "ok" {
				fmt.Fprint(w, `{"access_token":"at","refresh_token":"rt","expires_in":60}`)
				return
			}
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":%q}`, reply)
		})
		var out bytes.Buffer
		f := &deviceFlow{client: srv.Client(), meta: &providerMetadata{Issuer: srv.URL, DeviceAuthorizationEndpoint: srv.URL + "/device", TokenEndpoint: srv.URL + "/token"},
			clientID: "heph-cli", audience: "urn:heph:hub", out: &out, now: time.Now, tick: 20 * time.Millisecond}
		start := time.Now()
		tr, err := f.run(context.Background())
		var gaps []time.Duration
		prev := start
		for _, at := range times {
			gaps = append(gaps, at.Sub(prev))
			prev = at
		}
		return tr, err, gaps, out.String()
	}

	t.Run("pending, slow_down, success", func(t *testing.T) {
		tr, err, gaps, out := run(t, "authorization_pending", "slow_down", "authorization_pending", "ok")
		if err != nil || tr.AccessToken != "at" {
			t.Fatalf("%v", err)
		}
		if !strings.Contains(out, "ABCD-EFGH") || !strings.Contains(out, "/verify?c=ABCD-EFGH") {
			t.Fatalf("output:\n%s", out)
		}
		// interval 1 tick (20ms) until slow_down, then 6 ticks (120ms).
		if len(gaps) != 4 || gaps[0] < 20*time.Millisecond || gaps[2] < 120*time.Millisecond || gaps[3] < 120*time.Millisecond {
			t.Fatalf("poll gaps %v", gaps)
		}
	})
	for reply, want := range map[string]string{
		"access_denied":  "denied",
		"expired_token":  "expired",
		"invalid_client": "invalid_client",
	} {
		t.Run(reply, func(t *testing.T) {
			_, err, _, _ := run(t, "authorization_pending", reply)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: %v", reply, err)
			}
		})
	}
}

func TestResolveLogin(t *testing.T) {
	ctx := context.Background()
	// With every provider setting given, the hub need not answer.
	o, err := resolveLogin(ctx, http.DefaultClient, loginOptions{HubURL: "http://127.0.0.1:1", Issuer: "https://id.example", ClientID: "c", Audience: "a"})
	if err != nil || o.Issuer != "https://id.example" {
		t.Fatalf("%+v %v", o, err)
	}
	// Otherwise /config fills the gaps; flags win over it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(hubConfig{Issuer: "https://hub-says.example", ClientID: "hub-client", Audience: "urn:heph:hub"})
	}))
	defer srv.Close()
	o, err = resolveLogin(ctx, srv.Client(), loginOptions{HubURL: srv.URL + "/", ClientID: "mine"})
	if err != nil || o.Issuer != "https://hub-says.example" || o.ClientID != "mine" || o.Audience != "urn:heph:hub" {
		t.Fatalf("%+v %v", o, err)
	}
}
