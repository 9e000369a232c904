// The hub's OIDC verifier, built lazily so a hub starts while its issuer is unreachable.

package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"
)

// The glue between sync and OIDC: the hub's verifier, built lazily so a
// hub starts (and answers /healthz and /config) even while its issuer is
// unreachable, and the spoke's token source.

// verifierRetry is how often a hub whose issuer failed discovery tries
// again; requests in between get 401 with the discovery error logged.
const verifierRetry = 10 * time.Second

// lazyVerifier discovers the issuer on first use and keeps retrying
// (at most every verifierRetry) until discovery succeeds.
type lazyVerifier struct {
	build func(ctx context.Context) (bearerVerifier, error)
	log   *log.Logger

	mu      sync.Mutex
	v       bearerVerifier
	lastTry time.Time
	lastErr error
}

func newLazyVerifier(o daemonOptions, logger *log.Logger) *lazyVerifier {
	client := &http.Client{Timeout: 15 * time.Second}
	return &lazyVerifier{log: logger, build: func(ctx context.Context) (bearerVerifier, error) {
		v, err := newOIDCVerifier(ctx, o.OIDCIssuer, o.OIDCAudience, o.OIDCLeeway, client)
		if err != nil {
			return nil, err
		}
		return oidcSubjects{v}, nil
	}}
}

// VerifySubject verifies token once the issuer is known.
func (l *lazyVerifier) VerifySubject(ctx context.Context, token string) (string, error) {
	v, err := l.get(ctx)
	if err != nil {
		return "", err
	}
	return v.VerifySubject(ctx, token)
}

func (l *lazyVerifier) get(ctx context.Context) (bearerVerifier, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.v != nil {
		return l.v, nil
	}
	if !l.lastTry.IsZero() && time.Since(l.lastTry) < verifierRetry {
		return nil, fmt.Errorf("issuer discovery failed %s ago (retrying every %s): %w", time.Since(l.lastTry).Round(time.Second), verifierRetry, l.lastErr)
	}
	l.lastTry = time.Now()
	v, err := l.build(ctx)
	if err != nil {
		l.lastErr = err
		l.log.Printf("hub: OIDC discovery failed (will retry): %v", err)
		return nil, fmt.Errorf("issuer discovery: %w", err)
	}
	l.v = v
	return v, nil
}

// oidcSubjects adapts the OIDC verifier to the hub's bearerVerifier.
type oidcSubjects struct{ v *oidcVerifier }

func (o oidcSubjects) VerifySubject(ctx context.Context, token string) (string, error) {
	c, err := o.v.Verify(ctx, token)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}
