// Ops: recording and applying every change (node.create, node.set, links, log, completion) last-writer-wins.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Every change to the store is an op, recorded in the ops table in the same
// transaction that applies it and stamped with an HLC. Sync ships ops; undo
// applies the inverse of local ones. Applying is field-wise last-writer-wins:
// an op sets a field only when its HLC is newer than the one that last set it
// (the clocks table), so replicas that apply the same ops in any order
// converge.

// opType names what an op does. Op types are not RPC methods, though a
// few share a string with one (link.add, log.append): the strings are
// stored and synced, so they stay as they are. docs/protocol.md, "Op
// types", lists them (a test checks the list against opTypes).
type opType string

// Op types.
const (
	opNodeCreate opType = "node.create" // data: opCreateData
	opNodeSet    opType = "node.set"    // data: opSetData
	opLinkAdd    opType = "link.add"    // data: opLinkData
	opLinkRm     opType = "link.rm"     // data: opLinkData

	opLogAppend      opType = "log.append"      // node: a log doc; data: opLogData (task_log.go)
	opLogRemove      opType = "log.remove"      // node: a log doc; data: opLogData naming the entry (undo)
	opTaskComplete   opType = "task.complete"   // data: opCompleteData (task_finish.go)
	opTaskUncomplete opType = "task.uncomplete" // data: opCompleteData naming the completion (undo)
)

// opTypes is every op type, in protocol.md's order.
func opTypes() []opType {
	return []opType{opNodeCreate, opNodeSet, opLinkAdd, opLinkRm, opLogAppend, opLogRemove, opTaskComplete, opTaskUncomplete}
}

// Op is one recorded mutation.
type Op struct {
	ID   string          `json:"id"`
	HLC  string          `json:"hlc"`
	Node string          `json:"node"`
	Type opType          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type opCreateData struct {
	Kind   string         `json:"kind"`
	Fields map[string]any `json:"fields"`
}

type opSetData struct {
	Fields map[string]any `json:"fields"`
	Prev   map[string]any `json:"prev,omitempty"` // values before, for undo and conflicts
}

type opLinkData struct {
	Dst   string `json:"dst"`
	Kind  string `json:"kind"`
	Label string `json:"label,omitempty"`
	// Observed (link.rm): the link.add ops the removal saw; only those
	// are removed, so a concurrent add wins (sync_merge.go). Nil in ops
	// made before this rule: see recomputeLink.
	Observed *[]string `json:"observed,omitempty"`
}

// fieldColumn says where each node field lives.
type fieldColumn struct{ table, column string }

// nodeField says where node field name lives; ok is false for a name
// that is no node field.
func nodeField(name string) (col fieldColumn, ok bool) {
	switch name {
	case "title":
		return fieldColumn{"nodes", "title"}, true
	case "body":
		return fieldColumn{"nodes", "body"}, true
	case "deleted":
		return fieldColumn{"nodes", "deleted"}, true
	case "state":
		return fieldColumn{"tasks", "state"}, true
	case "attention":
		return fieldColumn{"tasks", "attention"}, true
	case "do":
		return fieldColumn{"tasks", "do_at"}, true
	case "late":
		return fieldColumn{"tasks", "late_at"}, true
	case "recur":
		return fieldColumn{"tasks", "recur"}, true
	case "recur_after_done":
		return fieldColumn{"tasks", "recur_after_done"}, true
	case "occurrences":
		return fieldColumn{"tasks", "occurrences"}, true
	case "project":
		return fieldColumn{"tasks", "project"}, true
	case "tags":
		return fieldColumn{"tasks", "tags"}, true
	case "context":
		return fieldColumn{"tasks", "context_id"}, true
	case "log":
		return fieldColumn{"tasks", "log_id"}, true
	case "project_id":
		return fieldColumn{"tasks", "project_id"}, true
	case "parent":
		return fieldColumn{"projects", "parent"}, true
	case "archived":
		return fieldColumn{"projects", "archived"}, true
	case "filter":
		return fieldColumn{"views", "filter"}, true
	case "sort":
		return fieldColumn{"views", "sort"}, true
	}
	return fieldColumn{}, false
}

// kindTable names the table that holds a kind's own fields (nodes holds
// the fields every kind has); ok is false for an unknown kind.
func kindTable(kind string) (table string, ok bool) {
	switch kind {
	case "doc":
		return "", true
	case "task":
		return "tasks", true
	case "project":
		return "projects", true
	case "view":
		return "views", true
	}
	return "", false
}

// errNotFound marks an unknown node id or handle.
var errNotFound = errors.New("not found")

// Tx is a write transaction that records ops as it applies them.
type Tx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
	// Batch groups the ops of this transaction: one local mutation, the
	// unit that undo reverts.
	Batch string
	Ops   []Op // ops recorded so far, in order
	// stmts are the statements prepared in this transaction (store_stmtcache.go).
	stmts map[string]*sql.Stmt
	// pending holds the ops recorded inside batchOps, not yet inserted.
	pending []Op
	// wikiRefs: whether wiki_refs may have rows, once wikiRefsKnown
	// (hasWikiRefs).
	wikiRefs, wikiRefsKnown bool
	// evOps are the ops applied so far, local and remote, for the
	// transaction's event (events.go).
	evOps []evOp
	// projectsDirty: a project's title, parent or tombstone changed, so
	// the derived paths are refreshed before commit (refreshProjectPaths).
	projectsDirty bool
	projects      []projectRef // cached live projects (Tx.projectIndex); nil when stale
}

