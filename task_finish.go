// Finishing a task: done, skip and drop, and advancing a recurring task along its series.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Completing a task is a task.complete op rather than a plain node.set, so
// that two replicas completing the same occurrence offline advance it
// once: the op's fields apply field-wise (last writer wins, like node.set),
// but its log entry and its count belong to the (task, occurrence) pair,
// recorded in completions, where the op with the lowest HLC wins on every
// replica whatever the order the ops arrive in.

// opCompleteData is the data of task.complete and task.uncomplete ops.
type opCompleteData struct {
	// Occurrence is the do date (unix ms) of the completed occurrence (the
	// late date for a series anchored on it), or 0 for a task without one.
	Occurrence int64 `json:"occurrence"`
	// Fields are the task's resulting field values (state, do, late,
	// occurrences); for task.uncomplete, the values to restore.
	Fields map[string]any `json:"fields"`
	// Prev are the values before, for undo.
	Prev map[string]any `json:"prev,omitempty"`
	// Log is the log entry the completion adds.
	Log string `json:"log,omitempty"`
	// Complete names the task.complete op a task.uncomplete reverts.
	Complete string `json:"complete,omitempty"`
}

// applyComplete applies a task.complete or task.uncomplete op.
func (t *Tx) applyComplete(op Op, h HLC, d opCompleteData) ([]string, error) {
	lost, err := t.applyFields(op.Node, op.HLC, h, d.Fields)
	if err != nil {
		return nil, err
	}
	var logID string
	err = t.tx.QueryRowContext(t.ctx, `SELECT log_id FROM tasks WHERE node_id=?`, op.Node).Scan(&logID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("complete %s: %w", op.Node, err)
	}
	if op.Type == opTaskUncomplete {
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO log_entries(op_id,log_id,hlc,at,text,removed) VALUES(?,?,'',0,'',1)
			ON CONFLICT(op_id) DO UPDATE SET removed=1`, d.Complete, logID); err != nil {
			return nil, fmt.Errorf("uncomplete %s: %w", op.Node, err)
		}
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM completions WHERE node=? AND op_id=?`, op.Node, d.Complete); err != nil {
			return nil, fmt.Errorf("uncomplete %s: %w", op.Node, err)
		}
		return lost, t.renderLog(logID, h.Wall)
	}
	var prevOp, prevHLC string
	err = t.tx.QueryRowContext(t.ctx, `SELECT op_id, hlc FROM completions WHERE node=? AND occurrence=?`, op.Node, d.Occurrence).Scan(&prevOp, &prevHLC)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO completions(node,occurrence,op_id,hlc) VALUES(?,?,?,?)`,
			op.Node, d.Occurrence, op.ID, op.HLC); err != nil {
			return nil, fmt.Errorf("complete %s: %w", op.Node, err)
		}
	case err != nil:
		return nil, fmt.Errorf("complete %s: %w", op.Node, err)
	case op.HLC < prevHLC:
		// An earlier completion of the same occurrence: it takes the
		// place of the one seen first, so every replica keeps the same.
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE completions SET op_id=?, hlc=? WHERE node=? AND occurrence=?`,
			op.ID, op.HLC, op.Node, d.Occurrence); err != nil {
			return nil, fmt.Errorf("complete %s: %w", op.Node, err)
		}
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM log_entries WHERE op_id=? AND removed=0`, prevOp); err != nil {
			return nil, fmt.Errorf("complete %s: %w", op.Node, err)
		}
	default:
		return lost, nil // this occurrence already counted
	}
	if d.Log != "" && logID != "" {
		if _, err := t.tx.ExecContext(t.ctx, `INSERT OR IGNORE INTO log_entries(op_id,log_id,hlc,at,text) VALUES(?,?,?,?,?)`,
			op.ID, logID, op.HLC, h.Wall, d.Log); err != nil {
			return nil, fmt.Errorf("complete %s: log: %w", op.Node, err)
		}
		return lost, t.renderLog(logID, h.Wall)
	}
	return lost, nil
}

func (s *Store) rpcTaskDone(ctx context.Context, params json.RawMessage) (any, error) {
	return s.finishTask(ctx, params, "done")
}

func (s *Store) rpcTaskSkip(ctx context.Context, params json.RawMessage) (any, error) {
	return s.finishTask(ctx, params, "skip")
}

func (s *Store) rpcTaskDrop(ctx context.Context, params json.RawMessage) (any, error) {
	return s.finishTask(ctx, params, "drop")
}

// finishTask is done, skip or drop on one outstanding task.
func (s *Store) finishTask(ctx context.Context, params json.RawMessage, mode string) (any, error) {
	p, err := decodeID(params)
	if err != nil {
		return nil, err
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return finishOne(tx, p.ID, mode) })
}

// finishOne is done, skip or drop of the task ref names, in tx.
func finishOne(tx *Tx, ref, mode string) (string, error) {
	n, err := liveTask(tx, ref)
	if err != nil {
		return "", err
	}
	if n.Task.State != "outstanding" {
		return "", invalidParams("%s (%s) is already %s", n.Handle, n.Title, n.Task.State)
	}
	switch mode {
	case "drop":
		return n.ID, tx.Set(n.ID, map[string]any{"state": "dropped"})
	case "skip":
		if n.Task.Recur == "" {
			return "", invalidParams("%s (%s) does not recur: skip moves a recurring task to its next occurrence; use done or drop", n.Handle, n.Title)
		}
		fields, _, err := advanceTask(n.Task, tx.s.now())
		if err != nil {
			return "", err
		}
		return n.ID, tx.Set(n.ID, fields)
	}
	return n.ID, completeTask(tx, n)
}

// completeTask records a task.complete op for n's current occurrence and,
// when the series goes on, resets its context's checklist.
func completeTask(tx *Tx, n *Node) error {
	fields, entry, err := advanceTask(n.Task, tx.s.now())
	if err != nil {
		return err
	}
	cur := n.fieldValues()
	prev := map[string]any{}
	for k := range fields {
		prev[k] = cur[k]
	}
	d := opCompleteData{Fields: fields, Prev: prev, Log: entry}
	if occ := occurrenceDate(n.Task); occ != nil {
		d.Occurrence = occ.UnixMilli()
	}
	if _, err := tx.emit(n.ID, opTaskComplete, d); err != nil {
		return err
	}
	if fields["state"] == "done" || n.Task.Context == "" {
		return nil
	}
	c, err := arrivedNode(tx.Context(), tx.SQL(), n.Task.Context)
	if err != nil || c == nil {
		return err // nil when the context doc has not arrived (sync): nothing to reset
	}
	if body := resetChecklist(c.Body); body != c.Body {
		return tx.Set(c.ID, map[string]any{"body": body})
	}
	return nil
}

// advanceTask computes the fields that finish a task's current occurrence
// at now: state done for a task that does not recur or whose series is
// exhausted; otherwise do (and late, by the same offset) moved to the first
// occurrence after now, skipping missed ones (or, with recur_after_done,
// the first one counted from today), and occurrences to its index in the
// series. entry is the log line for a completion.
func advanceTask(t *Task, now time.Time) (fields map[string]any, entry string, err error) {
	if t.Recur == "" {
		return map[string]any{"state": "done"}, "done", nil
	}
	r, err := parseRecurrence(t.Recur)
	if err != nil {
		return nil, "", fmt.Errorf("task recurrence %q: %w", t.Recur, err)
	}
	entry = "done"
	if occ := occurrenceDate(t); occ != nil {
		entry = "done (" + formatOccurrence(*occ) + ")"
	}
	// Occurrences are computed on the wall clock of hephd's zone (now's
	// location), so a daily 09:00 task stays at 09:00 across DST.
	loc := now.Location()
	var (
		next time.Time
		ok   bool
		idx  = t.Occurrences + 1
	)
	// The series is anchored on the do date. A series whose do date was
	// cleared is anchored on its late date (which then moves alone), or
	// else on the start of today, never on the moment of completion.
	y, m, day := now.Date()
	anchor, field := time.Date(y, m, day, 0, 0, 0, 0, loc), "do"
	switch {
	case t.Do != nil:
		anchor = t.Do.In(loc)
	case t.Late != nil:
		anchor, field = t.Late.In(loc), "late"
	}
	if t.RecurAfterDone {
		base := time.Date(y, m, day, anchor.Hour(), anchor.Minute(), anchor.Second(), 0, loc)
		next, ok = r.Next(base, base)
	} else {
		after := now
		if anchor.After(now) {
			after = anchor
		}
		next, ok = r.Next(anchor, after)
		if i := r.Index(anchor, next); ok && i > 1 {
			// Index is 1-based with the current occurrence at 1: the
			// occurrences between it and next were missed (or skipped).
			idx = t.Occurrences + i - 1
		}
	}
	if !ok || (r.Count() > 0 && idx >= r.Count()) {
		return map[string]any{"state": "done"}, entry + ", the series is complete", nil
	}
	fields = map[string]any{field: next.UnixMilli(), "occurrences": idx}
	if t.Late != nil && t.Do != nil {
		fields["late"] = shiftLate(anchor, t.Late.In(loc), next).UnixMilli()
	}
	return fields, entry, nil
}

// shiftLate moves a late date along with its task's do date from do to
// next: the same number of calendar days after the do date, at the same
// wall-clock time (not the same duration, which DST would skew).
func shiftLate(do, late, next time.Time) time.Time {
	days := civilDay(late.Date()) - civilDay(do.Date())
	y, m, d := next.Date()
	return time.Date(y, m, d+days, late.Hour(), late.Minute(), late.Second(), 0, next.Location())
}

// formatOccurrence names an occurrence in a log entry: its date, and its
// time when that is not midnight.
func formatOccurrence(t time.Time) string {
	t = t.Local()
	if t.Hour() == 0 && t.Minute() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04")
}

// occurrenceDate names the occurrence a completion finishes: the do date,
// or for a series without one (anchored on its late date) the late date.
func occurrenceDate(t *Task) *time.Time {
	if t.Do != nil {
		return t.Do
	}
	if t.Recur != "" {
		return t.Late
	}
	return nil
}
