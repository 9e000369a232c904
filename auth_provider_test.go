package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real OpenID provider (npm oidc-provider, testdata/node/oidc/provider.mjs) for
// end-to-end tests: start it, approve device logins through its pages,
// rotate its keys and count its grants. The sync tests use these too.

// testProvider is a running testdata/node/oidc/provider.mjs.
type testProvider struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Audience string `json:"audience"`
	Kid      string `json:"kid"`

	mu     sync.Mutex
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *syncBuffer
}

// startOIDCProvider runs the provider on a random loopback port until the
// test ends. Extra args go to provider.mjs (e.g. "--access-ttl", "60").
func startOIDCProvider(t testing.TB, args ...string) *testProvider {
	t.Helper()
	node, err := exec.LookPath("node")
	requireComponent(t, err == nil, "node is not installed (needed for the OIDC provider)")
	// oidc-provider 9 needs Node >= 20.12 (crypto.hash); Debian 12's own
	// nodejs is 18.
	ver, _ := exec.Command(node, "-p", "process.versions.node").Output()
	var major, minor int
	fmt.Sscanf(strings.TrimSpace(string(ver)), "%d.%d", &major, &minor)
	requireComponent(t, major > 20 || major == 20 && minor >= 12, "node %s is too old for oidc-provider 9 (need >= 20.12)", strings.TrimSpace(string(ver)))
	_, err = os.Stat("testdata/node/node_modules/oidc-provider/package.json")
	requireComponent(t, err == nil, "testdata/node/node_modules/oidc-provider is missing: run make deps (npm ci --prefix testdata/node)")
	cmd := exec.Command(node, append([]string{"testdata/node/oidc/provider.mjs"}, args...)...)
	p := &testProvider{stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start OIDC provider: %v", err)
	}
	t.Cleanup(func() {
		p.stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := p.readLine(30 * time.Second)
	if err != nil {
		t.Fatalf("OIDC provider did not start: %v\n%s", err, p.stderr.String())
	}
	if err := json.Unmarshal([]byte(line), p); err != nil || p.Issuer == "" {
		t.Fatalf("OIDC provider said %q: %v", line, err)
	}
	return p
}

func (p *testProvider) readLine(timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// oidc-provider prints notices on stdout too; replies are JSON.
		for {
			s, err := p.stdout.ReadString('\n')
			if err != nil || strings.HasPrefix(s, "{") {
				ch <- res{s, err}
				return
			}
			p.stderr.Write([]byte(s))
		}
	}()
	select {
	case r := <-ch:
		return strings.TrimSpace(r.s), r.err
	case <-time.After(timeout):
		return "", fmt.Errorf("no reply within %s", timeout)
	}
}

// command sends one admin command (rotate, retire, stats) and decodes the
// provider's one-line JSON reply into out.
func (p *testProvider) command(t testing.TB, name string, out any) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := fmt.Fprintln(p.stdin, name); err != nil {
		t.Fatalf("provider command %s: %v", name, err)
	}
	line, err := p.readLine(10 * time.Second)
	if err != nil {
		t.Fatalf("provider command %s: %v\n%s", name, err, p.stderr.String())
	}
	if err := json.Unmarshal([]byte(line), out); err != nil {
		t.Fatalf("provider command %s replied %q: %v", name, line, err)
	}
}

// grants returns how many token requests of grantType succeeded and failed.
func (p *testProvider) grants(t testing.TB, grantType string) (ok, failed int) {
	var st struct {
		Grants map[string]int `json:"grants"`
		Errors map[string]int `json:"errors"`
	}
	p.command(t, "stats", &st)
	for k, n := range st.Errors {
		if strings.HasPrefix(k, grantType+":") {
			failed += n
		}
	}
	return st.Grants[grantType], failed
}