// Write runs fn in one serialized write transaction. Every op fn records is
// committed with it, durably (synchronous=FULL), before Write returns.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	if err := s.awaitHealthy(ctx); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	t := &Tx{s: s, tx: sqlTx, ctx: ctx, Batch: newULID(s.now())}
	if err := fn(t); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := t.refreshProjectPaths(); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := t.flushSearch(); err != nil {
		sqlTx.Rollback()
		return err
	}
	var seq int64
	if len(t.evOps) > 0 {
		if err := t.queryRow(`SELECT coalesce(max(seq),0) FROM ops`).Scan(&seq); err != nil {
			sqlTx.Rollback()
			return fmt.Errorf("read event seq: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.generation.Add(1)
	if len(t.evOps) > 0 {
		s.publishTx(ctx, seq, t.evOps, time.Now())
	}
	if len(t.Ops) > 0 && s.onLocalWrite != nil {
		s.onLocalWrite()
	}
	return nil
}

// SQL exposes the transaction for queries that need a consistent view.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Context is the request's context.
func (t *Tx) Context() context.Context { return t.ctx }

// Create records and applies a node.create op and returns the new id.
func (t *Tx) Create(kind string, fields map[string]any) (string, error) {
	id := newULID(t.s.now())
	return id, t.createWithID(id, kind, fields)
}

// createWithID is Create for an id the caller derived (a day's journal,
// journalID): replicas that create the same id offline end with one node,
// merged field by field. The caller checks that the node does not exist.
func (t *Tx) createWithID(id, kind string, fields map[string]any) error {
	d := opCreateData{Kind: kind, Fields: fields}
	data, err := marshalJSON(d)
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	return t.recordDecoded(Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: id, Type: opNodeCreate, Data: data}, &d)
}

// Set records and applies a node.set op for the given fields, remembering
// their previous values.
func (t *Tx) Set(id string, fields map[string]any) error {
	if len(fields) == 0 {
		return nil
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	prev, err := t.readFields(id, names)
	if err != nil {
		return err
	}
	d := opSetData{Fields: fields, Prev: prev}
	data, err := marshalJSON(d)
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	return t.recordDecoded(Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: id, Type: opNodeSet, Data: data}, &d)
}

// Link records and applies a link.add (add=true) or link.rm op.
func (t *Tx) Link(src, dst, kind, label string, add bool) error {
	typ := opLinkRm
	d := opLinkData{Dst: dst, Kind: kind, Label: label}
	if add {
		typ = opLinkAdd
	} else {
		seen, err := t.observedAdds(src, dst, kind)
		if err != nil {
			return err
		}
		d.Observed = &seen
	}
	data, err := marshalJSON(d)
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	return t.recordDecoded(Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: src, Type: typ, Data: data}, &d)
}

