package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckHubURL(t *testing.T) {
	for _, u := range []string{"https://hub.example.com", "http://127.0.0.1:8417", "https://example.com/heph/", "http://[::1]:80"} {
		if err := checkHubURL("hub-url", u); err != nil {
			t.Errorf("checkHubURL(%q): %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"hub.example.com":            "scheme must be http or https",
		"ftp://hub":                  "scheme must be http or https",
		"https://":                   "names no host",
		"http://:80":                 "names no host",
		"https://hub?x=1":            "leave out",
		"https://u:p@hub":            "leave out",
		"http://bad host":            "is not a URL",
		"https://hub.example.com#me": "leave out",
	} {
		err := checkHubURL("hub-url", u)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--hub-url https://hub.example.com") {
			t.Errorf("checkHubURL(%q) = %v, want %q and an example", u, err, want)
		}
	}
}

// TestAuthErrorsWithoutAHub: heph auth without a reachable hub says what is
// wrong in words (not a Go dial error), a malformed URL is a usage error,
// status says "not logged in" once, and logging out of a hub never logged
// in to says there was nothing to delete.
func TestAuthErrorsWithoutAHub(t *testing.T) {
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	for _, tc := range []struct {
		args    []string
		code    int
		want    string
		wantNot string
	}{
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1"}, 1,
			"heph: cannot reach the hub at http://127.0.0.1:1 (connection refused): check the URL and that the hub is running; or give --oidc-issuer", "dial tcp"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "c", "--oidc-audience", "a"}, 1,
			"heph: cannot reach the OIDC provider http://127.0.0.1:1 (connection refused)", "dial tcp"},
		{[]string{"auth", "login", "--hub-url", "hub.example.com"}, 2, `--hub-url "hub.example.com": the scheme must be http or https`, "/config"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1", "--oidc-issuer", "issuer"}, 2, `--oidc-issuer "issuer"`, "/config"},
		{[]string{"auth", "status"}, 1, "Not logged in to any hub", "heph:"},
		{[]string{"auth", "logout", "--hub-url", "http://127.0.0.1:1"}, 0, "Not logged in to http://127.0.0.1:1; nothing to delete", "Logged out"},
	} {
		out, errOut, code := runHeph(t, env, "", tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) || strings.Contains(out+errOut, tc.wantNot) {
			t.Errorf("heph %q: exit %d (want %d)\nstdout %q\nstderr %q\nwant %q, not %q", tc.args, code, tc.code, out, errOut, tc.want, tc.wantNot)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cfg", "heph", "hub-token.json")); err == nil {
		t.Error("a failed login wrote a token file")
	}
}

// TestAuthLoginNotAHub: a --hub-url that answers but is no heph hub (a 404,
// an HTML page) says so instead of a bare JSON error.
func TestAuthLoginNotAHub(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/html/config" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>welcome</html>")
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	for path, want := range map[string]string{
		"/html": srv.URL + "/html/config is not a heph hub's login settings (invalid character '<'",
		"/none": "read the hub's login settings from " + srv.URL + "/none/config: GET " + srv.URL + "/none/config: 404 Not Found: is --hub-url a heph hub?",
	} {
		_, errOut, code := runHeph(t, env, "", "auth", "login", "--hub-url", srv.URL+path)
		if code != exitError || !strings.Contains(errOut, want) {
			t.Errorf("login at %s: exit %d, stderr %q; want %q", path, code, errOut, want)
		}
	}
}
