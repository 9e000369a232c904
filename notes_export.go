// export.markdown: one markdown file with front matter per live node.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// export writes one markdown file per live node:
//
//	---
//	attention: "white"
//	created: 2026-11-26T19:12:02.123Z
//	…                           (keys sorted; strings JSON-quoted, which is valid YAML)
//	---
//	<the body, byte for byte>
//
// The file is named "<slug of the title>-<ID>.md": the id keeps the name
// stable and unique, the slug makes it readable. Times are RFC 3339 in UTC
// with milliseconds (the store's precision). Every node gets id, kind, title,
// created and updated; tasks also get attention, context, do, late, log,
// occurrences, project, recur, recur_after_done, state and tags (null or
// empty when unset); `links` lists the ids a node links to explicitly.
// Re-exporting rewrites only files whose content changed and removes the
// files (matching the name pattern) of nodes no longer live.

// exportTimeLayout is how front matter writes times.
const exportTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// isExportName matches the files export writes ("<slug>-<ID>.md"), so
// export only ever removes its own.
func isExportName(name string) bool {
	stem, ok := strings.CutSuffix(name, ".md")
	return ok && len(stem) > 26 && stem[len(stem)-27] == '-' && validULID(stem[len(stem)-26:])
}

type exportParams struct {
	Dir string `json:"dir"`
}

// exportResult is the reply of export.
type exportResult struct {
	Dir       string `json:"dir"`
	Nodes     int    `json:"nodes"`
	Written   int    `json:"written"`
	Unchanged int    `json:"unchanged"`
	Removed   int    `json:"removed"`
}

func (s *Store) rpcExportMarkdown(ctx context.Context, params json.RawMessage) (any, error) {
	var p exportParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.Dir == "" || !filepath.IsAbs(p.Dir) {
		return nil, invalidParams("param \"dir\" must be an absolute directory path, not %q", p.Dir)
	}
	return s.exportTo(ctx, filepath.Clean(p.Dir))
}

// exportTo writes the store's live nodes into dir.
func (s *Store) exportTo(ctx context.Context, dir string) (*exportResult, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("export to %s: not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("export to %s: %w", dir, err)
	}
	files, err := s.renderExport(ctx)
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", dir, err)
	}
	res := &exportResult{Dir: dir, Nodes: len(files)}
	for name, content := range files {
		path, err := confinedPath(dir, name)
		if err != nil {
			return nil, fmt.Errorf("export to %s: %w", dir, err)
		}
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, content) {
			res.Unchanged++
			continue
		}
		if err := writeFileAtomic(path, content); err != nil {
			return nil, fmt.Errorf("export to %s: %w", dir, err)
		}
		res.Written++
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() || !isExportName(e.Name()) {
			continue
		}
		if _, keep := files[e.Name()]; keep {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return nil, fmt.Errorf("export to %s: %w", dir, err)
		}
		res.Removed++
	}
	return res, nil
}

// confinedPath joins dir and name, where name comes from stored data (an
// id, a title): it must be one plain file name, so the result is always
// directly inside dir. Every path built from stored text goes through it.
func confinedPath(dir, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") || filepath.Base(name) != name {
		return "", fmt.Errorf("refusing file name %q: not one plain name inside the directory", name)
	}
	path := filepath.Join(dir, name)
	if filepath.Dir(path) != filepath.Clean(dir) {
		return "", fmt.Errorf("refusing file name %q: it leaves the directory", name)
	}
	return path, nil
}

// writeFileAtomic replaces path with content through a temporary file.
func writeFileAtomic(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".heph-export-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// renderExport returns every live node's file name and content.
func (s *Store) renderExport(ctx context.Context) (map[string][]byte, error) {
	explicit, err := explicitLinks(ctx, s.db)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, nodeSelect+` WHERE n.deleted IS NULL ORDER BY n.id`)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	defer rows.Close()
	files := map[string][]byte{}
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("read nodes: %w", err)
		}
		files[exportFileName(n)] = renderNode(n, explicit[n.ID])
	}
	return files, rows.Err()
}

