// The store's side of sync: ops by sequence for pull and push, merging remote ops, per-hub cursors.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The store's side of sync: reading ops by sequence for a pull or a push,
// merging a batch of remote ops (recording conflicts), and the per-hub
// cursors. Both the hub and the spoke use these; neither knows HTTP here.

// seqOp is an op with the sequence number it has in the store that sent it.
type seqOp struct {
	Seq int64 `json:"seq"`
	Op
}

// opsAfter returns up to limit ops with seq > after, in seq order, and
// stops early once their data passes syncPageBytes (a page always holds
// at least one op, so any op fits a page of its own). When skipReplica is
// set, ops made by that replica are left out (it has them), but the
// returned cursor still moves past them.
func (s *Store) opsAfter(ctx context.Context, after int64, limit int, skipReplica string) (ops []seqOp, cursor int64, more bool, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq,id,hlc,node,type,data FROM ops WHERE seq>? ORDER BY seq LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, after, false, fmt.Errorf("read ops after %d: %w", after, err)
	}
	defer rows.Close()
	cursor = after
	n, size := 0, 0
	for rows.Next() {
		var o seqOp
		var data string
		if err := rows.Scan(&o.Seq, &o.ID, &o.HLC, &o.Node, &o.Type, &data); err != nil {
			return nil, after, false, fmt.Errorf("read ops after %d: %w", after, err)
		}
		n++
		if n > limit || (len(ops) > 0 && size+opWireSize(o.Op, len(data)) > syncPageBytes) {
			more = true
			break
		}
		cursor = o.Seq
		if skipReplica != "" && hlcReplica(o.HLC) == skipReplica {
			continue
		}
		o.Data = json.RawMessage(data)
		size += opWireSize(o.Op, len(data))
		ops = append(ops, o)
	}
	return ops, cursor, more, rows.Err()
}

// localOpsAfter returns up to limit ops made on this replica with seq >
// after, in seq order, stopping once their data passes syncPageBytes (at
// least one op): what a spoke still has to push.
func (s *Store) localOpsAfter(ctx context.Context, after int64, limit int) ([]seqOp, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq,id,hlc,node,type,data FROM ops WHERE local=1 AND seq>? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read local ops after %d: %w", after, err)
	}
	defer rows.Close()
	var ops []seqOp
	size := 0
	for rows.Next() {
		var o seqOp
		var data string
		if err := rows.Scan(&o.Seq, &o.ID, &o.HLC, &o.Node, &o.Type, &data); err != nil {
			return nil, fmt.Errorf("read local ops: %w", err)
		}
		if size += opWireSize(o.Op, len(data)); len(ops) > 0 && size > syncPageBytes {
			break
		}
		o.Data = json.RawMessage(data)
		ops = append(ops, o)
	}
	return ops, rows.Err()
}

// countLocalAfter counts local ops with seq > after (ops waiting to push).
func (s *Store) countLocalAfter(ctx context.Context, after int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM ops WHERE local=1 AND seq>?`, after).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count ops to push: %w", err)
	}
	return n, nil
}

// hlcReplica is the replica part of an HLC string.
func hlcReplica(h string) string {
	for i, dots := 0, 0; i < len(h); i++ {
		if h[i] == '.' {
			dots++
			if dots == 2 {
				return h[i+1:]
			}
		}
	}
	return ""
}

// mergeResult counts what a merge did.
type mergeResult struct {
	Applied   int `json:"applied"`   // ops new to this store
	Known     int `json:"known"`     // replays: already here, no-ops
	Conflicts int `json:"conflicts"` // conflicts recorded
}

// mergeRemote applies ops from another replica in one transaction: all or
// nothing. When detect is true (a spoke merging what it pulled), a field
// whose current value was written here and not yet pushed (local op with
// seq > pushed) is concurrent with the incoming op: if the values differ,
// the loser — whichever side it is — is kept in the conflicts queue. That
// is heph's definition of "concurrent": both values written since this
// replica last synced with the hub. The replica that syncs second records
// the conflict; the hub records none.
func (s *Store) mergeRemote(ctx context.Context, ops []Op, detect bool, pushed int64) (mergeResult, error) {
	var res mergeResult
	if detect {
		n, err := s.countLocalAfter(ctx, pushed)
		if err != nil {
			return res, err
		}
		detect = n > 0
	}
	err := s.Write(ctx, func(tx *Tx) error {
		res = mergeResult{}
		for _, op := range ops {
			var pending map[string]pendingValue
			if detect && op.Type == opNodeSet {
				var err error
				if pending, err = tx.unpushedFields(op, pushed); err != nil {
					return err
				}
			}
			applied, lost, err := tx.ApplyRemote(op)
			if err != nil {
				return fmt.Errorf("apply op %s (%s on %s): %w", op.ID, op.Type, op.Node, err)
			}
			if !applied {
				res.Known++
				continue
			}
			res.Applied++
			if len(pending) > 0 {
				n, err := tx.recordConflicts(op, pending, lost)
				if err != nil {
					return err
				}
				res.Conflicts += n
			}
		}
		return nil
	})
	return res, err
}

// pendingValue is a field value written here and not yet pushed.
type pendingValue struct {
	value any
	hlc   string
}

// unpushedFields returns, among the fields op sets, those whose current
// value comes from a local op the hub does not have yet.
func (t *Tx) unpushedFields(op Op, pushed int64) (map[string]pendingValue, error) {
	var d opSetData
	if err := json.Unmarshal(op.Data, &d); err != nil {
		return nil, fmt.Errorf("decode op %s: %w", op.ID, err)
	}
	var out map[string]pendingValue
	var names []string
	clocks, err := t.fieldClocks(op.Node)
	if err != nil {
		return nil, err
	}
	for name := range d.Fields {
		if _, ok := nodeField(name); !ok || name == "deleted" || clocks[name] == "" {
			continue // unknown: ApplyRemote reports it; deleted: never a conflict
		}
		var local int
		err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM ops WHERE hlc=? AND local=1 AND seq>?)`, clocks[name], pushed).Scan(&local)
		if err != nil {
			return nil, fmt.Errorf("node %s: read clock: %w", op.Node, err)
		}
		if local != 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	cur, err := t.readFields(op.Node, names)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out = make(map[string]pendingValue, len(names))
	for _, name := range names {
		out[name] = pendingValue{value: cur[name], hlc: clocks[name]}
	}
	return out, nil
}

