// The OAuth 2.0 device authorization grant (RFC 8628) client that heph auth login uses.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The OAuth 2.0 Device Authorization Grant (RFC 8628) client and the token
// endpoint calls it shares with refresh.

const deviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"

// tokenResponse is a token endpoint's success reply (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
}

// oauthError is an OAuth error reply (RFC 6749 §5.2, RFC 8628 §3.5).
type oauthError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Description)
	}
	if e.Code != "" {
		return e.Code
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// rejectsGrant reports whether the provider refused the grant itself
// (as opposed to a transient failure): retrying cannot help.
func (e *oauthError) rejectsGrant() bool {
	switch e.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "expired_token", "invalid_target":
		return true
	}
	return e.Status == http.StatusUnauthorized
}

// postForm POSTs a form and decodes a JSON reply into out; an OAuth error
// reply becomes *oauthError.
func postForm(ctx context.Context, client *http.Client, endpoint string, form url.Values, out any) error {
	if endpoint == "" {
		return errors.New("the provider advertises no endpoint for this request")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return fmt.Errorf("read %s: %w", endpoint, err)
	}
	if resp.StatusCode/100 != 2 {
		oe := &oauthError{Status: resp.StatusCode}
		_ = json.Unmarshal(body, oe)
		return oe
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: bad JSON reply: %v", endpoint, err)
	}
	return nil
}

// postTokenRequest calls a token endpoint.
func postTokenRequest(ctx context.Context, client *http.Client, endpoint string, form url.Values) (*tokenResponse, error) {
	var tr tokenResponse
	if err := postForm(ctx, client, endpoint, form, &tr); err != nil {
		return nil, err
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("%s: reply has no access_token", endpoint)
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 300
	}
	return &tr, nil
}

// deviceAuthorization is the device authorization reply (RFC 8628 §3.2).
type deviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// deviceFlow runs one device login.
type deviceFlow struct {
	client   *http.Client
	meta     *providerMetadata
	clientID string
	audience string // sent as resource (RFC 8707) so the access token is a JWT for the hub
	out      io.Writer
	now      func() time.Time
	tick     time.Duration // one second of the RFC's intervals (tests shorten it)
}

// run asks for a user code, shows it, and polls until the person approves
// or denies, or the code expires.
func (f *deviceFlow) run(ctx context.Context) (*tokenResponse, error) {
	if f.meta.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("the provider %s does not offer the device authorization grant (no device_authorization_endpoint)", f.meta.Issuer)
	}
	form := url.Values{"client_id": {f.clientID}, "scope": {"openid offline_access"}}
	if f.audience != "" {
		form.Set("resource", f.audience)
	}
	var da deviceAuthorization
	if err := postForm(ctx, f.client, f.meta.DeviceAuthorizationEndpoint, form, &da); err != nil {
		return nil, fmt.Errorf("start device login at %s: %w", f.meta.DeviceAuthorizationEndpoint, err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, errors.New("the provider's device authorization reply lacks device_code, user_code or verification_uri")
	}
	fmt.Fprintf(f.out, "To log in, open this page in any browser:\n\n  %s\n\nand enter the code:\n\n  %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(f.out, "Or open this link, which carries the code:\n\n  %s\n\n", da.VerificationURIComplete)
	}
	fmt.Fprintf(f.out, "Waiting for approval...\n")
	return f.poll(ctx, da)
}

// poll is RFC 8628 §3.4-3.5: wait interval (default 5 s) between polls,
// add 5 s on slow_down, keep going on authorization_pending, stop on
// anything else.
func (f *deviceFlow) poll(ctx context.Context, da deviceAuthorization) (*tokenResponse, error) {
	tick := f.tick
	if tick == 0 {
		tick = time.Second
	}
	interval := time.Duration(max(da.Interval, 1)) * tick
	if da.Interval == 0 {
		interval = 5 * tick
	}
	expires := time.Duration(da.ExpiresIn) * tick
	if expires <= 0 {
		expires = 600 * tick
	}
	deadline := f.now().Add(expires)
	form := url.Values{"grant_type": {deviceCodeGrant}, "device_code": {da.DeviceCode}, "client_id": {f.clientID}}
	if f.audience != "" {
		form.Set("resource", f.audience)
	}
	for {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("device login: %w", ctx.Err())
		case <-t.C:
		}
		tr, err := postTokenRequest(ctx, f.client, f.meta.TokenEndpoint, form)
		if err == nil {
			return tr, nil
		}
		var oe *oauthError
		if !errors.As(err, &oe) {
			return nil, fmt.Errorf("device login: poll %s: %w", f.meta.TokenEndpoint, err)
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * tick
		case "access_denied":
			return nil, errors.New("device login: the request was denied at the provider (access_denied); nothing was stored")
		case "expired_token":
			return nil, errors.New("device login: the code expired before it was approved (expired_token); run `heph auth login` again")
		default:
			return nil, fmt.Errorf("device login: the provider refused: %w", oe)
		}
		if f.now().After(deadline) {
			return nil, errors.New("device login: the code expired before it was approved; run `heph auth login` again")
		}
	}
}
