// Quick add: parsing one line of text into a task's fields (task.parse, task.quickadd, heph add).

package main

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The quick-add grammar (README "Quick add", docs/protocol.md). Words are
// read left to right; each word or phrase that is understood sets a field,
// the first of its kind wins, and everything else stays in the title,
// unchanged and in order:
//
//   - p1 red, p2 orange, p3 blue (on deck), p4 white;
//   - #Project or #Home/Garden: an existing project by path or name,
//     case-insensitive; a name of several words by longest match
//     (#Camano Chores); an unknown #word stays in the title;
//   - +tag (a word starting with a letter; +3d is a date);
//   - a date form of --do sets the do date (tomorrow, fri, on fri, in 3d,
//     +3d, next week, dec 24, 2026-12-24 9:00); "late DATE" or "by DATE"
//     sets the late date;
//   - a recurrence: every … (every 3 days, every mon,thu, every 2 weeks on
//     mon), daily, weekly, monthly, yearly, weekdays, weekends, ...; "after
//     done" counts it from completion;
//   - "quoted words" stay in the title as typed, quotes included; a
//     backslash before a word keeps that word (without the backslash).
//
// It never guesses a date inside a phrase meant as text: a date form must be
// a whole word (Friday's is no date), a bare count such as 3d needs its
// sign or "in" (3d printer), a date word after a determiner (the friday
// report) is text, as is a capitalized one followed by another capitalized
// word (Friday Night Lights); a bare recurrence adjective (weekly) counts
// only at the end or before another understood word (weekly report is text).

// quickAddProject is the project a parse matched.
type quickAddProject struct {
	ID   string `json:"id,omitempty"`
	Path string `json:"path"`
}

// quickAddToken is one understood word or phrase, or one title word.
type quickAddToken struct {
	Text string `json:"text"`
	Role string `json:"role"` // title, attention, project, tag, do, late or recur
}

// quickAddResult is what task.parse returns: the fields task.quickadd
// would create the task with.
type quickAddResult struct {
	Title          string           `json:"title"`
	Attention      string           `json:"attention,omitempty"`
	Project        *quickAddProject `json:"project,omitempty"`
	Tags           []string         `json:"tags"`
	Do             *time.Time       `json:"do,omitempty"`
	Late           *time.Time       `json:"late,omitempty"`
	Recur          string           `json:"recur,omitempty"`
	RecurAfterDone bool             `json:"recur_after_done,omitempty"`
	Tokens         []quickAddToken  `json:"tokens"`
}

// qaWord is one word of the input: its text as typed and whether quoting
// or a backslash made it literal (title, whatever it says).
type qaWord struct {
	raw     string // as typed
	title   string // as it goes into the title
	literal bool
}

// quickAddMaxSpan is the longest phrase (in words) the parser tries for a
// project name, a date or a recurrence.
const quickAddMaxSpan = 7

// parseQuickAdd parses text into task fields. now (and its location) is
// what relative dates count from; projects are the projects #Project may
// name. It is pure: it reads nothing else and never fails; what it does not
// understand stays in the title.
func parseQuickAdd(text string, now time.Time, projects []projectRef) quickAddResult {
	p := &qaParser{words: splitQuickAdd(text), now: now, projects: indexProjects(projects)}
	p.run()
	return p.res
}

// qaProjectIndex finds projects by lower-cased path and by lower-cased name.
type qaProjectIndex struct {
	byPath map[string]projectRef
	byName map[string][]projectRef
}

func indexProjects(projects []projectRef) qaProjectIndex {
	ix := qaProjectIndex{byPath: map[string]projectRef{}, byName: map[string][]projectRef{}}
	for _, pr := range projects {
		ix.byPath[strings.ToLower(pr.Path)] = pr
		name := strings.ToLower(pr.Title)
		ix.byName[name] = append(ix.byName[name], pr)
	}
	return ix
}

// find finds the project whose path, else whose name, is want
// (lower-cased); a name several projects share finds nothing.
func (ix qaProjectIndex) find(want string) (projectRef, bool) {
	if pr, ok := ix.byPath[want]; ok {
		return pr, true
	}
	if prs := ix.byName[want]; len(prs) == 1 {
		return prs[0], true
	}
	return projectRef{}, false
}

