package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A test issuer on loopback: discovery, a JWKS it can rotate, and token
// signing with keys generated per test run.

type testKey struct {
	kid    string
	alg    string
	signer crypto.Signer
	jwkAlg string // alg published in the JWK ("" for none)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// publicJWK renders the key's public half.
func (k testKey) publicJWK() map[string]any {
	m := map[string]any{"kid": k.kid, "use": "sig"}
	if k.jwkAlg != "" {
		m["alg"] = k.jwkAlg
	}
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", pub.Curve.Params().Name
		m["x"], m["y"] = b64(pub.X.FillBytes(make([]byte, size))), b64(pub.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(pub)
	}
	return m
}

var (
	rsaKeyOnce sync.Once
	rsaKeys    []*rsa.PrivateKey
)

// testRSAKey returns one of a few RSA keys generated once per process.
func testRSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeyOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i]
}

func newTestKey(t testing.TB, kid, alg string, i int) testKey {
	t.Helper()
	k := testKey{kid: kid, alg: alg, jwkAlg: alg}
	var err error
	switch alg[:2] {
	case "RS", "PS":
		k.signer = testRSAKey(t, i)
	case "ES":
		k.signer, err = ecdsa.GenerateKey(ecCurveFor(alg), rand.Reader)
	default:
		_, k.signer, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signJWS signs header and claims with k, using k.alg unless the header
// sets one.
func signJWS(t testing.TB, k testKey, header, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": k.alg, "kid": k.kid, "typ": "at+jwt"}
	for name, v := range header {
		if v == nil {
			delete(h, name)
		} else {
			h[name] = v
		}
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	input := b64(hb) + "." + b64(cb)
	alg := h["alg"].(string)
	var sig []byte
	var err error
	switch {
	case strings.HasPrefix(alg, "RS"):
		hash, _ := algHash(alg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.signer.(*rsa.PrivateKey), hash, digest(hash, []byte(input)))
	case strings.HasPrefix(alg, "PS"):
		hash, _ := algHash(alg)
		sig, err = rsa.SignPSS(rand.Reader, k.signer.(*rsa.PrivateKey), hash, digest(hash, []byte(input)), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case strings.HasPrefix(alg, "ES"):
		hash, _ := algHash(alg)
		priv := k.signer.(*ecdsa.PrivateKey)
		r, s, e := ecdsa.Sign(rand.Reader, priv, digest(hash, []byte(input)))
		size := (priv.Curve.Params().BitSize + 7) / 8
		sig, err = append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...), e
	case alg == "EdDSA":
		sig = ed25519.Sign(k.signer.(ed25519.PrivateKey), []byte(input))
	default:
		t.Fatalf("signJWS: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

type testIssuer struct {
	srv          *httptest.Server
	mu           sync.Mutex
	keys         []testKey
	cacheControl string
	jwksDelay    time.Duration
	jwksHits     atomic.Int32
}

func newTestIssuer(t testing.TB, keys ...testKey) *testIssuer {
	ti := &testIssuer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": ti.srv.URL, "jwks_uri": ti.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.jwksHits.Add(1)
		ti.mu.Lock()
		var set []any
		for _, k := range ti.keys {
			set = append(set, k.publicJWK())
		}
		cc, delay := ti.cacheControl, ti.jwksDelay
		ti.mu.Unlock()
		time.Sleep(delay)
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": set})
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) setKeys(keys ...testKey) {
	ti.mu.Lock()
	ti.keys = keys
	ti.mu.Unlock()
}

// fakeClock is a settable clock for the verifier.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testAudience = "urn:heph:hub"

func newTestVerifier(t *testing.T, ti *testIssuer, leeway time.Duration) (*oidcVerifier, *fakeClock) {
	t.Helper()
	v, err := newOIDCVerifier(context.Background(), ti.srv.URL, testAudience, leeway, ti.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	v.now = clock.now
	return v, clock
}

func goodClaims(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "user-1", "aud": testAudience, "client_id": "heph-cli",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

// with returns claims with changes applied (nil deletes).
func with(c map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestVerifierClaims(t *testing.T) {
	rs := newTestKey(t, "rs", "RS256", 0)
	ps := newTestKey(t, "ps", "PS256", 1)
	es := newTestKey(t, "es", "ES256", 0)
	es384 := newTestKey(t, "es384", "ES384", 0)
	ed := newTestKey(t, "ed", "EdDSA", 0)
	noAlg := newTestKey(t, "noalg", "RS512", 2)
	noAlg.jwkAlg = ""
	dupRS, dupES := newTestKey(t, "dup", "RS256", 1), newTestKey(t, "dup", "ES256", 0)
	ti := newTestIssuer(t, rs, ps, es, es384, ed, noAlg, dupRS, dupES)
	v, clock := newTestVerifier(t, ti, 60*time.Second)
	now := clock.now()
	good := goodClaims(ti.srv.URL, now)
	other := newTestKey(t, "rs", "RS256", 2) // same kid, another key

	hmacWithPublicKey := func() string {
		der, _ := x509.MarshalPKIXPublicKey(rs.signer.Public())
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		hb, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": "rs"})
		cb, _ := json.Marshal(good)
		input := b64(hb) + "." + b64(cb)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}
	noneToken := func(sig string) string {
		hb, _ := json.Marshal(map[string]any{"alg": "none"})
		cb, _ := json.Marshal(good)
		return b64(hb) + "." + b64(cb) + "." + sig
	}
	attackerKey := newTestKey(t, "attacker", "ES256", 0)

	cases := []struct {
		name  string
		token string
		want  string // "" = accepted; else a substring of the reason
	}{
		{"RS256 ok", signJWS(t, rs, nil, good), ""},
		{"PS256 ok", signJWS(t, ps, nil, good), ""},
		{"ES256 ok", signJWS(t, es, nil, good), ""},
		{"ES384 ok", signJWS(t, es384, nil, good), ""},
		{"EdDSA ok", signJWS(t, ed, nil, good), ""},
		{"JWK without alg: RS512 ok", signJWS(t, noAlg, nil, good), ""},
		{"shared kid: RSA key", signJWS(t, dupRS, nil, good), ""},
		{"shared kid: EC key", signJWS(t, dupES, nil, good), ""},
		{"typ JWT ok", signJWS(t, rs, map[string]any{"typ": "JWT"}, good), ""},
		{"typ case-insensitive", signJWS(t, rs, map[string]any{"typ": "application/AT+JWT"}, good), ""},
		{"no typ ok", signJWS(t, rs, map[string]any{"typ": nil}, good), ""},
		{"audience in array", signJWS(t, rs, nil, with(good, map[string]any{"aud": []string{"other", testAudience}})), ""},
		{"expired within leeway", signJWS(t, rs, nil, with(good, map[string]any{"exp": now.Add(-30 * time.Second).Unix()})), ""},
		{"nbf within leeway", signJWS(t, rs, nil, with(good, map[string]any{"nbf": now.Add(30 * time.Second).Unix()})), ""},
		{"fractional dates", signJWS(t, rs, nil, with(good, map[string]any{"exp": float64(now.Add(time.Minute).Unix()) + 0.5})), ""},

		{"expired", signJWS(t, rs, nil, with(good, map[string]any{"exp": now.Add(-61 * time.Second).Unix()})), "expired"},
		{"no exp", signJWS(t, rs, nil, with(good, map[string]any{"exp": nil})), "no exp"},
		{"exp not a number", signJWS(t, rs, nil, with(good, map[string]any{"exp": "tomorrow"})), "exp"},
		{"not yet valid", signJWS(t, rs, nil, with(good, map[string]any{"nbf": now.Add(2 * time.Minute).Unix()})), "not valid before"},
		{"iat in the future", signJWS(t, rs, nil, with(good, map[string]any{"iat": now.Add(2 * time.Minute).Unix()})), "issued in the future"},
		{"wrong issuer", signJWS(t, rs, nil, with(good, map[string]any{"iss": ti.srv.URL + "/"})), "issuer"},
		{"no issuer", signJWS(t, rs, nil, with(good, map[string]any{"iss": nil})), "issuer"},
		{"audience missing", signJWS(t, rs, nil, with(good, map[string]any{"aud": nil})), "no aud"},
		{"audience other", signJWS(t, rs, nil, with(good, map[string]any{"aud": "urn:other"})), "audience"},
		{"audience array without ours", signJWS(t, rs, nil, with(good, map[string]any{"aud": []string{"a", "b"}})), "audience"},
		{"audience bad type", signJWS(t, rs, nil, with(good, map[string]any{"aud": 7})), "aud"},
		{"missing sub", signJWS(t, rs, nil, with(good, map[string]any{"sub": nil})), "no sub"},
		{"empty sub", signJWS(t, rs, nil, with(good, map[string]any{"sub": ""})), "no sub"},
		{"RS256 header with the EC key", signJWS(t, rs, map[string]any{"kid": "es"}, good), "needs a RSA key"},
		{"ES384 header with the P-256 key", signJWS(t, es384, map[string]any{"kid": "es"}, good), "curve"},
		{"alg differs from the JWK alg", signJWS(t, rs, map[string]any{"alg": "PS256"}, good), "differs from key"},
		{"alg none, no signature", noneToken(""), ""},
		{"alg none with a signature", noneToken("c2ln"), `"none"`},
		{"HS256 with the RSA public key as secret", hmacWithPublicKey(), "HMAC"},
		{"another key with the same kid", signJWS(t, other, nil, good), "bad RS256 signature"},
		{"embedded jwk/jku/x5u ignored", signJWS(t, attackerKey, map[string]any{"kid": "es", "jwk": attackerKey.publicJWK(),
			"jku": "http://127.0.0.1:1/jwks", "x5u": "http://127.0.0.1:1/x5u"}, good), "bad ES256 signature"},
		{"unknown crit", signJWS(t, rs, map[string]any{"crit": []string{"exp"}, "exp": 1}, good), "critical"},
		{"bad typ", signJWS(t, rs, map[string]any{"typ": "dpop+jwt"}, good), "typ"},
		{"oversized", signJWS(t, rs, nil, with(good, map[string]any{"pad": strings.Repeat("x", maxTokenSize)})), "byte limit"},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, "compact"},
		{"two parts", "abc.def", "3"},
		{"garbage base64", "a b.c.d", "base64url"},
		{"claims not an object", signJWS(t, rs, nil, nil), "claims"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tc.token)
			if tc.want == "" && tc.name != "alg none, no signature" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.Subject != "user-1" || c.Issuer != ti.srv.URL || !containsString(c.Audience, testAudience) || c.Expiry.IsZero() {
					t.Fatalf("claims %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want rejection (%s)", tc.want)
			}
			var rej *tokenRejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("error %T %v is not a tokenRejectedError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reason %q does not mention %q", err, tc.want)
			}
			if len(tc.token) > 20 && strings.Contains(err.Error(), tc.token[len(tc.token)-20:]) {
				t.Fatalf("reason leaks the token: %v", err)
			}
		})
	}

	t.Run("leeway zero", func(t *testing.T) {
		v0, clock0 := newTestVerifier(t, ti, 0)
		now := clock0.now()
		tok := signJWS(t, rs, nil, with(goodClaims(ti.srv.URL, now), map[string]any{"exp": now.Add(-time.Second).Unix()}))
		if _, err := v0.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("leeway 0 accepted an expired token: %v", err)
		}
		tok = signJWS(t, rs, nil, with(goodClaims(ti.srv.URL, now), map[string]any{"nbf": now.Add(2 * time.Second).Unix()}))
		if _, err := v0.Verify(context.Background(), tok); err == nil {
			t.Fatal("leeway 0 accepted a not-yet-valid token")
		}
	})
}

func TestVerifierDiscoveryIssuerMustMatch(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL + "/evil", "jwks_uri": srv.URL + "/jwks"})
	})
	_, err := newOIDCVerifier(context.Background(), srv.URL, testAudience, time.Minute, srv.Client())
	if err == nil || !strings.Contains(err.Error(), "want exactly") {
		t.Fatalf("issuer mismatch accepted: %v", err)
	}
}

