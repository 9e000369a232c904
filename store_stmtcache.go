// Per-store caches of prepared statements: for the apply path, and for listings.

package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// The apply path runs the same few statements thousands of times in one
// import. Preparing a statement (and compiling the triggers it fires) costs
// more than running it, so Tx.exec and Tx.queryRow prepare each query once
// per store (database/sql then keeps it prepared per connection) and once
// per transaction.

// stmtCache holds a store's prepared statements by query text.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// limit, when set, bounds a cache whose query texts come from
	// requests (a listing's filter): past it the cache starts over.
	limit int
}

// prepared returns the store-wide prepared statement for q.
func (c *stmtCache) prepared(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil || (c.limit > 0 && len(c.stmts) >= c.limit) {
		// Closing is safe while a transaction still uses one: database/sql
		// closes a statement on a busy connection when it is released.
		for _, old := range c.stmts {
			old.Close()
		}
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st, nil
}

// query runs q, prepared once per store, in the read transaction tx.
func (c *stmtCache) query(ctx context.Context, db *sql.DB, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	ps, err := c.prepared(ctx, db, q)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, ps).QueryContext(ctx, args...)
}

// stmt returns q prepared for this transaction.
func (t *Tx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	ps, err := t.s.stmts.prepared(t.ctx, t.s.db, q)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	st := t.tx.StmtContext(t.ctx, ps)
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

// exec runs a cached statement in the transaction.
func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

// queryRow runs a cached single-row query in the transaction.
func (t *Tx) queryRow(q string, args ...any) *sql.Row {
	st, err := t.stmt(q)
	if err != nil {
		return t.tx.QueryRowContext(t.ctx, q, args...) // reports the same error on Scan
	}
	return st.QueryRowContext(t.ctx, args...)
}

// query runs a cached query in the transaction.
func (t *Tx) query(q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

// listingQueries is a querier whose QueryContext runs on statements
// prepared once per store (in the bounded listStmts): compiling a listing's
// filter reads the project index every time, and preparing that join cost
// more than running it.
type listingQueries struct{ s *Store }

func (q listingQueries) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ps, err := q.s.listStmts.prepared(ctx, q.s.db, query)
	if err != nil {
		return nil, err
	}
	return ps.QueryContext(ctx, args...)
}

func (q listingQueries) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return q.s.db.QueryRowContext(ctx, query, args...)
}
