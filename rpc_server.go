// hephd's unix-socket server: listening safely, one reader per connection, clean shutdown.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
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
	ln   *net.UnixListener
	d    *dispatcher
	log  *log.Logger
	uid  int

	mu       sync.Mutex
	conns    map[*net.UnixConn]bool // conn -> busy with a request
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
	if err := checkSocketPath(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket dir %s: %w", filepath.Dir(path), err)
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
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod socket %s: %w", path, err)
	}
	trim := time.AfterFunc(time.Hour, debug.FreeOSMemory)
	trim.Stop()
	return &socketServer{path: path, ln: ln, d: d, log: logger, uid: os.Getuid(), conns: map[*net.UnixConn]bool{}, trim: trim}, nil
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
		if !s.track(c) {
			c.Close()
			continue
		}
		go s.serveConn(ctx, c)
	}
}

func (s *socketServer) track(c *net.UnixConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = false
	s.inflight.Add(1)
	return true
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

// serveConn answers requests from one client, one line at a time.
func (s *socketServer) serveConn(ctx context.Context, c *net.UnixConn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
		s.inflight.Done()
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	w := bufio.NewWriter(c)
	for sc.Scan() {
		if !s.setBusy(c, true) {
			return
		}
		reply := s.d.handleLine(ctx, sc.Bytes())
		if reply != nil {
			w.Write(reply)
			if err := w.Flush(); err != nil {
				return
			}
		}
		if !s.setBusy(c, false) {
			return
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		w.Write(encodeReply(nil, nil, &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf("request line longer than %d bytes: closing the connection", maxLine)}))
		w.Flush()
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
