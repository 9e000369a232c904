// Whole listing replies, kept while the store's data is unchanged (PRAGMA data_version) and the clock crosses no late time.

package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// A listing asked for again with nothing changed (an editor refreshing, a
// terminal UI, a script) is answered from its last reply, without running
// its query: SQLite's data_version, read on a connection that never
// writes, moves with every commit by any other connection, so no write
// path (not even raw SQL) has to remember to invalidate anything. A sort
// that reads the clock (next: late tasks first) keeps its order until the
// first late time among the listed tasks passes, and a result is only
// reused for a clock between when it was made and that time. Filters whose
// arguments come from the clock (do.before:+3d) differ every time and so
// are simply not reused.

// listResultsMax bounds the results kept, in number and bytes; past either
// the cache starts over.
const (
	listResultsMax      = 32
	listResultsMaxBytes = 16 << 20
)

// listResults is a store's cache of whole listing replies.
type listResults struct {
	mu      sync.Mutex
	conn    *sql.Conn // opened on first use; only ever reads data_version
	entries map[string]*listResult
	bytes   int
	hits    atomic.Int64 // listings answered from the cache (tests read it)
}

// listResult is one listing's reply at a data version, valid for a clock
// (Unix ms) in [from, until); until 0 means no bound.
type listResult struct {
	version     int64
	from, until int64
	encoded     encodedNodes
}

// listingKey names a listing: its query, its arguments but the clock,
// and its form.
func listingKey(query string, args []any, brief bool) string {
	var b strings.Builder
	b.WriteString(query)
	for _, a := range args {
		fmt.Fprintf(&b, "\x00%T:%v", a, a)
	}
	if brief {
		b.WriteString("\x00brief")
	}
	return b.String()
}

// version reads the store's data version, or says ok false when it cannot
// (the listing then runs uncached).
func (c *listResults) version(ctx context.Context, db *sql.DB) (v int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		conn, err := db.Conn(ctx)
		if err != nil {
			return 0, false
		}
		c.conn = conn
	}
	if err := c.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		c.conn.Close()
		c.conn = nil
		return 0, false
	}
	return v, true
}

// get returns the reply kept for key if it is current for version and
// the clock now.
func (c *listResults) get(key string, version, now int64) encodedNodes {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.entries[key]
	if r == nil || r.version != version || now < r.from || (r.until != 0 && now >= r.until) {
		return nil
	}
	c.hits.Add(1)
	return r.encoded
}

// put keeps a reply.
func (c *listResults) put(key string, r *listResult) {
	size := len(key) + len(r.encoded)
	if size > listResultsMaxBytes/4 {
		return // a listing this long is not worth a quarter of the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		c.bytes -= len(key) + len(old.encoded)
		delete(c.entries, key)
	}
	if c.entries == nil || len(c.entries) >= listResultsMax || c.bytes+size > listResultsMaxBytes {
		c.entries, c.bytes = map[string]*listResult{}, 0
	}
	c.entries[key] = r
	c.bytes += size
}

// close releases the connection.
func (c *listResults) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// lateBound is until for a clocked listing made at now: the first late
// time after now among the listed tasks (0: none, no bound).
func lateBound(listed []*listedTask, now int64) int64 {
	var until int64
	for _, l := range listed {
		if l.late.Valid && l.late.Int64 > now && (until == 0 || l.late.Int64 < until) {
			until = l.late.Int64
		}
	}
	return until
}
