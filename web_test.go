// web_test.go tests the hub serving the web app (headers, caching, gzip, paths, --web-root) and Idempotency-Key on /rpc.
package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// webGet fetches u without Go's transparent gzip, so the test sees what
// the hub sent.
func webGet(t *testing.T, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// webGetClean is webGet that follows the mux's redirect to a cleaned
// path (it answers "/a/../b" with a redirect to "/b" before any handler).
func webGetClean(t *testing.T, base, p string) (*http.Response, []byte) {
	t.Helper()
	resp, body := webGet(t, base+p, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusTemporaryRedirect && strings.HasPrefix(loc, "/") {
		return webGet(t, base+loc, nil)
	}
	return resp, body
}

func checkSecurityHeaders(t *testing.T, path string, resp *http.Response, issuerOrigin string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
		"object-src 'none'", "connect-src 'self' " + issuerOrigin + ";"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("%s: CSP allows something unsafe: %q", path, csp)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", path, got)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", path, got)
	}
}

func TestWebServesEmbeddedApp(t *testing.T) {
	h := newTestHub(t, daemonOptions{OIDCIssuer: "https://id.example.com/realms/x", OIDCClientID: "heph-cli"})
	webAssetRE := regexp.MustCompile(`src="(/v/([0-9a-f]{12})/app\.js)"`)
	var version, appJS string
	for _, p := range []string{"/", "/callback"} {
		resp, body := webGet(t, h.URL+p, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %s %s", p, resp.Status, resp.Header.Get("Content-Type"))
		}
		checkSecurityHeaders(t, p, resp, "https://id.example.com")
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: the shell must revalidate, Cache-Control %q", p, cc)
		}
		m := webAssetRE.FindStringSubmatch(string(body))
		if m == nil || strings.Contains(string(body), webVersionToken) {
			t.Fatalf("%s: shell does not load a versioned app.js:\n%s", p, body)
		}
		version, appJS = m[2], m[1]
	}

	resp, plain := webGet(t, h.URL+appJS, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("%s: %s %s", appJS, resp.Status, resp.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, appJS, resp, "https://id.example.com")
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("versioned asset Cache-Control %q, want a year, immutable", cc)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r304, _ := webGet(t, h.URL+appJS, map[string]string{"If-None-Match": etag}); r304.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %s, want 304", r304.Status)
	}
	rgz, gz := webGet(t, h.URL+appJS, map[string]string{"Accept-Encoding": "br, gzip"})
	if rgz.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(plain) {
		t.Fatalf("gzip: Content-Encoding %q, %d bytes vs %d plain", rgz.Header.Get("Content-Encoding"), len(gz), len(plain))
	}
	zr, err := gzip.NewReader(strings.NewReader(string(gz)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if string(unzipped) != string(plain) {
		t.Error("gzipped body differs from the plain one")
	}
	embedded, _ := webEmbedded.ReadFile("web/app.js")
	if string(plain) != string(embedded) {
		t.Error("served app.js is not the embedded web/app.js")
	}

	// Plain names for what must sit at the root (service worker scope, manifest).
	for _, p := range []string{"/sw.js", "/manifest.webmanifest", "/icon-192.png", "/icon-512.png", "/icon-maskable-512.png"} {
		resp, body := webGet(t, h.URL+p, nil)
		if resp.StatusCode != 200 || len(body) == 0 || resp.Header.Get("ETag") == "" {
			t.Errorf("%s: %s, %d bytes, ETag %q", p, resp.Status, len(body), resp.Header.Get("ETag"))
		}
	}
	if _, sw := webGet(t, h.URL+"/sw.js", nil); !strings.Contains(string(sw), version) {
		t.Error("sw.js does not name the app version it caches")
	}

	for _, p := range []string{"/nope", "/v/000000000000/app.js", "/v/" + version + "/", "/v/" + version + "/index.html",
		"/index.html", "/.gitkeep", "/v/" + version + "/../go.mod", "/%2e%2e/go.mod", "/web/app.js", "/v/" + version} {
		resp, body := webGetClean(t, h.URL, p)
		if resp.StatusCode != 404 {
			t.Errorf("%s: %s, want 404\n%.200s", p, resp.Status, body)
		}
		checkSecurityHeaders(t, p, resp, "https://id.example.com")
	}
	if resp, _ := webGet(t, h.URL+"/rpc", nil); resp.StatusCode == 200 {
		t.Errorf("GET /rpc served something: %s", resp.Status)
	}
}

func TestWebConfigAdvertisesWebClient(t *testing.T) {
	for _, tc := range []struct{ web, want string }{{"", "heph-cli"}, {"heph-web", "heph-web"}} {
		h := newTestHub(t, daemonOptions{OIDCIssuer: "https://id.example.com", OIDCClientID: "heph-cli", WebClientID: tc.web})
		_, body := webGet(t, h.URL+"/config", nil)
		var c hubConfig
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
		if c.WebClientID != tc.want || c.ClientID != "heph-cli" {
			t.Errorf("--web-client-id %q: /config %s", tc.web, body)
		}
	}
}

func TestWebRootServesDirectoryOnly(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "app")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "index.html"), []byte(`<script type="module" src="/v/{{version}}/app.js"></script>`), 0o644)
	os.WriteFile(filepath.Join(root, "app.js"), []byte("one"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "x.js"), []byte("sub"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "leak.txt"))
	os.Symlink("../secret.txt", filepath.Join(root, "rel.txt"))
	os.Symlink(dir, filepath.Join(root, "up"))
	if err := checkWebRoot(root); err != nil {
		t.Fatal(err)
	}
	if err := checkWebRoot(filepath.Join(root, "sub")); err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("a --web-root without index.html: %v", err)
	}
	h := newTestHub(t, daemonOptions{OIDCIssuer: "http://127.0.0.1:9", WebRoot: root})

	resp, body := webGet(t, h.URL+"/", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "/v/dev/app.js") {
		t.Fatalf("/: %s %s", resp.Status, body)
	}
	checkSecurityHeaders(t, "/", resp, "http://127.0.0.1:9")
	resp, body = webGet(t, h.URL+"/v/dev/app.js", nil)
	if resp.StatusCode != 200 || string(body) != "one" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("/v/dev/app.js: %s %q %q", resp.Status, body, resp.Header.Get("Cache-Control"))
	}
	os.WriteFile(filepath.Join(root, "app.js"), []byte("two"), 0o644)
	if _, body = webGet(t, h.URL+"/app.js", nil); string(body) != "two" {
		t.Errorf("an edit under --web-root is not served: %q", body)
	}
	for _, p := range []string{"/leak.txt", "/rel.txt", "/up/secret.txt", "/up", "/sub", "/sub/", "/sub/x.js", "/../secret.txt",
		"/%2e%2e/secret.txt", "/..%2fsecret.txt", "/v/dev/..%2fsecret.txt", "/v/dev/leak.txt", "/v/abc/app.js"} {
		resp, body := webGetClean(t, h.URL, p)
		if resp.StatusCode != 404 || strings.Contains(string(body), "secret") {
			t.Errorf("%s: %s %q, want 404", p, resp.Status, body)
		}
	}
}

