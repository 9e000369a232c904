// Decoding node-list replies (what list, view and next read) without reflection; anything else goes to encoding/json.

package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// decodeNodesFast decodes a reply line whose result is a list of nodes into
// *out exactly as json.Unmarshal would, and reports whether it did. It
// takes the shape hephd writes: every key spelled as Node's JSON tags
// spell it, each at most once, values of the tagged types. Anything else
// (an error reply, an unknown or repeated key, a number where a string
// belongs, bad JSON) makes it say false without touching *out, and
// decodeReply hands the line to encoding/json, which decides. A listing of
// a thousand tasks decodes about ten times faster this way, most of a
// listing's client time. FuzzDecodeNodesFast holds it to json.Unmarshal.
func decodeNodesFast(reply []byte, out *[]*Node) bool {
	if *out != nil {
		return false // json.Unmarshal would reuse the elements; keep to fresh slices
	}
	d := newNodeDecoder(reply)
	var nodes []*Node
	if !d.envelope(func() (ok bool) { nodes, ok = d.nodes(); return ok }) {
		return false
	}
	*out = nodes
	return true
}

// decodeRowsFast is decodeNodesFast for a table: it decodes each node into
// one scratch node and keeps only its row, so a listing takes the memory
// of its rows and not of its nodes. It gives what rowsOf gives for the
// nodes json.Unmarshal decodes (FuzzDecodeNodesFast), and says false for
// what decodeNodesFast would refuse.
func decodeRowsFast(reply []byte, out *[]taskRow) bool {
	d := newNodeDecoder(reply)
	var rows []taskRow
	if !d.envelope(func() bool { return d.rows(&rows) }) {
		return false
	}
	*out = rows
	return true
}

func newNodeDecoder(reply []byte) *nodeDecoder {
	d := &nodeDecoder{b: reply, words: make(map[string]string)}
	d.text.Grow(len(reply)) // never outgrown; the pages it leaves unused are never touched
	return d
}

// nodeDecoder reads JSON from b at i. It touches as little new memory as
// it can, since a one-shot CLI pays a page fault for each 4 KiB: strings
// that differ from node to node (ids, handles, titles) are copied into one
// shared buffer, those that repeat (keys, kinds, states, projects, tags)
// are interned, and nodes and tasks are cut from slabs.
type nodeDecoder struct {
	b        []byte
	i        int
	text     strings.Builder   // holds the strings that differ
	words    map[string]string // the interned strings
	nodeSlab []Node
	taskSlab []Task
	listSlab []string // the string lists (tags)
	words1   []string // one list while it is read
	// scratch, when set, has newNode and newTask return one node and one
	// task, emptied, every time (decodeRowsFast keeps rows, not nodes).
	scratch     bool
	scratchNode Node
	scratchTask Task
}

// slab is how many nodes (or tasks) one allocation holds.
const slab = 128

func (d *nodeDecoder) newNode() *Node {
	if d.scratch {
		d.scratchNode = Node{}
		return &d.scratchNode
	}
	if len(d.nodeSlab) == 0 {
		d.nodeSlab = make([]Node, slab)
	}
	n := &d.nodeSlab[0]
	d.nodeSlab = d.nodeSlab[1:]
	return n
}

func (d *nodeDecoder) newTask() *Task {
	if d.scratch {
		d.scratchTask = Task{}
		return &d.scratchTask
	}
	if len(d.taskSlab) == 0 {
		d.taskSlab = make([]Task, slab)
	}
	t := &d.taskSlab[0]
	d.taskSlab = d.taskSlab[1:]
	return t
}

// envelope reads {"jsonrpc":…,"id":…,"result":…} and nothing after it
// but whitespace; result reads the result.
func (d *nodeDecoder) envelope(result func() bool) bool {
	ok := d.object(func(key string) (uint, bool) {
		switch key {
		case "jsonrpc":
			_, ok := d.str(d.intern)
			return 0, ok
		case "id":
			return 1, d.scalarID()
		case "result":
			return 2, result()
		}
		return 0, false // "error", or anything unexpected: encoding/json's turn
	})
	d.space()
	return ok && d.i == len(d.b)
}

// nodes reads null or an array of nodes.
func (d *nodeDecoder) nodes() ([]*Node, bool) {
	nodes := []*Node{}
	null, ok := d.array(func() bool {
		n, ok := d.node()
		nodes = append(nodes, n)
		return ok
	})
	if null || !ok {
		return nil, ok
	}
	return nodes, true
}