// TestVerifierKeyRotation: an unknown kid triggers a refetch at most once
// per 30 s, concurrent refetches collapse into one, and the periodic
// refresh follows Cache-Control max-age.
func TestVerifierKeyRotation(t *testing.T) {
	a := newTestKey(t, "a", "RS256", 0)
	b := newTestKey(t, "b", "ES256", 0)
	c := newTestKey(t, "c", "EdDSA", 0)
	ti := newTestIssuer(t, a)
	ti.cacheControl = "public, max-age=600"
	v, clock := newTestVerifier(t, ti, time.Minute)
	ctx := context.Background()
	claims := func() map[string]any { return goodClaims(ti.srv.URL, clock.now()) }
	hits := func() int32 { return ti.jwksHits.Load() }
	if hits() != 1 {
		t.Fatalf("start: %d JWKS fetches, want 1", hits())
	}
	if _, err := v.Verify(ctx, signJWS(t, a, nil, claims())); err != nil {
		t.Fatal(err)
	}
	// The provider starts signing with b before the hub's cache knows it.
	tokB := signJWS(t, b, nil, claims())
	if _, err := v.Verify(ctx, tokB); err == nil || !strings.Contains(err.Error(), `no key "b"`) {
		t.Fatalf("unknown kid: %v", err)
	}
	if hits() != 2 {
		t.Fatalf("unknown kid caused %d fetches in all, want 2", hits())
	}
	ti.setKeys(b, a) // rotation: new key first, old key kept
	clock.advance(10 * time.Second)
	if _, err := v.Verify(ctx, tokB); err == nil || !strings.Contains(err.Error(), "refetch allowed every") {
		t.Fatalf("refetch within 30 s: %v", err)
	}
	if hits() != 2 {
		t.Fatalf("refetched within 30 s (%d fetches)", hits())
	}
	clock.advance(21 * time.Second)
	if _, err := v.Verify(ctx, signJWS(t, b, nil, claims())); err != nil {
		t.Fatalf("after 30 s the new key must be fetched: %v", err)
	}
	if _, err := v.Verify(ctx, signJWS(t, a, nil, claims())); err != nil {
		t.Fatalf("old key still published, token must verify: %v", err)
	}
	if hits() != 3 {
		t.Fatalf("%d fetches, want 3", hits())
	}

	// Concurrent tokens with another unknown kid: one fetch for all.
	clock.advance(31 * time.Second)
	ti.mu.Lock()
	ti.keys = []testKey{c, b, a}
	ti.jwksDelay = 200 * time.Millisecond
	ti.mu.Unlock()
	tokC := signJWS(t, c, nil, claims())
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, tokC); err != nil {
				failed.Add(1)
				t.Errorf("concurrent verify: %v", err)
			}
		}()
	}
	wg.Wait()
	if hits() != 4 {
		t.Fatalf("20 concurrent unknown-kid tokens caused %d fetches, want one (4 in all)", hits()-3)
	}

	// Periodic refresh: after max-age the set is refetched and a key the
	// provider retired stops verifying.
	ti.mu.Lock()
	ti.keys, ti.jwksDelay = []testKey{c, b}, 0
	ti.mu.Unlock()
	tokA := signJWS(t, a, nil, claims())
	clock.advance(5 * time.Minute)
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("within max-age the cached key verifies: %v", err)
	}
	clock.advance(6 * time.Minute)
	if _, err := v.Verify(ctx, signJWS(t, c, nil, claims())); err != nil {
		t.Fatal(err)
	}
	if hits() != 5 {
		t.Fatalf("max-age elapsed: %d fetches, want 5", hits())
	}
	if _, err := v.Verify(ctx, signJWS(t, a, nil, claims())); err == nil {
		t.Fatal("retired key still verifies after the periodic refresh")
	}
}