// recordConflicts queues the losing side of each concurrent field of op
// whose values differ. lost names the fields where the local value won.
func (t *Tx) recordConflicts(op Op, pending map[string]pendingValue, lost []string) (int, error) {
	var d opSetData
	if err := json.Unmarshal(op.Data, &d); err != nil {
		return 0, fmt.Errorf("decode op %s: %w", op.ID, err)
	}
	lostSet := map[string]bool{}
	for _, f := range lost {
		lostSet[f] = true
	}
	n := 0
	for name, p := range pending {
		mine, err := normalValue(name, p.value)
		if err != nil {
			return n, err
		}
		theirs, err := normalValue(name, d.Fields[name])
		if err != nil {
			return n, err
		}
		if mine == theirs {
			continue
		}
		if name == "title" {
			// A task's context and log docs take their titles from the
			// task: the task's own title conflict is the one to resolve.
			var companion int
			if err := t.queryRow(`SELECT count(*) FROM tasks WHERE context_id=? OR log_id=?`, op.Node, op.Node).Scan(&companion); err != nil {
				return n, fmt.Errorf("record conflict on %s: %w", op.Node, err)
			}
			if companion > 0 {
				continue
			}
		}
		winner := "theirs"
		if lostSet[name] {
			winner = "mine"
		}
		_, err = t.exec(`INSERT INTO conflicts(id,node,field,mine,theirs,mine_hlc,theirs_hlc,theirs_op,winner,created)
			VALUES(?,?,?,?,?,?,?,?,?,?)`, newULID(t.s.now()), op.Node, name, mine, theirs, p.hlc, op.HLC, op.ID, winner, t.s.now().UnixMilli())
		if err != nil {
			return n, fmt.Errorf("record conflict on %s.%s: %w", op.Node, name, err)
		}
		n++
	}
	return n, nil
}

// normalValue is a field value as canonical JSON, so values from the
// store and from an op's JSON compare equal when they mean the same.
func normalValue(field string, v any) (string, error) {
	cv, err := columnValue(field, v)
	if err != nil {
		return "", err
	}
	switch field {
	case "tags":
		return cv.(string), nil
	case "recur_after_done", "archived":
		b, _ := json.Marshal(cv == 1)
		return string(b), nil
	}
	b, err := json.Marshal(cv)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", field, err)
	}
	return string(b), nil
}

// syncState is a spoke's persisted state for one hub.
type syncState struct {
	Hub         string
	Pulled      int64 // hub seq received up to
	Pushed      int64 // local seq the hub has up to
	LastSuccess time.Time
	LastError   string
	LastErrorAt time.Time
}

// loadSyncState reads the state for hub (zero cursors when new).
func (s *Store) loadSyncState(ctx context.Context, hub string) (syncState, error) {
	st := syncState{Hub: hub}
	var ok, errAt sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT pulled,pushed,last_success,last_error,last_error_at FROM sync_state WHERE hub=?`, hub).
		Scan(&st.Pulled, &st.Pushed, &ok, &st.LastError, &errAt)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read sync state for %s: %w", hub, err)
	}
	if ok.Valid {
		st.LastSuccess = time.UnixMilli(ok.Int64)
	}
	if errAt.Valid {
		st.LastErrorAt = time.UnixMilli(errAt.Int64)
	}
	return st, nil
}

// saveCursors persists both cursors for hub.
func (s *Store) saveCursors(ctx context.Context, hub string, pulled, pushed int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_state(hub,pulled,pushed) VALUES(?,?,?)
		ON CONFLICT(hub) DO UPDATE SET pulled=excluded.pulled, pushed=excluded.pushed`, hub, pulled, pushed)
	if err != nil {
		return fmt.Errorf("save sync cursors for %s: %w", hub, err)
	}
	return nil
}

// saveSyncOutcome records the result of one exchange.
func (s *Store) saveSyncOutcome(ctx context.Context, hub string, at time.Time, syncErr error) error {
	var err error
	if syncErr == nil {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sync_state(hub,last_success) VALUES(?,?)
			ON CONFLICT(hub) DO UPDATE SET last_success=excluded.last_success`, hub, at.UnixMilli())
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sync_state(hub,last_error,last_error_at) VALUES(?,?,?)
			ON CONFLICT(hub) DO UPDATE SET last_error=excluded.last_error, last_error_at=excluded.last_error_at`, hub, syncErr.Error(), at.UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("save sync state for %s: %w", hub, err)
	}
	return nil
}

// metaValue reads a meta key ("" when absent).
func (s *Store) metaValue(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// claimMeta sets key to value unless it is already set, and returns the
// value it has afterwards (first writer wins). Once set, it only reads: the
// hub calls it on every request, and a write would queue behind (and
// time out under) the pushes' write transactions.
func (s *Store) claimMeta(ctx context.Context, key, value string) (string, error) {
	if v, err := s.metaValue(ctx, key); err != nil || v != "" {
		return v, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key,value) VALUES(?,?)`, key, value); err != nil {
		return "", fmt.Errorf("claim %s: %w", key, err)
	}
	return s.metaValue(ctx, key)
}
