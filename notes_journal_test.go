// Tests of daily journals: date-derived ids, create on first write, --edit, undo, and two spokes merging one day's journal through a real hub.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJournalID: the id is a valid ULID, the same for a date on every
// call and zone, different per date, and sorts by date.
func TestJournalID(t *testing.T) {
	a, err := journalID("2026-12-01")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := journalID("2026-12-01")
	b, _ := journalID("2026-12-02")
	if a != again || a == b || !(a < b) || len(a) != 26 || strings.Trim(a, crockford) != "" || a[0] > '7' {
		t.Fatalf("journalID: %s %s %s", a, again, b)
	}
	// The time part is the date's midnight UTC.
	midnight := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if want := newULID(midnight)[:10]; a[:10] != want {
		t.Fatalf("time part %s, want %s", a[:10], want)
	}
	for _, bad := range []string{"2026-13-01", "1969-12-31", "tomorrow", ""} {
		if _, err := journalID(bad); err == nil {
			t.Errorf("journalID(%q) accepted", bad)
		}
	}
}

// TestJournalCLI: reading creates nothing, the first write creates the
// day's journal, --edit saves through $EDITOR with the conflict check,
// undo reverts writes but keeps the journal, list shows the days.
func TestJournalCLI(t *testing.T) {
	d := startDaemon(t)
	_, stderr, code := d.Heph("today")
	if code != 0 || !strings.Contains(stderr, "No journal for") {
		t.Fatalf("heph today on no journal: %d %q", code, stderr)
	}
	var info daemonInfo
	d.MustCall("daemon.info", nil, &info)
	if info.Counts["docs"] != 0 {
		t.Fatalf("a read created a doc: %v", info.Counts)
	}
	d.MustHeph("today", "--append", "Met Bob")
	d.MustHeph("journal", "--append", "- [ ] Buy seeds tomorrow +errand")
	if out := d.MustHeph("today"); out != "Met Bob\n- [ ] Buy seeds tomorrow +errand\n" {
		t.Fatalf("heph today: %q", out)
	}
	var e journalEntry
	d.MustCall("journal.get", map[string]any{}, &e)
	id, _ := journalID(e.Date)
	if e.Node == nil || e.Node.ID != id || e.Node.Title != e.Date {
		t.Fatalf("journal.get: %+v (want id %s)", e, id)
	}
	// Another day by date word; list shows both, newest first.
	d.MustHeph("journal", "yesterday", "--append", "Earlier")
	if out := d.MustHeph("journal", "--", "-1d"); out != "Earlier\n" {
		t.Fatalf("heph journal -- -1d: %q", out)
	}
	out := d.MustHeph("journal", "list", "--days", "3")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "Met Bob") || !strings.Contains(lines[1], "Earlier") {
		t.Fatalf("heph journal list:\n%s", out)
	}
	var list []journalEntry
	d.MustCall("journal.list", map[string]any{"days": 3}, &list)
	if len(list) != 3 || list[0].Node == nil || list[1].Node == nil || list[2].Node != nil {
		t.Fatalf("journal.list: %+v", list)
	}
	// --edit through a scripted $EDITOR.
	editor := filepath.Join(t.TempDir(), "ed.sh")
	os.WriteFile(editor, []byte("#!/bin/sh\nprintf 'Edited\\n' >> \"$1\"\n"), 0o755)
	envEd := append(append([]string{}, d.Env...), "EDITOR="+editor)
	stdout, stderr, code := runHeph(t, envEd, "", "today", "--edit")
	if code != 0 || !strings.Contains(stdout, "saved the journal") {
		t.Fatalf("heph today --edit: %d %s %s", code, stdout, stderr)
	}
	if out := d.MustHeph("today"); !strings.HasSuffix(out, "errand\nEdited\n") {
		t.Fatalf("after --edit: %q", out)
	}
	// An editor that writes the journal meanwhile: a conflict, the text kept.
	racer := filepath.Join(t.TempDir(), "race.sh")
	os.WriteFile(racer, []byte("#!/bin/sh\nprintf 'Mine\\n' >> \"$1\"\n\""+hephBinary(t)+"\" today --append Theirs >/dev/null\n"), 0o755)
	envRace := append(append([]string{}, d.Env...), "EDITOR="+racer)
	_, stderr, code = runHeph(t, envRace, "", "today", "--edit")
	if code != 1 || !strings.Contains(stderr, "changed since you read it") || !strings.Contains(stderr, "kept in") {
		t.Fatalf("racing --edit: %d %s", code, stderr)
	}
	kept := strings.TrimSpace(stderr[strings.LastIndex(stderr, "kept in ")+len("kept in "):])
	if b, err := os.ReadFile(kept); err != nil || !strings.HasSuffix(string(b), "Mine\n") {
		t.Fatalf("edited text not kept in %s: %q %v", kept, b, err)
	}
	os.Remove(kept)
	// Undo reverts the last write, never the journal itself.
	d.MustHeph("undo", "10")
	d.MustCall("journal.get", map[string]any{}, &e)
	if e.Node == nil || e.Node.Body != "" || e.Node.Deleted != nil {
		t.Fatalf("after undoing every write: %+v", e.Node)
	}
	d.MustHeph("today", "--append", "Again")
	if out := d.MustHeph("today"); out != "Again\n" {
		t.Fatalf("write after undo: %q", out)
	}
	// A removed journal comes back on the next write here.
	d.MustHeph("rm", e.Node.ID)
	d.MustHeph("today", "--append", "Back")
	if out := d.MustHeph("today"); out != "Again\nBack\n" {
		t.Fatalf("write after rm: %q", out)
	}
	for _, c := range [][]string{{"journal", "someday"}, {"journal", "list", "--days", "0"}, {"today", "fri"}, {"journal", "--append", "x", "--edit"}} {
		if _, stderr, code := d.Heph(c...); code == 0 {
			t.Errorf("heph %v succeeded: %s", c, stderr)
		}
	}
}

