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

// Op types.
const (
	opCreate  = "node.create" // data: opCreateData
	opSet     = "node.set"    // data: opSetData
	opLinkAdd = "link.add"    // data: opLinkData
	opLinkRm  = "link.rm"     // data: opLinkData

	opLogAppend  = "log.append"      // node: a log doc; data: opLogData (tasklog.go)
	opLogRemove  = "log.remove"      // node: a log doc; data: opLogData naming the entry (undo)
	opComplete   = "task.complete"   // data: opCompleteData (done.go)
	opUncomplete = "task.uncomplete" // data: opCompleteData naming the completion (undo)
)

// Op is one recorded mutation.
type Op struct {
	ID   string          `json:"id"`
	HLC  string          `json:"hlc"`
	Node string          `json:"node"`
	Type string          `json:"type"`
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
	// are removed, so a concurrent add wins (mergerules.go).
	// Nil in ops made before this rule: see recomputeLink.
	Observed *[]string `json:"observed,omitempty"`
}

// fieldColumn says where each node field lives.
type fieldColumn struct{ table, column string }

var nodeFields = map[string]fieldColumn{
	"title":            {"nodes", "title"},
	"body":             {"nodes", "body"},
	"deleted":          {"nodes", "deleted"},
	"state":            {"tasks", "state"},
	"attention":        {"tasks", "attention"},
	"do":               {"tasks", "do_at"},
	"late":             {"tasks", "late_at"},
	"recur":            {"tasks", "recur"},
	"recur_after_done": {"tasks", "recur_after_done"},
	"occurrences":      {"tasks", "occurrences"},
	"project":          {"tasks", "project"},
	"tags":             {"tasks", "tags"},
	"context":          {"tasks", "context_id"},
	"log":              {"tasks", "log_id"},
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
	Ops   []Op                 // ops recorded so far, in order
	stmts map[string]*sql.Stmt // prepared statements, closed with the transaction
}

// Write runs fn in one serialized write transaction. Every op fn records is
// committed with it, durably (synchronous=FULL), before Write returns.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
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
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.generation.Add(1)
	if len(t.Ops) > 0 && s.onLocalWrite != nil {
		s.onLocalWrite()
	}
	return nil
}

// exec runs a statement, prepared once per transaction: sync applies tens
// of thousands of ops in one transaction, and preparing each statement
// anew would dominate that time.
func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

// queryRow is QueryRowContext on a statement prepared once per transaction.
func (t *Tx) queryRow(q string, args ...any) *sql.Row {
	st, err := t.stmt(q)
	if err != nil {
		return t.tx.QueryRowContext(t.ctx, q, args...) // reports the same error on Scan
	}
	return st.QueryRowContext(t.ctx, args...)
}

func (t *Tx) stmt(q string) (*sql.Stmt, error) {
	if st := t.stmts[q]; st != nil {
		return st, nil
	}
	st, err := t.tx.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

// SQL exposes the transaction for queries that need a consistent view.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Context is the request's context.
func (t *Tx) Context() context.Context { return t.ctx }

// Create records and applies a node.create op and returns the new id.
func (t *Tx) Create(kind string, fields map[string]any) (string, error) {
	now := t.s.now()
	id := newULID(now)
	data, err := json.Marshal(opCreateData{Kind: kind, Fields: fields})
	if err != nil {
		return "", fmt.Errorf("encode op: %w", err)
	}
	if err := t.record(Op{ID: newULID(now), HLC: t.s.clock.Now().String(), Node: id, Type: opCreate, Data: data}); err != nil {
		return "", err
	}
	return id, nil
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
	data, err := json.Marshal(opSetData{Fields: fields, Prev: prev})
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	return t.record(Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: id, Type: opSet, Data: data})
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
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode op: %w", err)
	}
	return t.record(Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: src, Type: typ, Data: data})
}