// webRPC posts one JSON-RPC request to the hub's /rpc as subject.
func webRPC(t *testing.T, base, subject, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/rpc", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok:"+subject)
	if key != "" {
		req.Header.Set(idemHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestHubIdempotencyKeys(t *testing.T) {
	h := newTestHub(t, daemonOptions{OIDCIssuer: "https://id.example.com", MultiOwner: true})
	create := func(id int, title string) string {
		return `{"jsonrpc":"2.0","id":` + rpcIDText(id) + `,"method":"task.create","params":{"title":"` + title + `"}}`
	}
	r1, first := webRPC(t, h.URL, "alice", "k-1", create(1, "Water plants"))
	if r1.StatusCode != 200 || r1.Header.Get("Idempotency-Replayed") != "" {
		t.Fatalf("first: %s %s", r1.Status, first)
	}
	r2, second := webRPC(t, h.URL, "alice", "k-1", create(7, "Water plants"))
	if r2.StatusCode != 200 || r2.Header.Get("Idempotency-Replayed") != "true" {
		t.Fatalf("replay: %s %s", r2.Status, second)
	}
	var a, b struct {
		ID     int  `json:"id"`
		Result Node `json:"result"`
	}
	json.Unmarshal(first, &a)
	json.Unmarshal(second, &b)
	if a.Result.ID == "" || a.Result.ID != b.Result.ID || b.ID != 7 {
		t.Errorf("replay answered %s, first %s", second, first)
	}
	count := func(sub string) int {
		_, body := webRPC(t, h.URL, sub, "", `{"jsonrpc":"2.0","id":1,"method":"task.list","params":{"state":"all"}}`)
		var r struct{ Result []Node }
		json.Unmarshal(body, &r)
		return len(r.Result)
	}
	if n := count("alice"); n != 1 {
		t.Errorf("alice has %d tasks after a create and its replay, want 1", n)
	}
	if r, body := webRPC(t, h.URL, "alice", "k-1", create(2, "Something else")); r.StatusCode != 422 {
		t.Errorf("key reused for another request: %s %s", r.Status, body)
	}
	// Another owner's same key is its own.
	if r, body := webRPC(t, h.URL, "bob", "k-1", create(1, "Water plants")); r.StatusCode != 200 || r.Header.Get("Idempotency-Replayed") != "" {
		t.Errorf("bob's k-1: %s %s", r.Status, body)
	}
	if n := count("bob"); n != 1 {
		t.Errorf("bob has %d tasks, want 1", n)
	}
	// A method's own error is recorded too: the replay gets it, nothing runs twice.
	bad := `{"jsonrpc":"2.0","id":3,"method":"task.done","params":{"id":"nope"}}`
	_, e1 := webRPC(t, h.URL, "alice", "k-2", bad)
	r3, e2 := webRPC(t, h.URL, "alice", "k-2", bad)
	if !strings.Contains(string(e1), "-32001") || string(e1) != string(e2) || r3.Header.Get("Idempotency-Replayed") != "true" {
		t.Errorf("error replay: %s then %s", e1, e2)
	}
	// A key on a read is not recorded: a repeat sees the store as it is now.
	list := `{"jsonrpc":"2.0","id":9,"method":"task.list","params":{"state":"all"}}`
	_, l1 := webRPC(t, h.URL, "alice", "k-read", list)
	webRPC(t, h.URL, "alice", "", create(5, "Another"))
	r4, l2 := webRPC(t, h.URL, "alice", "k-read", list)
	if string(l1) == string(l2) || r4.Header.Get("Idempotency-Replayed") != "" {
		t.Errorf("a keyed read was replayed: %s", l2)
	}
	for _, key := range []string{"has space", strings.Repeat("x", 129), "tab\there"} {
		if r, body := webRPC(t, h.URL, "alice", key, create(4, "x")); r.StatusCode != 400 {
			t.Errorf("key %q: %s %s", key, r.Status, body)
		}
	}
	if r, body := webRPC(t, h.URL, "alice", "k-3", `{"jsonrpc":"2.0","method":"task.create","params":{"title":"n"}}`); r.StatusCode != 400 {
		t.Errorf("keyed notification: %s %s", r.Status, body)
	}
	if n := count("alice"); n != 2 {
		t.Errorf("alice has %d tasks after refused requests, want 2", n)
	}
}

func rpcIDText(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestHephdWebFlags runs the real hephd: --web-root serves that copy and
// a missing one stops hephd at start with a clear error.
func TestHephdWebFlags(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "index.html"), []byte("<p>my copy {{version}}</p>"), 0o644)
	addr := freeLoopbackAddr(t)
	d := startDaemon(t, "--mode", "server", "--http-addr", addr, "--oidc-issuer", "http://127.0.0.1:9",
		"--oidc-audience", "urn:heph:hub", "--oidc-client-id", "cli", "--web-client-id", "web", "--web-root", root)
	h := &hubProc{testDaemon: d, URL: "http://" + addr}
	h.waitHTTP(t, h.URL+"/healthz")
	resp, body := webGet(t, h.URL+"/callback", nil)
	if resp.StatusCode != 200 || string(body) != "<p>my copy dev</p>" {
		t.Errorf("/callback: %s %q", resp.Status, body)
	}
	checkSecurityHeaders(t, "/callback", resp, "http://127.0.0.1:9")
	if _, body := webGet(t, h.URL+"/config", nil); !strings.Contains(string(body), `"web_client_id":"web"`) {
		t.Errorf("/config: %s", body)
	}

	bin := filepath.Join(filepath.Dir(hephBinary(t)), "hephd")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "--db", filepath.Join(root, "x.db"), "--socket", filepath.Join(shortTempDir(t), "s"), "--mode", "server",
		"--oidc-issuer", "http://127.0.0.1:9", "--oidc-audience", "a", "--web-root", filepath.Join(root, "missing")).CombinedOutput()
	if !strings.Contains(string(out), "--web-root") {
		t.Errorf("hephd with a missing --web-root said %q", out)
	}
}

