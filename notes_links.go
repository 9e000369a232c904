// Links between nodes (wiki [[links]] and explicit ones) and the link.* handlers.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Links between nodes come in two kinds:
//
//   - wiki: derived from [[…]] references in a node's body. They are not ops:
//     every replica recomputes them whenever a body is written (locally or by
//     a remote op), so they always match the body.
//   - explicit: made with link.add / link.rm, recorded as ops (an add-wins
//     set, see applyLink).
//
// A reference [[target]] or [[target|label]] resolves, in this order, to the
// live node whose handle or full id is target; else to the live node whose
// title equals target (ASCII case-insensitive; when several share the title,
// the oldest); else to the live node whose id or handle starts with target
// (at least 4 characters, and only when that prefix is unambiguous). A
// reference that resolves to nothing is kept in wiki_refs as unresolved and
// shown by `links`; it resolves by itself when a node with that title, handle
// or id appears (or is renamed or undeleted). References inside code spans
// and fenced code blocks are not links, and a node never wiki-links itself.

// wikiRef is one [[…]] reference found in a body.
type wikiRef struct {
	Target string
	Label  string
}

// parseWikiRefs returns the [[…]] references in body, in order, skipping
// fenced code blocks (``` or ~~~) and inline code spans.
func parseWikiRefs(body string) []wikiRef {
	if !strings.Contains(body, "[[") {
		return nil
	}
	var refs []wikiRef
	var fence string // the opening fence while inside a fenced block
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if len(line)-len(trimmed) < 4 && strings.HasPrefix(trimmed, fence) &&
				strings.Trim(strings.TrimSpace(trimmed), fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if f := openingFence(line, trimmed); f != "" {
			fence = f
			continue
		}
		refs = append(refs, lineWikiRefs(line)...)
	}
	return refs
}

// openingFence returns the fence (``` or ~~~, possibly longer) that line
// opens, or "".
func openingFence(line, trimmed string) string {
	if len(line)-len(trimmed) >= 4 {
		return ""
	}
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(trimmed) && trimmed[n] == c {
			n++
		}
		if n >= 3 {
			if c == '`' && strings.Contains(trimmed[n:], "`") {
				return "" // an info string may not contain backticks
			}
			return trimmed[:n]
		}
	}
	return ""
}

// lineWikiRefs scans one line outside fenced blocks.
func lineWikiRefs(line string) []wikiRef {
	var refs []wikiRef
	for i := 0; i < len(line); {
		switch {
		case line[i] == '`':
			n := runLen(line, i, '`')
			if end := closingTicks(line, i+n, n); end >= 0 {
				i = end + n // skip the whole code span
			} else {
				i += n // an unmatched run is literal text
			}
		case strings.HasPrefix(line[i:], "[["):
			end := strings.Index(line[i+2:], "]]")
			if end < 0 {
				return refs
			}
			inner := line[i+2 : i+2+end]
			if strings.ContainsAny(inner, "[]`") {
				i++
				continue
			}
			target, label, _ := strings.Cut(inner, "|")
			if target = strings.TrimSpace(target); target != "" {
				refs = append(refs, wikiRef{Target: target, Label: strings.TrimSpace(label)})
			}
			i += 2 + end + 2
		default:
			i++
		}
	}
	return refs
}

func runLen(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// closingTicks finds a run of exactly n backticks at or after from.
func closingTicks(s string, from, n int) int {
	for i := from; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		m := runLen(s, i, '`')
		if m == n {
			return i
		}
		i += m
	}
	return -1
}

// afterFieldWrite keeps derived link state in step with a field that apply
// just wrote: a new body re-derives the node's wiki links; a new title or
// tombstone re-resolves the references that point (or could now point) at
// the node. created says the node was created by this write: it has no
// references to replace yet.
func (t *Tx) afterFieldWrite(id, field string, v any, created bool) error {
	if err := t.noteProjectWrite(id, field, created); err != nil {
		return err
	}
	switch field {
	case "body":
		body, _ := v.(string)
		if created && body == "" {
			return nil
		}
		return refreshWikiLinks(t, id, body, created)
	case "title":
		title, _ := v.(string)
		return refreshWikiTargets(t, id, strings.ToLower(title), strings.ToLower(id))
	case "deleted":
		var title, handle string
		err := t.queryRow(`SELECT title, handle FROM nodes WHERE id=?`, id).Scan(&title, &handle)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wiki links to %s: %w", id, err)
		}
		return refreshWikiTargets(t, id, strings.ToLower(title), handle, strings.ToLower(id))
	}
	return nil
}

