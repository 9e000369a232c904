// The hub's bearer-token verifier: OIDC discovery, a JWKS cache that follows key rotation, JWT claim rules.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The hub's bearer-token verifier: OIDC discovery, a JWKS cache that
// follows key rotation, and the JWT claim rules of RFC 7519 / RFC 9068.

const (
	// jwksRefetchMin is the least time between two JWKS fetches caused by
	// tokens naming unknown key ids.
	jwksRefetchMin = 30 * time.Second
	// jwksDefaultMaxAge is how long a JWKS is used without Cache-Control.
	jwksDefaultMaxAge = time.Hour
	// maxMetadataBytes bounds discovery and JWKS responses.
	maxMetadataBytes = 1 << 20
)

// tokenRejectedError is why a token was refused. Its message is safe to
// log: it never contains the token.
type tokenRejectedError struct{ Reason string }

func (e *tokenRejectedError) Error() string { return "token rejected: " + e.Reason }

func reject(format string, args ...any) error {
	return &tokenRejectedError{Reason: fmt.Sprintf(format, args...)}
}

// tokenClaims are the verified claims of an access token.
type tokenClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time
	NotBefore time.Time // zero when absent
	IssuedAt  time.Time // zero when absent
	ClientID  string    // client_id (RFC 9068), when present
	Scope     string
	KeyID     string // kid of the key that verified the token
}