// record inserts a local op and applies it. Inside batchOps a create's
// insert may wait for the end of the batch.
func (t *Tx) record(op Op) error { return t.recordDecoded(op, nil) }

// recordDecoded is record for an op whose data the caller has at hand
// (a *opCreateData, *opSetData or *opLinkData): apply uses it instead of
// decoding op.Data again, when decoding would give the same values
// (jsonShaped).
func (t *Tx) recordDecoded(op Op, decoded any) error {
	if err := checkLocalOp(op, decoded); err != nil {
		return err
	}
	if t.pending != nil && deferrable(op, decoded) {
		t.pending = append(t.pending, op)
	} else {
		if err := t.flushPending(); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO ops(id,hlc,node,type,data,local,batch) VALUES(?,?,?,?,?,1,?)`,
			op.ID, op.HLC, op.Node, op.Type, string(op.Data), t.Batch); err != nil {
			return fmt.Errorf("record op: %w", err)
		}
	}
	if _, err := t.apply(op, true, decoded); err != nil {
		return err
	}
	t.Ops = append(t.Ops, op)
	t.evOps = append(t.evOps, evOp{node: op.Node, typ: op.Type, data: op.Data, local: true, batch: t.Batch})
	return nil
}

// deferrable says whether a local op's insert may wait inside batchOps:
// its application reads no ops. That holds for a create without a
// tombstone and for a link.add (applyLink); tombstones and link removals
// follow rules that read the ops of their node or link (sync_merge.go).
func deferrable(op Op, decoded any) bool {
	switch op.Type {
	case opNodeCreate:
		d, ok := decoded.(*opCreateData)
		if !ok {
			return false
		}
		_, tombstone := d.Fields["deleted"]
		return !tombstone
	case opLinkAdd:
		return true
	}
	return false
}

// batchOps runs fn and inserts the ops it records with one statement, in
// order, before the next op that is not deferrable or at the end: a
// task's five ops (three creates, two links) are one insert. As
// outside a batch, an op whose application failed is inserted too (the
// caller decides whether the transaction goes on).
func (t *Tx) batchOps(fn func() error) error {
	if t.pending != nil {
		return fn()
	}
	t.pending = make([]Op, 0, 8)
	err := fn()
	ferr := t.flushPending()
	t.pending = nil
	if err == nil {
		err = ferr
	}
	return err
}

// flushPending inserts the ops batchOps holds back.
func (t *Tx) flushPending() error {
	ops := t.pending
	if len(ops) == 0 {
		return nil
	}
	t.pending = t.pending[:0]
	args := make([]any, 0, 6*len(ops))
	for _, op := range ops {
		args = append(args, op.ID, op.HLC, op.Node, op.Type, string(op.Data), t.Batch)
	}
	values := strings.Repeat("(?,?,?,?,?,1,?),", len(ops))
	if _, err := t.exec(`INSERT INTO ops(id,hlc,node,type,data,local,batch) VALUES `+values[:len(values)-1], args...); err != nil {
		return fmt.Errorf("record op: %w", err)
	}
	return nil
}

// ApplyRemote applies an op received from another replica. It returns
// false when the op was already known (a replay is a no-op), and the fields
// that lost to a newer local write.
func (t *Tx) ApplyRemote(op Op) (applied bool, lost []string, err error) {
	h, err := parseHLC(op.HLC)
	if err != nil {
		return false, nil, err
	}
	res, err := t.exec(`INSERT OR IGNORE INTO ops(id,hlc,node,type,data,local,batch) VALUES(?,?,?,?,?,0,?)`,
		op.ID, op.HLC, op.Node, op.Type, string(op.Data), t.Batch)
	if err != nil {
		return false, nil, fmt.Errorf("record op: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil, nil
	}
	t.s.clock.Observe(h)
	lost, err = t.apply(op, false, nil)
	t.evOps = append(t.evOps, evOp{node: op.Node, typ: op.Type, data: op.Data, batch: t.Batch})
	return true, lost, err
}

// opData is an op's data as T: decoded, when the op's recorder passed the
// value it encoded and usable accepts it, else decoded from op.Data.
func opData[T any](op Op, decoded any, usable func(*T) bool) (*T, error) {
	if d, ok := decoded.(*T); ok && usable != nil && usable(d) {
		return d, nil
	}
	d := new(T)
	if err := json.Unmarshal(op.Data, d); err != nil {
		return nil, fmt.Errorf("decode %s op %s: %w", op.Type, op.ID, err)
	}
	return d, nil
}

// apply makes op's effect on the materialized tables and returns the
// fields whose newer local value kept them from being set. local says the op
// was just made here: a local create names a new id, which no other op can
// have touched yet. decoded, when not nil, is op.Data decoded
// (recordDecoded).
func (t *Tx) apply(op Op, local bool, decoded any) ([]string, error) {
	h, err := parseHLC(op.HLC)
	if err != nil {
		return nil, err
	}
	switch op.Type {
	case opNodeCreate:
		d, err := opData(op, decoded, func(d *opCreateData) bool { return jsonShaped(d.Fields) })
		if err != nil {
			return nil, err
		}
		return nil, t.applyCreate(op.Node, h, *d, local)
	case opNodeSet:
		d, err := opData(op, decoded, func(d *opSetData) bool { return jsonShaped(d.Fields) })
		if err != nil {
			return nil, err
		}
		return t.applyFields(op.Node, op.HLC, h, d.Fields)
	case opLinkAdd, opLinkRm:
		d, err := opData(op, decoded, func(*opLinkData) bool { return true })
		if err != nil {
			return nil, err
		}
		return nil, t.applyLink(op, *d, local)
	case opLogAppend, opLogRemove:
		d, err := opData[opLogData](op, nil, nil)
		if err != nil {
			return nil, err
		}
		return nil, t.applyLog(op, h, *d)
	case opTaskComplete, opTaskUncomplete:
		d, err := opData[opCompleteData](op, nil, nil)
		if err != nil {
			return nil, err
		}
		return t.applyComplete(op, h, *d)
	}
	return nil, fmt.Errorf("unknown op type %q in op %s", op.Type, op.ID)
}

func (t *Tx) applyCreate(id string, h HLC, d opCreateData, local bool) error {
	table, ok := kindTable(d.Kind)
	if !ok {
		return fmt.Errorf("create %s: unknown kind %q", id, d.Kind)
	}
	if done, err := t.insertCreated(id, h, d, local); err != nil || done {
		return err
	}
	// The node exists already, or ops that arrived before its create set
	// some of its fields: apply field by field against their clocks.
	if err := t.insertNode(id, d.Kind, h.Wall); err != nil {
		return err
	}
	if table != "" {
		if _, err := t.exec(`INSERT OR IGNORE INTO `+table+`(node_id) VALUES(?)`, id); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
	}
	_, err := t.applyFields(id, h.String(), h, d.Fields)
	return err
}

// createFieldOrder gives each field its bit in nodes.create_fields. Append
// only: stores keep these bits.
var createFieldOrder = []string{"title", "body", "deleted", "state", "attention", "do", "late",
	"recur", "recur_after_done", "occurrences", "project", "tags", "context", "log",
	"project_id", "parent", "archived", "filter", "sort"}

// createFieldBit maps a field to its bit in nodes.create_fields.
func createFieldBit(name string) int64 {
	for i, f := range createFieldOrder {
		if f == name {
			return 1 << i
		}
	}
	return 0
}

// insertCreated applies the create of a node nothing has touched yet: it
// inserts the node (and its task row) with every field in place, and
// writes no clock rows: nodes.create_hlc is the clock of each field named
// in nodes.create_fields until a later op sets it (fieldClocks). That is
// the state applying the create field by field would leave, in two
// statements instead of a dozen. It reports false, having changed nothing,
// when the node exists or ops that arrived earlier set some of its fields.
func (t *Tx) insertCreated(id string, h HLC, d opCreateData, local bool) (bool, error) {
	if _, ok := d.Fields["deleted"]; ok {
		return false, nil // tombstones follow their own rule (recomputeDeleted)
	}
	if !local {
		var touched int
		if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM clocks WHERE node=?)`, id).Scan(&touched); err != nil {
			return false, fmt.Errorf("node %s: read clocks: %w", id, err)
		}
		if touched != 0 {
			return false, nil
		}
	}
	names := make([]string, 0, len(d.Fields))
	for k := range d.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	node := map[string]any{"title": "", "body": "", "deleted": nil}
	task := map[string]any{} // the kind's own columns
	ownTable, _ := kindTable(d.Kind)
	vals := make([]any, len(names))
	var mask int64
	for i, name := range names {
		col, ok := nodeField(name)
		if !ok {
			return false, fmt.Errorf("node %s: unknown field %q", id, name)
		}
		v, err := columnValue(name, d.Fields[name])
		if err != nil {
			return false, fmt.Errorf("node %s: %w", id, err)
		}
		switch col.table {
		case "nodes":
			node[col.column] = v
		case ownTable:
			task[col.column] = v
		default:
			// Another kind's field (a task field on a doc): the
			// field-by-field path reports it.
			return false, nil
		}
		vals[i] = v
		mask |= createFieldBit(name)
	}
	ok, err := t.insertNodeWith(id, d.Kind, h, node, mask)
	if err != nil || !ok {
		return false, err
	}
	if table := ownTable; table != "" {
		cols := []string{"node_id"}
		args := []any{id}
		if table == "tasks" {
			cols, args = append(cols, "node_created", "node_deleted"), append(args, h.Wall, node["deleted"])
		}
		for _, f := range createFieldOrder {
			if col, _ := nodeField(f); col.table == table {
				if v, ok := task[col.column]; ok {
					cols, args = append(cols, col.column), append(args, v)
				}
			}
		}
		q := `INSERT INTO ` + table + `(` + strings.Join(cols, ",") + `) VALUES(?` + strings.Repeat(",?", len(cols)-1) + `)`
		if _, err := t.exec(q, args...); err != nil {
			return false, fmt.Errorf("create %s: %w", id, err)
		}
	}
	for i, name := range names {
		if err := t.afterFieldWrite(id, name, vals[i], true); err != nil {
			return false, err
		}
	}
	return true, nil
}

