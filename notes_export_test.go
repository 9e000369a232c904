package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// readTree returns every file under dir (relative path -> content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// notesTask creates a task (with context and log docs, as tasks have) and
// returns its id.
func notesTask(t *testing.T, s *Store, fields map[string]any) string {
	t.Helper()
	var id string
	err := s.Write(context.Background(), func(tx *Tx) error {
		title, _ := fields["title"].(string)
		ctxID, err := tx.Create("doc", map[string]any{"title": title + " context", "body": "- [ ] first\n- [x] second\n"})
		if err != nil {
			return err
		}
		logID, err := tx.Create("doc", map[string]any{"title": title + " log", "body": ""})
		if err != nil {
			return err
		}
		fields["context"], fields["log"] = ctxID, logID
		id, err = tx.Create("task", fields)
		if err != nil {
			return err
		}
		if err := tx.Link(id, ctxID, "context", "", true); err != nil {
			return err
		}
		return tx.Link(id, logID, "log", "", true)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func countRows(t *testing.T, s *Store, q string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sampleStore fills a store with docs and tasks of every shape.
func sampleStore(t *testing.T, s *Store) (doc, task, gone string) {
	t.Helper()
	s.now = func() time.Time { return time.Now().Add(-48 * time.Hour) } // created two days ago
	doc = notesDoc(t, s, "Ünïcode: <notes> & \"quotes\"", "Body with [[Groceries]] link\nand no final newline")
	notesDoc(t, s, "", "---\nlooks like front matter\n---\n")
	notesDoc(t, s, "Groceries", "- milk\n- eggs\n")
	do := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	task = notesTask(t, s, map[string]any{"title": "Renew passport", "attention": "red", "do": do, "late": do + 86400000,
		"recur": "FREQ=YEARLY", "project": "Home/Admin", "tags": []string{"travel", "admin"}, "occurrences": 2, "recur_after_done": true})
	notesTask(t, s, map[string]any{"title": "Plain task", "state": "done"})
	gone = notesDoc(t, s, "Deleted doc", "bye")
	s.now = time.Now
	notesSet(t, s, gone, map[string]any{"deleted": time.Now().UnixMilli()})
	notesSet(t, s, doc, map[string]any{"body": "Body with [[Groceries]] link\nand no final newline"}) // unchanged value, newer updated
	if err := s.Write(context.Background(), func(tx *Tx) error { return tx.Link(task, doc, "explicit", "", true) }); err != nil {
		t.Fatal(err)
	}
	// The task's project string becomes project nodes, as at open.
	if n, err := s.adoptLegacyProjects(context.Background()); err != nil || n != 1 {
		t.Fatalf("adopt project strings: %d %v", n, err)
	}
	return doc, task, gone
}

func TestExportDeterministicAndIncremental(t *testing.T) {
	s := notesStore(t)
	ctx := context.Background()
	doc, task, _ := sampleStore(t, s)
	dir := filepath.Join(t.TempDir(), "out")
	res, err := s.exportTo(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	live := countRows(t, s, `SELECT count(*) FROM nodes WHERE deleted IS NULL`)
	if res.Nodes != live || res.Written != live || res.Removed != 0 {
		t.Fatalf("first export %+v, want %d nodes written", res, live)
	}
	tree := readTree(t, dir)
	if len(tree) != live {
		t.Fatalf("%d files for %d live nodes", len(tree), live)
	}
	var taskFile string
	for name, content := range tree {
		if strings.HasSuffix(name, "-"+task+".md") {
			taskFile = content
			if !strings.HasPrefix(name, "renew-passport-") {
				t.Errorf("task file name %q", name)
			}
		}
		if strings.Contains(name, "Deleted") || strings.Contains(content, "bye") {
			t.Errorf("deleted node exported: %s", name)
		}
	}
	for _, want := range []string{"---\nattention: \"red\"\ncontext: \"", "do: 2026-12-01T09:00:00.000Z\n", "late: 2026-12-02T09:00:00.000Z\n",
		"links: [\"" + doc + "\"]\n", "project: \"Home/Admin\"\n", "recur: \"FREQ=YEARLY\"\n", "recur_after_done: true\n",
		"occurrences: 2\n", "state: \"outstanding\"\n", "tags: [\"admin\", \"travel\"]\n", "title: \"Renew passport\"\n"} {
		if !strings.Contains(taskFile, want) {
			t.Errorf("task file lacks %q:\n%s", want, taskFile)
		}
	}
	// Unchanged store: nothing is rewritten (contents nor mtimes).
	stamp := time.Now().Add(-time.Hour)
	for name := range tree {
		os.Chtimes(filepath.Join(dir, name), stamp, stamp)
	}
	res, err = s.exportTo(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 0 || res.Unchanged != live || res.Removed != 0 {
		t.Fatalf("re-export of an unchanged store: %+v", res)
	}
	for name := range tree {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.ModTime().Equal(stamp) {
			t.Fatalf("%s was touched by a no-change export", name)
		}
	}
	// A rename writes the new name and removes the old; a delete removes.
	notesSet(t, s, task, map[string]any{"title": "Renew passport now"})
	notesSet(t, s, doc, map[string]any{"deleted": time.Now().UnixMilli()})
	os.WriteFile(filepath.Join(dir, "mine.md"), []byte("not heph's"), 0o600)
	res, err = s.exportTo(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 1 || res.Removed != 2 || res.Nodes != live-1 {
		t.Fatalf("export after rename+delete: %+v", res)
	}
	after := readTree(t, dir)
	if _, ok := after["mine.md"]; !ok || len(after) != live {
		t.Fatalf("files after: %v", keys(after))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := notesStore(t)
	_, task, _ := sampleStore(t, src)
	dir1 := filepath.Join(t.TempDir(), "one")
	if _, err := src.exportTo(ctx, dir1); err != nil {
		t.Fatal(err)
	}
	dst := notesStore(t)
	rep, err := dst.importMarkdown(ctx, dir1)
	if err != nil {
		t.Fatal(err)
	}
	live := countRows(t, src, `SELECT count(*) FROM nodes WHERE deleted IS NULL`)
	if rep.Created != live || rep.Items != live || len(rep.Problems) != 0 {
		t.Fatalf("import report %+v, want %d created", rep, live)
	}
	dir2 := filepath.Join(t.TempDir(), "two")
	if _, err := dst.exportTo(ctx, dir2); err != nil {
		t.Fatal(err)
	}
	one, two := readTree(t, dir1), readTree(t, dir2)
	if !reflect.DeepEqual(one, two) {
		for k, v := range one {
			if two[k] != v {
				t.Errorf("%s differs:\n--- first export\n%s\n--- after import\n%s", k, v, two[k])
			}
		}
		t.Fatalf("trees differ: %v vs %v", keys(one), keys(two))
	}
	// The import went through the op-log (sync ships it) and derived state
	// followed: wiki links, the task's context/log links, search.
	if n := countRows(t, dst, `SELECT count(*) FROM ops WHERE type='node.create'`); n != live {
		t.Fatalf("%d node.create ops for %d nodes", n, live)
	}
	if n := countRows(t, dst, `SELECT count(*) FROM links WHERE kind='wiki'`); n != 1 {
		t.Fatalf("%d wiki links after import, want 1", n)
	}
	if n := countRows(t, dst, `SELECT count(*) FROM links WHERE src='`+task+`' AND kind IN ('context','log')`); n != 2 {
		t.Fatalf("%d context/log links after import, want 2", n)
	}
	if hits, err := dst.search(ctx, "passport", 5); err != nil || len(hits) != 3 || hits[0].Node.ID != task {
		t.Fatalf("search after import: %v %v", hits, err)
	}
	// Importing again duplicates nothing and changes nothing.
	ops := countRows(t, dst, `SELECT count(*) FROM ops`)
	rep, err = dst.importMarkdown(ctx, dir1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != live {
		t.Fatalf("re-import report %+v", rep)
	}
	if n := countRows(t, dst, `SELECT count(*) FROM ops`); n != ops {
		t.Fatalf("re-import recorded %d ops", n-ops)
	}
	// An edited file updates its node.
	for name, content := range one {
		if strings.Contains(name, task) {
			edited := strings.Replace(content, "title: \"Renew passport\"", "title: \"Renew passport soon\"", 1)
			os.WriteFile(filepath.Join(dir1, name), []byte(edited), 0o600)
		}
	}
	rep, err = dst.importMarkdown(ctx, dir1)
	if err != nil || rep.Updated != 1 || rep.Created != 0 {
		t.Fatalf("import of an edit: %+v %v", rep, err)
	}
	if n, _ := getNode(ctx, dst.db, task); n.Title != "Renew passport soon" {
		t.Fatalf("title after edit import: %q", n.Title)
	}
}

func TestImportPlainMarkdown(t *testing.T) {
	ctx := context.Background()
	s := notesStore(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
	os.MkdirAll(filepath.Join(dir, ".hidden"), 0o700)
	files := map[string]string{
		"heading.md":           "# Trip to Lisbon\n\nBook flights. See [[Packing list]].\n",
		"Packing list.md":      "- socks\n- charger\n",
		"sub/fm.md":            "---\ntitle: 'Front matter title'\ntags:\n  - a\n  - b\n---\nBody here.\n",
		"late-heading.md":      "intro\n# Later heading\nrest\n",
		".hidden/skip.md":      "# Hidden\n",
		"sub/not-markdown.txt": "ignored",
	}
	for name, c := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(c), 0o600)
	}
	rep, err := s.importMarkdown(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 4 || rep.Unmapped["tags"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	titles := map[string]string{}
	rows, _ := s.db.Query(`SELECT title, body FROM nodes`)
	for rows.Next() {
		var ti, b string
		rows.Scan(&ti, &b)
		titles[ti] = b
	}
	rows.Close()
	want := map[string]string{
		"Trip to Lisbon":     "Book flights. See [[Packing list]].\n",
		"Packing list":       "- socks\n- charger\n",
		"Front matter title": "Body here.\n",
		"Later heading":      "intro\n# Later heading\nrest\n",
	}
	if !reflect.DeepEqual(titles, want) {
		t.Fatalf("imported docs %#v", titles)
	}
	if n := countRows(t, s, `SELECT count(*) FROM links WHERE kind='wiki'`); n != 1 {
		t.Fatalf("wiki links %d, want 1", n)
	}
	// Re-import: matched by path, no duplicates; an edit updates.
	os.WriteFile(filepath.Join(dir, "Packing list.md"), []byte("- socks\n- charger\n- passport\n"), 0o600)
	rep, err = s.importMarkdown(ctx, dir)
	if err != nil || rep.Created != 0 || rep.Updated != 1 || rep.Unchanged != 3 {
		t.Fatalf("re-import %+v %v", rep, err)
	}
	if n := countRows(t, s, `SELECT count(*) FROM nodes`); n != 4 {
		t.Fatalf("%d nodes after re-import, want 4", n)
	}
}

func TestImportMarkdownBadInput(t *testing.T) {
	ctx := context.Background()
	s := notesStore(t)
	notesDoc(t, s, "Existing", "x")
	ops := countRows(t, s, `SELECT count(*) FROM ops`)
	bad := map[string]string{
		"unclosed":  "---\ntitle: \"x\"\nno end\n",
		"bad id":    "---\nid: \"NOTANID\"\n---\n",
		"bad state": "---\nid: \"01JDZZZZZZZZZZZZZZZZZZZZZZ\"\nkind: \"task\"\nstate: \"maybe\"\n---\n",
		"bad time":  "---\nid: \"01JDZZZZZZZZZZZZZZZZZZZZZZ\"\ncreated: yesterday\n---\n",
		"bad line":  "---\njust words\n---\n",
		"binary":    "\x00\x01\x02",
	}
	for name, content := range bad {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "good.md"), []byte("# Good\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "z.md"), []byte(content), 0o600)
		_, err := s.importMarkdown(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), "z.md") {
			t.Errorf("%s: err %v, want an error naming z.md", name, err)
		}
	}
	if _, err := s.importMarkdown(ctx, filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing does not exist") {
		t.Errorf("missing dir: %v", err)
	}
	if n := countRows(t, s, `SELECT count(*) FROM ops`); n != ops {
		t.Fatalf("bad imports changed the store: %d ops, want %d", n, ops)
	}
}

func TestExportImportCLI(t *testing.T) {
	td := startDaemon(t)
	h := strings.TrimSpace(td.MustHeph("task", "Call the plumber"))
	dir := filepath.Join(td.Dir, "export")
	out := td.MustHeph("export", dir)
	if !strings.Contains(out, "exported 3 nodes") || !strings.Contains(out, "3 written") { // task, context doc, log doc
		t.Fatalf("export output %q", out)
	}
	if out := td.MustHeph("export", dir); !strings.Contains(out, "0 written, 3 unchanged") {
		t.Fatalf("second export output %q", out)
	}
	td2 := startDaemon(t)
	out = td2.MustHeph("import", "markdown", dir)
	if !strings.Contains(out, "3 created") {
		t.Fatalf("import output %q", out)
	}
	var n Node
	decodeJSON(t, td2.MustHeph("--json", "show", h), &n)
	if n.Title != "Call the plumber" {
		t.Fatalf("imported node %+v", n)
	}
	afile := filepath.Join(td.Dir, "afile")
	os.WriteFile(afile, []byte("x"), 0o600)
	for _, args := range [][]string{{"import", "markdown", filepath.Join(td.Dir, "nope")}, {"export", filepath.Join(afile, "sub")}, {"export", afile}} {
		if _, errOut, code := td2.Heph(args...); code != 1 || errOut == "" {
			t.Errorf("heph %v: exit %d %q, want a clear error", args, code, errOut)
		}
	}
	if _, _, code := td2.Heph("import", "csv", dir); code != 2 {
		t.Errorf("import csv: exit %d, want 2", code)
	}
}

// hephIn runs heph in working directory dir.
func hephIn(t *testing.T, td *testDaemon, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(hephBinary(t), args...)
	cmd.Env, cmd.Dir = td.Env, dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestExportImportOddDirs: export and import markdown on an empty argument
// (never the current directory), a file, a missing or empty directory.
func TestExportImportOddDirs(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "Keep me")
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "stray.md"), []byte("# stray note\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cwd, "afile")
	os.WriteFile(file, []byte("x"), 0o600)
	before := td.MustHeph("--json", "list", "--state", "all")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", ""}, 2, "heph: want a directory to export to, got an empty argument: heph export DIR"},
		{[]string{"export", "  "}, 2, "got an empty argument"},
		{[]string{"import", "markdown", ""}, 2, "heph: want a directory to import, got an empty argument: heph import markdown DIR"},
		{[]string{"export", file}, 1, file + ": not a directory"},
		{[]string{"export", filepath.Join(file, "sub")}, 1, "not a directory"},
		{[]string{"import", "markdown", file}, 1, file + " is not a directory"},
		{[]string{"import", "markdown", filepath.Join(cwd, "missing")}, 1, "import markdown: " + filepath.Join(cwd, "missing") + " does not exist"},
		{[]string{"import", "markdown", "empty"}, 0, "nothing to import: no markdown files (*.md) under empty"},
	} {
		os.MkdirAll(filepath.Join(cwd, "empty"), 0o700)
		out, errOut, code := hephIn(t, td, cwd, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("heph %q: exit %d (want %d), stdout %q, stderr %q; want %q", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
	entries, _ := os.ReadDir(cwd)
	if len(entries) != 3 {
		t.Errorf("the working directory changed: %d entries, want stray.md, afile, empty", len(entries))
	}
	if after := td.MustHeph("--json", "list", "--state", "all"); after != before {
		t.Errorf("the store changed:\n%s\n%s", before, after)
	}
	// A directory that does not exist yet is made, parents too.
	deep := filepath.Join(cwd, "new", "deeper")
	if out := td.MustHeph("export", deep); !strings.Contains(out, "exported 3 nodes to "+deep) {
		t.Errorf("export to a new directory: %q", out)
	}
}
