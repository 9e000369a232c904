// events_tick.go owns the tick events: one at each instant a do date arrives or a late date passes.

package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A task whose do date arrives or whose late date passes changes what is
// next without any write. While the bus has subscribers, one timer is armed
// for the next such boundary (computed from the tasks table, not by
// polling); when it fires every subscriber gets {"tick":true,"at":T} and the
// timer is armed for the boundary after. Each committed write re-arms it,
// off the writer's path, since a write may move the next boundary.

// kickTicks recomputes the tick timer in the background. Kicks that arrive
// while one recomputation runs coalesce into one more.
func (b *eventBus) kickTicks() {
	b.mu.Lock()
	if b.closed || len(b.subs) == 0 {
		b.mu.Unlock()
		return
	}
	if b.rearming {
		b.rearmMore = true
		b.mu.Unlock()
		return
	}
	b.rearming = true
	b.mu.Unlock()
	go func() {
		if err := callRecovered(b.log, "events: tick", b.rearmLoop); err != nil {
			b.mu.Lock()
			b.rearming = false // the next write rearms again
			b.mu.Unlock()
		}
	}()
}

func (b *eventBus) rearmLoop() {
	for {
		next, ok, err := b.s.nextBoundary(context.Background(), b.s.now())
		b.mu.Lock()
		if err == nil {
			b.armLocked(next, ok)
		}
		if !b.rearmMore || b.closed {
			b.rearming = false
			b.mu.Unlock()
			return
		}
		b.rearmMore = false
		b.mu.Unlock()
	}
}

// armLocked sets the timer for boundary at (when ok), waiting at most
// tickMaxWait at a time so a suspended machine's clock is re-read.
func (b *eventBus) armLocked(at time.Time, ok bool) {
	if b.tick != nil {
		b.tick.Stop()
		b.tick = nil
	}
	if b.closed || len(b.subs) == 0 {
		return
	}
	wait := tickMaxWait
	if ok {
		wait = min(max(time.Until(at), 0), tickMaxWait)
	}
	b.tick = time.AfterFunc(wait, func() { b.fire(at, ok) })
}

// fire publishes the tick for boundary at once it has come, then re-arms.
func (b *eventBus) fire(at time.Time, ok bool) {
	if ok && !b.s.now().Before(at) {
		b.publish(tickEvent(at))
	}
	b.kickTicks()
}

// nextBoundary is the earliest do or late date after now among outstanding
// live tasks (each read from its partial index).
func (s *Store) nextBoundary(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var ms sql.NullInt64
	st, err := s.stmts.prepared(ctx, s.db, `SELECT min(x) FROM (
		SELECT min(do_at) AS x FROM tasks WHERE state = 'outstanding' AND node_deleted IS NULL AND do_at IS NOT NULL AND do_at > ?1
		UNION ALL
		SELECT min(late_at) FROM tasks WHERE state = 'outstanding' AND node_deleted IS NULL AND late_at IS NOT NULL AND late_at > ?1)`)
	if err == nil { // prepared once per store: it runs after every write to a task
		err = st.QueryRowContext(ctx, now.UnixMilli()).Scan(&ms)
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next do or late boundary: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64), true, nil
}