// applyFields sets each field whose clock is older than h. It reads the
// node's clocks once and writes the winning fields with one UPDATE per
// table and one clocks upsert, so a create with a dozen fields stays a
// handful of statements (imports apply tens of thousands of them).
func (t *Tx) applyFields(id, hs string, h HLC, fields map[string]any) (lost []string, err error) {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	clocks, err := t.fieldClocks(id)
	if err != nil {
		return nil, err
	}
	type write struct {
		name string
		col  fieldColumn
		v    any
	}
	var writes []write
	tombstone := false
	for _, name := range names {
		col, ok := nodeField(name)
		if !ok {
			return nil, fmt.Errorf("node %s: unknown field %q", id, name)
		}
		if name == "deleted" {
			// Tombstones follow their own rule (recomputeDeleted).
			if _, err := columnValue(name, fields[name]); err != nil {
				return nil, fmt.Errorf("node %s: %w", id, err)
			}
			tombstone = true
			continue
		}
		if cur := clocks[name]; cur != "" && cur >= hs {
			if cur > hs {
				lost = append(lost, name)
			}
			continue
		}
		v, err := columnValue(name, fields[name])
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", id, err)
		}
		writes = append(writes, write{name, col, v})
	}
	if tombstone {
		changed, err := t.recomputeDeleted(id)
		if err != nil {
			return nil, err
		}
		if changed {
			var v any
			if err := t.queryRow(`SELECT deleted FROM nodes WHERE id=?`, id).Scan(&v); err != nil {
				return nil, fmt.Errorf("node %s: read deleted: %w", id, err)
			}
			if err := t.afterFieldWrite(id, "deleted", v, false); err != nil {
				return nil, err
			}
			if len(writes) == 0 {
				if _, err := t.exec(`UPDATE nodes SET updated=max(updated,?) WHERE id=?`, h.Wall, id); err != nil {
					return nil, fmt.Errorf("node %s: touch: %w", id, err)
				}
			}
		}
	}
	if len(writes) == 0 {
		return lost, nil
	}
	// nodes (with the updated touch), then the kind's own table.
	var nodeSets, taskSets []string
	var nodeArgs, taskArgs, clockArgs []any
	kindTable := ""
	for _, w := range writes {
		if w.col.table != "nodes" {
			if kindTable != "" && kindTable != w.col.table {
				return nil, fmt.Errorf("node %s: fields of two kinds (%s and %s) in one op", id, kindTable, w.col.table)
			}
			kindTable = w.col.table
			taskSets, taskArgs = append(taskSets, w.col.column+"=?"), append(taskArgs, w.v)
		} else {
			nodeSets, nodeArgs = append(nodeSets, w.col.column+"=?"), append(nodeArgs, w.v)
		}
		clockArgs = append(clockArgs, id, w.name, hs)
	}
	nodeSets, nodeArgs = append(nodeSets, "updated=max(updated,?)"), append(nodeArgs, h.Wall, id)
	if _, err := t.exec(`UPDATE nodes SET `+strings.Join(nodeSets, ", ")+` WHERE id=?`, nodeArgs...); err != nil {
		return nil, fmt.Errorf("node %s: set fields: %w", id, err)
	}
	if len(taskSets) > 0 {
		if _, err := t.exec(`UPDATE `+kindTable+` SET `+strings.Join(taskSets, ", ")+` WHERE node_id=?`, append(taskArgs, id)...); err != nil {
			return nil, fmt.Errorf("node %s: set fields: %w", id, err)
		}
	}
	values := strings.Repeat("(?,?,?),", len(writes))
	if _, err := t.exec(`INSERT INTO clocks(node,field,hlc) VALUES `+values[:len(values)-1]+
		` ON CONFLICT(node,field) DO UPDATE SET hlc=excluded.hlc`, clockArgs...); err != nil {
		return nil, fmt.Errorf("node %s: set clocks: %w", id, err)
	}
	for _, w := range writes {
		if err := t.afterFieldWrite(id, w.name, w.v, false); err != nil {
			return nil, err
		}
	}
	return lost, nil
}

