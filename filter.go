// filter.go owns the task filter language: parsing it and compiling it to indexed SQL.

package main

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode"
)

// A filter is terms joined by "and" (implicit) and "or", grouped with
// parentheses; "and" binds tighter than "or". Terms (docs/protocol.md,
// "Filters"):
//
//	project:NAME        the project (name, path, handle or id) and its sub-projects; project:none
//	attention:red,orange  any of the levels (white orange red blue, a1..a4, p1..p4)
//	state:done          outstanding, done, dropped or all (default: outstanding)
//	+tag / -tag         has / lacks the tag
//	do:DATE  late:DATE  created:DATE   on that day; do:none, late:none
//	do.before:DATE …    before / after that instant (heph date syntax)
//	recurring           has a recurrence
//	text:WORD           title or context matches (full-text, prefix)
//
// Compiled, every condition is on the tasks row (t) or its node (n) and
// the query always says t.node_deleted IS NULL and names states as
// literals, so SQLite can use the partial indexes of migrations 2 and 6:
// project: becomes t.project_id IN (…) (tasks_project), attention: and
// state: become literal IN lists (tasks_state, tasks_next).

// filterKeys are the keys a term may have, in the order errors list them.
func filterKeys() []string {
	return []string{"project", "attention", "state", "do", "do.before", "do.after",
		"late", "late.before", "late.after", "created", "created.before", "created.after", "text", "tag"}
}

// filterNode is a parsed filter: a term, or an and/or of children.
type filterNode struct {
	op       string // "and", "or" or "" for a term
	children []*filterNode
	key      string // project, attention, ..., tag, recurring
	value    string
	neg      bool // -tag
}

// filterError is a bad filter, reported as invalid params.
func filterError(format string, args ...any) error {
	return invalidParams("bad filter: "+format, args...)
}

// tokenizeFilter splits a filter into words, parentheses and quoted
// strings (quotes keep spaces and parentheses; the quotes are dropped).
func tokenizeFilter(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	flush := func() {
		if have {
			out = append(out, cur.String())
			cur.Reset()
			have = false
		}
	}
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, have = !inQuote, true
		case inQuote:
			cur.WriteRune(r)
		case unicode.IsSpace(r):
			flush()
		case r == '(' || r == ')':
			flush()
			out = append(out, string(r))
		case unicode.IsControl(r):
			return nil, filterError("control character in %q", s)
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return nil, filterError("unterminated quote in %q", s)
	}
	flush()
	return out, nil
}

// parseFilter parses a filter; "" gives nil (everything).
func parseFilter(s string) (*filterNode, error) {
	toks, err := tokenizeFilter(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, nil
	}
	p := &filterParser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, filterError("unexpected %q (a \")\" without its \"(\"?)", p.toks[p.pos])
	}
	return n, nil
}

type filterParser struct {
	toks []string
	pos  int
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) or() (*filterNode, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	n := &filterNode{op: "or", children: []*filterNode{first}}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		next, err := p.and()
		if err != nil {
			return nil, err
		}
		n.children = append(n.children, next)
	}
	if len(n.children) == 1 {
		return first, nil
	}
	return n, nil
}

func (p *filterParser) and() (*filterNode, error) {
	n := &filterNode{op: "and"}
	for {
		t := p.peek()
		switch {
		case t == "" || t == ")" || strings.EqualFold(t, "or"):
			if len(n.children) == 0 {
				if t == "" {
					return nil, filterError("a term is missing at the end")
				}
				return nil, filterError("a term is missing before %q", t)
			}
			if len(n.children) == 1 {
				return n.children[0], nil
			}
			return n, nil
		case strings.EqualFold(t, "and"):
			p.pos++
			if len(n.children) == 0 {
				return nil, filterError("\"and\" needs a term before it")
			}
			continue
		case t == "(":
			p.pos++
			inner, err := p.or()
			if err != nil {
				return nil, err
			}
			if p.peek() != ")" {
				return nil, filterError("\"(\" without its \")\"")
			}
			p.pos++
			n.children = append(n.children, inner)
		default:
			p.pos++
			term, err := parseFilterTerm(t)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, term)
		}
	}
}

// parseFilterTerm parses one word: +tag, -tag, recurring or key:value.
func parseFilterTerm(t string) (*filterNode, error) {
	switch {
	case strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-"):
		tag, err := normalizeTag(t[1:])
		if err != nil || t[1:] == "" {
			return nil, filterError("bad tag term %q: want +tag or -tag", t)
		}
		return &filterNode{key: "tag", value: tag, neg: t[0] == '-'}, nil
	case strings.EqualFold(t, "recurring"):
		return &filterNode{key: "recurring"}, nil
	}
	i := strings.IndexByte(t, ':')
	if i < 0 {
		return nil, filterError("unknown term %q: want key:value with a key among %s, or +tag, -tag, recurring, or, ( ) (text:%s searches for a word)",
			t, strings.Join(filterKeys(), ", "), t)
	}
	key, value := strings.ToLower(t[:i]), strings.TrimSpace(t[i+1:])
	known := false
	for _, k := range filterKeys() {
		known = known || k == key
	}
	if !known {
		return nil, filterError("unknown key %q: valid keys are %s (and +tag, -tag, recurring)", key, strings.Join(filterKeys(), ", "))
	}
	if value == "" {
		return nil, filterError("%s: needs a value", key)
	}
	if key == "tag" {
		tag, err := normalizeTag(value)
		if err != nil {
			return nil, filterError("tag:%s: %v", value, err)
		}
		value = tag
	}
	return &filterNode{key: key, value: value}, nil
}

