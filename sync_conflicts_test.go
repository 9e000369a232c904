package main

import (
	"strings"
	"testing"
)

// TestConflictUnknownIDEchoesInput: an unknown conflict id is quoted as the
// person typed it, not upper-cased.
func TestConflictUnknownIDEchoesInput(t *testing.T) {
	td := startDaemon(t)
	_, errOut, code := td.Heph("conflicts", "resolve", "nope", "--keep", "mine")
	if code != 1 || !strings.Contains(errOut, `no conflict with id "nope"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