// splitQuickAdd splits text into words at white space. A word that starts
// with a double quote runs to the closing quote (and on to the next space),
// so "next week" is one literal word; an unclosed quote is an ordinary
// character. A word that starts with a backslash is literal without it.
func splitQuickAdd(text string) []qaWord {
	var out []qaWord
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		end := wordEnd(text, i)
		switch {
		case text[i] == '"':
			if j := strings.IndexByte(text[i+1:], '"'); j >= 0 {
				end = wordEnd(text, i+1+j)
				out = append(out, qaWord{raw: text[i:end], title: text[i:end], literal: true})
				i = end
				continue
			}
		case text[i] == '\\' && end > i+1:
			out = append(out, qaWord{raw: text[i:end], title: text[i+1 : end], literal: true})
			i = end
			continue
		}
		out = append(out, qaWord{raw: text[i:end], title: text[i:end]})
		i = end
	}
	return out
}

// wordEnd is the index of the first white space at or after i (or the end).
func wordEnd(s string, i int) int {
	for j, r := range s[i:] {
		if unicode.IsSpace(r) {
			return i + j
		}
	}
	return len(s)
}

// qaParser holds one parse.
type qaParser struct {
	words    []qaWord
	now      time.Time
	projects qaProjectIndex
	res      quickAddResult
	// titles holds, for each token, the text it adds to the title when
	// its role is title.
	titles []string
}

// qaMatch is an understood phrase: n words with a role, and what it sets.
type qaMatch struct {
	n     int
	role  string
	apply func(r *quickAddResult)
}

func (p *qaParser) run() {
	p.res.Tags = []string{}
	p.res.Tokens = []quickAddToken{}
	afterDone := -1
	for i := 0; i < len(p.words); {
		m, ok := p.match(i, false)
		if !ok {
			m = qaMatch{n: 1, role: "title"}
		} else {
			m.apply(&p.res)
		}
		if m.role == "recur" && strings.EqualFold(p.words[i].raw, "after") {
			afterDone = len(p.res.Tokens)
		}
		titles := make([]string, m.n)
		for k := range titles {
			titles[k] = p.words[i+k].title
		}
		p.titles = append(p.titles, strings.Join(titles, " "))
		p.res.Tokens = append(p.res.Tokens, quickAddToken{Text: p.phrase(i, m.n), Role: m.role})
		i += m.n
	}
	if afterDone >= 0 && p.res.Recur == "" {
		// "after done" without a recurrence means nothing: it is text.
		p.res.RecurAfterDone = false
		p.res.Tokens[afterDone].Role = "title"
	}
	var title []string
	for k, t := range p.res.Tokens {
		if t.Role == "title" {
			title = append(title, p.titles[k])
		}
	}
	p.res.Title = strings.Join(title, " ")
	if tags, err := normalizeTags(p.res.Tags); err == nil {
		p.res.Tags = tags
	}
}

// phrase is words i..i+n as typed, joined by single spaces.
func (p *qaParser) phrase(i, n int) string {
	parts := make([]string, n)
	for k := range parts {
		parts[k] = p.words[i+k].raw
	}
	return strings.Join(parts, " ")
}

// span is the lower-cased text of words i..i+n, or ok=false when the span
// runs past the end or holds a literal word.
func (p *qaParser) span(i, n int) (string, bool) {
	if i+n > len(p.words) {
		return "", false
	}
	parts := make([]string, n)
	for k := range parts {
		w := p.words[i+k]
		if w.literal {
			return "", false
		}
		parts[k] = strings.ToLower(w.raw)
	}
	return strings.Join(parts, " "), true
}

// match tries every rule at word i. lookahead asks only whether some rule
// would match (fields already set do not stop it, and the lookahead rules
// themselves are not applied).
func (p *qaParser) match(i int, lookahead bool) (qaMatch, bool) {
	if p.words[i].literal {
		return qaMatch{}, false
	}
	for _, rule := range []func(int, bool) (qaMatch, bool){
		p.matchAttention, p.matchProject, p.matchTag, p.matchLate, p.matchRecur, p.matchAfterDone, p.matchDo,
	} {
		if m, ok := rule(i, lookahead); ok {
			return m, true
		}
	}
	return qaMatch{}, false
}

