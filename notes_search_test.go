package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func searchIDs(hits []searchHit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.Node.ID)
	}
	return ids
}

func TestSearchRankingSnippetsAndDeleted(t *testing.T) {
	s := notesStore(t)
	ctx := context.Background()
	inBody := notesDoc(t, s, "Garden notes", "The compost heap needs turning; tomatoes go in May.")
	inTitle := notesDoc(t, s, "Compost", "Mix greens and browns.")
	both := notesDoc(t, s, "Compost schedule", "Turn the compost every week. Compost, compost, compost.")
	notesDoc(t, s, "Unrelated", "Nothing to see here.")
	gone := notesDoc(t, s, "Compost bin (old)", "compost compost")
	notesSet(t, s, gone, map[string]any{"deleted": time.Now().UnixMilli()})

	hits, err := s.search(ctx, "compost", 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := searchIDs(hits)
	if len(ids) != 3 {
		t.Fatalf("hits = %v, want 3 (deleted excluded)", ids)
	}
	for _, id := range ids {
		if id == gone {
			t.Fatal("a deleted node was found")
		}
	}
	// A title match outweighs body matches; a body-only match comes last.
	if ids[2] != inBody || (ids[0] != both && ids[0] != inTitle) {
		t.Fatalf("order = %v, want title matches (%s, %s) before body-only %s", ids, both, inTitle, inBody)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i-1].Rank > hits[i].Rank {
			t.Fatalf("ranks not ascending: %v then %v", hits[i-1].Rank, hits[i].Rank)
		}
	}
	last := hits[2]
	if !strings.Contains(last.Snippet, "**compost**") || !strings.Contains(last.Snippet, "heap") {
		t.Fatalf("snippet %q: want the matched term marked and its context", last.Snippet)
	}
	// Edits are searchable at once; a word removed is no longer found.
	notesSet(t, s, inBody, map[string]any{"body": "Only zucchini now."})
	if hits, _ := s.search(ctx, "zucchini", 10); len(hits) != 1 || hits[0].Node.ID != inBody {
		t.Fatalf("after edit: %v", searchIDs(hits))
	}
	if hits, _ := s.search(ctx, "tomatoes", 10); len(hits) != 0 {
		t.Fatalf("stale body still indexed: %v", searchIDs(hits))
	}
	// Undelete puts it back; limit limits.
	notesSet(t, s, gone, map[string]any{"deleted": nil})
	if hits, _ := s.search(ctx, "compost", 10); len(hits) != 3 {
		t.Fatalf("after undelete: %d hits, want 3", len(hits))
	}
	if hits, _ := s.search(ctx, "compost", 1); len(hits) != 1 {
		t.Fatalf("limit 1: %d hits", len(hits))
	}
	// FTS syntax works: prefix and column filter.
	if hits, _ := s.search(ctx, "zucch*", 10); len(hits) != 1 {
		t.Fatalf("prefix query: %d hits", len(hits))
	}
	if hits, _ := s.search(ctx, "title:schedule", 10); len(hits) != 1 || hits[0].Node.ID != both {
		t.Fatalf("column query: %v", searchIDs(hits))
	}
}

func TestSearchBadQueries(t *testing.T) {
	s := notesStore(t)
	ctx := context.Background()
	id := notesDoc(t, s, "C++ notes", `Templates "and" friends (draft): weird:colon`)
	// Not valid FTS5: searched again as plain words.
	for _, q := range []string{`"templates`, `draft)`, `weird:colon`, `AND`, `c++`, `friends (`} {
		hits, err := s.search(ctx, q, 10)
		if err != nil {
			t.Errorf("search %q: %v", q, err)
			continue
		}
		if q != `AND` && (len(hits) != 1 || hits[0].Node.ID != id) {
			t.Errorf("search %q: %v, want the doc", q, searchIDs(hits))
		}
	}
	// Over RPC: empty or hopeless queries are -32602 errors, never a crash.
	for _, params := range []string{`{}`, `{"query":"   "}`, `{"query":"x","limit":0}`, `{"query":"x","limit":"a"}`, `{"query":"\""}`} {
		_, err := s.rpcNodeSearch(ctx, json.RawMessage(params))
		var re *rpcError
		if !errors.As(err, &re) || re.Code != codeInvalidParams {
			t.Errorf("search %s: err %v, want invalid params", params, err)
		}
	}
}

func TestSearchCLI(t *testing.T) {
	td := startDaemon(t)
	h := strings.TrimSpace(td.MustHeph("task", "Renew passport"))
	td.MustHeph("task", "Buy milk")
	out := td.MustHeph("search", "passport")
	if !strings.Contains(out, h) || strings.Contains(out, "milk") {
		t.Fatalf("search output %q", out)
	}
	var hits []searchHit
	decodeJSON(t, td.MustHeph("--json", "search", "--limit", "5", "renew"), &hits)
	// The task ranks above its context and log docs ("Renew passport context").
	if len(hits) != 3 || hits[0].Node.Handle != h || !strings.Contains(hits[0].Snippet, "**Renew**") {
		t.Fatalf("json hits %+v", hits)
	}
	if out := td.MustHeph("search", `"unbalanced`); !strings.Contains(out, "no matches") {
		t.Fatalf("bad FTS query output %q", out)
	}
	for _, args := range [][]string{{"search"}, {"search", ""}, {"search", "  ", ""}} {
		_, stderr, code := td.Heph(args...)
		if code != 2 || !strings.Contains(stderr, "want a query: heph search WORDS") || strings.Contains(stderr, "missing param") {
			t.Fatalf("heph %q: exit %d, stderr %q; want usage saying what to type", args, code, stderr)
		}
	}
	// Into a pipe the snippet's ** markers are dropped; --json keeps them.
	id := strings.TrimSpace(td.MustHeph("doc", "Garden"))
	td.MustCall("node.update", map[string]any{"id": id, "body": "turn the **compost** heap every week"}, nil)
	out = td.MustHeph("search", "heap")
	if !strings.Contains(out, "turn the compost heap every week") || strings.Contains(out, "**") || strings.Contains(out, "\x1b[") {
		t.Fatalf("plain search output %q: want the snippet without markers", out)
	}
	decodeJSON(t, td.MustHeph("--json", "search", "heap"), &hits)
	if len(hits) != 1 || !strings.Contains(hits[0].Snippet, "**heap**") {
		t.Fatalf("json snippet %+v: want the raw ** markers", hits)
	}
}

func TestRenderSnippet(t *testing.T) {
	cases := []struct{ in, plain, bold string }{
		{"turn the **compost** heap", "turn the compost heap", "turn the \x1b[1mcompost\x1b[0m heap"},
		{"**a** and **b**", "a and b", "\x1b[1ma\x1b[0m and \x1b[1mb\x1b[0m"},
		{"no marks", "no marks", "no marks"},
		{"x ** y", "x ** y", "x ** y"}, // a lone marker is text
		{"**a** then **", "a then **", "\x1b[1ma\x1b[0m then **"},
		{"", "", ""},
	}
	for _, c := range cases {
		if got := renderSnippet(c.in, false); got != c.plain {
			t.Errorf("renderSnippet(%q, plain) = %q, want %q", c.in, got, c.plain)
		}
		if got := renderSnippet(c.in, true); got != c.bold {
			t.Errorf("renderSnippet(%q, bold) = %q, want %q", c.in, got, c.bold)
		}
	}
}
