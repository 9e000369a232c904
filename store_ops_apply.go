// Applying an op, local or remote, field-wise last-writer-wins: creates, field sets and their clocks, links.

package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

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
	if err := t.insertKindRow(id, ownTable, h, node["deleted"], task); err != nil {
		return false, err
	}
	for i, name := range names {
		if err := t.afterFieldWrite(id, name, vals[i], true); err != nil {
			return false, err
		}
	}
	return true, nil
}

// insertKindRow inserts a created node's row of its kind's own table
// (none for a doc) with the columns cols the create set; a task's row
// also copies the node's created time and tombstone.
func (t *Tx) insertKindRow(id, table string, h HLC, deleted any, cols map[string]any) error {
	if table == "" {
		return nil
	}
	names := []string{"node_id"}
	args := []any{id}
	if table == "tasks" {
		names, args = append(names, "node_created", "node_deleted"), append(args, h.Wall, deleted)
	}
	for _, f := range createFieldOrder {
		if col, _ := nodeField(f); col.table == table {
			if v, ok := cols[col.column]; ok {
				names, args = append(names, col.column), append(args, v)
			}
		}
	}
	q := `INSERT INTO ` + table + `(` + strings.Join(names, ",") + `) VALUES(?` + strings.Repeat(",?", len(names)-1) + `)`
	if _, err := t.exec(q, args...); err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	return nil
}

// fieldWrite is one field an op sets: where it lives and its column value.
type fieldWrite struct {
	name string
	col  fieldColumn
	v    any
}

// applyFields sets each field whose clock is older than h. It reads the
// node's clocks once and writes the winning fields with one UPDATE per
// table and one clocks upsert, so a create with a dozen fields stays a
// handful of statements (imports apply tens of thousands of them).
func (t *Tx) applyFields(id, hs string, h HLC, fields map[string]any) (lost []string, err error) {
	clocks, err := t.fieldClocks(id)
	if err != nil {
		return nil, err
	}
	writes, lost, tombstone, err := winningFields(id, hs, fields, clocks)
	if err != nil {
		return nil, err
	}
	if tombstone {
		if err := t.applyTombstone(id, h, len(writes) == 0); err != nil {
			return nil, err
		}
	}
	if len(writes) == 0 {
		return lost, nil
	}
	if err := t.writeFields(id, hs, h, writes); err != nil {
		return nil, err
	}
	return lost, nil
}

// winningFields sorts an op's fields (stamped hs) by name into those it
// writes, whose clock is older, and those lost to a newer one (an equal
// clock is neither: the op was applied already). tombstone says the op
// sets deleted, which follows its own rule (recomputeDeleted).
func winningFields(id, hs string, fields map[string]any, clocks map[string]string) (writes []fieldWrite, lost []string, tombstone bool, err error) {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		col, ok := nodeField(name)
		if !ok {
			return nil, nil, false, fmt.Errorf("node %s: unknown field %q", id, name)
		}
		if name == "deleted" {
			// Tombstones follow their own rule (recomputeDeleted).
			if _, err := columnValue(name, fields[name]); err != nil {
				return nil, nil, false, fmt.Errorf("node %s: %w", id, err)
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
			return nil, nil, false, fmt.Errorf("node %s: %w", id, err)
		}
		writes = append(writes, fieldWrite{name, col, v})
	}
	return writes, lost, tombstone, nil
}

// applyTombstone recomputes a node's deleted field after an op that set
// it and, when that changed it, runs the field's side effects; touch
// (the op writes no other field) also moves nodes.updated to h.
func (t *Tx) applyTombstone(id string, h HLC, touch bool) error {
	changed, err := t.recomputeDeleted(id)
	if err != nil || !changed {
		return err
	}
	var v any
	if err := t.queryRow(`SELECT deleted FROM nodes WHERE id=?`, id).Scan(&v); err != nil {
		return fmt.Errorf("node %s: read deleted: %w", id, err)
	}
	if err := t.afterFieldWrite(id, "deleted", v, false); err != nil {
		return err
	}
	if touch {
		if _, err := t.exec(`UPDATE nodes SET updated=max(updated,?) WHERE id=?`, h.Wall, id); err != nil {
			return fmt.Errorf("node %s: touch: %w", id, err)
		}
	}
	return nil
}

// writeFields writes the winning fields of an op stamped hs: one UPDATE
// of nodes (with the updated touch), one of the kind's own table, one
// clocks upsert, then each field's side effects.
func (t *Tx) writeFields(id, hs string, h HLC, writes []fieldWrite) error {
	var nodeSets, taskSets []string
	var nodeArgs, taskArgs, clockArgs []any
	kindTable := ""
	for _, w := range writes {
		if w.col.table != "nodes" {
			if kindTable != "" && kindTable != w.col.table {
				return fmt.Errorf("node %s: fields of two kinds (%s and %s) in one op", id, kindTable, w.col.table)
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
		return fmt.Errorf("node %s: set fields: %w", id, err)
	}
	if len(taskSets) > 0 {
		if _, err := t.exec(`UPDATE `+kindTable+` SET `+strings.Join(taskSets, ", ")+` WHERE node_id=?`, append(taskArgs, id)...); err != nil {
			return fmt.Errorf("node %s: set fields: %w", id, err)
		}
	}
	values := strings.Repeat("(?,?,?),", len(writes))
	if _, err := t.exec(`INSERT INTO clocks(node,field,hlc) VALUES `+values[:len(values)-1]+
		` ON CONFLICT(node,field) DO UPDATE SET hlc=excluded.hlc`, clockArgs...); err != nil {
		return fmt.Errorf("node %s: set clocks: %w", id, err)
	}
	for _, w := range writes {
		if err := t.afterFieldWrite(id, w.name, w.v, false); err != nil {
			return err
		}
	}
	return nil
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