// quickAttention maps p1..p4 to attention levels (the original's mapping).
func quickAttention(w string) string {
	switch w {
	case "p1":
		return "red"
	case "p2":
		return "orange"
	case "p3":
		return "blue"
	case "p4":
		return "white"
	}
	return ""
}

func (p *qaParser) matchAttention(i int, lookahead bool) (qaMatch, bool) {
	a := quickAttention(strings.ToLower(p.words[i].raw))
	if a == "" || (!lookahead && p.res.Attention != "") {
		return qaMatch{}, false
	}
	return qaMatch{n: 1, role: "attention", apply: func(r *quickAddResult) { r.Attention = a }}, true
}

// matchProject matches #Name or #Path against the projects, longest phrase
// first; a path match beats a name match, and a name that several projects
// share matches none (it stays in the title rather than guessing).
func (p *qaParser) matchProject(i int, lookahead bool) (qaMatch, bool) {
	w := p.words[i].raw
	if len(w) < 2 || w[0] != '#' || (!lookahead && p.res.Project != nil) {
		return qaMatch{}, false
	}
	for n := min(quickAddMaxSpan, len(p.words)-i); n >= 1; n-- {
		s, ok := p.span(i, n)
		if !ok {
			continue
		}
		want := strings.Trim(s[1:], "/")
		if pr, ok := p.projects.find(want); ok {
			return qaMatch{n: n, role: "project", apply: func(r *quickAddResult) {
				r.Project = &quickAddProject{ID: pr.ID, Path: pr.Path}
			}}, true
		}
	}
	return qaMatch{}, false
}

func (p *qaParser) matchTag(i int, _ bool) (qaMatch, bool) {
	w := p.words[i].raw
	if len(w) < 2 || w[0] != '+' {
		return qaMatch{}, false
	}
	r, _ := utf8.DecodeRuneInString(w[1:])
	if !unicode.IsLetter(r) {
		return qaMatch{}, false
	}
	tag, err := normalizeTag(w)
	if err != nil {
		return qaMatch{}, false
	}
	return qaMatch{n: 1, role: "tag", apply: func(r *quickAddResult) { r.Tags = append(r.Tags, tag) }}, true
}

// matchLate reads "late DATE" and "by DATE".
func (p *qaParser) matchLate(i int, lookahead bool) (qaMatch, bool) {
	w := strings.ToLower(p.words[i].raw)
	if (w != "late" && w != "by") || i+1 >= len(p.words) {
		return qaMatch{}, false
	}
	n, t, ok := p.dateAt(i+1, false)
	if !ok {
		return qaMatch{}, false
	}
	if !lookahead && p.res.Late != nil {
		// A second late date stays in the title whole, rather than
		// leaving its date to be read as the do date.
		return qaMatch{n: 1 + n, role: "title", apply: func(*quickAddResult) {}}, true
	}
	return qaMatch{n: 1 + n, role: "late", apply: func(r *quickAddResult) { r.Late = &t }}, true
}

// matchDo reads a date form, optionally after "on" (on fri).
func (p *qaParser) matchDo(i int, lookahead bool) (qaMatch, bool) {
	if !lookahead && p.res.Do != nil {
		return qaMatch{}, false
	}
	skip := 0
	if strings.EqualFold(p.words[i].raw, "on") && i+1 < len(p.words) {
		skip = 1
	}
	// The name guard looks at the next word; a lookahead does not, so
	// guards never chain along a run of date words.
	n, t, ok := p.dateAt(i+skip, skip == 0 && !lookahead)
	if !ok {
		return qaMatch{}, false
	}
	return qaMatch{n: skip + n, role: "do", apply: func(r *quickAddResult) { r.Do = &t }}, true
}

// isDeterminer reports whether w makes the date word after it part of a
// noun phrase (the friday report, flights for march 3).
func isDeterminer(w string) bool {
	switch strings.ToLower(w) {
	case "the", "a", "an", "this", "that", "these", "those", "my", "your", "his", "her",
		"our", "their", "its", "each", "last", "per", "of", "for":
		return true
	}
	return false
}

