// cli_doctor_hub.go owns heph doctor's hub checks: reachability, TLS, /config, clock skew and the login token.

package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Clock skew against the hub: past skewFail the hub's token checks (60 s
// leeway by default) reject this machine's tokens or think them expired.
const (
	skewWarn = 5 * time.Second
	skewFail = 60 * time.Second
)

// hubURL picks the hub to check: --hub-url, the daemon's hub, the
// service's baked --hub-url, then $HEPH_HUB_URL.
func (d *doctor) hubURL() string {
	if u := flagStr(d.fs, "hub-url"); u != "" {
		return normalizeHubURL(u)
	}
	if d.sync != nil && d.sync.Hub != "" {
		return normalizeHubURL(d.sync.Hub)
	}
	if d.svc != nil && d.svc.flag("hub-url") != "" {
		return normalizeHubURL(d.svc.flag("hub-url"))
	}
	return normalizeHubURL(osGetenv("HEPH_HUB_URL"))
}

// svcFlag is a doctor flag's value, else the service's baked one.
func (d *doctor) svcFlag(name string) string {
	if f := d.fs.Lookup(name); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if d.svc != nil {
		return d.svc.flag(name)
	}
	return ""
}

// checkHub checks the hub's /config (reachable, TLS, sane, clock) and the
// login token.
func (d *doctor) checkHub() {
	d.hub = d.hubURL()
	if d.hub == "" {
		d.add("hub", checkSkip, "no hub configured (local only)", "")
		return
	}
	if err := checkHubURL("hub-url", d.hub); err != nil {
		d.add("hub", checkFail, err.Error(), "heph daemon restart --hub-url https://HOST[:PORT]")
		return
	}
	client, err := newHubHTTPClient(d.svcFlag("hub-ca"))
	if err != nil {
		d.add("hub", checkFail, err.Error(), "fix --hub-ca (heph daemon restart --hub-ca FILE)")
		return
	}
	client.Timeout = 10 * time.Second
	d.hubHTTP = client
	reachable := d.checkHubConfig()
	d.checkToken(reachable)
}

// checkHubConfig fetches /config and reports the hub, TLS, config and
// clock checks. It returns whether the hub answered.
func (d *doctor) checkHubConfig() bool {
	t0 := d.now()
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, d.hub+"/config", nil)
	if err != nil {
		d.add("hub", checkFail, err.Error(), "")
		return false
	}
	resp, err := d.hubHTTP.Do(req)
	t1 := d.now()
	if err != nil {
		d.hubError(err)
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var cfg hubConfig
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &cfg) != nil {
		d.add("hub", checkFail, fmt.Sprintf("%s/config answered HTTP %d, not a heph hub's configuration", d.hub, resp.StatusCode),
			"check the URL: it is the address hephd --mode server listens on (--http-addr)")
		return false
	}
	d.add("hub", checkOK, fmt.Sprintf("%s answers (hub %s)", d.hub, orUnknown(cfg.Version)), "")
	u, _ := url.Parse(d.hub)
	switch {
	case u.Scheme == "https":
		st, msg := tlsSummary(resp.TLS, d.now())
		d.add("tls", st, msg, "renew the hub's certificate (--tls-cert)")
	case isLoopbackURL(u):
		d.add("tls", checkOK, "plain HTTP to a hub on this machine", "")
	default:
		d.add("tls", checkWarn, "plain HTTP to a remote hub: tokens and tasks cross the network unencrypted",
			"serve the hub with --tls-cert/--tls-key (or behind a TLS proxy) and use an https:// URL")
	}
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.Audience == "" {
		d.add("hub-config", checkFail, fmt.Sprintf("the hub's /config lacks an issuer, client id or audience (issuer %q, client_id %q, audience %q): spokes cannot log in",
			cfg.Issuer, cfg.ClientID, cfg.Audience), "start the hub with --oidc-issuer, --oidc-audience and --oidc-client-id")
	} else {
		d.add("hub-config", checkOK, fmt.Sprintf("issuer %s, client %s, audience %s", cfg.Issuer, cfg.ClientID, cfg.Audience), "")
	}
	d.checkClock(resp.Header.Get("Date"), t0, t1)
	return true
}

// hubError reports why /config could not be fetched.
func (d *doctor) hubError(err error) {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	switch {
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		d.add("hub", checkFail, fmt.Sprintf("TLS to %s fails: %v", d.hub, err),
			"if the hub's certificate comes from a private CA: heph daemon restart --hub-ca CA.pem (and heph doctor --hub-ca CA.pem)")
		return
	}
	if why, ok := unreachable(err); ok {
		d.add("hub", checkFail, fmt.Sprintf("cannot reach the hub at %s (%s)", d.hub, why),
			"check that the hub runs (hephd --mode server) and that the URL and network are right; hephd keeps working offline meanwhile")
		return
	}
	d.add("hub", checkFail, fmt.Sprintf("cannot reach the hub at %s: %v", d.hub, err), "check the URL and the network")
}

