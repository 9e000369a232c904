// store.undo: reverting the last local changes by recording their inverse ops.

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

// Undo reverts whole local mutations (the ops of one Write share a batch),
// newest first, by recording their inverse ops as a new batch: undo is a
// mutation like any other, so it syncs. Reverted ops are marked undone and
// undo batches (batch "undo:<ulid>") are never themselves undone, so
// "heph undo" twice goes two steps back.

// undoBatchPrefix marks the batch of ops that an undo recorded.
const undoBatchPrefix = "undo:"

// undoneItem describes one reverted op.
type undoneItem struct {
	Op      string `json:"op"`
	Node    string `json:"node"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

type undoParams struct {
	N *int `json:"n"`
}

// undoResult is the reply of undo.
type undoResult struct {
	Reverted []undoneItem `json:"reverted"`
}

func (s *Store) rpcStoreUndo(ctx context.Context, params json.RawMessage) (any, error) {
	var p undoParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	n := 1
	if p.N != nil {
		n = *p.N
	}
	if n < 1 || n > 1000 {
		return nil, invalidParams("param \"n\" must be between 1 and 1000, not %d", n)
	}
	res := undoResult{Reverted: []undoneItem{}}
	err := s.Write(ctx, func(tx *Tx) error {
		tx.Batch = undoBatchPrefix + tx.Batch
		batches, err := lastBatches(tx, n)
		if err != nil {
			return err
		}
		if len(batches) == 0 {
			return invalidParams("nothing to undo")
		}
		for _, b := range batches {
			items, err := undoBatch(tx, b)
			if err != nil {
				return err
			}
			res.Reverted = append(res.Reverted, items...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// lastBatches returns the newest n local batches not yet undone, newest
// first.
func lastBatches(tx *Tx, n int) ([]string, error) {
	rows, err := tx.SQL().QueryContext(tx.Context(), `SELECT batch FROM ops WHERE local=1 AND undone=0 AND batch<>'' AND batch NOT LIKE 'undo:%' ORDER BY seq DESC`)
	if err != nil {
		return nil, fmt.Errorf("undo: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() && len(out) < n {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("undo: %w", err)
		}
		if len(out) == 0 || out[len(out)-1] != b {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// undoBatch records the inverse of each op of batch b, newest first, and
// marks them undone.
func undoBatch(tx *Tx, b string) ([]undoneItem, error) {
	rows, err := tx.SQL().QueryContext(tx.Context(), `SELECT id, hlc, node, type, data FROM ops WHERE local=1 AND batch=? AND undone=0 ORDER BY seq DESC`, b)
	if err != nil {
		return nil, fmt.Errorf("undo: %w", err)
	}
	var ops []Op
	for rows.Next() {
		var op Op
		var data string
		if err := rows.Scan(&op.ID, &op.HLC, &op.Node, &op.Type, &data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("undo: %w", err)
		}
		op.Data = json.RawMessage(data)
		ops = append(ops, op)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("undo: %w", err)
	}
	hidden := companionsCreated(ops)
	if err := companionsChanged(tx, ops, hidden); err != nil {
		return nil, err
	}
	var items []undoneItem
	for _, op := range ops {
		summary, err := invert(tx, op)
		if err != nil {
			return nil, err
		}
		if _, err := tx.SQL().ExecContext(tx.Context(), `UPDATE ops SET undone=1 WHERE id=?`, op.ID); err != nil {
			return nil, fmt.Errorf("undo: %w", err)
		}
		if hidden[op.ID] {
			continue
		}
		title, err := nodeTitle(tx, op.Node)
		if err != nil {
			return nil, fmt.Errorf("undo: %w", err)
		}
		items = append(items, undoneItem{Op: string(op.Type), Node: op.Node, Title: title, Summary: summary})
	}
	return items, nil
}

// companionsCreated returns the ops of a batch that only make a task's
// context and log docs and their links: undo reverts them with the task
// but does not list them.
func companionsCreated(ops []Op) map[string]bool {
	docs := map[string]bool{}
	for _, op := range ops {
		if op.Type != opNodeCreate {
			continue
		}
		var d opCreateData
		if json.Unmarshal(op.Data, &d) == nil && d.Kind == "task" {
			for _, k := range []string{"context", "log"} {
				if id, ok := d.Fields[k].(string); ok {
					docs[id] = true
				}
			}
		}
	}
	out := map[string]bool{}
	for _, op := range ops {
		switch op.Type {
		case opNodeCreate:
			out[op.ID] = docs[op.Node]
		case opLinkAdd:
			var d opLinkData
			if json.Unmarshal(op.Data, &d) == nil && docs[d.Dst] {
				out[op.ID] = true
			}
		}
	}
	return out
}

// invert records the inverse of op and says what it reverted.
func invert(tx *Tx, op Op) (string, error) {
	switch op.Type {
	case opNodeCreate:
		var d opCreateData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return "", fmt.Errorf("undo op %s: %w", op.ID, err)
		}
		return "created " + d.Kind + " (now removed)", tx.Set(op.Node, map[string]any{"deleted": tx.s.now().UnixMilli()})
	case opNodeSet:
		var d opSetData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return "", fmt.Errorf("undo op %s: %w", op.ID, err)
		}
		return setSummary(d), tx.Set(op.Node, d.Prev)
	case opLinkAdd, opLinkRm:
		var d opLinkData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return "", fmt.Errorf("undo op %s: %w", op.ID, err)
		}
		dst := d.Dst
		if n, err := arrivedNode(tx.Context(), tx.SQL(), d.Dst); err != nil {
			return "", fmt.Errorf("undo op %s: %w", op.ID, err)
		} else if n != nil && n.Handle != "" {
			dst = n.Handle
		}
		if op.Type == opLinkAdd {
			return "linked to " + dst + " (unlinked)", tx.Link(op.Node, d.Dst, d.Kind, d.Label, false)
		}
		return "unlinked from " + dst + " (linked again)", tx.Link(op.Node, d.Dst, d.Kind, d.Label, true)
	case opLogAppend:
		var d opLogData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return "", fmt.Errorf("undo op %s: %w", op.ID, err)
		}
		_, err := tx.emit(op.Node, opLogRemove, opLogData{Entry: op.ID})
		return fmt.Sprintf("logged %q (entry removed)", firstLine(d.Text)), err
	case opTaskComplete:
		var d opCompleteData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return "", fmt.Errorf("undo op %s: %w", op.ID, err)
		}
		_, err := tx.emit(op.Node, opTaskUncomplete, opCompleteData{Occurrence: d.Occurrence, Fields: d.Prev, Complete: op.ID})
		return "completed (restored " + fieldList(withoutBookkeeping(d.Prev)) + ")", err
	}
	return "", fmt.Errorf("undo op %s: ops of type %s cannot be undone", op.ID, op.Type)
}

// fieldList names the fields of an op, sorted: "do, late".
func fieldList(f map[string]any) string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// companionsChanged marks in hidden the ops of a batch on a task's context
// or log doc when the batch also changed the task itself (a removal, a
// rename, a completion that reset the checklist): undo lists the task's
// change alone, as the person made it.
func companionsChanged(tx *Tx, ops []Op, hidden map[string]bool) error {
	inBatch := map[string]bool{}
	for _, op := range ops {
		inBatch[op.Node] = true
	}
	for _, op := range ops {
		if op.Type != opNodeSet || hidden[op.ID] {
			continue
		}
		var owner string
		err := tx.SQL().QueryRowContext(tx.Context(), `SELECT node_id FROM tasks WHERE context_id=? OR log_id=?`, op.Node, op.Node).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("undo: %w", err)
		case inBatch[owner]:
			hidden[op.ID] = true
		}
	}
	return nil
}

// setSummary says in a person's words what a reverted set op had done:
// "removed (restored)", "marked dropped (outstanding again)", "changed
// title, tags (restored)".
func setSummary(d opSetData) string {
	if len(d.Fields) == 1 {
		if _, ok := d.Fields["deleted"]; ok {
			if d.Prev["deleted"] == nil {
				return "removed (restored)"
			}
			return "restored (removed again)"
		}
		if st, ok := d.Fields["state"].(string); ok {
			if prev, ok := d.Prev["state"].(string); ok {
				return "marked " + st + " (" + prev + " again)"
			}
		}
	}
	return "changed " + fieldList(withoutBookkeeping(d.Fields)) + " (restored)"
}

// withoutBookkeeping drops the occurrence count from fields a person
// changed along with it (by done or skip): it is not theirs to see.
func withoutBookkeeping(fields map[string]any) map[string]any {
	if len(fields) < 2 {
		return fields
	}
	f := map[string]any{}
	for k, v := range fields {
		if k != "occurrences" {
			f[k] = v
		}
	}
	return f
}

// nodeTitle is a node's title, or "" when the node is not here (an op
// whose node never arrived).
func nodeTitle(tx *Tx, id string) (string, error) {
	var t sql.NullString
	err := tx.SQL().QueryRowContext(tx.Context(), `SELECT title FROM nodes WHERE id=?`, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("title of %s: %w", id, err)
	}
	return t.String, nil
}
