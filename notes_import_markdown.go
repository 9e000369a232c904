// import.markdown: a tree of markdown files (heph exports or plain notes) into nodes.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// import markdown reads a tree of .md files (hidden files and directories
// skipped):
//
//   - A file whose front matter has an `id` (an export of heph) is that
//     node: it is created with that id and its created/updated times, or, when
//     the store already has the id, its changed fields are set. A node
//     deleted in this store stays deleted (reported). Explicit `links` are
//     added.
//   - Any other file becomes a doc titled by its front matter `title`, else
//     its first "# " heading (removed from the body when it is the first
//     line), else its file name. The file's absolute path is remembered
//     (imports table), so importing it again updates that doc instead of
//     making another.
//
// Every file is read and checked before anything is written; one bad file
// fails the import with its path and the store is left unchanged. The whole
// import is one transaction, recorded as ops like any other change.

// importReport is the reply of import.markdown and import.taskwarrior.
type importReport struct {
	Source    string          `json:"source"`
	Items     int             `json:"items"`
	Created   int             `json:"created"`
	Updated   int             `json:"updated"`
	Unchanged int             `json:"unchanged"`
	Skipped   int             `json:"skipped"`
	Problems  []importProblem `json:"problems"`
	// Unmapped counts, per source field, the items whose field heph could not
	// represent (each is also listed in Problems).
	Unmapped map[string]int `json:"unmapped"`
}

// importProblem is something one item could not bring over.
type importProblem struct {
	Item    string `json:"item"`
	Message string `json:"message"`
}

func newImportReport(source string) *importReport {
	return &importReport{Source: source, Problems: []importProblem{}, Unmapped: map[string]int{}}
}

func (r *importReport) problem(item, format string, args ...any) {
	r.Problems = append(r.Problems, importProblem{Item: item, Message: fmt.Sprintf(format, args...)})
}

func (r *importReport) unmapped(item, field, format string, args ...any) {
	r.Unmapped[field]++
	r.problem(item, "%s: %s", field, fmt.Sprintf(format, args...))
}

// mdItem is one parsed markdown file.
type mdItem struct {
	path string // absolute
	id   string // heph id from front matter; "" for a plain file
	kind string // doc, task, project or view
	// projectPath is a project file's path: (informative) front matter.
	projectPath string
	fields      map[string]any // in fieldValues shapes
	created     time.Time
	updated     time.Time
	links       []string
}

type importMarkdownParams struct {
	Dir string `json:"dir"`
}

func (s *Store) rpcImportMarkdown(ctx context.Context, params json.RawMessage) (any, error) {
	var p importMarkdownParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.Dir == "" || !filepath.IsAbs(p.Dir) {
		return nil, invalidParams("param \"dir\" must be an absolute directory path, not %q", p.Dir)
	}
	return s.importMarkdown(ctx, filepath.Clean(p.Dir))
}

