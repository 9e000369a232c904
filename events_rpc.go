// events_rpc.go owns events.subscribe on the socket: one serialized writer per connection shared by replies and event notifications.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"sync"
)

// A socket connection answers requests in order; once it subscribes, a
// pump goroutine also writes event notifications to it. Both go through
// the connection's one writer (connWriter), a line at a time, so a reply
// and a notification never interleave within a line. The subscribe reply
// is written before the pump starts, so every notification follows it.

// connWriter serializes whole lines onto one connection.
type connWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
}

func newConnWriter(c net.Conn) *connWriter { return &connWriter{w: bufio.NewWriter(c)} }

// write writes lines and flushes them; after a failed write every later
// one fails too.
func (cw *connWriter) write(lines ...[]byte) error {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err != nil {
		return cw.err
	}
	for _, l := range lines {
		cw.w.Write(l)
	}
	cw.err = cw.w.Flush()
	return cw.err
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

// pump writes the subscription's events until it ends or a write fails,
// flushing what has queued up together.
func (c *rpcConn) pump(sub *eventSub, done chan struct{}) {
	defer close(done)
	ctx := context.Background()
	var lines [][]byte
	for {
		ev := sub.next(ctx)
		if ev == nil {
			return
		}
		lines = append(lines[:0], ev.Line())
		for len(lines) < 64 {
			more := sub.poll()
			if more == nil {
				break
			}
			lines = append(lines, more.Line())
		}
		if c.w.write(lines...) != nil {
			sub.close()
			return
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
	c.afterReply = func() { go c.pump(sub, done) }
	c.mu.Unlock()
	return subscribeResult{Seq: seq}, nil
}