// fieldClocks reads the HLC that last set each field of a node: its row in
// clocks, else, for a field its create set, the create's HLC
// (insertCreated).
func (t *Tx) fieldClocks(id string) (map[string]string, error) {
	rows, err := t.query(`SELECT field, hlc, 0 FROM clocks WHERE node=?
		UNION ALL SELECT '', create_hlc, create_fields FROM nodes WHERE id=? AND create_hlc IS NOT NULL`, id, id)
	if err != nil {
		return nil, fmt.Errorf("node %s: read clocks: %w", id, err)
	}
	defer rows.Close()
	out := map[string]string{}
	var createHLC string
	var createFields int64
	for rows.Next() {
		var f, h string
		var mask int64
		if err := rows.Scan(&f, &h, &mask); err != nil {
			return nil, fmt.Errorf("node %s: read clocks: %w", id, err)
		}
		if f == "" {
			createHLC, createFields = h, mask
			continue
		}
		out[f] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("node %s: read clocks: %w", id, err)
	}
	for i, f := range createFieldOrder {
		if _, ok := out[f]; !ok && createFields&(1<<i) != 0 {
			out[f] = createHLC
		}
	}
	return out, nil
}

// applyLink adds or removes a link. Links are an add-wins set: a removal
// only deletes the link when no add for it is newer than the removal.
// A link.add made here needs no look at the link's other ops: its HLC is
// newer than every op this replica has seen, and no removal can have
// observed it, so recomputeLink would make it the live add.
func (t *Tx) applyLink(op Op, d opLinkData, local bool) error {
	if local && op.Type == opLinkAdd {
		_, err := t.exec(`INSERT INTO links(src,dst,kind,label) VALUES(?,?,?,?) ON CONFLICT(src,dst,kind) DO UPDATE SET label=excluded.label`,
			op.Node, d.Dst, d.Kind, d.Label)
		if err != nil {
			return fmt.Errorf("link %s -> %s: %w", op.Node, d.Dst, err)
		}
		return nil
	}
	return t.recomputeLink(op.Node, d.Dst, d.Kind)
}