// dateAt reads the longest date form that starts at word i and returns its
// length in words. guard applies the text rules (a determiner before, a
// capitalized name) that keep a date word in the title.
func (p *qaParser) dateAt(i int, guard bool) (int, time.Time, bool) {
	if i >= len(p.words) {
		return 0, time.Time{}, false
	}
	if guard && i > 0 && !p.words[i-1].literal && isDeterminer(p.words[i-1].raw) {
		return 0, time.Time{}, false
	}
	if !mayStartDate(strings.ToLower(p.words[i].raw)) {
		return 0, time.Time{}, false
	}
	for n := min(3, len(p.words)-i); n >= 1; n-- {
		s, ok := p.span(i, n)
		if !ok || !quickDateForm(s) {
			continue
		}
		t, clear, err := parseDate(s, p.now)
		if err != nil || clear {
			continue
		}
		if guard && p.looksLikeName(i, n) {
			return 0, time.Time{}, false
		}
		return n, t, true
	}
	return 0, time.Time{}, false
}

// mayStartDate reports whether a date form can start with word w (lower
// case), so most title words cost no date parse.
func mayStartDate(w string) bool {
	if w == "" {
		return false
	}
	if strings.ContainsRune("0123456789+-", rune(w[0])) {
		return true
	}
	switch w {
	case "today", "tomorrow", "yesterday", "next", "in":
		return true
	}
	if _, ok := weekdayByName(w); ok {
		return true
	}
	_, ok := monthNamed(w)
	return ok
}

// quickDateForm refuses the date forms quick add does not take from text:
// "now" and "none" (words of ordinary sentences) and a bare count without
// its sign or "in" (3d printer, 2m cable).
func quickDateForm(s string) bool {
	if s == "now" || s == "none" {
		return false
	}
	if strings.ContainsAny(s[:1], "0123456789") && !strings.Contains(s, "-") && !strings.Contains(s, "ago") {
		if _, _, ok, _ := parseOffset(strings.Fields(s)[0]); ok {
			return false
		}
	}
	return true
}

// looksLikeName reports whether a date phrase of n words at i is part of
// a name: it starts with a capital and the next word (not understood
// otherwise) does too (Friday Night Lights, Tomorrow Never Dies).
func (p *qaParser) looksLikeName(i, n int) bool {
	if !startsUpper(p.words[i].raw) || i+n >= len(p.words) {
		return false
	}
	next := p.words[i+n]
	if !startsUpper(next.raw) {
		return false
	}
	_, understood := p.match(i+n, true)
	return !understood
}

func startsUpper(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// isRecurWord reports whether w is a one-word recurrence. As adjectives
// these often describe the thing (weekly report), so alone they count only
// at the end or before another understood word.
func isRecurWord(w string) bool {
	switch w {
	case "daily", "weekly", "monthly", "yearly", "annually", "weekdays", "weekends",
		"fortnightly", "biweekly", "quarterly":
		return true
	}
	return false
}

func (p *qaParser) matchRecur(i int, lookahead bool) (qaMatch, bool) {
	if !lookahead && p.res.Recur != "" {
		return qaMatch{}, false
	}
	w := strings.ToLower(p.words[i].raw)
	if isRecurWord(w) {
		if !lookahead && i+1 < len(p.words) {
			if _, ok := p.match(i+1, true); !ok {
				return qaMatch{}, false
			}
		}
		return p.recurMatch(w, 1)
	}
	if w != "every" {
		return qaMatch{}, false
	}
	for n := min(quickAddMaxSpan, len(p.words)-i); n >= 2; n-- {
		s, ok := p.span(i, n)
		if !ok {
			continue
		}
		if _, isPreset, err := parsePreset(s); isPreset && err == nil {
			return p.recurMatch(s, n)
		}
	}
	return qaMatch{}, false
}

// recurMatch is a recurrence phrase of n words, stored in canonical form.
func (p *qaParser) recurMatch(s string, n int) (qaMatch, bool) {
	rule, err := normalizeRecur(s)
	if err != nil || rule == "" {
		return qaMatch{}, false
	}
	return qaMatch{n: n, role: "recur", apply: func(r *quickAddResult) { r.Recur = rule }}, true
}

func (p *qaParser) matchAfterDone(i int, lookahead bool) (qaMatch, bool) {
	s, ok := p.span(i, 2)
	if !ok || s != "after done" || (!lookahead && p.res.RecurAfterDone) {
		return qaMatch{}, false
	}
	return qaMatch{n: 2, role: "recur", apply: func(r *quickAddResult) { r.RecurAfterDone = true }}, true
}