// array reads null (null true) or [v, …], calling each to read every
// element.
func (d *nodeDecoder) array(each func() bool) (null, ok bool) {
	if d.null() {
		return true, true
	}
	if !d.eat('[') {
		return false, false
	}
	if d.eat(']') {
		return false, true
	}
	for {
		if !each() {
			return false, false
		}
		if !d.eat(',') {
			return false, d.eat(']')
		}
	}
}

// rows reads null or an array of nodes as rows.
func (d *nodeDecoder) rows(out *[]taskRow) bool {
	// A row takes at least this much of the reply (a brief task about
	// 180 bytes); pages the estimate leaves unused are never touched.
	rows := make([]taskRow, 0, len(d.b)/100+1)
	d.scratch = true
	null, ok := d.array(func() bool {
		n, ok := d.node()
		rows = append(rows, rowOf(n))
		return ok
	})
	if ok {
		*out = rows
		if null {
			*out = nil
		}
	}
	return ok
}

// node reads null or one node.
func (d *nodeDecoder) node() (*Node, bool) {
	if d.null() {
		return nil, true
	}
	n := d.newNode()
	return n, d.object(func(key string) (uint, bool) {
		switch key {
		case "id":
			return 0, d.textInto(&n.ID)
		case "handle":
			return 1, d.textInto(&n.Handle)
		case "kind":
			return 2, d.wordInto(&n.Kind)
		case "title":
			return 3, d.textInto(&n.Title)
		case "body":
			return 4, d.textInto(&n.Body)
		case "created":
			return 5, d.timeInto(&n.Created)
		case "updated":
			return 6, d.timeInto(&n.Updated)
		case "deleted":
			return 7, d.timePtr(&n.Deleted)
		case "task":
			return 8, optional(d, &n.Task, (*nodeDecoder).newTask, (*nodeDecoder).taskField)
		case "project":
			return 9, optional(d, &n.Project, newProjectFields, (*nodeDecoder).projectField)
		case "view":
			return 10, optional(d, &n.View, newViewFields, (*nodeDecoder).viewField)
		}
		return 0, false
	})
}

// taskField reads a task's field key.
func (d *nodeDecoder) taskField(t *Task, key string) (uint, bool) {
	switch key {
	case "state":
		return 0, d.wordInto(&t.State)
	case "attention":
		return 1, d.wordInto(&t.Attention)
	case "do":
		return 2, d.timePtr(&t.Do)
	case "late":
		return 3, d.timePtr(&t.Late)
	case "recur":
		return 4, d.wordInto(&t.Recur)
	case "recur_after_done":
		return 5, d.boolInto(&t.RecurAfterDone)
	case "occurrences":
		return 6, d.intInto(&t.Occurrences)
	case "project":
		return 7, d.wordInto(&t.Project)
	case "project_id":
		return 8, d.wordInto(&t.ProjectID)
	case "tags":
		return 9, d.stringList(&t.Tags)
	case "context":
		return 10, d.textInto(&t.Context)
	case "log":
		return 11, d.textInto(&t.Log)
	}
	return 0, false
}

// projectField reads a project's own field key.
func (d *nodeDecoder) projectField(f *ProjectFields, key string) (uint, bool) {
	switch key {
	case "parent":
		return 0, d.wordInto(&f.Parent)
	case "path":
		return 1, d.wordInto(&f.Path)
	case "archived":
		return 2, d.boolInto(&f.Archived)
	}
	return 0, false
}

// viewField reads a saved view's own field key.
func (d *nodeDecoder) viewField(f *ViewFields, key string) (uint, bool) {
	switch key {
	case "filter":
		return 0, d.wordInto(&f.Filter)
	case "sort":
		return 1, d.wordInto(&f.Sort)
	}
	return 0, false
}

// optional reads null (*p nil) or an object into a fresh value, field by
// field. fresh and field are plain functions, not method values, which
// would be allocated for every node.
func optional[T any](d *nodeDecoder, p **T, fresh func(*nodeDecoder) *T, field func(*nodeDecoder, *T, string) (uint, bool)) bool {
	if d.null() {
		*p = nil
		return true
	}
	v := fresh(d)
	*p = v
	return d.object(func(key string) (uint, bool) { return field(d, v, key) })
}

