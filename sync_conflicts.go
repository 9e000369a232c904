// The conflicts queue and the conflict.* handlers.

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

// The conflicts queue: when a concurrent edit from another replica meets a
// value written here (see mergeRemote), last-writer-wins picks the field's
// value, and the losing one is queued here so nothing is silently lost.
// Resolving keeps one side by writing it as a normal mutation, which syncs.

// conflict is one queued conflict as clients see it.
type conflict struct {
	ID        string          `json:"id"`
	Node      string          `json:"node"`
	Handle    string          `json:"handle,omitempty"`
	Title     string          `json:"title,omitempty"`
	Field     string          `json:"field"`
	Mine      json.RawMessage `json:"mine"`
	Theirs    json.RawMessage `json:"theirs"`
	MineHLC   string          `json:"mine_hlc"`
	TheirsHLC string          `json:"theirs_hlc"`
	Winner    string          `json:"winner"` // which side the field holds now: mine or theirs
	Created   time.Time       `json:"created"`
	Resolved  *time.Time      `json:"resolved,omitempty"`
	Kept      string          `json:"kept,omitempty"`
}

const conflictSelect = `SELECT c.id, c.node, coalesce(n.handle,''), coalesce(n.title,''), c.field, c.mine, c.theirs,
	c.mine_hlc, c.theirs_hlc, c.winner, c.created, c.resolved, c.kept
	FROM conflicts c LEFT JOIN nodes n ON n.id=c.node`

func scanConflict(r rowScanner) (*conflict, error) {
	var c conflict
	var mine, theirs string
	var created int64
	var resolved sql.NullInt64
	if err := r.Scan(&c.ID, &c.Node, &c.Handle, &c.Title, &c.Field, &mine, &theirs, &c.MineHLC, &c.TheirsHLC,
		&c.Winner, &created, &resolved, &c.Kept); err != nil {
		return nil, err
	}
	c.Mine, c.Theirs = json.RawMessage(mine), json.RawMessage(theirs)
	c.Created = time.UnixMilli(created)
	if resolved.Valid {
		t := time.UnixMilli(resolved.Int64)
		c.Resolved = &t
	}
	return &c, nil
}

// countOpenConflicts counts unresolved conflicts.
func (s *Store) countOpenConflicts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM conflicts WHERE resolved IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count conflicts: %w", err)
	}
	return n, nil
}

// listConflicts returns open conflicts (all when includeResolved), oldest first.
func (s *Store) listConflicts(ctx context.Context, includeResolved bool) ([]*conflict, error) {
	q := conflictSelect
	if !includeResolved {
		q += ` WHERE c.resolved IS NULL`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY c.created, c.id`)
	if err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	defer rows.Close()
	out := []*conflict{}
	for rows.Next() {
		c, err := scanConflict(rows)
		if err != nil {
			return nil, fmt.Errorf("list conflicts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// resolveConflict keeps one side of conflict ref (its id or an unambiguous
// prefix): the kept value is written with a new op, so every replica
// converges on it, and the conflict is marked resolved.
func (s *Store) resolveConflict(ctx context.Context, ref, keep string) (*conflict, error) {
	if keep != "mine" && keep != "theirs" {
		return nil, invalidParams("keep must be \"mine\" or \"theirs\", not %q", keep)
	}
	var out *conflict
	err := s.Write(ctx, func(tx *Tx) error {
		c, err := findConflict(ctx, tx.SQL(), ref)
		if err != nil {
			return err
		}
		if c.Resolved != nil {
			return &rpcError{Code: codeConflict, Message: fmt.Sprintf("conflict %s was already resolved (kept %s)", c.ID, c.Kept)}
		}
		raw := c.Mine
		if keep == "theirs" {
			raw = c.Theirs
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("conflict %s: decode value: %w", c.ID, err)
		}
		if err := tx.Set(c.Node, map[string]any{c.Field: v}); err != nil {
			return fmt.Errorf("conflict %s: keep %s: %w", c.ID, keep, err)
		}
		now := s.now().UnixMilli()
		if _, err := tx.SQL().ExecContext(ctx, `UPDATE conflicts SET resolved=?, kept=? WHERE id=?`, now, keep, c.ID); err != nil {
			return fmt.Errorf("conflict %s: %w", c.ID, err)
		}
		c.Kept = keep
		t := time.UnixMilli(now)
		c.Resolved = &t
		out = c
		return nil
	})
	return out, err
}

// findConflict looks a conflict up by id or unambiguous id prefix.
func findConflict(ctx context.Context, q querier, ref string) (*conflict, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, invalidParams("missing param \"id\" (see heph conflicts)")
	}
	up := strings.ToUpper(ref) // ids are upper-case ULIDs; people may type lower case
	rows, err := q.QueryContext(ctx, conflictSelect+` WHERE c.id >= ? AND c.id < ? ORDER BY c.id LIMIT 2`, up, up+"\xff")
	if err != nil {
		return nil, fmt.Errorf("find conflict %q: %w", ref, err)
	}
	defer rows.Close()
	var found []*conflict
	for rows.Next() {
		c, err := scanConflict(rows)
		if err != nil {
			return nil, err
		}
		found = append(found, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("no conflict with id %q: %w", ref, errNotFound)
	case len(found) > 1 && found[0].ID != up:
		return nil, &rpcError{Code: codeAmbiguous, Message: fmt.Sprintf("conflict id %q is ambiguous: give more characters", ref)}
	}
	return found[0], nil
}

// conflictListParams are conflicts.list's params.
type conflictListParams struct {
	All bool `json:"all"`
}

// rpcConflictList is conflicts.list: open conflicts (all with all).
func (s *Store) rpcConflictList(ctx context.Context, params json.RawMessage) (any, error) {
	var p conflictListParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.listConflicts(ctx, p.All)
}

// conflictResolveParams are conflicts.resolve's params.
type conflictResolveParams struct {
	ID   string `json:"id"`
	Keep string `json:"keep"`
}

// rpcConflictResolve is conflicts.resolve: keep one side of a conflict.
func (s *Store) rpcConflictResolve(ctx context.Context, params json.RawMessage) (any, error) {
	var p conflictResolveParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	c, err := s.resolveConflict(ctx, p.ID, p.Keep)
	if errors.Is(err, errNotFound) {
		return nil, &rpcError{Code: codeNotFound, Message: err.Error()}
	}
	return c, err
}