// TestWebColdLoadBudget: everything a cold first load can fetch from the
// hub (every app file, gzipped as served) stays within 150 KB, leaving room
// for the headers and the first answers. bench/web_first_load.sh measures
// the real transfer.
func TestWebColdLoadBudget(t *testing.T) {
	ws := newWebServer("", "https://id.example.com", quietLogger())
	ws.load()
	total := 0
	for name, f := range ws.files {
		n := len(f.body)
		if f.gz != nil {
			n = len(f.gz)
		}
		total += n
		t.Logf("%-24s %6d bytes on the wire", name, n)
	}
	if total > webFirstLoadTargetBytes-30<<10 {
		t.Errorf("the app is %d bytes gzipped: over the cold-load budget of %d less 30 KB for headers and data", total, webFirstLoadTargetBytes)
	}
}

// TestWebServiceWorkerCachesShell: sw.js caches every script and style of
// the app (a file it missed would be absent offline).
func TestWebServiceWorkerCachesShell(t *testing.T) {
	sw, err := webEmbedded.ReadFile("web/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := webEmbedded.ReadDir("web")
	for _, e := range entries {
		n := e.Name()
		if (strings.HasSuffix(n, ".js") || strings.HasSuffix(n, ".css")) && n != "sw.js" && !strings.Contains(string(sw), "'"+n+"'") {
			t.Errorf("sw.js does not cache %s", n)
		}
	}
}
