// Recording local ops: Create, Set, Link and emit, and batching their inserts (batchOps).

package main

import (
	"fmt"
	"strings"
)

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

// emit records and applies a new local op of any type.
func (t *Tx) emit(node string, typ opType, data any) (Op, error) {
	b, err := marshalJSON(data)
	if err != nil {
		return Op{}, fmt.Errorf("encode op: %w", err)
	}
	op := Op{ID: newULID(t.s.now()), HLC: t.s.clock.Now().String(), Node: node, Type: typ, Data: b}
	return op, t.record(op)
}
