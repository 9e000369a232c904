// Full-text search (SQLite FTS5) and node.search.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// Search is SQLite FTS5 over the title and body of live nodes (search_fts,
// kept in step with nodes by the triggers of migration 2). Results are
// ranked by bm25 with a title match weighing ten times a body match.
//
// A query is first tried as FTS5 syntax (phrases "…", prefix*, AND, OR,
// NOT, NEAR, column filters such as title:word). When it is not valid FTS5,
// it is searched again as plain words, each quoted, so "C++ (draft" finds
// what it says instead of failing.

// Snippet markers around matched terms.
const (
	snippetOpen  = "**"
	snippetClose = "**"
)

// searchHit is one result of search.
type searchHit struct {
	Node    *Node   `json:"node"`
	Snippet string  `json:"snippet"`
	Rank    float64 `json:"rank"` // bm25: lower (more negative) is better
}

type searchParams struct {
	Query string `json:"query"`
	Limit int    `json:"limit"`
	// Filter (filter.go), when set, keeps the tasks it matches and their
	// context docs.
	Filter string `json:"filter"`
}

func (s *Store) rpcNodeSearch(ctx context.Context, params json.RawMessage) (any, error) {
	p := searchParams{Limit: 20}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Query) == "" {
		return nil, invalidParams(`empty search query: give one or more words to search for ("a phrase", prefix*, a OR b, NOT c, title:word)`)
	}
	if p.Limit <= 0 || p.Limit > 1000 {
		return nil, invalidParams("param \"limit\" must be between 1 and 1000, not %d", p.Limit)
	}
	if strings.TrimSpace(p.Filter) != "" {
		f, err := compileFilter(ctx, s.db, p.Filter, s.now())
		if err != nil {
			return nil, err
		}
		return s.searchWithin(ctx, p.Query, p.Limit, f)
	}
	return s.search(ctx, p.Query, p.Limit)
}

// search runs query (FTS5 syntax, or plain words when that fails to parse).
func (s *Store) search(ctx context.Context, query string, limit int) ([]searchHit, error) {
	return s.searchWithin(ctx, query, limit, nil)
}

// searchWithin is search among the tasks f matches and their context
// docs (all nodes when f is nil).
func (s *Store) searchWithin(ctx context.Context, query string, limit int, f *compiledFilter) ([]searchHit, error) {
	hits, err := s.searchFTS(ctx, query, limit, f)
	if err == nil {
		return hits, nil
	}
	if !isFTSQueryError(err) {
		return nil, err
	}
	quoted := quoteFTSWords(query)
	if quoted == "" {
		return nil, invalidParams("search query %q has no words to search for", query)
	}
	hits, err2 := s.searchFTS(ctx, quoted, limit, f)
	if err2 != nil {
		if isFTSQueryError(err2) {
			return nil, invalidParams("bad search query %q: %v", query, err)
		}
		return nil, err2
	}
	return hits, nil
}

// isFTSQueryError tells a malformed query from a failing store.
func isFTSQueryError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"fts5:", "syntax error", "no such column", "unterminated string", "unknown special query"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// quoteFTSWords turns free text into an FTS5 query of quoted words that
// must all match, leaving out words without a letter or digit.
func quoteFTSWords(q string) string {
	var words []string
	for _, w := range strings.Fields(q) {
		if !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // FTS5 would find no token in it
		}
		words = append(words, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	return strings.Join(words, " ")
}

func (s *Store) searchFTS(ctx context.Context, match string, limit int, within *compiledFilter) ([]searchHit, error) {
	restrict := ""
	args := []any{snippetOpen, snippetClose, match}
	if within != nil {
		tasks := `FROM tasks t CROSS JOIN nodes n ON n.id = t.node_id WHERE 1` + within.where
		restrict = ` AND (r.node IN (SELECT t.node_id ` + tasks + `) OR r.node IN (SELECT t.context_id ` + tasks + `))`
		args = append(append(args, within.args...), within.args...)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.node, snippet(search_fts, -1, ?, ?, '…', 12), bm25(search_fts, 10.0, 1.0) AS rank
		FROM search_fts f JOIN search_rows r ON r.rowid = f.rowid
		WHERE search_fts MATCH ?`+restrict+` ORDER BY rank, r.node LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", match, err)
	}
	type raw struct {
		id, snippet string
		rank        float64
	}
	var found []raw
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.id, &r.snippet, &r.rank); err != nil {
			rows.Close()
			return nil, fmt.Errorf("search %q: %w", match, err)
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", match, err)
	}
	hits := []searchHit{}
	for _, r := range found {
		n, err := getNode(ctx, s.db, r.id)
		if err != nil {
			return nil, err
		}
		if n.Deleted != nil {
			continue
		}
		hits = append(hits, searchHit{Node: n, Snippet: r.snippet, Rank: r.rank})
	}
	return hits, nil
}

// flushSearch re-indexes the nodes this transaction changed (noted in
// search_dirty by triggers), so the index is current when Write commits.
func (t *Tx) flushSearch() error {
	var dirty int
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM search_dirty)`).Scan(&dirty); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	if dirty == 0 {
		return nil
	}
	for _, q := range []string{
		`DELETE FROM search_fts WHERE rowid IN (SELECT r.rowid FROM search_dirty d JOIN search_rows r ON r.node = d.node)`,
		`INSERT OR IGNORE INTO search_rows(node) SELECT node FROM search_dirty`,
		`INSERT INTO search_fts(rowid, title, body) SELECT r.rowid, n.title, n.body
			FROM search_dirty d JOIN search_rows r ON r.node = d.node JOIN nodes n ON n.id = d.node WHERE n.deleted IS NULL`,
		`DELETE FROM search_rows WHERE node IN (SELECT node FROM search_dirty) AND node NOT IN (SELECT id FROM nodes)`,
		`DELETE FROM search_dirty`,
	} {
		if _, err := t.exec(q); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}
