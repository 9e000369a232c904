// JSON Web Keys (RFC 7517): parsing a JWK Set into public verification keys.

package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// jwk is one public verification key from a JWK Set (RFC 7517).
type jwk struct {
	Kty    string
	Kid    string
	Alg    string // optional; when set, a token's alg must equal it
	Use    string
	KeyOps []string
	Crv    string
	Key    crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// rawJWK is the wire form of a JWK; private members are never read.
type rawJWK struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// parseJWK parses one public JWK of type RSA, EC (P-256/384/521) or OKP
// (Ed25519). Keys declared for encryption (use "enc", or key_ops without
// "verify") are refused: a signature must not verify under them.
func parseJWK(data []byte) (*jwk, error) {
	var r rawJWK
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("JWK: %v", err)
	}
	k := &jwk{Kty: r.Kty, Kid: r.Kid, Alg: r.Alg, Use: r.Use, KeyOps: r.KeyOps, Crv: r.Crv}
	if r.Use != "" && r.Use != "sig" {
		return nil, fmt.Errorf("JWK %q is for use %q, not signatures", r.Kid, r.Use)
	}
	if r.KeyOps != nil && !slices.Contains(r.KeyOps, "verify") {
		return nil, fmt.Errorf("JWK %q key_ops %v do not include verify", r.Kid, r.KeyOps)
	}
	var err error
	switch r.Kty {
	case "RSA":
		k.Key, err = rsaFromJWK(r)
	case "EC":
		k.Key, err = ecFromJWK(r)
	case "OKP":
		k.Key, err = okpFromJWK(r)
	case "":
		err = errors.New("no kty")
	default:
		err = fmt.Errorf("unsupported kty %q", r.Kty)
	}
	if err != nil {
		return nil, fmt.Errorf("JWK %q: %w", r.Kid, err)
	}
	return k, nil
}

func rsaFromJWK(r rawJWK) (*rsa.PublicKey, error) {
	nb, err := decodeSegment(r.N)
	if err != nil || len(nb) == 0 {
		return nil, fmt.Errorf("bad RSA modulus n: %v", err)
	}
	eb, err := decodeSegment(r.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("bad RSA exponent e")
	}
	n := new(big.Int).SetBytes(nb)
	e := new(big.Int).SetBytes(eb).Int64()
	if e < 3 || e%2 == 0 || e > 1<<31-1 {
		return nil, fmt.Errorf("bad RSA exponent %d", e)
	}
	if n.BitLen() < minRSABits {
		return nil, fmt.Errorf("RSA key has %d bits, want at least %d", n.BitLen(), minRSABits)
	}
	return &rsa.PublicKey{N: n, E: int(e)}, nil
}

func curveByName(crv string) elliptic.Curve {
	switch crv {
	case "P-256":
		return elliptic.P256()
	case "P-384":
		return elliptic.P384()
	case "P-521":
		return elliptic.P521()
	}
	return nil
}

// ecFromJWK builds an EC key; x and y must be exactly the curve's field
// length (RFC 7518 §6.2.1.2) and the point must lie on the curve.
func ecFromJWK(r rawJWK) (*ecdsa.PublicKey, error) {
	curve := curveByName(r.Crv)
	if curve == nil {
		return nil, fmt.Errorf("unsupported EC curve %q", r.Crv)
	}
	size := (curve.Params().BitSize + 7) / 8
	x, err := decodeSegment(r.X)
	if err != nil || len(x) != size {
		return nil, fmt.Errorf("EC x must be %d bytes", size)
	}
	y, err := decodeSegment(r.Y)
	if err != nil || len(y) != size {
		return nil, fmt.Errorf("EC y must be %d bytes", size)
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("EC point: %v", err)
	}
	return pub, nil
}

func okpFromJWK(r rawJWK) (ed25519.PublicKey, error) {
	if r.Crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported OKP curve %q (only Ed25519)", r.Crv)
	}
	x, err := decodeSegment(r.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("Ed25519 x must be %d bytes", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(x), nil
}

// checkKeyForAlg enforces that a token's alg agrees with the key: the
// key type (and curve) the algorithm needs, and the JWK's own alg when it
// names one.
func checkKeyForAlg(alg string, k *jwk) error {
	if err := checkAlgAllowed(alg); err != nil {
		return err
	}
	want := ""
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		want = "RSA"
	case isEdDSA(alg):
		want = "OKP"
	case strings.HasPrefix(alg, "ES"):
		want = "EC"
		if c := ecCurveFor(alg); c != nil && k.Kty == want && k.Crv != c.Params().Name {
			return fmt.Errorf("token alg %s needs curve %s, key %q is %s", alg, c.Params().Name, k.Kid, k.Crv)
		}
	}
	if k.Kty != want {
		return fmt.Errorf("token alg %s needs a %s key, key %q is %s", alg, want, k.Kid, k.Kty)
	}
	if k.Alg != "" && k.Alg != alg && !(isEdDSA(k.Alg) && isEdDSA(alg)) {
		return fmt.Errorf("token alg %s differs from key %q alg %s", alg, k.Kid, k.Alg)
	}
	return nil
}

func isEdDSA(alg string) bool { return alg == "EdDSA" || alg == "Ed25519" }

// parseJWKS parses a JWK Set. Keys heph cannot use (symmetric, encryption
// keys, unknown types) are skipped and reported in skipped; a set with no
// usable key is an error.
func parseJWKS(data []byte) (keys []*jwk, skipped []error, err error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("JWKS: %v", err)
	}
	for _, raw := range set.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("JWKS has no usable signature key (%d skipped: %v)", len(skipped), errors.Join(skipped...))
	}
	return keys, skipped, nil
}