func newProjectFields(*nodeDecoder) *ProjectFields { return &ProjectFields{} }
func newViewFields(*nodeDecoder) *ViewFields       { return &ViewFields{} }

// object reads {…}, calling field for each key with the reader at its
// value. field reads the value and returns the key's number (below 64) and
// whether all went well; an unknown key is not well, and neither is a key
// seen before (json.Unmarshal merges repeats in ways not worth copying).
func (d *nodeDecoder) object(field func(key string) (uint, bool)) bool {
	if !d.eat('{') {
		return false
	}
	if d.eat('}') {
		return true
	}
	var seen uint64
	for {
		key, ok := d.str(keyName)
		if !ok || !d.eat(':') {
			return false
		}
		bit, ok := field(key)
		if !ok || seen&(1<<bit) != 0 {
			return false
		}
		seen |= 1 << bit
		if d.eat(',') {
			continue
		}
		return d.eat('}')
	}
}

// stringList reads null (nil) or an array of strings ([] is empty, not
// nil). The lists are cut from one slab, not allocated one by one.
func (d *nodeDecoder) stringList(p *[]string) bool {
	d.words1 = d.words1[:0]
	null, ok := d.array(func() bool {
		var w string
		ok := d.wordInto(&w)
		d.words1 = append(d.words1, w)
		return ok
	})
	switch {
	case !ok:
		return false
	case null:
		*p = nil
		return true
	case len(d.words1) == 0:
		*p = []string{}
		return true
	}
	n := len(d.words1)
	if cap(d.listSlab)-len(d.listSlab) < n {
		d.listSlab = make([]string, 0, max(n, 4*slab))
	}
	start := len(d.listSlab)
	d.listSlab = append(d.listSlab, d.words1...)
	*p = d.listSlab[start : start+n : start+n]
	return true
}

// textInto reads a string that differs from node to node into p; null
// leaves p as it is (as json.Unmarshal does for a non-pointer).
func (d *nodeDecoder) textInto(p *string) bool {
	if d.null() {
		return true
	}
	v, ok := d.str(d.keep)
	*p = v
	return ok
}

// wordInto is textInto for a string that repeats across nodes.
func (d *nodeDecoder) wordInto(p *string) bool {
	if d.null() {
		return true
	}
	v, ok := d.str(d.intern)
	*p = v
	return ok
}

// keep copies raw into the shared text buffer. Strings taken from it stay
// valid: a Builder never rewrites what it has written.
func (d *nodeDecoder) keep(raw []byte) string {
	start := d.text.Len()
	d.text.Write(raw)
	return d.text.String()[start:]
}

// keyName is a key as a string: one the decoder reads is a constant (a
// switch on string(raw) neither copies nor hashes), any other is "",
// which every object refuses.
func keyName(raw []byte) string {
	switch string(raw) {
	case "jsonrpc":
		return "jsonrpc"
	case "id":
		return "id"
	case "result":
		return "result"
	case "handle":
		return "handle"
	case "kind":
		return "kind"
	case "title":
		return "title"
	case "body":
		return "body"
	case "created":
		return "created"
	case "updated":
		return "updated"
	case "deleted":
		return "deleted"
	case "task":
		return "task"
	case "project":
		return "project"
	case "view":
		return "view"
	case "state":
		return "state"
	case "attention":
		return "attention"
	case "do":
		return "do"
	case "late":
		return "late"
	case "recur":
		return "recur"
	case "recur_after_done":
		return "recur_after_done"
	case "occurrences":
		return "occurrences"
	case "project_id":
		return "project_id"
	case "tags":
		return "tags"
	case "context":
		return "context"
	case "log":
		return "log"
	case "parent":
		return "parent"
	case "path":
		return "path"
	case "archived":
		return "archived"
	case "filter":
		return "filter"
	case "sort":
		return "sort"
	}
	return ""
}

// intern returns raw as a string, one copy per distinct value.
func (d *nodeDecoder) intern(raw []byte) string {
	if v, ok := d.words[string(raw)]; ok {
		return v
	}
	v := string(raw)
	d.words[v] = v
	return v
}

// boolInto reads true or false into p; null leaves p as it is.
func (d *nodeDecoder) boolInto(p *bool) bool {
	switch {
	case d.null():
	case d.lit("true"):
		*p = true
	case d.lit("false"):
		*p = false
	default:
		return false
	}
	return true
}

