// cli_doctor_test.go tests heph doctor against healthy and broken setups: real hephd, real hubs, the real OIDC provider.
package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// runDoctor runs heph doctor --json and returns its report and exit status.
func runDoctor(t *testing.T, env []string, args ...string) (doctorReport, int) {
	t.Helper()
	out, errOut, code := runHeph(t, env, "", append([]string{"doctor", "--json"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	if errOut != "" {
		t.Errorf("doctor wrote to stderr: %q", errOut)
	}
	return rep, code
}

// check returns the named check, failing the test when it is missing.
func (r doctorReport) check(t *testing.T, name string) doctorCheck {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %q check in %+v", name, r.Checks)
	return doctorCheck{}
}

// wantCheck asserts a check's status and that its message (and fix) say
// what they should.
func wantCheck(t *testing.T, r doctorReport, name, status, msgPart, fixPart string) {
	t.Helper()
	c := r.check(t, name)
	if c.Status != status || !strings.Contains(c.Message, msgPart) || !strings.Contains(c.Fix, fixPart) {
		t.Fatalf("check %s = %+v; want status %s, message containing %q, fix containing %q", name, c, status, msgPart, fixPart)
	}
}

func TestDoctorHealthy(t *testing.T) {
	d := startDaemon(t)
	d.MustHeph("task", "something")
	rep, code := runDoctor(t, d.Env)
	if code != 0 || !rep.OK {
		t.Fatalf("healthy setup: exit %d, %+v", code, rep)
	}
	for _, c := range rep.Checks {
		if c.Status == checkFail || c.Status == checkWarn {
			t.Errorf("healthy setup: %+v", c)
		}
	}
	wantCheck(t, rep, "daemon", checkOK, "mode local", "")
	wantCheck(t, rep, "version", checkOK, "both", "")
	wantCheck(t, rep, "store", checkOK, "passes quick_check", "")
	wantCheck(t, rep, "socket", checkOK, "directory 0700, socket 0600", "")
	// The human form: one line per check, status first.
	out := d.MustHeph("doctor")
	if !strings.Contains(out, "ok    daemon") || strings.Contains(out, "\x1b[") {
		t.Fatalf("doctor output (piped, so no colour): %q", out)
	}
}

func TestDoctorStoppedDaemon(t *testing.T) {
	d := startDaemon(t)
	d.Stop()
	rep, code := runDoctor(t, d.Env)
	if code != 1 || rep.OK {
		t.Fatalf("stopped daemon: exit %d", code)
	}
	wantCheck(t, rep, "daemon", checkFail, "not running", "heph daemon start")
	// The store is still checked from its file.
	wantCheck(t, rep, "store", checkOK, d.DB, "")
}

func TestDoctorOpenSocketDir(t *testing.T) {
	d := startDaemon(t)
	if err := os.Chmod(d.Dir, 0o777); err != nil {
		t.Fatal(err)
	}
	rep, code := runDoctor(t, d.Env)
	if code != 1 {
		t.Fatalf("0777 socket dir: exit %d", code)
	}
	wantCheck(t, rep, "socket", checkFail, "mode 0777", "chmod 700 "+d.Dir)
}

func TestDoctorCorruptedStore(t *testing.T) {
	d := startDaemon(t)
	for i := 0; i < 60; i++ {
		d.MustHeph("task", strings.Repeat("a long title to fill pages ", 8))
	}
	d.Stop()
	b, err := os.ReadFile(d.DB)
	if err != nil {
		t.Fatal(err)
	}
	corruptPages(b)
	os.WriteFile(d.DB, b, 0o600)
	rep, code := runDoctor(t, d.Env)
	if code != 1 {
		t.Fatalf("corrupted store: exit %d", code)
	}
	wantCheck(t, rep, "store", checkFail, "quick_check", "heph restore")
}

// startTestHub runs a real hub (hephd --mode server) whose issuer is never
// contacted (doctor reads only /config).
func startTestHub(t *testing.T) string {
	t.Helper()
	addr := freeLoopbackAddr(t)
	d := startDaemon(t, "--mode", "server", "--http-addr", addr, "--oidc-issuer", "https://issuer.example",
		"--oidc-audience", "urn:heph:hub", "--oidc-client-id", "heph")
	h := &hubProc{testDaemon: d, URL: "http://" + addr}
	h.waitHTTP(t, h.URL+"/healthz")
	return h.URL
}

func TestDoctorHubDown(t *testing.T) {
	d := startDaemon(t)
	down := "http://" + freeLoopbackAddr(t)
	rep, code := runDoctor(t, d.Env, "--hub-url", down)
	if code != 1 {
		t.Fatalf("hub down: exit %d", code)
	}
	wantCheck(t, rep, "hub", checkFail, "connection refused", "check that the hub runs")
	// A reachable hub passes the same checks.
	rep, _ = runDoctor(t, d.Env, "--hub-url", startTestHub(t))
	wantCheck(t, rep, "hub", checkOK, "answers", "")
	wantCheck(t, rep, "hub-config", checkOK, "issuer https://issuer.example", "")
	wantCheck(t, rep, "clock", checkOK, "within", "")
	wantCheck(t, rep, "login", checkFail, "not logged in", "heph auth login --hub-url")
}

// TestDoctorClockSkew puts a proxy in front of a real hub that moves its
// Date header ten minutes ahead.
func TestDoctorClockSkew(t *testing.T) {
	d := startDaemon(t)
	target, _ := url.Parse(startTestHub(t))
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("Date", time.Now().Add(10*time.Minute).UTC().Format(http.TimeFormat))
		return nil
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	rep, code := runDoctor(t, d.Env, "--hub-url", srv.URL)
	if code != 1 {
		t.Fatalf("10-minute skew: exit %d", code)
	}
	// The Date header counts whole seconds, so the skew reads 10m0s or 10m1s.
	wantCheck(t, rep, "clock", checkFail, "behind the hub's", "set-ntp")
	for _, c := range rep.Checks {
		if c.Name == "clock" && !strings.Contains(c.Message, "is 10m") {
			t.Fatalf("clock check %q does not say 10m", c.Message)
		}
	}
	wantCheck(t, rep, "hub", checkOK, "answers", "")
}

// TestDoctorRefreshesExpiredToken: with an expired access token and a
// working refresh token, doctor refreshes through the real provider, the
// hub accepts the new token, and the check passes.
func TestDoctorRefreshesExpiredToken(t *testing.T) {
	p := startOIDCProvider(t)
	hub := startHub(t, "", p, "--authorized-sub", "alice")
	file, _ := login(t, p, hub.URL, "alice")
	b, _ := os.ReadFile(file)
	var tf tokenFile
	decodeJSON(t, string(b), &tf)
	tf.Hubs[hub.URL].Expiry = time.Now().Add(-time.Hour)
	b, _ = json.Marshal(tf)
	os.WriteFile(file, b, 0o600)

	d := startDaemon(t)
	before, _ := p.grants(t, "refresh_token")
	rep, code := runDoctor(t, d.Env, "--hub-url", hub.URL, "--token-file", file)
	wantCheck(t, rep, "login", checkOK, "refreshing works", "")
	if code != 0 {
		t.Fatalf("expired token with a working refresh: exit %d: %+v", code, rep)
	}
	if after, _ := p.grants(t, "refresh_token"); after != before+1 {
		t.Fatalf("refresh grants %d -> %d; want one refresh", before, after)
	}
	b, _ = os.ReadFile(file)
	decodeJSON(t, string(b), &tf)
	if !tf.Hubs[hub.URL].Expiry.After(time.Now()) {
		t.Fatalf("the refreshed token was not stored: %+v", tf.Hubs[hub.URL])
	}
	// A revoked login (refresh rejected) fails and says to log in again.
	tf.Hubs[hub.URL].Expiry = time.Now().Add(-time.Hour)
	tf.Hubs[hub.URL].RefreshToken = "spent"
	b, _ = json.Marshal(tf)
	os.WriteFile(file, b, 0o600)
	rep, code = runDoctor(t, d.Env, "--hub-url", hub.URL, "--token-file", file)
	if code != 1 {
		t.Fatalf("rejected refresh: exit %d", code)
	}
	wantCheck(t, rep, "login", checkFail, "refreshing it failed", "heph auth login")
}
