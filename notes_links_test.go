package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// notesStore opens a fresh store in a temp dir.
func notesStore(t *testing.T) *Store {
	t.Helper()
	s, err := openStore(context.Background(), filepath.Join(t.TempDir(), "heph.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// notesDoc creates a doc and returns its id.
func notesDoc(t *testing.T, s *Store, title, body string) string {
	t.Helper()
	var id string
	err := s.Write(context.Background(), func(tx *Tx) error {
		var err error
		id, err = tx.Create("doc", map[string]any{"title": title, "body": body})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// notesSet sets fields of a node.
func notesSet(t *testing.T, s *Store, id string, fields map[string]any) {
	t.Helper()
	if err := s.Write(context.Background(), func(tx *Tx) error { return tx.Set(id, fields) }); err != nil {
		t.Fatal(err)
	}
}

// wikiLinksOf returns node id's wiki links as dst -> label.
func wikiLinksOf(t *testing.T, s *Store, id string) map[string]string {
	t.Helper()
	rows, err := s.db.Query(`SELECT dst, label FROM links WHERE src=? AND kind='wiki'`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var d, l string
		if err := rows.Scan(&d, &l); err != nil {
			t.Fatal(err)
		}
		out[d] = l
	}
	return out
}

// unresolvedOf lists node id's unresolved reference targets.
func unresolvedOf(t *testing.T, s *Store, id string) []string {
	t.Helper()
	res, err := s.rpcLinkList(context.Background(), json.RawMessage(`{"id":"`+id+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range res.(linksResult).Unresolved {
		out = append(out, u.Target)
	}
	return out
}

func handleOf(t *testing.T, s *Store, id string) string {
	t.Helper()
	n, err := getNode(context.Background(), s.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return n.Handle
}

func TestParseWikiRefs(t *testing.T) {
	cases := []struct {
		body string
		want []wikiRef
	}{
		{"see [[abcd]] and [[Some Title|the label]].", []wikiRef{{"abcd", ""}, {"Some Title", "the label"}}},
		{"inline `[[code]]` but [[real]]", []wikiRef{{"real", ""}}},
		{"double ``a `[[x]]` b`` then [[y]]", []wikiRef{{"y", ""}}},
		{"unmatched ` tick [[z]]", []wikiRef{{"z", ""}}},
		{"```\n[[fenced]]\n```\n[[after]]", []wikiRef{{"after", ""}}},
		{"~~~~ go\n[[fenced]]\n~~~\n[[still fenced]]\n~~~~\n[[out]]", []wikiRef{{"out", ""}}},
		{"  ```\n[[indented fence]]\n  ```\n", nil},
		{"[[ ]] [[|label]] [[a\nb]]", nil},
		{"[[[x]]]", []wikiRef{{"x", ""}}},
		{"no links at all", nil},
		{"[[ spaced  | lbl ]]", []wikiRef{{"spaced", "lbl"}}},
	}
	for _, c := range cases {
		got := parseWikiRefs(c.body)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseWikiRefs(%q) = %#v, want %#v", c.body, got, c.want)
		}
	}
}

func TestWikiLinksEachSyntax(t *testing.T) {
	s := notesStore(t)
	a := notesDoc(t, s, "Alpha Plan", "")
	b := notesDoc(t, s, "Beta", "")
	c := notesDoc(t, s, "Gamma", "")
	d := notesDoc(t, s, "Delta", "")
	body := "handle [[" + handleOf(t, s, a) + "]], full id [[" + b + "|bee]], title [[gamma]], " +
		"prefix [[" + strings.ToLower(d[:14]) + "]], code `[[Beta]]`, missing [[Nowhere]], self [[Epsilon]]\n" +
		"```\n[[Delta]] in a fence\n```\n"
	e := notesDoc(t, s, "Epsilon", body)
	got := wikiLinksOf(t, s, e)
	want := map[string]string{a: "", b: "bee", c: "", d: ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("wiki links = %v, want %v", got, want)
	}
	if u := unresolvedOf(t, s, e); !reflect.DeepEqual(u, []string{"Nowhere"}) {
		t.Fatalf("unresolved = %v, want [Nowhere]", u)
	}
}

func TestWikiLinksRecomputedOnEdit(t *testing.T) {
	s := notesStore(t)
	a := notesDoc(t, s, "Apples", "")
	b := notesDoc(t, s, "Bananas", "")
	src := notesDoc(t, s, "Fruit", "I like [[Apples]].")
	if got := wikiLinksOf(t, s, src); !reflect.DeepEqual(got, map[string]string{a: ""}) {
		t.Fatalf("before edit: %v", got)
	}
	notesSet(t, s, src, map[string]any{"body": "Now [[Bananas|yellow]] only; `[[Apples]]` is code."})
	if got := wikiLinksOf(t, s, src); !reflect.DeepEqual(got, map[string]string{b: "yellow"}) {
		t.Fatalf("after edit: %v", got)
	}
	notesSet(t, s, src, map[string]any{"body": ""})
	if got := wikiLinksOf(t, s, src); len(got) != 0 {
		t.Fatalf("after clearing the body: %v", got)
	}
}

func TestWikiLinksFollowTargets(t *testing.T) {
	s := notesStore(t)
	src := notesDoc(t, s, "Index", "see [[Later Note]]")
	if got := wikiLinksOf(t, s, src); len(got) != 0 {
		t.Fatalf("link before the target exists: %v", got)
	}
	// The target appears: the reference resolves by itself.
	later := notesDoc(t, s, "later note", "")
	if got := wikiLinksOf(t, s, src); !reflect.DeepEqual(got, map[string]string{later: ""}) {
		t.Fatalf("after target created: %v", got)
	}
	// Two nodes share the title: the oldest wins, deterministically.
	second := notesDoc(t, s, "Later Note", "")
	if got := wikiLinksOf(t, s, src); !reflect.DeepEqual(got, map[string]string{later: ""}) {
		t.Fatalf("with a duplicate title: %v", got)
	}
	// Renaming the target away moves the title reference to the node that
	// now has the title...
	notesSet(t, s, later, map[string]any{"title": "Renamed"})
	if got := wikiLinksOf(t, s, src); !reflect.DeepEqual(got, map[string]string{second: ""}) {
		t.Fatalf("after rename: %v, want the other 'Later Note' %s", got, second)
	}
	// ...and a deleted node is no target.
	other := notesDoc(t, s, "Other", "")
	src2 := notesDoc(t, s, "Index 2", "[["+other+"]]")
	notesSet(t, s, other, map[string]any{"deleted": time.Now().UnixMilli()})
	if got := wikiLinksOf(t, s, src2); len(got) != 0 {
		t.Fatalf("link to a deleted node kept: %v", got)
	}
	if u := unresolvedOf(t, s, src2); !reflect.DeepEqual(u, []string{other}) {
		t.Fatalf("unresolved after delete = %v", u)
	}
	// Non-ASCII titles: the reference resolves when its exact title appears.
	src3 := notesDoc(t, s, "Index 3", "[[Überblick]]")
	uber := notesDoc(t, s, "Überblick", "")
	if got := wikiLinksOf(t, s, src3); !hasKey(got, uber) {
		t.Fatalf("non-ASCII title reference did not resolve: %v", got)
	}
	// Undeleting (as undo does) brings it back.
	notesSet(t, s, other, map[string]any{"deleted": nil})
	if got := wikiLinksOf(t, s, src2); !hasKey(got, other) {
		t.Fatalf("link not restored after undelete: %v", got)
	}
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestWikiLinksRemoteApply replays one store's ops on another: wiki links,
// being derived, must come out the same, including after a remote edit.
func TestWikiLinksRemoteApply(t *testing.T) {
	a := notesStore(t)
	b := notesStore(t)
	target := notesDoc(t, a, "Target", "")
	src := notesDoc(t, a, "Source", "to [[Target|tgt]]")
	ship := func() {
		t.Helper()
		ops := opsOf(t, a, 0)
		err := b.Write(context.Background(), func(tx *Tx) error {
			for _, op := range ops {
				if _, _, err := tx.ApplyRemote(op); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ship()
	if got := wikiLinksOf(t, b, src); !reflect.DeepEqual(got, map[string]string{target: "tgt"}) {
		t.Fatalf("remote wiki links = %v", got)
	}
	other := notesDoc(t, a, "Other", "")
	notesSet(t, a, src, map[string]any{"body": "now [[Other]]"})
	ship()
	if got := wikiLinksOf(t, b, src); !reflect.DeepEqual(got, map[string]string{other: ""}) {
		t.Fatalf("remote wiki links after remote edit = %v", got)
	}
	if !reflect.DeepEqual(wikiLinksOf(t, a, src), wikiLinksOf(t, b, src)) {
		t.Fatal("replicas disagree")
	}
}

func TestExplicitLinksCLI(t *testing.T) {
	td := startDaemon(t)
	a := strings.TrimSpace(td.MustHeph("task", "Write report"))
	b := strings.TrimSpace(td.MustHeph("task", "Gather data"))
	out := td.MustHeph("link", "add", a, b)
	if !strings.Contains(out, "linked "+a) {
		t.Fatalf("link add output: %q", out)
	}
	// Adding twice is harmless (a set).
	td.MustHeph("link", "add", a, b)
	// explicit picks the explicit links out of a task's (which also link
	// its context and log docs).
	explicit := func(es []linkEntry) []string {
		var out []string
		for _, e := range es {
			if e.Kind == "explicit" {
				out = append(out, e.Node.Handle)
			}
		}
		return out
	}
	var res linksResult
	decodeJSON(t, td.MustHeph("--json", "links", a), &res)
	if got := explicit(res.Outgoing); !reflect.DeepEqual(got, []string{b}) || len(res.Backlinks) != 0 {
		t.Fatalf("links %s = %+v", a, res)
	}
	if len(res.Outgoing) != 3 {
		t.Fatalf("links %s: %d outgoing, want explicit + context + log", a, len(res.Outgoing))
	}
	decodeJSON(t, td.MustHeph("--json", "links", b), &res)
	if got := explicit(res.Backlinks); !reflect.DeepEqual(got, []string{a}) || len(explicit(res.Outgoing)) != 0 {
		t.Fatalf("links %s = %+v", b, res)
	}
	human := td.MustHeph("links", b)
	if !strings.Contains(human, "backlinks:") || !strings.Contains(human, "Write report") {
		t.Fatalf("human links output: %q", human)
	}
	td.MustHeph("link", "rm", a, b)
	decodeJSON(t, td.MustHeph("--json", "links", a), &res)
	if len(explicit(res.Outgoing)) != 0 {
		t.Fatalf("link survived rm: %+v", res)
	}
	// Bad input: clear errors, nothing changes.
	before := storeSnapshot(t, td)
	for _, args := range [][]string{
		{"link", "rm", a, b},
		{"link", "add", a, a},
		{"link", "add", a, "zzzzzz"},
		{"links", "zzzzzz"},
	} {
		_, errOut, code := td.Heph(args...)
		if code != 1 || !strings.Contains(errOut, "heph:") {
			t.Errorf("heph %v: exit %d, stderr %q; want exit 1 with an error", args, code, errOut)
		}
	}
	for _, args := range [][]string{{"link", "add", a}, {"link", "move", a, b}, {"links"}} {
		if _, _, code := td.Heph(args...); code != 2 {
			t.Errorf("heph %v: exit %d, want 2 (usage)", args, code)
		}
	}
	if after := storeSnapshot(t, td); after != before {
		t.Fatalf("bad input changed the store:\nbefore: %s\nafter:  %s", before, after)
	}
}

// storeSnapshot describes what a client can see of the store (counts,
// every task and its links), to prove bad input changed nothing.
func storeSnapshot(t *testing.T, td *testDaemon) string {
	t.Helper()
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	var tasks []*Node
	td.MustCall("task.list", map[string]any{"state": "all"}, &tasks)
	var parts []string
	for _, n := range tasks {
		var res linksResult
		td.MustCall("link.list", map[string]any{"id": n.ID}, &res)
		b, _ := json.Marshal([]any{n, res})
		parts = append(parts, string(b))
	}
	sort.Strings(parts)
	b, _ := json.Marshal(info.Counts)
	return string(b) + strings.Join(parts, "\n")
}

// TestInsertNodeHandleCollision: a new node whose 4-character handle is
// taken gets a longer one.
func TestInsertNodeHandleCollision(t *testing.T) {
	s := notesStore(t)
	err := s.Write(context.Background(), func(tx *Tx) error {
		if err := tx.insertNode("01KB000000ABCDEFGHJKMNPQRS", "doc", 1); err != nil {
			return err
		}
		if err := tx.insertNode("01KB000001ABCDZZZZZZZZZZZZ", "doc", 2); err != nil {
			return err
		}
		// Replaying a create is a no-op, not a new handle.
		return tx.insertNode("01KB000001ABCDZZZZZZZZZZZZ", "doc", 2)
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := getNode(context.Background(), s.db, "01KB000000ABCDEFGHJKMNPQRS")
	b, _ := getNode(context.Background(), s.db, "01KB000001ABCDZZZZZZZZZZZZ")
	if a.Handle != "abcd" || b.Handle != "abcdz" {
		t.Fatalf("handles %q and %q, want abcd and abcdz", a.Handle, b.Handle)
	}
}