// explicitLinks maps each node to the sorted ids it links to explicitly.
func explicitLinks(ctx context.Context, q querier) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT src, dst FROM links WHERE kind='explicit' ORDER BY src, dst`)
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var src, dst string
		if err := rows.Scan(&src, &dst); err != nil {
			return nil, fmt.Errorf("read links: %w", err)
		}
		out[src] = append(out[src], dst)
	}
	return out, rows.Err()
}

// exportFileName is "<slug>-<ID>.md".
func exportFileName(n *Node) string {
	return slugify(n.Title) + "-" + n.ID + ".md"
}

// slugify makes a short, lower-case, ASCII file name part from a title.
func slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if b.Len() >= 48 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "untitled"
	}
	return b.String()
}

// renderNode builds one export file.
func renderNode(n *Node, links []string) []byte {
	fm := map[string]string{
		"id":      yamlString(n.ID),
		"kind":    yamlString(n.Kind),
		"title":   yamlString(n.Title),
		"created": yamlTime(&n.Created),
		"updated": yamlTime(&n.Updated),
	}
	if len(links) > 0 {
		fm["links"] = yamlList(links)
	}
	if t := n.Task; t != nil {
		fm["state"] = yamlString(t.State)
		fm["attention"] = yamlString(t.Attention)
		fm["do"] = yamlTime(t.Do)
		fm["late"] = yamlTime(t.Late)
		fm["recur"] = yamlString(t.Recur)
		fm["recur_after_done"] = strconv.FormatBool(t.RecurAfterDone)
		fm["occurrences"] = strconv.Itoa(t.Occurrences)
		fm["project"] = yamlString(t.Project)
		fm["tags"] = yamlList(t.Tags)
		fm["context"] = yamlString(t.Context)
		fm["log"] = yamlString(t.Log)
	}
	if p := n.Project; p != nil {
		fm["parent"] = yamlString(p.Parent)
		fm["path"] = yamlString(p.Path)
		fm["archived"] = strconv.FormatBool(p.Archived)
	}
	if v := n.View; v != nil {
		fm["filter"] = yamlString(v.Filter)
		fm["sort"] = yamlString(v.Sort)
	}
	keys := make([]string, 0, len(fm))
	for k := range fm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, fm[k])
	}
	b.WriteString("---\n")
	b.WriteString(n.Body)
	return b.Bytes()
}

// yamlString is a double-quoted scalar: JSON string syntax, which YAML
// reads the same way.
func yamlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func yamlList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = yamlString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func yamlTime(t *time.Time) string {
	if t == nil {
		return "null"
	}
	return t.UTC().Format(exportTimeLayout)
}

// frontMatter is the parsed YAML header of a markdown file: each key's
// value is a string, a []string (flow or block list) or nil (null/empty).
type frontMatter map[string]any

// splitFrontMatter separates a "---" delimited header from the body. A
// file without one has no front matter and is all body.
func splitFrontMatter(content string) (fm frontMatter, body string, err error) {
	content = strings.TrimPrefix(content, "\ufeff")
	if !strings.HasPrefix(content, "---\n") && !strings.HasPrefix(content, "---\r\n") {
		return nil, content, nil
	}
	rest := content[strings.Index(content, "\n")+1:]
	var header []string
	for {
		nl := strings.Index(rest, "\n")
		var line string
		if nl < 0 {
			line, rest = rest, ""
		} else {
			line, rest = rest[:nl], rest[nl+1:]
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "---" || line == "..." {
			break
		}
		if nl < 0 {
			return nil, "", errors.New("front matter starts with --- but never ends (no closing --- line)")
		}
		header = append(header, line)
	}
	fm, err = parseFrontMatter(header)
	return fm, rest, err
}

// parseFrontMatter reads the small YAML subset front matter uses: "key:
// value" lines whose values are plain, single- or double-quoted scalars or
// flow lists, and block lists of "- item" lines. Comments and blank lines
// are skipped; anything else is an error naming the line.
func parseFrontMatter(lines []string) (frontMatter, error) {
	fm := frontMatter{}
	var listKey string
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "- ") || trimmed == "-" {
			if listKey == "" {
				return nil, fmt.Errorf("front matter line %d: list item %q outside a list", i+2, trimmed)
			}
			v, err := yamlScalar(strings.TrimSpace(strings.TrimPrefix(trimmed, "-")))
			if err != nil {
				return nil, fmt.Errorf("front matter line %d: %w", i+2, err)
			}
			list, _ := fm[listKey].([]string)
			fm[listKey] = append(list, v)
			continue
		}
		if line != trimmed && listKey != "" {
			continue // nested structure under a key: not ours
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("front matter line %d: want \"key: value\", got %q", i+2, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		listKey = ""
		switch {
		case val == "" || val == "~" || val == "null":
			fm[key] = nil
			listKey = key
		case strings.HasPrefix(val, "["):
			list, err := yamlFlowList(val)
			if err != nil {
				return nil, fmt.Errorf("front matter line %d (%s): %w", i+2, key, err)
			}
			fm[key] = list
		default:
			v, err := yamlScalar(val)
			if err != nil {
				return nil, fmt.Errorf("front matter line %d (%s): %w", i+2, key, err)
			}
			fm[key] = v
		}
	}
	return fm, nil
}

// yamlScalar decodes a double-quoted, single-quoted or plain scalar.
func yamlScalar(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		var s string
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return "", fmt.Errorf("bad double-quoted string %s", v)
		}
		return s, nil
	case strings.HasPrefix(v, "'"):
		if len(v) < 2 || !strings.HasSuffix(v, "'") {
			return "", fmt.Errorf("bad single-quoted string %s", v)
		}
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

// yamlFlowList decodes [a, "b", 'c'].
func yamlFlowList(v string) ([]string, error) {
	var list []string
	if err := json.Unmarshal([]byte(v), &list); err == nil {
		return list, nil
	}
	if !strings.HasSuffix(v, "]") {
		return nil, fmt.Errorf("bad list %s", v)
	}
	inner := strings.TrimSpace(v[1 : len(v)-1])
	list = []string{}
	if inner == "" {
		return list, nil
	}
	for _, part := range strings.Split(inner, ",") {
		s, err := yamlScalar(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, nil
}

// validUTF8Text reports whether content can be stored as a body.
func validUTF8Text(content []byte) bool {
	return utf8.Valid(content) && !bytes.ContainsRune(content, 0)
}