func TestCacheMaxAge(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"":                          time.Hour,
		"max-age=300":               5 * time.Minute,
		"public, max-age=7200":      2 * time.Hour,
		"max-age=1":                 time.Minute,
		"max-age=99999999":          24 * time.Hour,
		"no-store":                  time.Hour,
		"max-age=abc":               time.Hour,
		`private, MAX-AGE="120", x`: 2 * time.Minute,
	} {
		if got := cacheMaxAge(cc); got != want {
			t.Errorf("cacheMaxAge(%q) = %s, want %s", cc, got, want)
		}
	}
}

func TestParseJWKRejects(t *testing.T) {
	for name, j := range map[string]string{
		"oct":             `{"kty":"oct","k":"AAAA"}`,
		"enc use":         `{"kty":"OKP","crv":"Ed25519","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		"x25519":          `{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		"short ed25519":   `{"kty":"OKP","crv":"Ed25519","x":"11qY"}`,
		"P-256 short x":   `{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}`,
		"secp256k1":       `{"kty":"EC","crv":"secp256k1","x":"AQ","y":"AQ"}`,
		"small RSA":       `{"kty":"RSA","n":"` + b64(big.NewInt(0).Lsh(big.NewInt(1), 1023).Bytes()) + `","e":"AQAB"}`,
		"even exponent":   `{"kty":"RSA","n":"` + b64(testRSAKey(t, 0).N.Bytes()) + `","e":"Ag"}`,
		"no kty":          `{"n":"AQ"}`,
		"key_ops encrypt": `{"kty":"OKP","crv":"Ed25519","key_ops":["encrypt"],"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
	} {
		if _, err := parseJWK([]byte(j)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k := testKey{kid: "ok", signer: p256}
	j, _ := json.Marshal(k.publicJWK())
	if _, err := parseJWK(j); err != nil {
		t.Fatalf("good P-256 JWK: %v", err)
	}
	// A point off the curve.
	m := k.publicJWK()
	m["y"] = m["x"]
	j, _ = json.Marshal(m)
	if _, err := parseJWK(j); err == nil {
		t.Fatal("point off the curve accepted")
	}
}

// FuzzParseToken: the token parser and the verifier's pre-key checks
// never panic, and anything that parses re-encodes consistently.
func FuzzParseToken(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(`{"payload":"e30"}`)
	f.Add("..")
	f.Add("eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.AAAA")
	f.Add("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
	f.Fuzz(func(t *testing.T, token string) {
		jws, err := parseCompactJWS(token)
		if err != nil {
			return
		}
		if len(token) > maxTokenSize {
			t.Fatalf("oversized token parsed")
		}
		if jws.Header.Alg == "" || len(jws.Signature) == 0 {
			t.Fatalf("parsed without alg or signature: %+v", jws.Header)
		}
		if string(jws.SigningInput)+"."+b64(jws.Signature) != token {
			t.Fatalf("signing input and signature do not rebuild the token")
		}
		_ = checkAlgAllowed(jws.Header.Alg)
		_ = checkTyp(jws.Header.Typ)
		v := &oidcVerifier{issuer: "https://issuer.example", audience: "aud", leeway: time.Minute, now: time.Now}
		_, _ = v.checkClaims(jws.Payload)
	})
}

// BenchmarkVerify: the hub verifies a bearer token on every request.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			k := newTestKey(b, "k", alg, 0)
			ti := newTestIssuer(b, k)
			v, err := newOIDCVerifier(context.Background(), ti.srv.URL, testAudience, time.Minute, ti.srv.Client())
			if err != nil {
				b.Fatal(err)
			}
			tok := signJWS(b, k, nil, goodClaims(ti.srv.URL, time.Now()))
			b.ResetTimer()
			for range b.N {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