// refreshWikiLinks replaces node id's wiki references and wiki links with
// those of body; created says id has none yet.
func refreshWikiLinks(t *Tx, id, body string, created bool) error {
	q := t.tx
	has, err := t.hasWikiRefs()
	if err != nil {
		return fmt.Errorf("wiki links of %s: %w", id, err)
	}
	if has && !created {
		res, err := t.exec(`DELETE FROM wiki_refs WHERE src=?`, id)
		if err != nil {
			return fmt.Errorf("wiki links of %s: %w", id, err)
		}
		// Every wiki link has its reference in wiki_refs: no references, no links.
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			if _, err := t.exec(`DELETE FROM links WHERE src=? AND kind='wiki'`, id); err != nil {
				return fmt.Errorf("wiki links of %s: %w", id, err)
			}
		}
	}
	for pos, ref := range parseWikiRefs(body) {
		dst, err := resolveWikiTarget(t.ctx, q, ref.Target)
		if err != nil {
			return fmt.Errorf("wiki links of %s: %w", id, err)
		}
		var dstArg any
		if dst != "" {
			dstArg = dst
		}
		if _, err := t.exec(`INSERT INTO wiki_refs(src,pos,target,norm,label,dst) VALUES(?,?,?,?,?,?)`,
			id, pos, ref.Target, strings.ToLower(ref.Target), ref.Label, dstArg); err != nil {
			return fmt.Errorf("wiki links of %s: %w", id, err)
		}
		t.wikiRefs = true
		if dst == "" || dst == id {
			continue // unresolved, or the node itself (no self links)
		}
		if _, err := t.exec(`INSERT OR IGNORE INTO links(src,dst,kind,label) VALUES(?,?,'wiki',?)`,
			id, dst, ref.Label); err != nil {
			return fmt.Errorf("wiki links of %s: %w", id, err)
		}
	}
	return nil
}

// refreshWikiTargets re-derives the wiki links of every node whose body
// refers to node id, or could now refer to it: references whose normalized
// target is one of norms (the node's lower-cased title, handle or id).
func refreshWikiTargets(t *Tx, id string, norms ...string) error {
	if has, err := t.hasWikiRefs(); err != nil || !has {
		if err != nil {
			return fmt.Errorf("wiki links to %s: %w", id, err)
		}
		return nil
	}
	for len(norms) < 3 {
		norms = append(norms, norms[len(norms)-1])
	}
	rows, err := t.query(`SELECT src FROM wiki_refs WHERE dst=? UNION ALL SELECT src FROM wiki_refs WHERE norm IN (?,?,?)`,
		id, norms[0], norms[1], norms[2])
	if err != nil {
		return fmt.Errorf("wiki links to %s: %w", id, err)
	}
	var srcs []string
	seen := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("wiki links to %s: %w", id, err)
		}
		if !seen[s] {
			seen[s] = true
			srcs = append(srcs, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("wiki links to %s: %w", id, err)
	}
	for _, src := range srcs {
		var body string
		if err := t.queryRow(`SELECT body FROM nodes WHERE id=?`, src).Scan(&body); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			return fmt.Errorf("wiki links to %s: %w", id, err)
		}
		if err := refreshWikiLinks(t, src, body, false); err != nil {
			return err
		}
	}
	return nil
}

// resolveWikiTarget finds the live node a reference names, or "" (see the
// order at the top of this file).
func resolveWikiTarget(ctx context.Context, q querier, target string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM nodes WHERE (handle=? OR id=?) AND deleted IS NULL`,
		strings.ToLower(target), strings.ToUpper(target)).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	err = q.QueryRowContext(ctx, `SELECT id FROM nodes WHERE title=? COLLATE NOCASE AND deleted IS NULL ORDER BY created, id LIMIT 1`,
		target).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if len(target) < 4 || strings.ContainsAny(target, " \t") {
		return "", nil
	}
	id, err = resolveID(ctx, q, target)
	if err != nil {
		var amb *ambiguousError
		if errors.Is(err, errNotFound) || errors.As(err, &amb) {
			return "", nil
		}
		return "", err
	}
	var deleted sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT deleted FROM nodes WHERE id=?`, id).Scan(&deleted); err != nil {
		return "", err
	}
	if deleted.Valid {
		return "", nil
	}
	return id, nil
}

type linkParams struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
}

// linkResult is the reply of link.add and link.rm.
type linkResult struct {
	Src  *Node  `json:"src"`
	Dst  *Node  `json:"dst"`
	Kind string `json:"kind"`
}

// resolveLive resolves a reference to a node that is not deleted.
func resolveLive(ctx context.Context, q querier, ref, what string) (*Node, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, invalidParams("missing param %q", what)
	}
	id, err := resolveID(ctx, q, ref)
	if err != nil {
		return nil, err
	}
	n, err := getNode(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if n.Deleted != nil {
		return nil, fmt.Errorf("%s %s (%s) is deleted: %w", what, n.Handle, n.Title, errNotFound)
	}
	return n, nil
}