// importMarkdown imports every .md file under dir.
func (s *Store) importMarkdown(ctx context.Context, dir string) (*importReport, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("import markdown: %s does not exist", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("import markdown: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("import markdown: %s is not a directory", dir)
	}
	rep := newImportReport("markdown")
	var items []*mdItem
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".md") {
			return nil
		}
		if !d.Type().IsRegular() {
			// A link could point anywhere (~/.ssh/id_ed25519), and sync
			// would carry what it reads to the hub: import only files.
			rep.Skipped++
			rep.problem(path, "not a regular file (%s): skipped; import the file itself, not a link to it", fileKind(d.Type()))
			return nil
		}
		it, err := readMarkdownFile(path, rep, s.now())
		if err != nil {
			return err
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import markdown %s: %w", dir, err)
	}
	rep.Items = len(items)
	// Projects first (parents before children), so the tasks that name
	// them find them instead of creating them.
	sort.SliceStable(items, func(i, j int) bool { return importRank(items[i]) < importRank(items[j]) })
	err = s.Write(ctx, func(tx *Tx) error {
		for _, it := range items {
			if err := importMarkdownItem(tx, it, rep); err != nil {
				return fmt.Errorf("import %s: %w", it.path, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// readMarkdownFile parses one file into an item.
func readMarkdownFile(path string, rep *importReport, now time.Time) (*mdItem, error) {
	content, err := readRegularFile(path)
	if err != nil {
		return nil, err
	}
	if !validUTF8Text(content) {
		return nil, fmt.Errorf("%s: not UTF-8 text", path)
	}
	fm, body, err := splitFrontMatter(string(content))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	it := &mdItem{path: path, kind: "doc", fields: map[string]any{}, created: now, updated: now}
	if id, ok := fm["id"].(string); ok && id != "" {
		it.id = strings.ToUpper(id)
		if !validULID(it.id) {
			return nil, fmt.Errorf("%s: front matter id %q is not a heph id (26 characters of Crockford base32)", path, id)
		}
		if err := it.fromFrontMatter(fm, body, rep); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		it.cleanTitle(rep)
		return it, nil
	}
	title, _ := fm["title"].(string)
	if title == "" {
		title, body = markdownTitle(body)
	}
	if title == "" {
		title = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	it.fields["title"] = title
	it.fields["body"] = body
	for k := range fm {
		if k != "title" {
			rep.unmapped(path, k, "front matter key not used for a plain markdown doc")
		}
	}
	it.cleanTitle(rep)
	return it, nil
}

// cleanTitle applies the socket's title rule to an imported title: a
// title is one line without control characters, so any it holds become
// spaces (cleanTitle), and the report says so.
func (it *mdItem) cleanTitle(rep *importReport) {
	t, ok := it.fields["title"].(string)
	if !ok || !badTitle(t) {
		return
	}
	it.fields["title"] = cleanTitle(t)
	if it.fields["title"] == "" {
		it.fields["title"] = cleanTitle(strings.TrimSuffix(filepath.Base(it.path), filepath.Ext(it.path)))
	}
	rep.problem(it.path, "the title held control characters (a line break, ESC, ...): they became spaces")
}

// markdownTitle returns the first "# " heading and the body without it
// when it is the first non-blank line.
func markdownTitle(body string) (string, string) {
	lines := strings.Split(body, "\n")
	first := true
	for i, line := range lines {
		t := strings.TrimRight(line, "\r")
		if strings.HasPrefix(t, "# ") {
			title := strings.TrimSpace(strings.TrimPrefix(t, "# "))
			if first {
				return title, strings.TrimLeft(strings.Join(lines[i+1:], "\n"), "\r\n")
			}
			return title, body
		}
		if strings.TrimSpace(t) != "" {
			first = false
		}
	}
	return "", body
}

// str reads front matter key k as a string ("" when absent).
func (fm frontMatter) str(k string) (string, error) {
	switch v := fm[k].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("front matter %s: want a string", k)
}

// boolean reads front matter key k as true or false (false when absent).
func (fm frontMatter) boolean(k string) (bool, error) {
	s, err := fm.str(k)
	if err != nil {
		return false, err
	}
	if s != "" && s != "true" && s != "false" {
		return false, fmt.Errorf("front matter %s %q: want true or false", k, s)
	}
	return s == "true", nil
}

// rfc3339 reads front matter key k as an RFC 3339 time; ok is false when it
// is absent or empty. want words what the key takes, for the error.
func (fm frontMatter) rfc3339(k, want string) (t time.Time, ok bool, err error) {
	s, err := fm.str(k)
	if err != nil || s == "" {
		return time.Time{}, false, err
	}
	t, err = time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("front matter %s %q: want %s", k, s, want)
	}
	return t, true, nil
}

// fromFrontMatter fills an exported node's fields from its front matter.
func (it *mdItem) fromFrontMatter(fm frontMatter, body string, rep *importReport) error {
	if err := it.kindFrom(fm); err != nil {
		return err
	}
	title, err := fm.str("title")
	if err != nil {
		return err
	}
	it.fields["title"] = title
	it.fields["body"] = body
	if err := it.timesFrom(fm); err != nil {
		return err
	}
	if err := it.linksFrom(fm); err != nil {
		return err
	}
	known := map[string]bool{"id": true, "kind": true, "title": true, "created": true, "updated": true, "links": true}
	if it.kind == "task" {
		if err := it.taskFields(fm); err != nil {
			return err
		}
		for _, k := range []string{"state", "attention", "do", "late", "recur", "recur_after_done", "occurrences", "project", "tags", "context", "log"} {
			known[k] = true
		}
	}
	if err := it.projectViewFields(fm, known); err != nil {
		return err
	}
	keys := make([]string, 0, len(fm))
	for k := range fm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			rep.unmapped(it.path, k, "unknown front matter key for a %s", it.kind)
		}
	}
	return nil
}

// kindFrom reads the node's kind (doc when absent).
func (it *mdItem) kindFrom(fm frontMatter) error {
	var err error
	if it.kind, err = fm.str("kind"); err != nil {
		return err
	}
	if it.kind == "" {
		it.kind = "doc"
	}
	if _, ok := kindTable(it.kind); !ok {
		return fmt.Errorf("front matter kind %q: want doc, task, project or view", it.kind)
	}
	return nil
}

// timesFrom reads the node's created and updated times (updated no
// earlier than created).
func (it *mdItem) timesFrom(fm frontMatter) error {
	for _, k := range []string{"created", "updated"} {
		t, ok, err := fm.rfc3339(k, "an RFC 3339 time")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if k == "created" {
			it.created = t
		} else {
			it.updated = t
		}
	}
	if it.updated.Before(it.created) {
		it.updated = it.created
	}
	return nil
}

// linksFrom reads the ids the node links to.
func (it *mdItem) linksFrom(fm frontMatter) error {
	v, ok := fm["links"]
	if !ok {
		return nil
	}
	list, ok := v.([]string)
	if v != nil && !ok {
		return errors.New("front matter links: want a list of ids")
	}
	for _, l := range list {
		l = strings.ToUpper(l)
		if !validULID(l) {
			return fmt.Errorf("front matter links: %q is not a heph id", l)
		}
		it.links = append(it.links, l)
	}
	return nil
}

// taskFields reads a task's front matter keys.
func (it *mdItem) taskFields(fm frontMatter) error {
	f := it.fields
	for _, k := range []string{"state", "attention", "recur", "project", "context", "log"} {
		v, err := fm.str(k)
		if err != nil {
			return err
		}
		f[k] = v
	}
	if err := taskStateFields(f); err != nil {
		return err
	}
	for _, k := range []string{"do", "late"} {
		t, ok, err := fm.rfc3339(k, "an RFC 3339 time or null")
		if err != nil {
			return err
		}
		f[k] = nil
		if ok {
			f[k] = t.UnixMilli()
		}
	}
	rad, err := fm.boolean("recur_after_done")
	if err != nil {
		return err
	}
	f["recur_after_done"] = rad
	occ, err := fm.str("occurrences")
	if err != nil {
		return err
	}
	f["occurrences"] = 0
	if occ != "" {
		n, err := strconv.Atoi(occ)
		if err != nil || n < 0 {
			return fmt.Errorf("front matter occurrences %q: want a count", occ)
		}
		f["occurrences"] = n
	}
	tags := []string{}
	switch v := fm["tags"].(type) {
	case nil:
	case []string:
		tags = append(tags, v...)
	case string:
		tags = strings.Fields(strings.ReplaceAll(v, ",", " "))
	}
	sort.Strings(tags)
	f["tags"] = tags
	return nil
}

// taskStateFields defaults and checks a task's state and attention as
// read from front matter.
func taskStateFields(f map[string]any) error {
	if f["state"] == "" {
		f["state"] = "outstanding"
	}
	switch f["state"] {
	case "outstanding", "done", "dropped":
	default:
		return fmt.Errorf("front matter state %q: want outstanding, done or dropped", f["state"])
	}
	if f["attention"] == "" {
		f["attention"] = "white"
	}
	switch f["attention"] {
	case "white", "orange", "red", "blue":
	default:
		return fmt.Errorf("front matter attention %q: want white, orange, red or blue", f["attention"])
	}
	return nil
}

// importMarkdownItem creates or updates the node of one file.
func importMarkdownItem(tx *Tx, it *mdItem, rep *importReport) error {
	ctx := tx.Context()
	if err := importedTaskProject(tx, it); err != nil {
		return err
	}
	id := it.id
	if id == "" {
		err := tx.SQL().QueryRowContext(ctx, `SELECT node_id FROM imports WHERE source='markdown' AND ext_id=?`, it.path).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if id != "" {
		n, err := getNode(ctx, tx.SQL(), id)
		if err == nil {
			return updateImported(tx, n, it, rep)
		}
		if !errors.Is(err, errNotFound) {
			return err
		}
	}
	if it.id != "" {
		if err := tx.createAt(it.id, it.kind, it.fields, it.created, it.updated); err != nil {
			return err
		}
		rep.Created++
		return addImportedLinks(tx, it, it.id)
	}
	if it.kind == "project" || it.kind == "view" {
		rep.Skipped++
		rep.problem(it.path, "a %s file needs its id in the front matter (heph export writes it); skipped", it.kind)
		return nil
	}
	newID, err := tx.Create("doc", it.fields)
	if err != nil {
		return err
	}
	if _, err := tx.SQL().ExecContext(ctx, `INSERT INTO imports(source,ext_id,node_id) VALUES('markdown',?,?)
		ON CONFLICT(source,ext_id) DO UPDATE SET node_id=excluded.node_id`, it.path, newID); err != nil {
		return fmt.Errorf("remember import: %w", err)
	}
	rep.Created++
	return nil
}

// updateImported sets the fields of an existing node that differ from the
// file.
func updateImported(tx *Tx, n *Node, it *mdItem, rep *importReport) error {
	if n.Deleted != nil {
		rep.Skipped++
		rep.problem(it.path, "node %s is deleted in this store; not revived", n.ID)
		return nil
	}
	if n.Kind != it.kind {
		rep.Skipped++
		rep.problem(it.path, "node %s is a %s here but a %s in the file; left alone", n.ID, n.Kind, it.kind)
		return nil
	}
	cur := n.fieldValues()
	changed := map[string]any{}
	for k, v := range it.fields {
		if !reflect.DeepEqual(cur[k], v) {
			changed[k] = v
		}
	}
	if err := tx.Set(n.ID, changed); err != nil {
		return err
	}
	before := len(tx.Ops)
	if err := addImportedLinks(tx, it, n.ID); err != nil {
		return err
	}
	if len(changed) > 0 || len(tx.Ops) > before {
		rep.Updated++
	} else {
		rep.Unchanged++
	}
	return nil
}

// addImportedLinks adds the links an item implies that do not exist yet:
// the explicit links its file lists and a task's links to its context and
// log docs.
func addImportedLinks(tx *Tx, it *mdItem, src string) error {
	type link struct{ dst, kind string }
	var want []link
	for _, dst := range it.links {
		want = append(want, link{dst, "explicit"})
	}
	for _, kind := range []string{"context", "log"} {
		if dst, _ := it.fields[kind].(string); dst != "" {
			want = append(want, link{dst, kind})
		}
	}
	for _, l := range want {
		var n int
		if err := tx.SQL().QueryRowContext(tx.Context(), `SELECT count(*) FROM links WHERE src=? AND dst=? AND kind=?`, src, l.dst, l.kind).Scan(&n); err != nil {
			return fmt.Errorf("read links: %w", err)
		}
		if n == 0 {
			if err := tx.Link(src, l.dst, l.kind, "", true); err != nil {
				return err
			}
		}
	}
	return nil
}

// createAt creates a node with a given id whose created and updated times
// survive: the node.create op is stamped with the created time and, when the
// node was updated later, a node.set op (re-setting its title) with the
// updated time. Both are ordinary ops, so sync ships the node with its
// history intact. Times in the future are clamped to now, so a later local
// edit always wins.
func (t *Tx) createAt(id, kind string, fields map[string]any, created, updated time.Time) error {
	now := t.s.now()
	c := min(created.UnixMilli(), now.UnixMilli())
	u := min(max(updated.UnixMilli(), c), now.UnixMilli())
	d := opCreateData{Kind: kind, Fields: fields}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	h := HLC{Wall: c, Replica: t.s.replica}
	if err := t.recordDecoded(Op{ID: newULID(now), HLC: h.String(), Node: id, Type: opNodeCreate, Data: data}, &d); err != nil {
		return err
	}
	if u == c {
		return nil
	}
	title := map[string]any{"title": fields["title"]}
	data, err = json.Marshal(opSetData{Fields: title, Prev: title})
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	h = HLC{Wall: u, Replica: t.s.replica}
	return t.record(Op{ID: newULID(now), HLC: h.String(), Node: id, Type: opNodeSet, Data: data})
}

// readRegularFile reads path without following a symbolic link at its end
// and only when it is a regular file (not a FIFO that would block, nor a
// device), checked on the open file so a swap after the walk cannot slip
// another file in.
func readRegularFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (symbolic links are not followed)", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return io.ReadAll(f)
}

// importedTaskProject turns a task file's project path into a reference to
// the project at that path, creating it (and its parents) when missing.
func importedTaskProject(tx *Tx, it *mdItem) error {
	if it.kind != "task" {
		return nil
	}
	path, _ := it.fields["project"].(string)
	pid := ""
	if path != "" {
		var err error
		if pid, err = projectForTask(tx, path); err != nil {
			return fmt.Errorf("%s: project %q: %w", it.path, path, err)
		}
	}
	for k, v := range taskProjectFields(pid) {
		it.fields[k] = v
	}
	return nil
}

// importRank orders items for import: projects by depth, then the rest.
func importRank(it *mdItem) int {
	if it.kind != "project" {
		return 1 << 20
	}
	return strings.Count(it.projectPath, "/")
}

// projectViewFields reads the front matter of a project (parent,
// archived; path is informative) or a view (filter, sort).
func (it *mdItem) projectViewFields(fm frontMatter, known map[string]bool) error {
	var keys []string
	switch it.kind {
	case "project":
		keys = []string{"parent", "path"}
		known["archived"] = true
		a, err := fm.boolean("archived")
		if err != nil {
			return err
		}
		it.fields["archived"] = a
	case "view":
		keys = []string{"filter", "sort"}
	default:
		return nil
	}
	for _, k := range keys {
		known[k] = true
		v, err := fm.str(k)
		if err != nil {
			return err
		}
		if k == "path" {
			it.projectPath = v
			continue
		}
		if k == "parent" && v != "" && !validULID(strings.ToUpper(v)) {
			return fmt.Errorf("front matter parent %q is not a heph id", v)
		}
		if k == "parent" {
			v = strings.ToUpper(v)
		}
		it.fields[k] = v
	}
	if it.kind == "view" {
		if _, _, err := sortClause(it.fields["sort"].(string), time.Now()); err != nil {
			return err
		}
	}
	return nil
}