// jsonShaped reports whether every field value is of a type that
// columnValue stores exactly as it stores the value's JSON round trip
// (numbers are unix ms or counts, exact in a float64).
func jsonShaped(fields map[string]any) bool {
	for _, v := range fields {
		switch v.(type) {
		case nil, string, bool, int64, int, float64, []string:
		default:
			return false
		}
	}
	return true
}

// jsonInt is v as an integer, when it is a number as decoded JSON (float64)
// or as a local op holds it (int64, int).
func jsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// columnValue converts a field's JSON value to what its column stores.
func columnValue(name string, v any) (any, error) {
	switch name {
	case "do", "late", "deleted":
		switch x := v.(type) {
		case nil:
			return nil, nil
		case json.Number:
			return x.Int64()
		}
		if n, ok := jsonInt(v); ok {
			return n, nil
		}
		return nil, fmt.Errorf("field %s: want unix milliseconds or null, got %T", name, v)
	case "recur_after_done", "archived":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("field %s: want a boolean, got %T", name, v)
		}
		if b {
			return 1, nil
		}
		return 0, nil
	case "occurrences":
		if n, ok := jsonInt(v); ok {
			return n, nil
		}
		return nil, fmt.Errorf("field %s: want a number, got %T", name, v)
	case "tags":
		tags, err := toStrings(v)
		if err != nil {
			return nil, fmt.Errorf("field tags: %w", err)
		}
		sort.Strings(tags)
		b, _ := json.Marshal(tags)
		return string(b), nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("field %s: want a string, got %T", name, v)
	}
	return s, nil
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case []string:
		return append([]string{}, x...), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %T", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of strings, got %T", v)
}

