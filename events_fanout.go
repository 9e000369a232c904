// events_fanout.go owns the delivery of published events: one paced flusher per bus that writes each round's events to every socket subscriber with one non-blocking write.

package main

import (
	"time"
)

// publish only queues an event on each subscriber and wakes the bus's
// flusher; the writer never waits for delivery. A flush round takes every
// subscriber with something queued and, for a socket subscriber, writes
// all of it with one non-blocking write: the lines of the events published
// since the previous round are concatenated once and shared by every
// subscriber that is up to date (the usual case), so a round costs one
// syscall per subscriber and no allocation per subscriber, and wakes no
// goroutine. When that write cannot complete (a full socket buffer: a slow
// reader; or a reply being written on the connection) the subscriber's own
// goroutine finishes it with blocking writes while its queue, bounded,
// fills and eventually resyncs as before. In-process subscribers (the
// hub's streams, the hook) are woken instead.
//
// Pacing: a round costs about one write (a few µs) per subscriber. After a
// round that took eventHoldMin or more (some ten subscribers or more), the
// next starts no sooner than eventHoldMax after it ended: the events
// committed meanwhile go out together, so a burst of commits costs each
// subscriber one write, not one per commit, and delivery cannot take more
// than its share of the CPU from writers however fast they commit. An
// event waits at most eventHoldMax plus a round, inside the 2 ms latency
// budget (docs/protocol.md); with few subscribers nothing waits.

const (
	eventHoldMax = time.Millisecond
	// eventHoldMin: a shorter round (few subscribers) is followed by no
	// wait at all.
	eventHoldMin = 50 * time.Microsecond
	// eventWriteMax bounds the events one write carries.
	eventWriteMax = eventQueueMax
)

// eventSink is a subscriber's direct output, used by the flusher.
type eventSink interface {
	// deliver writes all that sub has queued without blocking and reports
	// whether it did; on false the subscriber's goroutine is woken to
	// finish.
	deliver(sub *eventSub, r *eventRound) bool
}

// eventRound is what one flush round shares among its subscribers.
type eventRound struct {
	events  []*event // published since the previous round, in order
	lines   []byte   // their lines, concatenated
	offs    []int    // offs[i]: where events[i]'s line starts in lines
	taken   []*event // scratch for one subscriber's events
	scratch []byte   // scratch for lines that are not a suffix of the round's
}

// reset makes r the round of evs.
func (r *eventRound) reset(evs []*event) {
	r.events = evs
	r.lines = r.lines[:0]
	r.offs = r.offs[:0]
	for _, ev := range evs {
		r.offs = append(r.offs, len(r.lines))
		r.lines = append(r.lines, ev.Line()...)
	}
}

// linesOf is the concatenated lines of evs: a slice of the round's shared
// bytes when evs are the round's last events, else built in r.scratch. The
// result is valid until the next call.
func (r *eventRound) linesOf(evs []*event) []byte {
	if k := len(r.events) - len(evs); k >= 0 && len(evs) > 0 {
		same := true
		for i, ev := range evs {
			if r.events[k+i] != ev {
				same = false
				break
			}
		}
		if same {
			return r.lines[r.offs[k]:]
		}
	}
	r.scratch = appendLines(r.scratch[:0], evs)
	return r.scratch
}

// appendLines appends the lines of evs to b.
func appendLines(b []byte, evs []*event) []byte {
	for _, ev := range evs {
		b = append(b, ev.Line()...)
	}
	return b
}

// flushLoop runs the bus's flush rounds until the bus closes.
func (b *eventBus) flushLoop() {
	var (
		r     eventRound
		subs  []*eventSub
		evs   []*event
		ended time.Time     // when the last round ended
		hold  time.Duration // the wait owed after it
	)
	for {
		select {
		case <-b.wake:
		case <-b.stop:
			return
		}
		if wait := hold - time.Since(ended); wait > 0 {
			time.Sleep(wait)
		}
		start := time.Now()
		b.mu.Lock()
		subs, b.dirty = b.dirty, subs[:0]
		evs, b.recent = b.recent, evs[:0]
		for _, sub := range subs {
			sub.marked = false
		}
		b.mu.Unlock()
		r.reset(evs)
		for _, sub := range subs {
			sub.flush(&r)
		}
		clear(subs)
		clear(evs)
		r.events = nil
		ended = time.Now()
		hold = 0
		if ended.Sub(start) >= eventHoldMin {
			hold = eventHoldMax
		}
	}
}

// flush hands sub's queue to its sink, or wakes its goroutine.
func (sub *eventSub) flush(r *eventRound) {
	sub.mu.Lock()
	sink := sub.sink
	sub.mu.Unlock()
	if sink == nil || !sink.deliver(sub, r) {
		sub.signal()
	}
}

// setSink makes the flusher write sub's events through sink (nil: wake
// the subscriber's goroutine instead).
func (sub *eventSub) setSink(sink eventSink) {
	sub.mu.Lock()
	sub.sink = sink
	sub.mu.Unlock()
}

// takeUpTo appends to dst, in delivery order, up to max of the events sub
// has waiting (replayed ones, a pending resync, the queue) and removes
// them.
func (sub *eventSub) takeUpTo(dst []*event, max int) []*event {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return dst
	}
	n := min(len(sub.pre), max)
	dst = append(dst, sub.pre[:n]...)
	clear(sub.pre[:n])
	sub.pre = sub.pre[n:]
	max -= n
	if max > 0 && sub.resync != nil {
		dst = append(dst, sub.resync)
		sub.resync = nil
		max--
	}
	n = min(len(sub.queue), max)
	dst = append(dst, sub.queue[:n]...)
	clear(sub.queue[:n])
	if n == len(sub.queue) {
		sub.queue = sub.queue[:0] // drained: keep the array
	} else {
		sub.queue = sub.queue[n:]
	}
	return dst
}