// TestJournalSyncMerges: two spokes start the same day's journal offline;
// after syncing through a real hub they hold one journal, and the text
// that lost last-writer-wins is in the conflicts queue, not lost.
func TestJournalSyncMerges(t *testing.T) {
	p := startOIDCProvider(t)
	hub := startHub(t, "", p)
	aFile, _ := login(t, p, hub.URL, "alice")
	bFile, _ := login(t, p, hub.URL, "alice")
	a := startSpoke(t, hub.URL, aFile)
	b := startSpoke(t, hub.URL, bFile)
	// Today's journal, as heph today --append writes it on each device.
	var ja, jb Node
	a.MustCall("journal.append", map[string]any{"text": "from a"}, &ja)
	time.Sleep(5 * time.Millisecond)
	b.MustCall("journal.append", map[string]any{"text": "from b"}, &jb)
	day := ja.Title
	if ja.ID != jb.ID {
		t.Fatalf("the spokes derived different ids: %s %s", ja.ID, jb.ID)
	}
	syncNow(t, a)
	if rep := syncNow(t, b); rep.Conflicts != 1 {
		t.Fatalf("b should queue the concurrent body as a conflict: %+v", rep)
	}
	syncNow(t, a)
	var ea, eb journalEntry
	a.MustCall("journal.get", map[string]any{"date": day}, &ea)
	b.MustCall("journal.get", map[string]any{"date": day}, &eb)
	if ea.Node == nil || eb.Node == nil || ea.Node.ID != eb.Node.ID || ea.Node.Body != eb.Node.Body || ea.Node.Body != "from b\n" {
		t.Fatalf("journals differ after sync:\n%+v\n%+v", ea.Node, eb.Node)
	}
	for _, d := range []*testDaemon{a, b} {
		var list []journalEntry
		d.MustCall("journal.list", map[string]any{"days": 3660}, &list)
		n := 0
		for _, e := range list {
			if e.Node != nil {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("want one journal, have %d: %+v", n, list)
		}
		if out := d.MustHeph("search", "from"); strings.Count(out, day) != 1 {
			t.Fatalf("want one doc titled %s:\n%s", day, out)
		}
	}
	var conflicts []conflict
	b.MustCall("conflict.list", nil, &conflicts)
	if len(conflicts) != 1 || conflicts[0].Field != "body" || !strings.Contains(string(conflicts[0].Mine)+string(conflicts[0].Theirs), "from a") {
		t.Fatalf("conflicts: %+v", conflicts)
	}
	if _, stderr, _ := b.Heph("today"); !strings.Contains(stderr, "1 version(s) of this journal") {
		t.Fatalf("heph journal on b does not point at the conflict: %q", stderr)
	}
	// Both keep appending to the one journal.
	a.MustCall("journal.append", map[string]any{"date": day, "text": "more from a"}, nil)
	syncNow(t, a)
	syncNow(t, b)
	b.MustCall("journal.get", map[string]any{"date": day}, &eb)
	if eb.Node.Body != "from b\nmore from a\n" {
		t.Fatalf("b after a's append: %q", eb.Node.Body)
	}
}