// readFields returns the current values of the named fields of a node, in
// the same JSON shapes that ops carry.
func (t *Tx) readFields(id string, names []string) (map[string]any, error) {
	n, err := scanNode(t.queryRow(nodeSelect+` WHERE n.id=?`, id))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	all := n.fieldValues()
	out := make(map[string]any, len(names))
	for _, name := range names {
		if _, ok := nodeField(name); !ok {
			return nil, fmt.Errorf("node %s: unknown field %q", id, name)
		}
		out[name] = all[name]
	}
	return out, nil
}

// insertNode inserts a new node (a replayed create of an existing id is a
// no-op) with no fields set.
func (t *Tx) insertNode(id, kind string, wall int64) error {
	_, err := t.insertNodeWith(id, kind, HLC{Wall: wall}, map[string]any{"title": "", "body": "", "deleted": nil}, 0)
	return err
}

// insertNodeWith inserts a new node with its title, body and deleted
// columns and its short handle: the shortest prefix (at least 4
// characters) of the id's random part that no other node has. The insert
// itself tests the handle (its UNIQUE index), which saves a lookup per node.
// mask, when not 0, records that a create stamped h set those fields
// (insertCreated). It reports false when the node exists already.
func (t *Tx) insertNodeWith(id, kind string, h HLC, cols map[string]any, mask int64) (bool, error) {
	random := strings.ToLower(id[10:])
	var createHLC any
	if mask != 0 {
		createHLC = h.String()
	}
	for n := 4; ; n++ {
		handle := strings.ToLower(id)
		if n <= len(random) {
			handle = random[:n]
		}
		res, err := t.exec(`INSERT INTO nodes(id,handle,kind,title,body,deleted,created,updated,create_hlc,create_fields)
			VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`,
			id, handle, kind, cols["title"], cols["body"], cols["deleted"], h.Wall, h.Wall, createHLC, mask)
		if err == nil {
			n, err := res.RowsAffected()
			return n == 1, err
		}
		if n > len(random) || !strings.Contains(err.Error(), "nodes.handle") {
			return false, fmt.Errorf("create %s: %w", id, err)
		}
	}
}

// msTime converts unix milliseconds to a time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms) }

// emit records and applies a new local op of any type.
func (t *Tx) emit(node string, typ opType, data any) (Op, error) {
	b, err := marshalJSON(data)
	if err != nil {
		return Op{}, fmt.Errorf("encode op: %w", err)
	}
	op := Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: node, Type: typ, Data: b}
	return op, t.record(op)
}
