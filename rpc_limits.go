// rpc_limits.go owns the socket's per-connection limits: how many connections, how many buffered bytes, idle and partial-line deadlines.

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The socket's limits. A client that needs more than these is broken or
// hostile: legitimate clients (the CLI, heph.nvim, the TUI, scripts) open a
// handful of connections and send a request line in one go.
const (
	// socketMaxConns bounds the connections served at once; one more is
	// answered with an error and closed.
	socketMaxConns = 256
	// socketMaxBuffered bounds the bytes all connections' read buffers hold
	// together (16 request lines of the largest size); a connection whose
	// unfinished line would pass it is answered with an error and closed.
	socketMaxBuffered = 64 << 20
	// socketIdleTimeout closes a connection that sends nothing between
	// requests for this long (a subscribed one excepted: see keepAlive).
	socketIdleTimeout = 10 * time.Minute
	// socketLineTimeout is how long a client has to finish a request line
	// once it has sent its first byte.
	socketLineTimeout = 30 * time.Second
	// socketBufStart is a connection's initial read buffer; it grows for a
	// long line and shrinks back once that line is read.
	socketBufStart = 4 << 10
)

// socketLimitsEnv is the test hook: "conns=N,buffered=BYTES,idle=DUR,line=DUR"
// lowers the limits above so tests need not wait long. It can only lower
// them: a stray value never disables a bound.
const socketLimitsEnv = "HEPHD_TEST_SOCKET_LIMITS"

// socketLimits are one server's limits (the constants, or lower under the
// test hook).
type socketLimits struct {
	conns    int
	buffered int
	idle     time.Duration
	line     time.Duration
}

// socketLimitsFrom reads the test hook from getenv; a malformed hook is an
// error (it only ever comes from a test).
func socketLimitsFrom(getenv getenvFunc) (socketLimits, error) {
	l := socketLimits{conns: socketMaxConns, buffered: socketMaxBuffered, idle: socketIdleTimeout, line: socketLineTimeout}
	hook := getenv(socketLimitsEnv)
	if hook == "" {
		return l, nil
	}
	for _, kv := range strings.Split(hook, ",") {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "conns":
			l.conns, err = lowerInt(v, l.conns)
		case "buffered":
			l.buffered, err = lowerInt(v, l.buffered)
		case "idle":
			l.idle, err = lowerDuration(v, l.idle)
		case "line":
			l.line, err = lowerDuration(v, l.line)
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return l, fmt.Errorf("%s: %q: %w", socketLimitsEnv, kv, err)
		}
	}
	return l, nil
}

func lowerInt(v string, max int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return max, errors.New("want a positive integer")
	}
	return min(n, max), nil
}

func lowerDuration(v string, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return max, errors.New("want a positive duration")
	}
	return min(d, max), nil
}

// admit registers a new connection, or says why it is refused ("" and
// false when the server is closing).
func (s *socketServer) admit(c *net.UnixConn) (refusal string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return "", false
	}
	if len(s.conns) >= s.limits.conns {
		return fmt.Sprintf("hephd is serving its limit of %d connections: close some clients and try again", s.limits.conns), false
	}
	s.conns[c] = false
	s.inflight.Add(1)
	return "", true
}

// refuse answers a connection that was not admitted with an error line and
// closes it.
func (s *socketServer) refuse(c *net.UnixConn, msg string) {
	if msg != "" {
		s.log.Printf("socket: refused a connection: %s", msg)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(encodeReply(nil, nil, &rpcError{Code: codeUnavailable, Message: msg}))
	}
	c.Close()
}

// reserve takes n bytes of the shared read-buffer budget (what buffers
// hold beyond their first socketBufStart bytes); release gives them back.
func (s *socketServer) reserve(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buffered+n > s.limits.buffered {
		return false
	}
	s.buffered += n
	return true
}

func (s *socketServer) release(n int) {
	s.mu.Lock()
	s.buffered -= n
	s.mu.Unlock()
}

// armRead sets c's read deadline (zero: none) unless the server is
// closing. Under s.mu, so it cannot undo the deadline shutdown sets to wake
// an idle reader.
func (s *socketServer) armRead(c *net.UnixConn, deadline time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	c.SetReadDeadline(deadline)
	return true
}

// errConnClosing ends a reader quietly: the server is shutting down.
var errConnClosing = errors.New("hephd is shutting down")

// connLimitError ends a connection that broke a limit; its message is
// sent to the client and logged.
type connLimitError struct {
	code int
	msg  string
}

func (e *connLimitError) Error() string { return e.msg }