// checkClock compares this machine's clock with the hub's Date header,
// taken as the middle of the request's round trip (Date has whole
// seconds: the hub's time lies in [Date, Date+1s)).
func (d *doctor) checkClock(date string, t0, t1 time.Time) {
	hubTime, err := http.ParseTime(date)
	if err != nil {
		d.add("clock", checkWarn, "the hub sent no usable Date header; cannot compare clocks", "")
		return
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	skew := hubTime.Add(500 * time.Millisecond).Sub(mid)
	abs, dir := skew, "behind"
	if abs < 0 {
		abs, dir = -abs, "ahead of"
	}
	msg := fmt.Sprintf("this machine's clock is %s %s the hub's", abs.Round(time.Second), dir)
	fix := "turn on network time: timedatectl set-ntp true (Linux), or System Settings › General › Date & Time › Set automatically (macOS)"
	switch {
	case abs > skewFail:
		d.add("clock", checkFail, msg+fmt.Sprintf(": beyond the %s a hub allows, so it rejects this machine's tokens or their expiry is misjudged", skewFail), fix)
	case abs > skewWarn:
		d.add("clock", checkWarn, msg, fix)
	default:
		d.add("clock", checkOK, fmt.Sprintf("within %s of the hub's", skewWarn), "")
	}
}

// checkToken checks the hub login: present, not needing a new login,
// refreshable (trying a refresh when the access token has expired and no
// hephd of this hub owns the refreshes), and accepted by the hub.
func (d *doctor) checkToken(hubUp bool) {
	login := "heph auth login --hub-url " + d.hub
	store, err := openTokenStore(tokenStoreOptions{File: d.svcFlag("token-file"), LoadCmd: d.svcFlag("token-load-cmd"), SaveCmd: d.svcFlag("token-save-cmd")}, osGetenv)
	if err != nil {
		d.add("login", checkFail, err.Error(), "")
		return
	}
	t, err := store.Load(d.ctx, d.hub)
	switch {
	case errors.Is(err, errNoToken):
		d.add("login", checkFail, fmt.Sprintf("not logged in to %s (no token in %s)", d.hub, store.Describe()), login)
		return
	case err != nil:
		d.add("login", checkFail, fmt.Sprintf("read the hub token from %s: %v", store.Describe(), err), login)
		return
	case t.NeedsLogin:
		d.add("login", checkFail, "the hub session has expired or was revoked: "+t.LastError, login)
		return
	}
	// A spoke or thin-client hephd of this hub refreshes its own tokens:
	// doctor must not spend the refresh token under it.
	if d.sync != nil && (d.sync.Mode == "spoke" || d.sync.Mode == "client") && normalizeHubURL(d.sync.Hub) == d.hub {
		d.daemonTokenStatus(login)
		return
	}
	access, note := t.AccessToken, ""
	if !d.now().Add(refreshMargin).Before(t.Expiry) {
		if t.RefreshToken == "" {
			d.add("login", checkFail, fmt.Sprintf("the access token expired %s ago and there is no refresh token", d.now().Sub(t.Expiry).Round(time.Second)), login)
			return
		}
		if !hubUp {
			d.add("login", checkWarn, "the access token has expired; cannot try a refresh while the hub is unreachable", "")
			return
		}
		ts := newTokenSource(store, d.hub, d.hubHTTP)
		if access, err = ts.Token(d.ctx); err != nil {
			d.add("login", checkFail, "the access token has expired and refreshing it failed: "+err.Error(), login)
			return
		}
		t, _ = store.Load(d.ctx, d.hub)
		note = "the access token had expired; refreshing works, "
	}
	if !hubUp {
		d.add("login", checkOK, fmt.Sprintf("logged in as %s; access token valid for %s (not verified: hub unreachable)", orUnknown(t.Subject), t.Expiry.Sub(d.now()).Round(time.Second)), "")
		return
	}
	if err := d.hubAccepts(access); err != nil {
		d.add("login", checkFail, err.Error(), login)
		return
	}
	d.add("login", checkOK, fmt.Sprintf("%slogged in as %s; the hub accepts the token (valid for %s)", note, orUnknown(t.Subject), t.Expiry.Sub(d.now()).Round(time.Second)), "")
}

// daemonTokenStatus reports the login of a spoke or thin hephd, which alone
// refreshes its tokens (doctor must not spend its refresh token).
func (d *doctor) daemonTokenStatus(login string) {
	var st authStatus
	if err := d.c.call("auth.status", nil, &st); err != nil {
		d.add("login", checkWarn, "hephd does not report its login: "+err.Error(), "")
		return
	}
	switch {
	case st.NeedsLogin:
		d.add("login", checkFail, "hephd's hub session has expired or was revoked: "+st.LastError, login)
	case st.RefreshState == "failed":
		d.add("login", checkWarn, "hephd's last token refresh failed: "+st.LastError, "heph sync --now retries; "+login+" if it keeps failing")
	default:
		exp := ""
		if st.Expiry != nil {
			exp = fmt.Sprintf(" (access token valid for %s)", st.Expiry.Sub(d.now()).Round(time.Second))
		}
		d.add("login", checkOK, fmt.Sprintf("logged in as %s; hephd refreshes the token%s", orUnknown(st.Subject), exp), "")
	}
}

// hubAccepts makes one authenticated call (daemon.info on /rpc) to see
// that the hub accepts the access token.
func (d *doctor) hubAccepts(access string) error {
	body, _ := json.Marshal(rpcRequest{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: "daemon.info"})
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, d.hub+"/rpc", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hubHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("check the token with the hub: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the hub refuses the token: HTTP %d %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