// compiledFilter is a filter as SQL over tasks t and nodes n.
type compiledFilter struct {
	where string // conditions, starting with " AND "
	args  []any
	next  bool // the next view: ranked as task.next ranks, not sorted
}

// filterCompiler holds what compiling needs: the store (projects) and now.
type filterCompiler struct {
	ctx      context.Context
	q        querier
	now      time.Time
	projects []projectRef
	state    bool // some term names a state
}

// compileFilter compiles a filter text plus any extra terms (the legacy
// project and tag params) to SQL. Without a state: term the filter means
// outstanding tasks. Deleted tasks never match.
func compileFilter(ctx context.Context, q querier, text string, now time.Time, extra ...*filterNode) (*compiledFilter, error) {
	root, err := parseFilter(text)
	if err != nil {
		return nil, err
	}
	all := &filterNode{op: "and"}
	if root != nil {
		all.children = append(all.children, root)
	}
	all.children = append(all.children, extra...)
	c := &filterCompiler{ctx: ctx, q: q, now: now}
	var b strings.Builder
	var args []any
	b.WriteString(" AND t.node_deleted IS NULL")
	if len(all.children) > 0 {
		w, a, err := c.compile(all)
		if err != nil {
			return nil, err
		}
		if !c.state {
			b.WriteString(" AND t.state = 'outstanding'")
		}
		b.WriteString(" AND " + w)
		args = a
	} else {
		b.WriteString(" AND t.state = 'outstanding'")
	}
	return &compiledFilter{where: b.String(), args: args}, nil
}

// compile returns n's condition and its args.
func (c *filterCompiler) compile(n *filterNode) (string, []any, error) {
	if n.op != "" {
		parts := make([]string, 0, len(n.children))
		var args []any
		for _, ch := range n.children {
			w, a, err := c.compile(ch)
			if err != nil {
				return "", nil, err
			}
			parts = append(parts, w)
			args = append(args, a...)
		}
		sep := " AND "
		if n.op == "or" {
			sep = " OR "
		}
		return "(" + strings.Join(parts, sep) + ")", args, nil
	}
	return c.term(n)
}

// term compiles one term.
func (c *filterCompiler) term(n *filterNode) (string, []any, error) {
	switch n.key {
	case "tag":
		// tags holds a JSON array written by encoding/json without
		// spaces: an element starts after "[" or "," with an unescaped
		// quote, which cannot occur inside a string, so "[" or "," plus
		// the tag's JSON string (same encoder) occurs exactly when the
		// tag is an element. instr is far cheaper than json_each.
		needle, err := json.Marshal(n.value)
		if err != nil {
			return "", nil, filterError("tag %q: %v", n.value, err)
		}
		q := `(instr(t.tags, ?) > 0 OR instr(t.tags, ?) > 0)`
		if n.neg {
			q = `(instr(t.tags, ?) = 0 AND instr(t.tags, ?) = 0)`
		}
		return q, []any{"[" + string(needle), "," + string(needle)}, nil
	case "recurring":
		return `t.recur != ''`, nil, nil
	case "project":
		return c.project(n.value)
	case "attention":
		return c.attention(n.value)
	case "state":
		return c.stateTerm(n.value)
	case "text":
		return c.text(n.value)
	}
	return c.date(n.key, n.value)
}

func (c *filterCompiler) project(v string) (string, []any, error) {
	if strings.EqualFold(v, "none") {
		return `t.project_id = ''`, nil, nil
	}
	if c.projects == nil {
		all, err := projectIndexOf(c.ctx, c.q)
		if err != nil {
			return "", nil, err
		}
		c.projects = all
	}
	p, err := resolveProjectIn(c.ctx, c.q, c.projects, v)
	if err != nil {
		return "", nil, filterError("project:%s: %v", v, strings.TrimPrefix(err.Error(), "invalid params: "))
	}
	ids := projectSubtree(c.projects, p.ID)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return `t.project_id IN (?` + strings.Repeat(",?", len(ids)-1) + `)`, args, nil
}

// literalList checks each comma-separated value with check and returns
// them as an SQL list of literals (safe: check returns known words only).
func literalList(v string, check func(string) (string, error)) (string, error) {
	seen := map[string]bool{}
	var out []string
	for _, part := range strings.Split(v, ",") {
		w, err := check(strings.ToLower(strings.TrimSpace(part)))
		if err != nil {
			return "", err
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, "'"+w+"'")
		}
	}
	sort.Strings(out)
	return strings.Join(out, ","), nil
}