func (s *Store) rpcLinkAdd(ctx context.Context, params json.RawMessage) (any, error) {
	return s.linkChange(ctx, params, true)
}

func (s *Store) rpcLinkRm(ctx context.Context, params json.RawMessage) (any, error) {
	return s.linkChange(ctx, params, false)
}

// linkChange adds or removes an explicit link.
func (s *Store) linkChange(ctx context.Context, params json.RawMessage, add bool) (any, error) {
	var p linkParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	var res linkResult
	err := s.Write(ctx, func(tx *Tx) error {
		src, err := resolveLive(ctx, tx.SQL(), p.Src, "src")
		if err != nil {
			return err
		}
		dst, err := resolveLive(ctx, tx.SQL(), p.Dst, "dst")
		if err != nil {
			return err
		}
		if src.ID == dst.ID {
			return invalidParams("a node cannot link to itself (%s)", src.Handle)
		}
		var exists int
		if err := tx.SQL().QueryRowContext(ctx, `SELECT count(*) FROM links WHERE src=? AND dst=? AND kind='explicit'`,
			src.ID, dst.ID).Scan(&exists); err != nil {
			return fmt.Errorf("read links: %w", err)
		}
		if !add && exists == 0 {
			return fmt.Errorf("no explicit link from %s to %s (wiki links change with the body): %w", src.Handle, dst.Handle, errNotFound)
		}
		if !add || exists == 0 {
			if err := tx.Link(src.ID, dst.ID, "explicit", "", add); err != nil {
				return err
			}
		}
		res = linkResult{Src: src, Dst: dst, Kind: "explicit"}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// linkEntry is one link in the reply of links.
type linkEntry struct {
	Node  *Node  `json:"node"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// unresolvedRef is a [[…]] reference that names no live node.
type unresolvedRef struct {
	Target string `json:"target"`
	Label  string `json:"label"`
}

// linksResult is the reply of links.
type linksResult struct {
	Node       *Node           `json:"node"`
	Outgoing   []linkEntry     `json:"outgoing"`
	Backlinks  []linkEntry     `json:"backlinks"`
	Unresolved []unresolvedRef `json:"unresolved"`
}

func (s *Store) rpcLinkList(ctx context.Context, params json.RawMessage) (any, error) {
	n, err := s.nodeParam(ctx, params)
	if err != nil {
		return nil, err
	}
	id := n.ID
	res := linksResult{Node: n, Outgoing: []linkEntry{}, Backlinks: []linkEntry{}, Unresolved: []unresolvedRef{}}
	if res.Outgoing, err = linkEntries(ctx, s.db, `l.dst`, `l.src=?`, id); err != nil {
		return nil, err
	}
	if res.Backlinks, err = linkEntries(ctx, s.db, `l.src`, `l.dst=?`, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT target, label FROM wiki_refs WHERE src=? AND dst IS NULL ORDER BY pos`, id)
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var u unresolvedRef
		if err := rows.Scan(&u.Target, &u.Label); err != nil {
			return nil, fmt.Errorf("links of %s: %w", id, err)
		}
		res.Unresolved = append(res.Unresolved, u)
	}
	return res, rows.Err()
}

// linkEntries lists the live nodes on the other end (other) of the links
// matching where, sorted by kind then title.
func linkEntries(ctx context.Context, q querier, other, where, id string) ([]linkEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+other+`, l.kind, l.label FROM links l WHERE `+where, id)
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", id, err)
	}
	type raw struct{ id, kind, label string }
	var found []raw
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.id, &r.kind, &r.label); err != nil {
			rows.Close()
			return nil, fmt.Errorf("links of %s: %w", id, err)
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("links of %s: %w", id, err)
	}
	out := []linkEntry{}
	for _, r := range found {
		n, err := getNode(ctx, q, r.id)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n.Deleted != nil {
			continue
		}
		out = append(out, linkEntry{Node: n, Kind: r.kind, Label: r.label})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		if out[i].Node.Title != out[j].Node.Title {
			return out[i].Node.Title < out[j].Node.Title
		}
		return out[i].Node.ID < out[j].Node.ID
	})
	return out, nil
}

// hasWikiRefs reports whether the store may hold wiki references. It asks
// the store once per transaction; a reference written since makes it true.
// A store without references (a fresh import) then skips the lookups that
// keep them resolved.
func (t *Tx) hasWikiRefs() (bool, error) {
	if !t.wikiRefsKnown {
		var n int
		if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM wiki_refs)`).Scan(&n); err != nil {
			return false, err
		}
		t.wikiRefsKnown, t.wikiRefs = true, n != 0
	}
	return t.wikiRefs, nil
}
