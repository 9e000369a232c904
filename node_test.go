package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPrefixIgnoresRemovedNodes: a prefix that matches one live node and
// any number of removed ones resolves to the live one; an ambiguous prefix
// lists ten candidates and says there are more.
func TestPrefixIgnoresRemovedNodes(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	var docs []Node
	for i := 0; i < 12; i++ {
		var n Node
		if err := ts.call("doc.create", map[string]any{"title": fmt.Sprintf("doc %d", i)}, &n); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, n)
	}
	prefix := docs[0].ID[:10] // the ULIDs' shared time part
	_, err := resolveID(context.Background(), ts.s.db, prefix)
	var amb *ambiguousError
	if !errors.As(err, &amb) || len(amb.candidates) != 10 || !strings.Contains(err.Error(), "and more") {
		t.Fatalf("12 matches: %v", err)
	}
	for _, n := range docs[1:] {
		if err := ts.call("node.rm", map[string]any{"id": n.ID}, nil); err != nil {
			t.Fatal(err)
		}
	}
	id, err := resolveID(context.Background(), ts.s.db, prefix)
	if err != nil || id != docs[0].ID {
		t.Fatalf("one live match among removed ones: %q, %v; want %s", id, err, docs[0].ID)
	}
	if err := ts.call("node.rm", map[string]any{"id": docs[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveID(context.Background(), ts.s.db, prefix); !errors.As(err, &amb) {
		t.Fatalf("only removed matches: %v, want ambiguous", err)
	}
}