// providerMetadata is the part of an OpenID Provider's discovery document
// heph uses.
type providerMetadata struct {
	Issuer                      string `json:"issuer"`
	JWKSURI                     string `json:"jwks_uri"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	RevocationEndpoint          string `json:"revocation_endpoint"`
}

// discoverProvider fetches <issuer>/.well-known/openid-configuration and
// requires its issuer to equal the configured one exactly (OIDC
// Discovery §4.3), so a document cannot substitute another issuer.
func discoverProvider(ctx context.Context, client *http.Client, issuer string) (*providerMetadata, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := httpGetJSON(ctx, client, u)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery for %s: %w", issuer, err)
	}
	var m providerMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("OIDC discovery %s: %v", u, err)
	}
	if m.Issuer != issuer {
		return nil, fmt.Errorf("OIDC discovery %s: document names issuer %q, want exactly %q", u, m.Issuer, issuer)
	}
	if m.JWKSURI == "" {
		return nil, fmt.Errorf("OIDC discovery %s: no jwks_uri", u)
	}
	return &m, nil
}

// httpGetJSON GETs a small JSON document and returns it with its headers.
func httpGetJSON(ctx context.Context, client *http.Client, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", u, err)
	}
	if len(body) > maxMetadataBytes {
		return nil, nil, fmt.Errorf("%s: response over %d bytes", u, maxMetadataBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, resp.Header, nil
}

// oidcVerifier verifies bearer JWTs from one issuer for one audience.
// It is safe for concurrent use.
type oidcVerifier struct {
	issuer   string
	audience string
	leeway   time.Duration
	meta     *providerMetadata
	keys     *jwksCache
	now      func() time.Time
}

// newOIDCVerifier runs discovery and fetches the issuer's keys.
func newOIDCVerifier(ctx context.Context, issuer, audience string, leeway time.Duration, client *http.Client) (*oidcVerifier, error) {
	if issuer == "" || audience == "" {
		return nil, errors.New("OIDC verifier needs an issuer and an audience")
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	meta, err := discoverProvider(ctx, client, issuer)
	if err != nil {
		return nil, err
	}
	v := &oidcVerifier{issuer: issuer, audience: audience, leeway: leeway, meta: meta, now: time.Now}
	v.keys = &jwksCache{uri: meta.JWKSURI, client: client, now: func() time.Time { return v.now() }}
	if err := v.keys.refresh(ctx); err != nil {
		return nil, fmt.Errorf("OIDC issuer %s: %w", issuer, err)
	}
	return v, nil
}

// Metadata is the issuer's discovery document.
func (v *oidcVerifier) Metadata() providerMetadata { return *v.meta }

// Verify checks a compact JWS access token: size, structure, algorithm
// policy, signature against the issuer's current keys, then claims. Every
// failure is a *tokenRejectedError whose reason can be logged.
func (v *oidcVerifier) Verify(ctx context.Context, token string) (*tokenClaims, error) {
	if len(token) > maxTokenSize {
		return nil, reject("token is %d bytes, over the %d byte limit", len(token), maxTokenSize)
	}
	jws, err := parseCompactJWS(token)
	if err != nil {
		return nil, reject("%v", err)
	}
	if err := checkAlgAllowed(jws.Header.Alg); err != nil {
		return nil, reject("%v", err)
	}
	if err := checkTyp(jws.Header.Typ); err != nil {
		return nil, reject("%v", err)
	}
	key, err := v.keys.keyFor(ctx, jws.Header.Kid, jws.Header.Alg)
	if err != nil {
		return nil, reject("%v", err)
	}
	if err := checkKeyForAlg(jws.Header.Alg, key); err != nil {
		return nil, reject("%v", err)
	}
	if err := verifySignature(jws.Header.Alg, key.Key, jws.SigningInput, jws.Signature); err != nil {
		return nil, reject("%v (key %q)", err, key.Kid)
	}
	c, err := v.checkClaims(jws.Payload)
	if err != nil {
		return nil, reject("%v", err)
	}
	c.KeyID = key.Kid
	return c, nil
}

// checkTyp accepts an absent typ, "JWT" or "at+jwt" (RFC 9068), compared
// case-insensitively and with an optional "application/" prefix as RFC
// 7515 §4.1.9 allows.
func checkTyp(typ string) error {
	if typ == "" {
		return nil
	}
	t := strings.ToLower(typ)
	t = strings.TrimPrefix(t, "application/")
	if t == "jwt" || t == "at+jwt" {
		return nil
	}
	return fmt.Errorf("typ %q is not JWT or at+jwt", typ)
}

// rawClaims is the JWT claims set as sent.
type rawClaims struct {
	Iss      *string         `json:"iss"`
	Sub      *string         `json:"sub"`
	Aud      json.RawMessage `json:"aud"`
	Exp      json.RawMessage `json:"exp"`
	Nbf      json.RawMessage `json:"nbf"`
	Iat      json.RawMessage `json:"iat"`
	ClientID string          `json:"client_id"`
	Scope    string          `json:"scope"`
}

// checkClaims applies iss, aud, exp, nbf, iat and sub rules.
func (v *oidcVerifier) checkClaims(payload []byte) (*tokenClaims, error) {
	var r rawClaims
	if t := bytes.TrimLeft(payload, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("claims are not a JSON object")
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("claims: %v", err)
	}
	c := &tokenClaims{ClientID: r.ClientID, Scope: r.Scope}
	if r.Iss == nil || *r.Iss != v.issuer {
		return nil, fmt.Errorf("issuer %q is not %q", deref(r.Iss), v.issuer)
	}
	c.Issuer = *r.Iss
	aud, err := parseAudience(r.Aud)
	if err != nil {
		return nil, err
	}
	c.Audience = aud
	if !containsString(aud, v.audience) {
		return nil, fmt.Errorf("audience %q does not include %q", aud, v.audience)
	}
	now := v.now()
	if c.Expiry, err = numericDate("exp", r.Exp); err != nil {
		return nil, err
	}
	if c.Expiry.IsZero() {
		return nil, errors.New("no exp claim")
	}
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return nil, fmt.Errorf("expired at %s (now %s, leeway %s)", c.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.leeway)
	}
	if c.NotBefore, err = numericDate("nbf", r.Nbf); err != nil {
		return nil, err
	}
	if !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore) {
		return nil, fmt.Errorf("not valid before %s (now %s, leeway %s)", c.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.leeway)
	}
	if c.IssuedAt, err = numericDate("iat", r.Iat); err != nil {
		return nil, err
	}
	if !c.IssuedAt.IsZero() && now.Add(v.leeway).Before(c.IssuedAt) {
		return nil, fmt.Errorf("issued in the future at %s (now %s, leeway %s)", c.IssuedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.leeway)
	}
	if r.Sub == nil || *r.Sub == "" {
		return nil, errors.New("no sub claim")
	}
	c.Subject = *r.Sub
	return c, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseAudience accepts aud as one string or an array of strings.
func parseAudience(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("no aud claim")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("aud is neither a string nor an array of strings")
	}
	return many, nil
}

// numericDate converts a JWT NumericDate (seconds, possibly fractional).
func numericDate(name string, raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, fmt.Errorf("%s is not a valid NumericDate", name)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("%s is not a valid NumericDate", name)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

// jwksCache holds an issuer's keys. It refreshes them when they are older
// than the server's Cache-Control max-age (else an hour), and when a token
// names an unknown kid — at most once per jwksRefetchMin, with concurrent
// fetches collapsed into one.
type jwksCache struct {
	uri    string
	client *http.Client
	now    func() time.Time

	mu          sync.Mutex
	keys        []*jwk
	fetched     time.Time     // last successful fetch
	lastLimited time.Time     // last rate-limited fetch started
	maxAge      time.Duration // freshness of keys
	inflight    *jwksFetch    // the fetch in progress, if any
}

// jwksFetch is one in-progress fetch that concurrent callers wait on.
type jwksFetch struct {
	done chan struct{}
	err  error
}

// keyFor finds the key for a token's kid and alg, refetching the set
// when it is stale or the kid is unknown.
func (c *jwksCache) keyFor(ctx context.Context, kid, alg string) (*jwk, error) {
	c.mu.Lock()
	stale := c.now().Sub(c.fetched) >= c.maxAge
	c.mu.Unlock()
	if stale {
		// A failed periodic refresh keeps the cached keys in use, and is
		// retried no more often than unknown-kid refetches.
		_ = c.fetch(ctx, true)
	}
	if k, err := c.lookup(kid, alg); k != nil || err != nil {
		return k, err
	}
	if err := c.fetch(ctx, true); err != nil {
		return nil, fmt.Errorf("no key %q in the issuer's key set (%v)", kid, err)
	}
	if k, err := c.lookup(kid, alg); k != nil || err != nil {
		return k, err
	}
	return nil, fmt.Errorf("no key %q in the issuer's key set", kid)
}

// lookup finds a cached key. Without a kid, the key must be the only one
// that can verify alg.
func (c *jwksCache) lookup(kid, alg string) (*jwk, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if kid != "" {
		// Prefer the key with this kid that can verify alg; else the first
		// with the kid, so the caller reports the mismatch.
		var first *jwk
		for _, k := range c.keys {
			if k.Kid != kid {
				continue
			}
			if checkKeyForAlg(alg, k) == nil {
				return k, nil
			}
			if first == nil {
				first = k
			}
		}
		return first, nil
	}
	var match []*jwk
	for _, k := range c.keys {
		if checkKeyForAlg(alg, k) == nil {
			match = append(match, k)
		}
	}
	switch len(match) {
	case 0:
		return nil, nil
	case 1:
		return match[0], nil
	}
	return nil, fmt.Errorf("token has no kid and %d keys could verify %s", len(match), alg)
}

// refresh fetches the key set now (used at start).
func (c *jwksCache) refresh(ctx context.Context) error { return c.fetch(ctx, false) }

// fetch refetches the key set, joining a fetch already in progress. When
// limited, it does nothing if a fetch started less than jwksRefetchMin ago.
func (c *jwksCache) fetch(ctx context.Context, limited bool) error {
	c.mu.Lock()
	if f := c.inflight; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if limited {
		if since := c.now().Sub(c.lastLimited); !c.lastLimited.IsZero() && since < jwksRefetchMin {
			c.mu.Unlock()
			return fmt.Errorf("keys were refetched %s ago; refetch allowed every %s", since.Round(time.Second), jwksRefetchMin)
		}
		c.lastLimited = c.now()
	}
	f := &jwksFetch{done: make(chan struct{})}
	c.inflight = f
	c.mu.Unlock()

	// The fetch outlives a caller that gives up: others may be waiting.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	keys, maxAge, err := c.download(fctx)
	cancel()

	c.mu.Lock()
	if err == nil {
		c.keys, c.maxAge, c.fetched = keys, maxAge, c.now()
	}
	f.err = err
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
	return err
}

// download GETs and parses the key set and its freshness.
func (c *jwksCache) download(ctx context.Context) ([]*jwk, time.Duration, error) {
	body, hdr, err := httpGetJSON(ctx, c.client, c.uri)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch JWKS: %w", err)
	}
	keys, _, err := parseJWKS(body)
	if err != nil {
		return nil, 0, fmt.Errorf("JWKS %s: %w", c.uri, err)
	}
	return keys, cacheMaxAge(hdr.Get("Cache-Control")), nil
}

// cacheMaxAge reads max-age from Cache-Control, bounded to [1 min, 1 day];
// without one (or with no-cache/no-store) it is an hour.
func cacheMaxAge(cc string) time.Duration {
	for _, part := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(val, `"`))
		if err != nil || n < 0 {
			break
		}
		d := time.Duration(n) * time.Second
		return min(max(d, time.Minute), 24*time.Hour)
	}
	return jwksDefaultMaxAge
}
