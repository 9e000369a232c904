package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Regression tests for the import findings of the hostile review (issue 12).

// Finding 6: titles imported from markdown cannot carry terminal escapes,
// and link output passes stored text through the terminal sanitizer.
func TestImportedTitlesCannotDriveTheTerminal(t *testing.T) {
	td := startDaemon(t)
	dir := filepath.Join(td.Dir, "notes")
	os.MkdirAll(dir, 0o700)
	files := map[string]string{
		"evil.md":  "# Evil \x1b]0;pwned\x07\x1b[2J title\n\nbody\n",
		"fm.md":    "---\ntitle: \"front \\u001b[31mred\"\n---\nbody\n",
		"plain.md": "# Plain\n\nsee it\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := td.MustHeph("import", "markdown", dir)
	if strings.ContainsRune(out, 0x1b) {
		t.Fatalf("import output carries ESC: %q", out)
	}
	var docs []*Node
	td.MustCall("search", map[string]any{"query": "body"}, nil)
	for _, name := range []string{"Evil", "front"} {
		var hits []struct{ Node *Node }
		td.MustCall("search", map[string]any{"query": name}, &hits)
		if len(hits) == 0 {
			t.Fatalf("no doc for %s", name)
		}
		docs = append(docs, hits[0].Node)
	}
	for _, d := range docs {
		if badTitle(d.Title) {
			t.Fatalf("imported title kept control characters: %q", d.Title)
		}
	}
	// Titles that reached the store raw before this fix (or by any other
	// path) still print clean: link add and links sanitize.
	var plain []struct{ Node *Node }
	td.MustCall("search", map[string]any{"query": "Plain"}, &plain)
	db, err := sql.Open("sqlite", "file:"+td.DB+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE nodes SET title=? WHERE id=?`, "Plain \x1b[2J\u202e", plain[0].Node.ID); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"link", "add", docs[0].Handle, plain[0].Node.Handle}, {"links", docs[0].Handle}, {"links", plain[0].Node.Handle}} {
		out := td.MustHeph(args...)
		if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) || strings.ContainsRune(out, 0x202e) {
			t.Fatalf("heph %v printed a control character: %q", args, out)
		}
	}
}