// intInto reads an integer into p; null leaves p as it is. A fraction or
// an exponent is encoding/json's to refuse.
func (d *nodeDecoder) intInto(p *int) bool {
	if d.null() {
		return true
	}
	num, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.Atoi(num)
	*p = v
	return err == nil
}

// timeInto reads a time with time.Time's own UnmarshalJSON, which is what
// json.Unmarshal calls, on the quoted text as it stands (so an escape in
// it is UnmarshalJSON's to refuse, and this leaves it to encoding/json).
func (d *nodeDecoder) timeInto(p *time.Time) bool {
	if d.null() {
		return true // UnmarshalJSON leaves the time as it is
	}
	start := d.i // null skipped the white space
	if _, ok := d.str(nil); !ok || bytes.IndexByte(d.b[start:d.i], '\\') >= 0 {
		return false
	}
	return p.UnmarshalJSON(d.b[start:d.i]) == nil
}

// timePtr reads null (nil) or a time.
func (d *nodeDecoder) timePtr(p **time.Time) bool {
	if d.null() {
		*p = nil
		return true
	}
	*p = new(time.Time)
	return d.timeInto(*p)
}

// scalarID reads the reply's id: a number, a string or null.
func (d *nodeDecoder) scalarID() bool {
	if d.null() {
		return true
	}
	if d.peek() == '"' {
		_, ok := d.str(nil)
		return ok
	}
	_, ok := d.number()
	return ok
}

// str reads a string and makes it with as (keep or intern; nil when
// only its validity matters). A string with escapes, or with bytes that
// are not UTF-8, is decoded by encoding/json, which knows every rule.
func (d *nodeDecoder) str(as func(raw []byte) string) (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	plain := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			raw := d.b[start:j]
			switch {
			case !plain && !utf8.Valid(raw):
				return d.quoted(start-1, j+1)
			case as == nil:
				return "", true
			}
			return as(raw), true
		case c == '\\':
			return d.escaped(start - 1)
		case c < 0x20:
			return "", false // a control character must be escaped
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", false
}

// escaped reads the string that opens at q and contains escapes.
func (d *nodeDecoder) escaped(q int) (string, bool) {
	for j := q + 1; j < len(d.b); j++ {
		switch d.b[j] {
		case '\\':
			j++ // whatever is escaped is not the closing quote
		case '"':
			d.i = j + 1
			return d.quoted(q, j+1)
		}
	}
	return "", false
}

// quoted decodes the JSON string b[from:to] (quotes included).
func (d *nodeDecoder) quoted(from, to int) (string, bool) {
	var s string
	err := json.Unmarshal(d.b[from:to], &s)
	return s, err == nil
}

// number reads a JSON number and returns its text.
func (d *nodeDecoder) number() (string, bool) {
	d.space()
	start, j := d.i, d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	switch {
	case j < len(d.b) && d.b[j] == '0':
		j++
	case j < len(d.b) && d.b[j] >= '1' && d.b[j] <= '9':
		j = d.digits(j)
	default:
		return "", false
	}
	if j < len(d.b) && d.b[j] == '.' {
		if k := d.digits(j + 1); k > j+1 {
			j = k
		} else {
			return "", false
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		k := d.digits(j)
		if k == j {
			return "", false
		}
		j = k
	}
	d.i = j
	return string(d.b[start:j]), true
}

// digits returns the index after the run of digits at j.
func (d *nodeDecoder) digits(j int) int {
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	return j
}

// null reads the literal null if it is next.
func (d *nodeDecoder) null() bool { return d.lit("null") }

// lit reads the literal w if it is next. What follows it is checked by
// the caller, which expects a delimiter ("nullx" fails there).
func (d *nodeDecoder) lit(w string) bool {
	d.space()
	if len(d.b)-d.i >= len(w) && string(d.b[d.i:d.i+len(w)]) == w {
		d.i += len(w)
		return true
	}
	return false
}

// eat reads the byte c if it is next.
func (d *nodeDecoder) eat(c byte) bool {
	if d.peek() == c {
		d.i++
		return true
	}
	return false
}

// peek skips whitespace and returns the next byte (0 at the end).
func (d *nodeDecoder) peek() byte {
	d.space()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// space skips JSON whitespace.
func (d *nodeDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}