// rotate makes the provider sign with a new key (old keys stay published)
// and returns the new kid.
func (p *testProvider) rotate(t testing.TB) string {
	var r struct {
		Rotated string `json:"rotated"`
	}
	p.command(t, "rotate", &r)
	if r.Rotated == "" {
		t.Fatal("provider did not rotate")
	}
	return r.Rotated
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*"([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// approveDeviceLogin plays the person at the browser: it opens the
// verification page, enters the user code, confirms, signs in as subject
// and consents, submitting each page's form with its hidden fields under
// one cookie jar. With deny it aborts at the confirmation page instead.
func approveDeviceLogin(t testing.TB, verificationURI, userCode, subject string, deny bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := client.Get(verificationURI)
	if err != nil {
		t.Fatalf("open %s: %v", verificationURI, err)
	}
	page := readPage(t, resp)
	for step := 0; step < 10; step++ {
		if strings.Contains(page.body, "Sign-in Success") {
			if deny {
				t.Fatal("denied login reached the success page")
			}
			return
		}
		m := formRE.FindStringSubmatch(page.body)
		if m == nil {
			if deny && strings.Contains(strings.ToLower(page.body), "abort") {
				return
			}
			t.Fatalf("device login step %d: no form on %s:\n%s", step, page.url, page.body)
		}
		fa := attrs(m[1])
		form := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			a := attrs(in[1])
			if a["name"] != "" {
				form.Set(a["name"], a["value"])
			}
		}
		if _, ok := form["user_code"]; ok && form.Get("user_code") == "" {
			form.Set("user_code", userCode)
		}
		if form.Has("confirm") && deny {
			form.Del("confirm")
			form.Set("abort", "yes")
		}
		if form.Has("login") {
			form.Set("login", subject)
			form.Set("password", "test")
		}
		action, err := page.url.Parse(fa["action"])
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.PostForm(action.String(), form)
		if err != nil {
			t.Fatalf("device login step %d: POST %s: %v", step, action, err)
		}
		page = readPage(t, resp)
		if deny && form.Has("abort") {
			return
		}
	}
	t.Fatalf("device login did not finish; last page %s:\n%s", page.url, page.body)
}

type htmlPage struct {
	url  *url.URL
	body string
}

func readPage(t testing.TB, resp *http.Response) htmlPage {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 400 {
		t.Fatalf("%s: %s\n%s", resp.Request.URL, resp.Status, b)
	}
	return htmlPage{url: resp.Request.URL, body: string(b)}
}

// startHubConfig serves a hub's unauthenticated GET /config for p, as the
// sync hub does, so login can learn the issuer, client and audience.
func startHubConfig(t testing.TB, p *testProvider) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/config" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(hubConfig{Issuer: p.Issuer, ClientID: p.ClientID, Audience: p.Audience, Version: "test"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

var deviceCodeRE = regexp.MustCompile(`(?s)open this page in any browser:\s+(\S+)\s+and enter the code:\s+(\S+)`)

// loginWithProvider logs in to hubURL in-process (authLogin, the function
// behind `heph auth login`), approving the code as subject, and returns
// the stored token.
func loginWithProvider(t testing.TB, p *testProvider, hubURL string, store tokenStore, subject string) *storedToken {
	t.Helper()
	pr, pw := io.Pipe()
	type result struct {
		tok *storedToken
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := authLogin(context.Background(), http.DefaultClient, store, loginOptions{HubURL: hubURL}, pw)
		pw.Close()
		done <- result{tok, err}
	}()
	var seen strings.Builder
	approved := false
	buf := make([]byte, 4096)
	for {
		n, err := pr.Read(buf)
		seen.Write(buf[:n])
		if m := deviceCodeRE.FindStringSubmatch(seen.String()); m != nil && !approved {
			approved = true
			approveDeviceLogin(t, m[1], m[2], subject, false)
		}
		if err != nil {
			break
		}
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("login: %v\noutput:\n%s", r.err, seen.String())
	}
	return r.tok
}