// record inserts a local op and applies it.
func (t *Tx) record(op Op) error {
	if _, err := t.exec(`INSERT INTO ops(id,hlc,node,type,data,local,batch) VALUES(?,?,?,?,?,1,?)`,
		op.ID, op.HLC, op.Node, op.Type, string(op.Data), t.Batch); err != nil {
		return fmt.Errorf("record op: %w", err)
	}
	if _, err := t.apply(op); err != nil {
		return err
	}
	t.Ops = append(t.Ops, op)
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
	res, err := t.exec(`INSERT OR IGNORE INTO ops(id,hlc,node,type,data,local) VALUES(?,?,?,?,?,0)`,
		op.ID, op.HLC, op.Node, op.Type, string(op.Data))
	if err != nil {
		return false, nil, fmt.Errorf("record op: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil, nil
	}
	t.s.clock.Observe(h)
	lost, err = t.apply(op)
	return true, lost, err
}

// apply makes op's effect on the materialized tables and returns the
// fields whose newer local value kept them from being set.
func (t *Tx) apply(op Op) ([]string, error) {
	h, err := parseHLC(op.HLC)
	if err != nil {
		return nil, err
	}
	switch op.Type {
	case opCreate:
		var d opCreateData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, fmt.Errorf("decode %s op %s: %w", op.Type, op.ID, err)
		}
		return nil, t.applyCreate(op.Node, h, d)
	case opSet:
		var d opSetData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, fmt.Errorf("decode %s op %s: %w", op.Type, op.ID, err)
		}
		return t.applyFields(op.Node, op.HLC, h, d.Fields)
	case opLinkAdd, opLinkRm:
		var d opLinkData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, fmt.Errorf("decode %s op %s: %w", op.Type, op.ID, err)
		}
		return nil, t.applyLink(op, d)
	case opLogAppend, opLogRemove:
		var d opLogData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, fmt.Errorf("decode %s op %s: %w", op.Type, op.ID, err)
		}
		return nil, t.applyLog(op, h, d)
	case opComplete, opUncomplete:
		var d opCompleteData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, fmt.Errorf("decode %s op %s: %w", op.Type, op.ID, err)
		}
		return t.applyComplete(op, h, d)
	}
	return nil, fmt.Errorf("unknown op type %q in op %s", op.Type, op.ID)
}

func (t *Tx) applyCreate(id string, h HLC, d opCreateData) error {
	if d.Kind != "doc" && d.Kind != "task" {
		return fmt.Errorf("create %s: unknown kind %q", id, d.Kind)
	}
	var exists int
	if err := t.queryRow(`SELECT count(*) FROM nodes WHERE id=?`, id).Scan(&exists); err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	if exists == 0 {
		clocks, err := t.fieldClocks(id)
		if err != nil {
			return err
		}
		if len(clocks) == 0 {
			return t.insertNode(id, h, d)
		}
	}
	handle, err := t.newHandle(id)
	if err != nil {
		return err
	}
	if _, err := t.exec(`INSERT OR IGNORE INTO nodes(id,handle,kind,created,updated) VALUES(?,?,?,?,?)`,
		id, handle, d.Kind, h.Wall, h.Wall); err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	if d.Kind == "task" {
		if _, err := t.exec(`INSERT OR IGNORE INTO tasks(node_id) VALUES(?)`, id); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
	}
	_, err = t.applyFields(id, h.String(), h, d.Fields)
	return err
}

