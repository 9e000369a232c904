package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// Finding 7: import markdown refuses symbolic links and anything that is
// not a regular file, and lists them in its report.
func TestImportMarkdownRefusesLinks(t *testing.T) {
	td := startDaemon(t)
	dir := filepath.Join(td.Dir, "notes")
	os.MkdirAll(dir, 0o700)
	secret := filepath.Join(td.Dir, "id_ed25519")
	os.WriteFile(secret, []byte("-----BEGIN OPENSSH PRIVATE KEY----- sekrit\n"), 0o600)
	if err := os.Symlink(secret, filepath.Join(dir, "readme.md")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.md"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "real.md"), []byte("# Real\n\ntext\n"), 0o600)
	var rep importReport
	td.MustCall("import.markdown", map[string]any{"dir": dir}, &rep)
	var hits []struct{ Node *Node }
	td.MustCall("search", map[string]any{"query": "sekrit"}, &hits)
	if len(hits) != 0 {
		t.Fatalf("import followed a symlink and stored the key: %+v", hits[0].Node)
	}
	if rep.Created != 1 || rep.Skipped != 2 {
		t.Fatalf("report: %+v, want 1 created and the link and the pipe skipped", rep)
	}
	listed := fmt.Sprint(rep.Problems)
	if !strings.Contains(listed, "readme.md") || !strings.Contains(listed, "symbolic link") || !strings.Contains(listed, "pipe.md") {
		t.Fatalf("report does not list the link and the pipe: %s", listed)
	}
}
