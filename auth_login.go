// Logging a spoke in to a hub and out again: hub URL checks, /config discovery, the daemon's token source.

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"
)

// Logging a spoke in to a hub, and out again.

// hubConfig is the JSON a hub serves, unauthenticated, at GET <hub>/config:
// what a spoke needs to log in.
//
//	{"issuer": "https://id.example.com", "client_id": "heph-cli",
//	 "audience": "urn:heph:hub", "version": "v1.2.3"}
type hubConfig struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Audience string `json:"audience"`
	Version  string `json:"version,omitempty"`
}

// fetchHubConfig reads the hub's /config.
func fetchHubConfig(ctx context.Context, client *http.Client, hubURL string) (*hubConfig, error) {
	body, _, err := httpGetJSON(ctx, client, normalizeHubURL(hubURL)+"/config")
	if err != nil {
		if why, ok := unreachable(err); ok {
			return nil, fmt.Errorf("cannot reach the hub at %s (%s): check the URL and that the hub is running", normalizeHubURL(hubURL), why)
		}
		return nil, fmt.Errorf("read the hub's login settings from %s/config: %w: is --hub-url a heph hub?", normalizeHubURL(hubURL), err)
	}
	var c hubConfig
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("%s/config is not a heph hub's login settings (%v): is --hub-url a heph hub?", normalizeHubURL(hubURL), err)
	}
	return &c, nil
}

// checkHubURL checks that u (a --hub-url or --oidc-issuer) is an absolute
// http or https URL with a host and nothing after the path.
func checkHubURL(flagName, u string) error {
	want := fmt.Sprintf("want http(s)://host[:port][/path], e.g. --%s https://hub.example.com", flagName)
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("--%s %q is not a URL: %s", flagName, u, want)
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return fmt.Errorf("--%s %q: the scheme must be http or https: %s", flagName, u, want)
	}
	if p.Host == "" || p.Hostname() == "" {
		return fmt.Errorf("--%s %q names no host: %s", flagName, u, want)
	}
	if p.RawQuery != "" || p.Fragment != "" || p.User != nil {
		return fmt.Errorf("--%s %q: leave out user info, ?query and #fragment: %s", flagName, u, want)
	}
	return nil
}

// unreachable says why a request reached no server, in words a person can
// act on: "connection refused", "unknown host x", "timed out"; ok=false
// when err is some other failure.
func unreachable(err error) (why string, ok bool) {
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("unknown host %s", dnsErr.Name), true
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer in time", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host", true
	}
	return "", false
}

