package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// End to end against the real oidc-provider: `heph auth login` with the
// device flow, the hub verifier on its access tokens, signing-key
// rotation, single-flight refresh with rotating refresh tokens, status,
// logout with revocation, and a rejected refresh.

const testSubject = "heph-test-user"

// hephLoginBinary runs the real `heph auth login` and approves its code.
func hephLoginBinary(t *testing.T, env []string, hub string, extra ...string) string {
	t.Helper()
	cmd := exec.Command(hephBinary(t), append([]string{"auth", "login", "--hub-url", hub}, extra...)...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	r := bufio.NewReader(stdout)
	approved := false
	for {
		line, err := r.ReadString('\n')
		seen.WriteString(line)
		if m := deviceCodeRE.FindStringSubmatch(seen.String()); m != nil && !approved {
			approved = true
			approveDeviceLogin(t, m[1], m[2], testSubject, false)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("heph auth login: %v\nstdout:\n%s\nstderr:\n%s", err, seen.String(), stderr.String())
	}
	return seen.String()
}

func TestOIDCEndToEnd(t *testing.T) {
	p := startOIDCProvider(t)
	hub := startHubConfig(t, p)
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HEPH_SOCKET="+filepath.Join(dir, "none.sock"), "HEPH_DB="+filepath.Join(dir, "heph.db"))
	ctx := context.Background()

	// Login with the real binary; the default token file is under XDG_CONFIG_HOME.
	out := hephLoginBinary(t, env, hub)
	if !strings.Contains(out, "Logged in to "+hub+" as "+testSubject) {
		t.Fatalf("login output:\n%s", out)
	}
	tokenPath := filepath.Join(dir, "config", "heph", "hub-token.json")
	fi, err := os.Stat(tokenPath)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %04o, want 0600", fi.Mode().Perm())
	}
	store := &fileTokenStore{path: tokenPath}
	tok, err := store.Load(ctx, hub)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Subject != testSubject || tok.Issuer != p.Issuer || tok.Audience != p.Audience {
		t.Fatalf("stored login %+v", tok)
	}

	// The hub's verifier accepts the access token.
	v, err := newOIDCVerifier(ctx, p.Issuer, p.Audience, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify the provider's access token: %v", err)
	}
	if c.Subject != testSubject || !containsString(c.Audience, p.Audience) || c.KeyID != p.Kid || c.ClientID != p.ClientID {
		t.Fatalf("claims %+v", c)
	}

	// Status without a daemon reads the store.
	sout, serr, code := runHeph(t, env, "", "auth", "status", "--hub-url", hub)
	if code != 0 || !strings.Contains(sout, testSubject) || !strings.Contains(sout, "source:      store") {
		t.Fatalf("auth status: exit %d\n%s%s", code, sout, serr)
	}

	expire := func() *storedToken {
		t.Helper()
		cur, err := store.Load(ctx, hub)
		if err != nil {
			t.Fatal(err)
		}
		cur.Expiry = time.Now().Add(-time.Minute)
		if err := store.Save(ctx, cur); err != nil {
			t.Fatal(err)
		}
		return cur
	}

	t.Run("key rotation without outage", func(t *testing.T) {
		newKid := p.rotate(t)
		if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
			t.Fatalf("token signed before the rotation: %v", err)
		}
		before := expire()
		at, err := newTokenSource(store, hub, nil).Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(ctx, at)
		if err != nil {
			t.Fatalf("token signed with the new key: %v", err)
		}
		if c.KeyID != newKid {
			t.Fatalf("new token verified with key %q, want the new key %q", c.KeyID, newKid)
		}
		if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
			t.Fatalf("old token after the new key was fetched: %v", err)
		}
		after, _ := store.Load(ctx, hub)
		if after.RefreshToken == before.RefreshToken || after.AccessToken != at {
			t.Fatal("the refresh did not store a rotated refresh token with the new access token")
		}
	})

	t.Run("concurrent refresh is single-flight", func(t *testing.T) {
		before := expire()
		okBefore, _ := p.grants(t, "refresh_token")
		ts := newTokenSource(store, hub, nil)
		const n = 16
		var wg sync.WaitGroup
		start := make(chan struct{})
		tokens := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tokens[i], errs[i] = ts.Token(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || tokens[i] == "" || tokens[i] != tokens[0] {
				t.Fatalf("caller %d: %q, %v (caller 0 got %q)", i, tokens[i], errs[i], tokens[0])
			}
		}
		okAfter, _ := p.grants(t, "refresh_token")
		if okAfter-okBefore != 1 {
			t.Fatalf("%d concurrent callers caused %d refresh calls, want exactly 1", n, okAfter-okBefore)
		}
		after, _ := store.Load(ctx, hub)
		if after.AccessToken != tokens[0] || after.RefreshToken == before.RefreshToken {
			t.Fatal("the store does not hold the refreshed tokens")
		}
		if _, err := v.Verify(ctx, tokens[0]); err != nil {
			t.Fatal(err)
		}
		if st := ts.Status(); st.NeedsLogin || st.RefreshState != "ok" || st.Subject != testSubject {
			t.Fatalf("status %+v", st)
		}
	})

	t.Run("daemon status, logout with revocation, rejected refresh", func(t *testing.T) {
		d := startDaemon(t, "--hub-url", hub, "--token-file", tokenPath)
		out := d.MustHeph("auth", "status", "--hub-url", hub, "--token-file", tokenPath)
		if !strings.Contains(out, "source:      daemon") || !strings.Contains(out, testSubject) {
			t.Fatalf("status through the daemon:\n%s", out)
		}
		saved, _ := store.Load(ctx, hub)
		out = d.MustHeph("auth", "logout", "--hub-url", hub, "--token-file", tokenPath)
		if !strings.Contains(out, "revoked") {
			t.Fatalf("logout:\n%s", out)
		}
		if _, err := store.Load(ctx, hub); !errors.Is(err, errNoToken) {
			t.Fatalf("after logout the store still has the hub: %v", err)
		}
		// Put the revoked session back, expired: the provider rejects its
		// refresh token and the spoke must say it needs a login. The
		// daemon is stopped first so that only ts refreshes.
		d.Stop()
		saved.Expiry = time.Now().Add(-time.Minute)
		if err := store.Save(ctx, saved); err != nil {
			t.Fatal(err)
		}
		_, failedBefore := p.grants(t, "refresh_token")
		ts := newTokenSource(store, hub, nil)
		if _, err := ts.Token(ctx); !errors.Is(err, errNeedsLogin) {
			t.Fatalf("refresh with a revoked token: %v, want errNeedsLogin", err)
		}
		if _, err := ts.Token(ctx); !errors.Is(err, errNeedsLogin) {
			t.Fatalf("second call: %v", err)
		}
		if _, failedAfter := p.grants(t, "refresh_token"); failedAfter-failedBefore != 1 {
			t.Fatalf("%d rejected refresh calls, want 1 (no retrying a rejected grant)", failedAfter-failedBefore)
		}
		if st := ts.Status(); !st.NeedsLogin || st.RefreshState != "needs_login" {
			t.Fatalf("status after rejection %+v", st)
		}
		stored, _ := store.Load(ctx, hub)
		if !stored.NeedsLogin || stored.LastError == "" {
			t.Fatalf("the store does not record the needed login: %+v", stored)
		}
		d = startDaemon(t, "--hub-url", hub, "--token-file", tokenPath)
		for _, e := range [][]string{d.Env, env} { // with and without the daemon
			sout, _, code := runHeph(t, e, "", "auth", "status", "--hub-url", hub, "--token-file", tokenPath)
			if code != 1 || !strings.Contains(sout, "needs login") {
				t.Fatalf("status after a rejected refresh: exit %d\n%s", code, sout)
			}
		}
	})

	t.Run("denied device login", func(t *testing.T) {
		pr, pw := io.Pipe()
		errc := make(chan error, 1)
		go func() {
			_, err := authLogin(ctx, http.DefaultClient, store, loginOptions{HubURL: hub}, pw)
			pw.Close()
			errc <- err
		}()
		var seen strings.Builder
		buf := make([]byte, 4096)
		denied := false
		for {
			n, err := pr.Read(buf)
			seen.Write(buf[:n])
			if m := deviceCodeRE.FindStringSubmatch(seen.String()); m != nil && !denied {
				denied = true
				approveDeviceLogin(t, m[1], m[2], testSubject, true)
			}
			if err != nil {
				break
			}
		}
		if err := <-errc; err == nil || !strings.Contains(err.Error(), "denied") {
			t.Fatalf("denied login: %v", err)
		}
	})
}

func TestAuthCLIErrors(t *testing.T) {
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"auth"}, 2, "login | status | logout"},
		{[]string{"auth", "dance"}, 2, "unknown auth action"},
		{[]string{"auth", "login"}, 2, "--hub-url"},
		{[]string{"auth", "logout"}, 2, "--hub-url"},
		{[]string{"auth", "status", "--token-load-cmd", "cat"}, 2, "go together"},
		{[]string{"auth", "status"}, 1, "Not logged in"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1"}, 1, "--oidc-issuer"},
	} {
		out, errOut, code := runHeph(t, env, "", tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("heph %v: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}
