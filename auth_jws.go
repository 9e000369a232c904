// JWS compact signatures (RFC 7515): splitting a bearer token and checking its signature.

package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// maxTokenSize bounds a bearer token; anything longer is rejected before
// any decoding happens.
const maxTokenSize = 16 << 10

// jwsHeader is the protected header of a compact JWS. kid is only a key
// lookup hint; jku, jwk and x5u are deliberately not decoded, so a token
// can never point the verifier at a key of its own choosing.
type jwsHeader struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Crit []string `json:"crit"`
}

// parsedJWS is a decoded, not yet verified, compact JWS.
type parsedJWS struct {
	Header       jwsHeader
	Payload      []byte
	SigningInput []byte // ASCII "header.payload", what the signature covers
	Signature    []byte
}

// parseCompactJWS splits and decodes a compact-serialized JWS (RFC 7515
// §7.1). It checks structure only; verifySignature checks the signature.
// JSON serialization, unpadded base64url violations and any "crit"
// header are rejected: heph understands no critical extensions.
func parseCompactJWS(token string) (*parsedJWS, error) {
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("token is %d bytes, over the %d byte limit", len(token), maxTokenSize)
	}
	if strings.HasPrefix(strings.TrimSpace(token), "{") {
		return nil, errors.New("JSON serialization is not accepted; only compact JWS")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("compact JWS has %d parts, want 3 (header.payload.signature)", len(parts))
	}
	if parts[0] == "" {
		return nil, errors.New("JWS header is empty")
	}
	if parts[2] == "" {
		return nil, errors.New("JWS signature is empty")
	}
	hdrBytes, err := decodeSegment(parts[0])
	if err != nil {
		return nil, fmt.Errorf("JWS header: %w", err)
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWS payload: %w", err)
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return nil, fmt.Errorf("JWS signature: %w", err)
	}
	hdr, err := decodeJWSHeader(hdrBytes)
	if err != nil {
		return nil, err
	}
	return &parsedJWS{
		Header:       hdr,
		Payload:      payload,
		SigningInput: []byte(token[:len(parts[0])+1+len(parts[1])]),
		Signature:    sig,
	}, nil
}

// decodeJWSHeader decodes the protected header and applies the
// structural rules: a JSON object, a string alg, no crit.
func decodeJWSHeader(b []byte) (jwsHeader, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return jwsHeader{}, errors.New("JWS header is not a JSON object")
	}
	var h jwsHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return jwsHeader{}, fmt.Errorf("JWS header: %v", err)
	}
	if h.Alg == "" {
		return jwsHeader{}, errors.New("JWS header has no alg")
	}
	if _, ok := raw["crit"]; ok {
		return jwsHeader{}, fmt.Errorf("JWS header marks %q critical, and heph understands no critical extensions", h.Crit)
	}
	return h, nil
}

// decodeSegment decodes one unpadded base64url segment strictly: only
// the URL-safe alphabet (no padding, whitespace or line breaks, which
// Go's decoder would otherwise skip) and zero unused trailing bits.
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("invalid base64url character at offset %d", i)
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64url: %v", err)
	}
	return b, nil
}

// algHash is the digest a JWS algorithm signs.
func algHash(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256", "PS256", "ES256":
		return crypto.SHA256, true
	case "RS384", "PS384", "ES384":
		return crypto.SHA384, true
	case "RS512", "PS512", "ES512":
		return crypto.SHA512, true
	}
	return 0, false
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	default:
		d := sha512.Sum512(msg)
		return d[:]
	}
}

// checkAlgAllowed rejects algorithms heph never accepts, whatever the key:
// "none" and every HMAC algorithm (a public key must never become a shared
// secret).
func checkAlgAllowed(alg string) error {
	switch {
	case strings.EqualFold(alg, "none"):
		return errors.New(`alg "none" is never accepted`)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return fmt.Errorf("alg %q (HMAC) is never accepted; only asymmetric signatures", alg)
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519":
		return nil
	}
	return fmt.Errorf("unsupported alg %q", alg)
}

// verifySignature checks sig over signed with key under the JWS algorithm
// alg (RFC 7518 §3). Every JWS path and the raw Wycheproof signature
// vectors go through this one function.
func verifySignature(alg string, key crypto.PublicKey, signed, sig []byte) error {
	if err := checkAlgAllowed(alg); err != nil {
		return err
	}
	switch alg[0] {
	case 'R', 'P':
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("alg %s needs an RSA key, have %T", alg, key)
		}
		return verifyRSA(alg, pub, signed, sig)
	case 'E':
		if alg == "EdDSA" || alg == "Ed25519" {
			pub, ok := key.(ed25519.PublicKey)
			if !ok {
				return fmt.Errorf("alg %s needs an Ed25519 key, have %T", alg, key)
			}
			if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, signed, sig) {
				return errors.New("bad Ed25519 signature")
			}
			return nil
		}
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("alg %s needs an EC key, have %T", alg, key)
		}
		return verifyECDSA(alg, pub, signed, sig)
	}
	return fmt.Errorf("unsupported alg %q", alg)
}

// minRSABits is the smallest RSA modulus heph trusts.
const minRSABits = 2048

func verifyRSA(alg string, pub *rsa.PublicKey, signed, sig []byte) error {
	if pub.N.BitLen() < minRSABits {
		return fmt.Errorf("RSA key has %d bits, want at least %d", pub.N.BitLen(), minRSABits)
	}
	if len(sig) != pub.Size() {
		return fmt.Errorf("RSA signature is %d bytes, want %d", len(sig), pub.Size())
	}
	h, _ := algHash(alg)
	d := digest(h, signed)
	var err error
	if alg[0] == 'R' {
		err = rsa.VerifyPKCS1v15(pub, h, d, sig)
	} else {
		// RFC 7518 §3.5: the salt is as long as the hash.
		err = rsa.VerifyPSS(pub, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	}
	if err != nil {
		return fmt.Errorf("bad %s signature", alg)
	}
	return nil
}

// ecCurveFor is the curve an ES* algorithm requires.
func ecCurveFor(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	}
	return nil
}

// verifyECDSA checks a JWS ECDSA signature: the raw big-endian r‖s of
// exactly twice the curve's byte length (RFC 7518 §3.4), not DER.
func verifyECDSA(alg string, pub *ecdsa.PublicKey, signed, sig []byte) error {
	curve := ecCurveFor(alg)
	if curve == nil || pub.Curve != curve {
		return fmt.Errorf("alg %s does not match the key's curve %s", alg, pub.Curve.Params().Name)
	}
	size := (curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return fmt.Errorf("%s signature is %d bytes, want %d (raw r||s)", alg, len(sig), 2*size)
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	h, _ := algHash(alg)
	if !ecdsa.Verify(pub, digest(h, signed), r, s) {
		return fmt.Errorf("bad %s signature", alg)
	}
	return nil
}