// newHubHTTPClient is an HTTP client for talking to a hub and its
// provider: system roots, plus the PEM CA file when given.
func newHubHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("hub CA: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hub CA %s: no PEM certificates", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// loginOptions say where to log in. Issuer, ClientID and Audience
// override what the hub's /config says; with all three set the hub need
// not be reachable.
type loginOptions struct {
	HubURL   string
	Issuer   string
	ClientID string
	Audience string
}

// resolveLogin fills issuer, client id and audience from the hub.
func resolveLogin(ctx context.Context, client *http.Client, o loginOptions) (loginOptions, error) {
	if o.HubURL == "" {
		return o, usagef("which hub? give --hub-url URL (or set HEPH_HUB_URL)")
	}
	if err := checkHubURL("hub-url", o.HubURL); err != nil {
		return o, usagef("%v", err)
	}
	if o.Issuer != "" {
		if err := checkHubURL("oidc-issuer", o.Issuer); err != nil {
			return o, usagef("%v", err)
		}
	}
	if o.Issuer == "" || o.ClientID == "" || o.Audience == "" {
		c, err := fetchHubConfig(ctx, client, o.HubURL)
		if err != nil {
			return o, fmt.Errorf("%w; or give --oidc-issuer, --oidc-client-id and --oidc-audience to log in without it", err)
		}
		if o.Issuer == "" {
			o.Issuer = c.Issuer
		}
		if o.ClientID == "" {
			o.ClientID = c.ClientID
		}
		if o.Audience == "" {
			o.Audience = c.Audience
		}
	}
	if o.Issuer == "" || o.ClientID == "" {
		return o, errors.New("the hub did not say which OIDC issuer and client id to use; give --oidc-issuer and --oidc-client-id")
	}
	return o, nil
}

// authLogin runs the device flow and stores the tokens for the hub.
func authLogin(ctx context.Context, client *http.Client, store tokenStore, o loginOptions, out io.Writer) (*storedToken, error) {
	o, err := resolveLogin(ctx, client, o)
	if err != nil {
		return nil, err
	}
	meta, err := discoverProvider(ctx, client, o.Issuer)
	if err != nil {
		if why, ok := unreachable(err); ok {
			return nil, fmt.Errorf("cannot reach the OIDC provider %s (%s): check --oidc-issuer (or the issuer the hub's /config names) and that the provider is running", o.Issuer, why)
		}
		return nil, err
	}
	fmt.Fprintf(out, "Logging in to the hub %s through %s.\n", normalizeHubURL(o.HubURL), o.Issuer)
	flow := &deviceFlow{client: client, meta: meta, clientID: o.ClientID, audience: o.Audience, out: out, now: time.Now}
	tr, err := flow.run(ctx)
	if err != nil {
		return nil, err
	}
	if tr.RefreshToken == "" {
		fmt.Fprintf(out, "warning: the provider issued no refresh token (is offline_access allowed for client %s?); you will have to log in again when the access token expires\n", o.ClientID)
	}
	if _, aud, isJWT := unverifiedClaims(tr.AccessToken); !isJWT {
		fmt.Fprintf(out, "warning: the provider issued an opaque access token; the hub needs a JWT access token for audience %q (see docs/how-to/set-up-sync-hub.md)\n", o.Audience)
	} else if o.Audience != "" && !containsString(aud, o.Audience) {
		fmt.Fprintf(out, "warning: the access token's audience %q does not include the hub's %q; the hub will refuse it (see docs/how-to/set-up-sync-hub.md)\n", aud, o.Audience)
	}
	now := time.Now()
	t := &storedToken{
		HubURL: normalizeHubURL(o.HubURL), Issuer: o.Issuer, ClientID: o.ClientID, Audience: o.Audience,
		TokenEndpoint: meta.TokenEndpoint, RevocationEndpoint: meta.RevocationEndpoint,
		AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
		Expiry: now.Add(time.Duration(tr.ExpiresIn) * time.Second), Obtained: now,
		Subject: unverifiedSubject(tr.AccessToken),
	}
	if err := store.Save(ctx, t); err != nil {
		return nil, fmt.Errorf("store the tokens: %w", err)
	}
	return t, nil
}

// authLogout deletes the hub's tokens, revoking them first when the
// provider has a revocation endpoint. It reports whether they were
// revoked; a failed revocation still deletes them and is reported.
func authLogout(ctx context.Context, client *http.Client, store tokenStore, hubURL string) (revoked bool, err error) {
	t, err := store.Load(ctx, hubURL)
	if errors.Is(err, errNoToken) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var revokeErr error
	if t.RevocationEndpoint != "" {
		// Revoking the refresh token ends the whole grant at the provider;
		// the access token is revoked too where the provider can (JWT
		// access tokens usually cannot be: they expire on their own).
		for _, tok := range []struct{ value, hint string }{{t.RefreshToken, "refresh_token"}, {t.AccessToken, "access_token"}} {
			if tok.value == "" {
				continue
			}
			form := url.Values{"token": {tok.value}, "token_type_hint": {tok.hint}, "client_id": {t.ClientID}}
			err := postForm(ctx, client, t.RevocationEndpoint, form, nil)
			var oe *oauthError
			if errors.As(err, &oe) && oe.Code == "unsupported_token_type" {
				continue
			}
			if err != nil && revokeErr == nil {
				revokeErr = fmt.Errorf("revoke the %s at %s: %w", tok.hint, t.RevocationEndpoint, err)
			}
		}
		revoked = revokeErr == nil
	}
	if err := store.Delete(ctx, hubURL); err != nil {
		return revoked, err
	}
	return revoked, revokeErr
}

// newDaemonTokenSource is the spoke daemon's token source for --hub-url,
// on the store --token-file / --token-load-cmd / --token-save-cmd name.
func newDaemonTokenSource(o daemonOptions) (*tokenSource, error) {
	store, err := openTokenStore(tokenStoreOptions{File: o.TokenFile, LoadCmd: o.TokenLoadCmd, SaveCmd: o.TokenSaveCmd}, osGetenv)
	if err != nil {
		return nil, err
	}
	client, err := newHubHTTPClient(o.HubCA)
	if err != nil {
		return nil, err
	}
	return newTokenSource(store, o.HubURL, client), nil
}
