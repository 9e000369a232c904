// events_rpc.go owns events.subscribe on the socket: one serialized writer per connection shared by replies and event notifications.

package main

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"syscall"
)

// A socket connection answers requests in order; once it subscribes, its
// events are written to it too: by the bus's flusher, one non-blocking
// write per round (events_fanout.go), or, when that cannot complete, by the
// connection's pump goroutine with blocking writes. All of them go through
// the connection's one writer (connWriter), whole lines at a time, so a
// reply and a notification never interleave within a line. The subscribe
// reply is written before the connection becomes the subscription's sink
// and its pump starts, so every notification follows it.

// connWriter serializes whole lines onto one connection.
type connWriter struct {
	mu  sync.Mutex
	c   net.Conn
	raw syscall.RawConn // for non-blocking writes; nil when c has no descriptor
	// pending is the unwritten tail of a non-blocking write: written
	// before anything else.
	pending []byte
	buf     []byte // the pump's scratch
	err     error
}

func newConnWriter(c net.Conn) *connWriter {
	cw := &connWriter{c: c}
	if sc, ok := c.(syscall.Conn); ok {
		cw.raw, _ = sc.SyscallConn()
	}
	return cw
}

// write writes lines (whole, blocking); after a failed write every later
// one fails too.
func (cw *connWriter) write(lines ...[]byte) error {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.flushPendingLocked() != nil {
		return cw.err
	}
	if len(lines) == 1 {
		_, cw.err = cw.c.Write(lines[0])
		return cw.err
	}
	bufs := net.Buffers(lines)
	_, cw.err = bufs.WriteTo(cw.c)
	return cw.err
}

// flushPendingLocked writes what a non-blocking write left over.
func (cw *connWriter) flushPendingLocked() error {
	if cw.err == nil && len(cw.pending) > 0 {
		_, cw.err = cw.c.Write(cw.pending)
		cw.pending = cw.pending[:0]
	}
	return cw.err
}

// tryWriteLocked writes b without blocking; what the socket does not take
// is kept in pending (the pump writes it). It reports whether all of b
// was written.
func (cw *connWriter) tryWriteLocked(b []byte) bool {
	var n int
	var werr error
	err := cw.raw.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, werr = syscall.Write(int(fd), b)
			if n <= 0 {
				break
			}
			b = b[n:]
		}
		return true
	})
	switch {
	case err != nil:
		cw.err = err
	case werr != nil && werr != syscall.EAGAIN && werr != syscall.EINTR:
		cw.err = werr
	}
	if cw.err != nil {
		return false
	}
	cw.pending = append(cw.pending, b...)
	return len(b) == 0
}

// rpcConn is the per-connection state a handler may reach through its
// context (connFrom).
type rpcConn struct {
	w  *connWriter
	nc *net.UnixConn

	mu         sync.Mutex
	sub        *eventSub
	afterReply func() // run once the current request's reply is written
	pumpDone   chan struct{}
}

// subscribed reports whether the connection has called events.subscribe:
// such a connection waits for notifications, so the idle deadline
// (rpc_limits.go) does not apply to it.
func (c *rpcConn) subscribed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sub != nil
}

type rpcConnKey struct{}

func withConn(ctx context.Context, c *rpcConn) context.Context {
	return context.WithValue(ctx, rpcConnKey{}, c)
}

// connFrom is the socket connection a request arrived on (nil over HTTP).
func connFrom(ctx context.Context) *rpcConn {
	c, _ := ctx.Value(rpcConnKey{}).(*rpcConn)
	return c
}

// replied runs what the request asked to run after its reply.
func (c *rpcConn) replied() {
	c.mu.Lock()
	f := c.afterReply
	c.afterReply = nil
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

// close ends the subscription and waits for the pump (the connection is
// already closed, so a pump stuck writing returns).
func (c *rpcConn) close() {
	c.mu.Lock()
	sub, done, started := c.sub, c.pumpDone, c.afterReply == nil
	c.afterReply = nil
	c.mu.Unlock()
	if sub != nil {
		sub.close()
	}
	if done != nil && started {
		<-done
	}
}

// deliver is the flusher's fast path (eventSink): when nothing else is
// writing to the connection, it writes all of sub's waiting events with
// one non-blocking write.
func (c *rpcConn) deliver(sub *eventSub, r *eventRound) bool {
	cw := c.w
	if cw.raw == nil || !cw.mu.TryLock() {
		return false
	}
	defer cw.mu.Unlock()
	if cw.err != nil || len(cw.pending) > 0 {
		return false
	}
	r.taken = sub.takeUpTo(r.taken[:0], eventWriteMax)
	if len(r.taken) == 0 {
		return true
	}
	ok := cw.tryWriteLocked(r.linesOf(r.taken))
	clear(r.taken)
	return ok
}

// pump finishes what the flusher could not write, with blocking writes,
// until the subscription ends or a write fails.
func (c *rpcConn) pump(sub *eventSub, done chan struct{}) {
	defer close(done)
	var evs []*event
	for {
		if c.drain(sub, &evs) != nil {
			sub.close()
			return
		}
		if !sub.await() {
			return
		}
	}
}

// drain writes the connection's pending bytes and then sub's waiting
// events, blocking as long as the socket does.
func (c *rpcConn) drain(sub *eventSub, evs *[]*event) error {
	cw := c.w
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.flushPendingLocked() != nil {
		return cw.err
	}
	for {
		*evs = sub.takeUpTo((*evs)[:0], eventWriteMax)
		if len(*evs) == 0 {
			return nil
		}
		cw.buf = appendLines(cw.buf[:0], *evs)
		clear(*evs)
		if _, cw.err = cw.c.Write(cw.buf); cw.err != nil {
			return cw.err
		}
	}
}

type subscribeParams struct {
	After *int64 `json:"after"`
}

type subscribeResult struct {
	Seq int64 `json:"seq"`
}

// rpcSubscribe subscribes the request's connection to the store's events.
func (s *Store) rpcSubscribe(ctx context.Context, params json.RawMessage) (any, error) {
	var p subscribeParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.After != nil && *p.After < 0 {
		return nil, invalidParams("param \"after\" must be a seq (0 or more), not %d", *p.After)
	}
	c := connFrom(ctx)
	if c == nil {
		return nil, &rpcError{Code: codeUnavailable, Message: "events.subscribe needs a socket connection (a hub's web clients use GET /events)"}
	}
	c.mu.Lock()
	already := c.sub != nil
	c.mu.Unlock()
	if already {
		return nil, invalidParams("this connection is already subscribed")
	}
	if c.nc != nil {
		// Bound what the kernel holds for a client that stops reading, so
		// it falls behind (and resyncs) after a known number of events.
		c.nc.SetWriteBuffer(eventSocketBuffer)
	}
	sub, seq, err := s.events.subscribe(ctx, p.After, eventQueueMax)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.sub, c.pumpDone = sub, done
	c.afterReply = func() {
		sub.setSink(c)
		go c.pump(sub, done)
	}
	c.mu.Unlock()
	return subscribeResult{Seq: seq}, nil
}
