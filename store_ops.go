// Ops: the op types and their data, and the write transaction (Tx, Store.Write) that records and applies them.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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

// msTime converts unix milliseconds to a time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms) }