// lineReader reads request lines from one connection within the server's
// limits: its buffer is charged to the shared budget, and each read has a
// deadline (idle between lines, partial-line once a line has begun).
type lineReader struct {
	s *socketServer
	c *net.UnixConn
	// keepAlive reports whether an idle connection must stay open (a
	// subscribed connection waits for events, not requests); nil: never.
	keepAlive func() bool

	buf        []byte // buf[start:end] is input not yet returned
	start, end int
	held       int       // budget bytes held (cap(buf) beyond socketBufStart)
	lineBegan  time.Time // when the unfinished line's first byte arrived
	line       []byte
	err        error
}

func (s *socketServer) newLineReader(c *net.UnixConn, keepAlive func() bool) *lineReader {
	return &lineReader{s: s, c: c, keepAlive: keepAlive}
}

// next reads the next line (without its newline) into r.line; false at
// the end, with r.err saying why (nil for a clean EOF).
func (r *lineReader) next() bool {
	if r.start == r.end && r.held > 0 {
		r.shrink() // a long line was read: give its buffer back
	}
	for {
		if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
			r.line = r.buf[r.start : r.start+i]
			r.start += i + 1
			r.lineBegan = time.Time{}
			if r.start < r.end {
				r.lineBegan = time.Now() // the next line has begun
			}
			return true
		}
		if r.err = r.fill(); r.err != nil {
			if errors.Is(r.err, errEOF) {
				r.err = nil
			}
			return false
		}
	}
}

// errEOF marks a client that closed its end.
var errEOF = errors.New("eof")

// fill reads more input, making room first.
func (r *lineReader) fill() error {
	if err := r.room(); err != nil {
		return err
	}
	partial := r.start < r.end
	var deadline time.Time
	switch {
	case partial:
		deadline = r.lineBegan.Add(r.s.limits.line)
	case r.keepAlive == nil || !r.keepAlive():
		deadline = time.Now().Add(r.s.limits.idle)
	}
	if !r.s.armRead(r.c, deadline) {
		return errConnClosing
	}
	n, err := r.c.Read(r.buf[r.end:])
	if n > 0 && !partial {
		r.lineBegan = time.Now()
	}
	r.end += n
	if err == nil {
		return nil
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		if r.s.isClosing() {
			return errConnClosing
		}
		if partial {
			return &connLimitError{codeInvalidRequest, fmt.Sprintf("request line not finished within %v of its first byte: closing the connection", r.s.limits.line)}
		}
		return &connLimitError{codeUnavailable, fmt.Sprintf("connection idle for %v: closing it (reconnect to send more)", r.s.limits.idle)}
	case n > 0:
		return nil // the error comes again on the next read
	default:
		return errEOF
	}
}

// room makes space at the end of the buffer: compacting, then growing
// within maxLine and the shared budget.
func (r *lineReader) room() error {
	if r.end < len(r.buf) {
		return nil
	}
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
		return nil
	}
	if len(r.buf) >= maxLine {
		return &connLimitError{codeInvalidRequest, fmt.Sprintf("request line longer than %d bytes: closing the connection", maxLine)}
	}
	size := min(max(2*len(r.buf), socketBufStart), maxLine)
	// Every connection gets socketBufStart (bounded by socketMaxConns), so
	// a short request is served even while long lines fill the budget.
	if !r.s.reserve(size - socketBufStart - r.held) {
		return &connLimitError{codeUnavailable, fmt.Sprintf("hephd is holding its limit of %d MiB of unfinished requests: closing this connection (try again)", r.s.limits.buffered>>20)}
	}
	nb := make([]byte, size)
	r.end = copy(nb, r.buf[r.start:r.end])
	r.start = 0
	r.buf, r.held = nb, size-socketBufStart
	return nil
}

// shrink returns an emptied long-line buffer to the budget.
func (r *lineReader) shrink() {
	r.s.release(r.held)
	r.buf, r.held, r.start, r.end = nil, 0, 0, 0
}

// close gives the reader's buffer back to the budget.
func (r *lineReader) close() {
	r.s.release(r.held)
	r.buf, r.held = nil, 0
}

// limitReply is the error line for the client when a limit ended the
// connection (nil otherwise), logged on the daemon's side.
func (r *lineReader) limitReply() []byte {
	var le *connLimitError
	if !errors.As(r.err, &le) {
		return nil
	}
	r.s.log.Printf("socket: %s", le.msg)
	r.c.SetWriteDeadline(time.Now().Add(time.Second)) // a client that does not read cannot hold us
	return encodeReply(nil, nil, &rpcError{Code: le.code, Message: le.msg})
}

func (s *socketServer) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}