// insertNode creates a node nothing has touched yet with all its fields
// in one row per table: the common case, and what makes a first sync of
// many creates fast (no UPDATE after each INSERT, which would also run the
// search triggers twice).
func (t *Tx) insertNode(id string, h HLC, d opCreateData) error {
	handle, err := t.newHandle(id)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(d.Fields))
	for k := range d.Fields {
		if _, ok := nodeFields[k]; !ok {
			return fmt.Errorf("node %s: unknown field %q", id, k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	cols := map[string][]string{"nodes": {"id", "handle", "kind", "created", "updated"}, "tasks": {"node_id"}}
	vals := map[string][]any{"nodes": {id, handle, d.Kind, h.Wall, h.Wall}, "tasks": {id}}
	hs := h.String()
	var clockSQL []string
	var clockArgs []any
	var written []string
	tombstone := false
	for _, name := range names {
		if name == "deleted" {
			tombstone = true
			continue
		}
		col := nodeFields[name]
		if col.table == "tasks" && d.Kind != "task" {
			continue // a doc has no task fields
		}
		v, err := columnValue(name, d.Fields[name])
		if err != nil {
			return fmt.Errorf("node %s: %w", id, err)
		}
		cols[col.table] = append(cols[col.table], col.column)
		vals[col.table] = append(vals[col.table], v)
		clockSQL = append(clockSQL, "(?,?,?)")
		clockArgs = append(clockArgs, id, name, hs)
		written = append(written, name)
	}
	tables := []string{"nodes"}
	if d.Kind == "task" {
		tables = append(tables, "tasks")
	}
	for _, table := range tables {
		q := `INSERT INTO ` + table + `(` + strings.Join(cols[table], ",") + `) VALUES(?` + strings.Repeat(",?", len(cols[table])-1) + `)`
		if _, err := t.exec(q, vals[table]...); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
	}
	if len(clockArgs) > 0 {
		if _, err := t.exec(`INSERT INTO clocks(node,field,hlc) VALUES`+strings.Join(clockSQL, ",")+` ON CONFLICT(node,field) DO UPDATE SET hlc=excluded.hlc`, clockArgs...); err != nil {
			return fmt.Errorf("node %s: set clock: %w", id, err)
		}
	}
	for _, name := range written {
		v, _ := columnValue(name, d.Fields[name])
		if name == "body" && v == "" {
			continue // a new node with no body has no wiki links to derive
		}
		if err := t.afterFieldWrite(id, name, v); err != nil {
			return err
		}
	}
	if tombstone {
		if _, err := t.recomputeDeleted(id); err != nil {
			return err
		}
	}
	return nil
}

// applyFields sets each field whose clock is older than h.
func (t *Tx) applyFields(id, hs string, h HLC, fields map[string]any) (lost []string, err error) {
	names := make([]string, 0, len(fields))
	for k := range fields {
		if _, ok := nodeFields[k]; !ok {
			return nil, fmt.Errorf("node %s: unknown field %q", id, k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	clocks, err := t.fieldClocks(id)
	if err != nil {
		return nil, err
	}
	// The winning fields, grouped into one UPDATE per table and one
	// upsert of their clocks.
	sets := map[string][]string{}
	args := map[string][]any{}
	var clockSQL strings.Builder
	var clockArgs []any
	var won []string // fields this op sets, for afterFieldWrite
	var wonValues []any
	tombstone := false
	for _, name := range names {
		col := nodeFields[name]
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
		sets[col.table] = append(sets[col.table], col.column+"=?")
		args[col.table] = append(args[col.table], v)
		won, wonValues = append(won, name), append(wonValues, v)
		if clockSQL.Len() > 0 {
			clockSQL.WriteString(",")
		}
		clockSQL.WriteString("(?,?,?)")
		clockArgs = append(clockArgs, id, name, hs)
	}
	if tombstone {
		changed, err := t.recomputeDeleted(id)
		if err != nil {
			return nil, err
		}
		if changed {
			var v any
			t.queryRow(`SELECT deleted FROM nodes WHERE id=?`, id).Scan(&v)
			if err := t.afterFieldWrite(id, "deleted", v); err != nil {
				return nil, err
			}
			if len(clockArgs) == 0 {
				if _, err := t.exec(`UPDATE nodes SET updated=max(updated,?) WHERE id=?`, h.Wall, id); err != nil {
					return nil, fmt.Errorf("node %s: touch: %w", id, err)
				}
			}
		}
	}
	if len(clockArgs) == 0 {
		return lost, nil
	}
	// nodes.updated moves with every change, in the same statement.
	sets["nodes"] = append(sets["nodes"], "updated=max(updated,?)")
	args["nodes"] = append(args["nodes"], h.Wall)
	for _, table := range []string{"nodes", "tasks"} {
		if len(sets[table]) == 0 {
			continue
		}
		key := "id"
		if table == "tasks" {
			key = "node_id"
		}
		q := `UPDATE ` + table + ` SET ` + strings.Join(sets[table], ",") + ` WHERE ` + key + `=?`
		if _, err := t.exec(q, append(args[table], id)...); err != nil {
			return nil, fmt.Errorf("node %s: set %s: %w", id, strings.Join(names, ","), err)
		}
	}
	if _, err := t.exec(`INSERT INTO clocks(node,field,hlc) VALUES`+clockSQL.String()+` ON CONFLICT(node,field) DO UPDATE SET hlc=excluded.hlc`, clockArgs...); err != nil {
		return nil, fmt.Errorf("node %s: set clock: %w", id, err)
	}
	for i, name := range won {
		if err := t.afterFieldWrite(id, name, wonValues[i]); err != nil {
			return nil, err
		}
	}
	return lost, nil
}

// fieldClocks returns the HLC that last set each field of node id.
func (t *Tx) fieldClocks(id string) (map[string]string, error) {
	st, err := t.stmt(`SELECT field, hlc FROM clocks WHERE node=?`)
	if err != nil {
		return nil, fmt.Errorf("node %s: read clocks: %w", id, err)
	}
	rows, err := st.QueryContext(t.ctx, id)
	if err != nil {
		return nil, fmt.Errorf("node %s: read clocks: %w", id, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var f, h string
		if err := rows.Scan(&f, &h); err != nil {
			return nil, fmt.Errorf("node %s: read clocks: %w", id, err)
		}
		out[f] = h
	}
	return out, rows.Err()
}

// applyLink adds or removes a link. Links are an add-wins set: a removal
// only deletes the link when no add for it is newer than the removal.
func (t *Tx) applyLink(op Op, d opLinkData) error {
	return t.recomputeLink(op.Node, d.Dst, d.Kind)
}

// columnValue converts a field's JSON value to what its column stores.
func columnValue(name string, v any) (any, error) {
	switch name {
	case "do", "late", "deleted":
		switch x := v.(type) {
		case nil:
			return nil, nil
		case float64:
			return int64(x), nil
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case json.Number:
			return x.Int64()
		}
		return nil, fmt.Errorf("field %s: want unix milliseconds or null, got %T", name, v)
	case "recur_after_done":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("field %s: want a boolean, got %T", name, v)
		}
		if b {
			return 1, nil
		}
		return 0, nil
	case "occurrences":
		switch x := v.(type) {
		case float64:
			return int64(x), nil
		case int64:
			return x, nil
		case int:
			return int64(x), nil
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
		if _, ok := nodeFields[name]; !ok {
			return nil, fmt.Errorf("node %s: unknown field %q", id, name)
		}
		out[name] = all[name]
	}
	return out, nil
}

// newHandle picks the short handle for a new node: the shortest prefix (at
// least 4 characters) of the id's random part that no other node has.
func (t *Tx) newHandle(id string) (string, error) {
	random := strings.ToLower(id[10:])
	for n := 4; n <= len(random); n++ {
		h := random[:n]
		var exists int
		if err := t.queryRow(`SELECT count(*) FROM nodes WHERE handle=?`, h).Scan(&exists); err != nil {
			return "", fmt.Errorf("handle for %s: %w", id, err)
		}
		if exists == 0 {
			return h, nil
		}
	}
	return strings.ToLower(id), nil
}

// msTime converts unix milliseconds to a time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms) }
