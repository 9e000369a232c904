// The client side of the socket: dialing hephd (waiting for a starting one) and calling methods.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// exitNotRunning is heph's exit status when no daemon is listening.
const exitNotRunning = 3

// notRunningError says no hephd listens on the socket.
type notRunningError struct {
	socket string
	quiet  bool // the command has already said so: exit 3 without a message
}

func (e *notRunningError) Error() string {
	return fmt.Sprintf("hephd is not running (no socket at %s). Start it with: heph daemon start   (or run: hephd)", e.socket)
}

// notSocketError says the socket path names something that is not a
// socket (a regular file, a directory): the wrong --socket or HEPH_SOCKET.
type notSocketError struct{ path, kind string }

func (e *notSocketError) Error() string {
	return fmt.Sprintf("%s is %s, not a socket: point --socket (or HEPH_SOCKET) at hephd's socket (heph daemon status shows it)", e.path, e.kind)
}

// fileKind names a file's type for a message: "a regular file", "a directory".
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// rpcClient is a connect-only JSON-RPC client of hephd: it never starts a
// daemon.
type rpcClient struct {
	socket string
	conn   net.Conn
	r      *bufio.Reader
	nextID int
}

// dialDaemon connects to the daemon's socket.
func dialDaemon(socket string) (*rpcClient, error) {
	c := &rpcClient{socket: socket}
	if err := c.connect(); err != nil {
		return nil, err
	}
	return c, nil
}

// dialDaemonWaiting is dialDaemon, except that when the daemon is installed
// as a service (and so is restarting, e.g. onto a self-updated binary) it
// waits up to wait for the socket instead of failing at once.
func dialDaemonWaiting(socket string, serviceInstalled bool, wait time.Duration) (*rpcClient, error) {
	deadline := time.Now().Add(wait)
	for {
		c, err := dialDaemon(socket)
		var nr *notRunningError
		if err == nil || !serviceInstalled || !errors.As(err, &nr) || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *rpcClient) connect() error {
	conn, err := net.DialTimeout("unix", c.socket, 2*time.Second)
	if err != nil {
		if fi, serr := os.Stat(c.socket); serr == nil && fi.Mode()&fs.ModeSocket == 0 {
			return &notSocketError{path: c.socket, kind: fileKind(fi.Mode())}
		}
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK) {
			return &notRunningError{socket: c.socket}
		}
		return fmt.Errorf("connect to hephd at %s: %w", c.socket, err)
	}
	if err := verifyPeerUID(conn, c.socket, os.Getuid()); err != nil {
		conn.Close()
		return err
	}
	c.conn, c.r = conn, bufio.NewReaderSize(conn, replyBuffer)
	return nil
}

// Close closes the connection.
func (c *rpcClient) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// Call sends one request and decodes its result into result (which may be
// nil). An error reply is returned as *rpcError. A connection found dropped
// before the request was written is redialled once; when the reply is lost
// after writing, Call reports it instead of risking a second application.
func (c *rpcClient) Call(ctx context.Context, method string, params, result any) error {
	c.nextID++
	line, err := requestLine(c.nextID, method, params)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", method, err)
	}
	if len(line) >= maxLine {
		// hephd would refuse it and drop the connection mid-write.
		return fmt.Errorf("%s request is %d bytes; hephd accepts requests of up to %d bytes (4 MiB): make the text shorter", method, len(line), maxLine-1)
	}
	line = append(line, '\n')
	if err := c.send(ctx, line); err != nil {
		// The daemon closed the connection before it got the request (a
		// restart, an idle connection closed at shutdown): nothing was
		// applied, so one fresh connection and one more try are safe.
		c.conn.Close()
		if err := c.connect(); err != nil {
			return err
		}
		if err := c.send(ctx, line); err != nil {
			return fmt.Errorf("send %s to hephd: %w", method, err)
		}
	}
	reply, err := c.readReply()
	if err != nil {
		return fmt.Errorf("connection to hephd lost after sending %s; it may or may not have been applied (check before retrying): %w", method, err)
	}
	return decodeReply(method, reply, result)
}

// requestLine encodes a request (without its newline). The envelope is
// written here: encoding a map through reflection costs a one-shot CLI
// more than the rest of the request.
func requestLine(id int, method string, params any) ([]byte, error) {
	m, err := marshalJSON(method)
	if err != nil {
		return nil, err
	}
	line := strconv.AppendInt([]byte(`{"jsonrpc":"2.0","id":`), int64(id), 10)
	line = append(append(line, `,"method":`...), m...)
	if params != nil {
		p, err := marshalJSON(params)
		if err != nil {
			return nil, err
		}
		line = append(append(line, `,"params":`...), p...)
	}
	return append(line, '}'), nil
}

// replyBuffer is the size of a connection's read buffer: a reply that fits
// (a listing of thousands of tasks does) is decoded where it was read. The
// pages a short reply leaves unused are never touched, so they cost
// nothing; copying a long reply out of a small buffer, on the other hand,
// costs the CLI a page fault per 4 KiB (about 10 µs each on a small VM).
const replyBuffer = 1 << 20

// readReply reads one reply line. It is valid until the next read.
func (c *rpcClient) readReply() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	first := append([]byte(nil), line...) // the next read reuses the buffer
	rest, err := c.r.ReadBytes('\n')
	return append(first, rest...), err
}

// decodeReply decodes a reply line's error, or its result into result,
// in one pass over the line (a listing can be a few hundred KB).
func decodeReply(method string, reply []byte, result any) error {
	switch r := result.(type) {
	case *[]*Node:
		if decodeNodesFast(reply, r) {
			return nil
		}
	case *[]taskRow:
		if decodeRowsFast(reply, r) {
			return nil
		}
		var nodes []*Node // the fast decoders refuse the same lines: straight to encoding/json
		if err := decodeReplyJSON(method, reply, &nodes); err != nil {
			return err
		}
		*r = rowsOf(nodes)
		return nil
	}
	return decodeReplyJSON(method, reply, result)
}

// decodeReplyJSON is decodeReply by encoding/json, which takes any shape.
func decodeReplyJSON(method string, reply []byte, result any) error {
	var resp struct {
		Result any       `json:"result"`
		Error  *rpcError `json:"error"`
	}
	if result != nil {
		resp.Result = result // decoded in place: a non-nil pointer in an interface
	} else {
		resp.Result = &json.RawMessage{}
	}
	err := json.Unmarshal(reply, &resp)
	if resp.Error != nil {
		return resp.Error
	}
	if err != nil {
		return fmt.Errorf("bad reply from hephd to %s: %w", method, err)
	}
	return nil
}

// send writes one request line under ctx's deadline.
func (c *rpcClient) send(ctx context.Context, line []byte) error {
	dl, _ := ctx.Deadline() // the zero time (no deadline) when ctx has none
	if err := c.conn.SetDeadline(dl); err != nil {
		return err
	}
	_, err := c.conn.Write(line)
	return err
}

// isMissing says whether err means the method (or a param it was given)
// is not in this hephd yet.
func isMissing(err error, param string) bool {
	var re *rpcError
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == codeMethodNotFound || (re.Code == codeInvalidParams && param != "" && strings.Contains(re.Message, `unknown param "`+param+`"`))
}
