// A task's log doc: entries as ops, its rendered body, and the log.* handlers.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A task's log is a doc whose body is rendered from log_entries, one row
// per log.append op (or first completion of an occurrence). Entries are a
// grow-only set keyed by op id, so concurrent appends on two replicas both
// survive a sync; undo tombstones an entry with a log.remove op.

// opLogData is the data of log.append and log.remove ops.
type opLogData struct {
	Text  string `json:"text,omitempty"`
	At    int64  `json:"at,omitempty"`    // unix ms shown with the entry; the op's HLC wall when 0
	Entry string `json:"entry,omitempty"` // log.remove: the op id of the entry
}

// appendLog appends an entry to a log doc, stamped with the current time.
func appendLog(tx *Tx, logID, text string) error {
	return appendLogAt(tx, logID, text, time.Time{})
}

// appendLogAt appends an entry shown with the given time (importers use it
// for dated annotations); the zero time means now.
func appendLogAt(tx *Tx, logID, text string, at time.Time) error {
	text = strings.TrimRight(text, " \t\r\n")
	if strings.TrimSpace(text) == "" {
		return invalidParams("a log entry needs text")
	}
	d := opLogData{Text: text}
	if !at.IsZero() {
		d.At = at.UnixMilli()
	}
	_, err := tx.emit(logID, opLogAppend, d)
	return err
}

// applyLog adds or tombstones one entry and re-renders the log doc.
func (t *Tx) applyLog(op Op, h HLC, d opLogData) error {
	if op.Type == opLogAppend {
		at := d.At
		if at == 0 {
			at = h.Wall
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT OR IGNORE INTO log_entries(op_id,log_id,hlc,at,text) VALUES(?,?,?,?,?)`,
			op.ID, op.Node, op.HLC, at, d.Text); err != nil {
			return fmt.Errorf("log %s: append: %w", op.Node, err)
		}
	} else {
		// The tombstone may arrive before the entry it removes.
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO log_entries(op_id,log_id,hlc,at,text,removed) VALUES(?,?,'',0,'',1)
			ON CONFLICT(op_id) DO UPDATE SET removed=1`, d.Entry, op.Node); err != nil {
			return fmt.Errorf("log %s: remove entry: %w", op.Node, err)
		}
	}
	return t.renderLog(op.Node, h.Wall)
}

// renderLog rewrites a log doc's body from its live entries.
func (t *Tx) renderLog(logID string, wall int64) error {
	if logID == "" {
		return nil
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT at, text FROM log_entries WHERE log_id=? AND removed=0 ORDER BY at, hlc, op_id`, logID)
	if err != nil {
		return fmt.Errorf("log %s: render: %w", logID, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var at int64
		var text string
		if err := rows.Scan(&at, &text); err != nil {
			return fmt.Errorf("log %s: render: %w", logID, err)
		}
		b.WriteString(formatLogEntry(msTime(at), text))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("log %s: render: %w", logID, err)
	}
	rows.Close()
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE nodes SET body=?, updated=max(updated,?) WHERE id=?`, b.String(), wall, logID); err != nil {
		return fmt.Errorf("log %s: render: %w", logID, err)
	}
	return nil
}

// formatLogEntry renders one entry as a markdown list item:
// "- 2026-11-26 19:40 text", continuation lines indented.
func formatLogEntry(at time.Time, text string) string {
	lines := strings.Split(text, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "- %s %s\n", at.Local().Format("2006-01-02 15:04"), lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// logOwner returns the task whose log doc is logID, or "" when logID is no
// task's log.
func logOwner(t *Tx, logID string) (string, error) {
	var task string
	err := t.tx.QueryRowContext(t.ctx, `SELECT node_id FROM tasks WHERE log_id=? LIMIT 1`, logID).Scan(&task)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return task, err
}

func (s *Store) rpcLogGet(ctx context.Context, params json.RawMessage) (any, error) {
	return s.readCompanion(ctx, params, "log")
}

type logAppendParams struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

func (s *Store) rpcLogAppend(ctx context.Context, params json.RawMessage) (any, error) {
	var p logAppendParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := (idParams{p.ID}).check(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Text) == "" {
		return nil, invalidParams("missing param \"text\": a log entry needs text")
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) {
		d, err := companion(tx, p.ID, "log")
		if err != nil {
			return "", err
		}
		return d.ID, appendLog(tx, d.ID, p.Text)
	})
}
