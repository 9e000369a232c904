package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Regression tests for the hostile review of the hub (issue 12): a real
// hub process over HTTP, real tokens from the real OpenID provider.

// TestHostileHub runs the hub findings against one provider.
func TestHostileHub(t *testing.T) {
	p := startOIDCProvider(t)

	// Finding 1: with --authorized-sub, nobody else can claim the hub.
	t.Run("authorized-sub closes the claim", func(t *testing.T) {
		hub := startHub(t, "", p, "--authorized-sub", "alice")
		_, mallory := login(t, p, hub.URL, "mallory")
		if got := hubRequest(t, hub.URL, "POST /sync/push", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("mallory's push with --authorized-sub alice: status %d, want 403", got)
		}
		if got := hubRequest(t, hub.URL, "POST /rpc", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("mallory's rpc: status %d, want 403", got)
		}
		_, alice := login(t, p, hub.URL, "alice")
		if got := hubRequest(t, hub.URL, "POST /sync/push", alice.AccessToken); got != http.StatusOK {
			t.Fatalf("alice's push: status %d, want 200", got)
		}
		if got := hubRequest(t, hub.URL, "POST /rpc", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("mallory after alice: status %d, want 403", got)
		}
		var info daemonInfo
		hub.MustCall("daemon.info", nil, &info)
		if info.Hub == nil || strings.Join(info.Hub.Owners, ",") != "alice" || info.Hub.Source != "authorized-sub" {
			t.Fatalf("daemon.info hub owners: %+v, want alice from authorized-sub", info.Hub)
		}
		// Without --authorized-sub the first subject claims, once.
		open := startHub(t, "", p)
		if got := hubRequest(t, open.URL, "POST /rpc", alice.AccessToken); got != http.StatusOK {
			t.Fatalf("first subject: %d", got)
		}
		if got := hubRequest(t, open.URL, "POST /rpc", mallory.AccessToken); got != http.StatusForbidden {
			t.Fatalf("second subject: %d, want 403", got)
		}
		open.MustCall("daemon.info", nil, &info)
		if info.Hub == nil || strings.Join(info.Hub.Owners, ",") != "alice" || info.Hub.Source != "claimed" {
			t.Fatalf("daemon.info hub owners: %+v, want alice claimed", info.Hub)
		}
	})
}

// readAll reads a response body for a test.
func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