func (c *filterCompiler) attention(v string) (string, []any, error) {
	list, err := literalList(v, func(w string) (string, error) {
		switch w {
		case "p1":
			return "red", nil
		case "p2":
			return "orange", nil
		case "p3":
			return "blue", nil
		case "p4":
			return "white", nil
		}
		if a, err := normalizeAttention(w); err == nil {
			return a, nil
		}
		return "", filterError("attention:%s: unknown level %q: want red, orange, white, blue (or p1..p4, a1..a4), comma-separated", v, w)
	})
	if err != nil {
		return "", nil, err
	}
	return `t.attention IN (` + list + `)`, nil, nil
}

func (c *filterCompiler) stateTerm(v string) (string, []any, error) {
	c.state = true
	if strings.EqualFold(v, "all") {
		return `1`, nil, nil
	}
	list, err := literalList(v, func(w string) (string, error) {
		switch w {
		case "outstanding", "done", "dropped":
			return w, nil
		}
		return "", filterError("state:%s: unknown state %q: want outstanding, done, dropped or all", v, w)
	})
	if err != nil {
		return "", nil, err
	}
	return `t.state IN (` + list + `)`, nil, nil
}

// text matches the word (as a prefix) in the task's title or body or in
// its context doc, through the full-text index: one index lookup, not a
// scan of every node.
func (c *filterCompiler) text(v string) (string, []any, error) {
	q := quoteFTSWords(v)
	if q == "" {
		return "", nil, filterError("text:%s: no word to search for", v)
	}
	match := q + "*"
	if strings.Contains(q, " ") {
		match = q // several words: all must match
	}
	const hits = `(SELECT r.node FROM search_fts JOIN search_rows r ON r.rowid = search_fts.rowid WHERE search_fts MATCH ?)`
	return `(t.node_id IN ` + hits + ` OR t.context_id IN ` + hits + `)`, []any{match, match}, nil
}

// dateColumn is the column of a date key (do, late, created).
func dateColumn(key string) string {
	switch key {
	case "do":
		return "t.do_at"
	case "late":
		return "t.late_at"
	}
	return "t.node_created"
}

// date compiles do, late and created terms: KEY:none, KEY:DAY (that day),
// KEY.before:DATE and KEY.after:DATE.
func (c *filterCompiler) date(key, v string) (string, []any, error) {
	base, mod, _ := strings.Cut(key, ".")
	col := dateColumn(base)
	if strings.EqualFold(v, "none") {
		if mod != "" || base == "created" {
			return "", nil, filterError("%s:none: only do:none and late:none", key)
		}
		return col + ` IS NULL`, nil, nil
	}
	t, clear, err := parseDate(v, c.now)
	if err != nil || clear {
		msg := "none is not a date here"
		if err != nil {
			msg = err.Error()
		}
		return "", nil, filterError("%s:%s: %s", key, v, msg)
	}
	switch mod {
	case "before":
		return col + ` < ?`, []any{t.UnixMilli()}, nil
	case "after":
		return col + ` > ?`, []any{t.UnixMilli()}, nil
	}
	day := startOfDay(t.In(c.now.Location()))
	return `(` + col + ` >= ? AND ` + col + ` < ?)`, []any{day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli()}, nil
}

// legacyFilterTerms turns the project and tag params older clients send
// into filter terms.
func legacyFilterTerms(project, tag string) ([]*filterNode, error) {
	var out []*filterNode
	if p := strings.TrimSpace(project); p != "" {
		out = append(out, &filterNode{key: "project", value: p})
	}
	if tag != "" {
		t, err := normalizeTag(tag)
		if err != nil {
			return nil, err
		}
		out = append(out, &filterNode{key: "tag", value: t})
	}
	return out, nil
}

// attentionRank orders attention as the tasks.arank column does (red,
// orange, white, blue; migration 2): sorts use it because SQLite cannot
// read a virtual column from a covering index (TestAttentionRankIsArank).
const attentionRank = `CASE t.attention WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'white' THEN 2 ELSE 3 END`

// filterSort is the ORDER BY of a sort a list or saved view may use.
func filterSort(name string) (string, bool) {
	switch name {
	case "created":
		return `t.node_created, t.node_id`, true
	case "do":
		return `t.do_at IS NULL, t.do_at, ` + attentionRank + `, t.node_created, t.node_id`, true
	case "late":
		return `t.late_at IS NULL, t.late_at, ` + attentionRank + `, t.node_created, t.node_id`, true
	case "title":
		return `n.title COLLATE NOCASE, t.node_id`, true
	case "next":
		// Late ones first (most late first), then by attention, oldest first.
		return `(t.late_at IS NULL OR t.late_at > ?), t.late_at, ` + attentionRank + `, t.node_created, t.node_id`, true
	}
	return "", false
}

// sortClause is the ORDER BY of a sort name ("" is created) and its args.
func sortClause(name string, now time.Time) (string, []any, error) {
	if name == "" {
		name = "created"
	}
	o, ok := filterSort(strings.ToLower(name))
	if !ok {
		return "", nil, invalidParams("unknown sort %q: want next, do, late, created or title", name)
	}
	if strings.Contains(o, "?") {
		return ` ORDER BY ` + o, []any{now.UnixMilli()}, nil
	}
	return ` ORDER BY ` + o, nil, nil
}
