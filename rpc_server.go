// hephd's unix-socket server: listening safely, one reader per connection, clean shutdown.

package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// socketServer serves the dispatcher on a unix socket to processes of the
// daemon's own uid.
type socketServer struct {
	path string
	id   fileID // the socket file this server created
	ln   *net.UnixListener
	d    *dispatcher
	log  *log.Logger
	uid  int

	limits socketLimits // rpc_limits.go

	mu       sync.Mutex
	conns    map[*net.UnixConn]bool // conn -> busy with a request
	buffered int                    // bytes held by the connections' read buffers
	closing  bool
	inflight sync.WaitGroup
	// trim returns freed memory to the OS once the daemon has been idle
	// for idleTrimAfter: a one-shot timer re-armed by each request, so an
	// idle hephd stays small without waking up periodically.
	trim *time.Timer
}

// idleTrimAfter is how long after its last request hephd returns memory.
const idleTrimAfter = 10 * time.Second

// listenSocket creates the socket's directory (0700) and the socket (0600).
// A stale socket file is replaced; a live one is never stolen.
func listenSocket(path string, d *dispatcher, logger *log.Logger) (*socketServer, error) {
	limits, err := socketLimitsFrom(osGetenv)
	if err != nil {
		return nil, err
	}
	if err := checkSocketPath(path); err != nil {
		return nil, err
	}
	if err := ensureSocketDir(path); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("socket path %s exists and is not a socket: refusing to replace it (move it away, or use --socket)", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("socket %s is live: another hephd is serving it (stop it first, or use --socket)", path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("socket %s exists and cannot be checked: %w", path, err)
		}
		logger.Printf("replacing stale socket %s", path)
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
	}
	old := unix.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false) // shutdown removes it only while it is still ours
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod socket %s: %w", path, err)
	}
	id, err := statID(path)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	trim := time.AfterFunc(time.Hour, debug.FreeOSMemory)
	trim.Stop()
	return &socketServer{path: path, id: id, ln: ln, d: d, log: logger, uid: os.Getuid(), limits: limits, conns: map[*net.UnixConn]bool{}, trim: trim}, nil
}

// serve accepts connections until shutdown closes the listener.
func (s *socketServer) serve(ctx context.Context) error {
	var backoff time.Duration
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if !acceptRetryable(err) {
				return fmt.Errorf("accept on %s: %w", s.path, err)
			}
			// Out of file descriptors or memory (a flood of clients):
			// keep serving the connections we have and try again soon.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Printf("accept on %s: %v; retrying in %v", s.path, err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		uid, err := peerUID(c)
		if err != nil || uid != s.uid {
			s.log.Printf("refused a connection from uid %d (hephd runs as uid %d): %v", uid, s.uid, err)
			c.Close()
			continue
		}
		if msg, ok := s.admit(c); !ok {
			s.refuse(c, msg)
			continue
		}
		go s.serveConn(ctx, c)
	}
}

// setBusy marks a connection busy (handling a request) or idle. It
// returns false when the server is closing and an idle conn should stop.
func (s *socketServer) setBusy(c *net.UnixConn, busy bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = busy
	if !busy && !s.closing {
		s.trim.Reset(idleTrimAfter)
	}
	return !s.closing
}

// serveConn answers requests from one client, one line at a time. Replies
// and, once the connection subscribes, event notifications share one
// writer (events_rpc.go).
func (s *socketServer) serveConn(ctx context.Context, c *net.UnixConn) {
	conn := &rpcConn{w: newConnWriter(c), nc: c}
	ctx = withConn(ctx, conn)
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
		conn.close()
		s.inflight.Done()
	}()
	lr := s.newLineReader(c, conn.subscribed) // a subscribed connection may wait idle for events
	defer lr.close()
	for lr.next() {
		if !s.setBusy(c, true) {
			return
		}
		reply := s.d.handleLine(ctx, lr.line)
		if reply != nil {
			if err := conn.w.write(reply); err != nil {
				return
			}
		}
		conn.replied()
		if !s.setBusy(c, false) {
			return
		}
	}
	if reply := lr.limitReply(); reply != nil {
		conn.w.write(reply)
	}
}

// shutdown stops accepting, lets requests in flight finish (up to the
// context's deadline), closes idle connections and removes the socket.
func (s *socketServer) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.trim.Stop()
	for c, busy := range s.conns {
		if !busy {
			c.SetReadDeadline(time.Now()) // wakes the reader, which exits
		}
	}
	s.mu.Unlock()
	err := s.ln.Close()
	if rerr := removeIfSame(s.path, s.id); rerr != nil {
		s.log.Printf("remove socket %s: %v", s.path, rerr)
	}
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		return fmt.Errorf("shutdown: requests still running: %w", ctx.Err())
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// acceptRetryable reports whether an accept error is a passing shortage
// rather than a broken listener.
func acceptRetryable(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR, syscall.EAGAIN} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
