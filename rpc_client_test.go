package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDaemon is a unix listener whose connection handling each test
// scripts, to drop connections at chosen moments.
type fakeDaemon struct {
	ln       *net.UnixListener
	mu       sync.Mutex
	accepted int
	requests []string
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	sock := filepath.Join(shortTempDir(t), "fake.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeDaemon{ln: ln}
}

func (f *fakeDaemon) socket() string { return f.ln.Addr().String() }

// accept takes the next connection (or fails the test after 5 s).
func (f *fakeDaemon) accept(t *testing.T) net.Conn {
	t.Helper()
	f.ln.SetDeadline(time.Now().Add(5 * time.Second))
	c, err := f.ln.Accept()
	if err != nil {
		t.Errorf("fake daemon accept: %v", err)
		return nil
	}
	f.mu.Lock()
	f.accepted++
	f.mu.Unlock()
	return c
}

// readRequest reads one request line from c.
func (f *fakeDaemon) readRequest(t *testing.T, r *bufio.Reader) string {
	line, err := r.ReadString('\n')
	if err != nil {
		t.Errorf("fake daemon read: %v", err)
		return ""
	}
	f.mu.Lock()
	f.requests = append(f.requests, line)
	f.mu.Unlock()
	return line
}

// noMoreConnections reports whether nobody else connects within d.
func (f *fakeDaemon) noMoreConnections(d time.Duration) bool {
	f.ln.SetDeadline(time.Now().Add(d))
	c, err := f.ln.Accept()
	if err == nil {
		c.Close()
		return false
	}
	return true
}

// TestClientRedialsWhenDroppedBeforeWrite: the daemon closed the idle
// connection before the request went out, so the client dials once more
// and the request is applied exactly once.
func TestClientRedialsWhenDroppedBeforeWrite(t *testing.T) {
	f := newFakeDaemon(t)
	dropped := make(chan struct{})
	go func() {
		first := f.accept(t) // the client's initial connection
		if first == nil {
			return
		}
		first.Close() // e.g. hephd restarted: nothing was read
		close(dropped)
		second := f.accept(t)
		if second == nil {
			return
		}
		defer second.Close()
		f.readRequest(t, bufio.NewReader(second))
		io.WriteString(second, `{"jsonrpc":"2.0","id":1,"result":{"title":"once"}}`+"\n")
	}()
	c, err := dialDaemon(f.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-dropped
	var res struct{ Title string }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Call(ctx, "task.create", map[string]string{"title": "once"}, &res); err != nil {
		t.Fatalf("Call after the connection was dropped before writing: %v", err)
	}
	if res.Title != "once" {
		t.Fatalf("result %+v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.accepted != 2 || len(f.requests) != 1 || !strings.Contains(f.requests[0], `"task.create"`) {
		t.Fatalf("want 2 connections and 1 request, got %d connections, requests %q", f.accepted, f.requests)
	}
	if !f.noMoreConnections(100 * time.Millisecond) {
		t.Fatal("client dialled a third time")
	}
}

// TestClientNoRetryAfterWrite: the daemon read the request and the
// connection died before the reply: the client reports that the request
// may have been applied and does not send it again.
func TestClientNoRetryAfterWrite(t *testing.T) {
	f := newFakeDaemon(t)
	go func() {
		c := f.accept(t)
		if c == nil {
			return
		}
		f.readRequest(t, bufio.NewReader(c))
		c.Close() // applied, but the reply is lost
	}()
	c, err := dialDaemon(f.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Call(ctx, "task.create", map[string]string{"title": "maybe"}, nil)
	if err == nil || !strings.Contains(err.Error(), "may or may not have been applied") {
		t.Fatalf("lost reply: want an error saying the request may have been applied, got %v", err)
	}
	if !f.noMoreConnections(200 * time.Millisecond) {
		t.Fatal("client redialled after the request was written")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.accepted != 1 || len(f.requests) != 1 {
		t.Fatalf("want 1 connection and 1 request, got %d and %q", f.accepted, f.requests)
	}
}

// TestClientRedialFindsNoDaemon: the redial itself failing means hephd is
// gone: a notRunningError (exit 3), not a retry loop.
func TestClientRedialFindsNoDaemon(t *testing.T) {
	f := newFakeDaemon(t)
	go func() {
		if c := f.accept(t); c != nil {
			c.Close()
		}
		f.ln.Close() // unlinks the socket: hephd is gone
	}()
	c, err := dialDaemon(f.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pollUntil(5*time.Second, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.accepted == 1 })
	time.Sleep(50 * time.Millisecond)
	err = c.Call(context.Background(), "daemon.info", nil, nil)
	var nr *notRunningError
	if !errors.As(err, &nr) {
		t.Fatalf("want notRunningError, got %v", err)
	}
}

// TestClientErrorReply: an error reply comes back as *rpcError with its
// code, message and data.
func TestClientErrorReply(t *testing.T) {
	f := newFakeDaemon(t)
	go func() {
		c := f.accept(t)
		if c == nil {
			return
		}
		defer c.Close()
		f.readRequest(t, bufio.NewReader(c))
		io.WriteString(c, `{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"ambiguous","data":{"candidates":[]}}}`+"\n")
	}()
	c, err := dialDaemon(f.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Call(context.Background(), "node.get", map[string]string{"id": "a"}, nil)
	var re *rpcError
	if !errors.As(err, &re) || re.Code != codeAmbiguous || re.Message != "ambiguous" || re.Data == nil {
		t.Fatalf("want *rpcError -32002, got %#v", err)
	}
}

// TestOversizedRequestSaysSo: text too long for one request is refused by
// the client with the limit, instead of "broken pipe" when hephd drops
// the connection mid-write; nothing is stored.
func TestOversizedRequestSaysSo(t *testing.T) {
	td := startDaemon(t)
	big := strings.Repeat("z", maxLine)
	_, errOut, code := td.HephIn(big, "doc", "Big", "--body", "-")
	if code != 1 || !strings.Contains(errOut, "4 MiB") || !strings.Contains(errOut, "shorter") {
		t.Fatalf("doc with a %d-byte body: exit %d: %s", len(big), code, errOut)
	}
	if out := td.MustHeph("search", "Big"); strings.Contains(out, "Big") {
		t.Fatalf("the oversized doc was stored: %s", out)
	}
}

// TestSocketPathNotASocket: --socket naming a regular file or a directory
// says it is not a socket (not "no socket at"), and hephd refuses to take
// the path over instead of deleting what is there.
func TestSocketPathNotASocket(t *testing.T) {
	dir := shortTempDir(t)
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(), "HOME="+dir, "XDG_RUNTIME_DIR=", "XDG_CONFIG_HOME=", "XDG_DATA_HOME=")
	for _, c := range []struct{ path, kind string }{{file, "a regular file"}, {dir, "a directory"}} {
		_, stderr, code := runHeph(t, env, "", "--socket", c.path, "next")
		want := c.path + " is " + c.kind + ", not a socket: point --socket (or HEPH_SOCKET) at hephd's socket"
		if code != exitError || !strings.Contains(stderr, want) || strings.Contains(stderr, "no socket at") {
			t.Errorf("heph --socket %s next: exit %d, stderr %q; want exit 1 and %q", c.kind, code, stderr, want)
		}
		_, stderr, _ = runHeph(t, append(env, "HEPH_SOCKET="+c.path), "", "list")
		if !strings.Contains(stderr, "not a socket") {
			t.Errorf("HEPH_SOCKET=%s: stderr %q", c.kind, stderr)
		}
	}
	// hephd on that path: a clear refusal, and the file is untouched.
	bin := filepath.Join(filepath.Dir(hephBinary(t)), "hephd")
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "heph.db"), "--socket", file)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "socket path "+file+" exists and is not a socket: refusing to replace it") {
		t.Errorf("hephd --socket on a regular file: err %v, output %q", err, out)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me\n" {
		t.Fatalf("hephd touched the file at --socket: %q, %v", b, err)
	}
}

// TestDecodeReply: one pass gives the result in place, the server's error
// as an *rpcError, and a clear error for a reply that is not JSON-RPC.
func TestDecodeReply(t *testing.T) {
	var nodes []*Node
	if err := decodeReply("task.list", []byte(`{"jsonrpc":"2.0","id":1,"result":[{"id":"a","handle":"ab","task":{"tags":["x"]}}]}`), &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Handle != "ab" || nodes[0].Task == nil || nodes[0].Task.Tags[0] != "x" {
		t.Fatalf("decoded %+v", nodes)
	}
	err := decodeReply("task.get", []byte(`{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"no such task"}}`), &nodes)
	var re *rpcError
	if !errors.As(err, &re) || re.Code != codeInvalidParams || re.Message != "no such task" {
		t.Fatalf("error reply gave %v", err)
	}
	if err := decodeReply("x.y", []byte(`{"result":`), nil); err == nil || !strings.Contains(err.Error(), "bad reply from hephd to x.y") {
		t.Fatalf("cut-off reply gave %v", err)
	}
	var n Node
	if err := decodeReply("node.get", []byte(`{"result":{"id":1}}`), &n); err == nil {
		t.Fatal("a result of the wrong shape was accepted")
	}
}

// TestClientReadsRepliesLongerThanItsBuffer: a reply longer than the
// client's read buffer arrives whole, and the reply queued behind it on
// the same connection is read intact after it.
func TestClientReadsRepliesLongerThanItsBuffer(t *testing.T) {
	f := newFakeDaemon(t)
	body := strings.Repeat("0123456789abcdef", 3*replyBuffer/16) + "end"
	go func() {
		c := f.accept(t)
		if c == nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		f.readRequest(t, r)
		io.WriteString(c, `{"jsonrpc":"2.0","id":1,"result":{"id":"big","body":"`+body+`"}}`+"\n"+
			`{"jsonrpc":"2.0","id":2,"result":{"id":"small","body":"after"}}`+"\n")
		f.readRequest(t, r)
	}()
	c, err := dialDaemon(f.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var big, small Node
	if err := c.Call(context.Background(), "node.get", map[string]string{"id": "big"}, &big); err != nil {
		t.Fatal(err)
	}
	if big.ID != "big" || big.Body != body {
		t.Fatalf("a %d-byte reply came back as id %q with a %d-byte body", len(body), big.ID, len(big.Body))
	}
	if err := c.Call(context.Background(), "node.get", map[string]string{"id": "small"}, &small); err != nil {
		t.Fatal(err)
	}
	if small.ID != "small" || small.Body != "after" {
		t.Fatalf("the reply after a long one came back as %+v", small)
	}
}

// TestRequestLine: a request line is the JSON-RPC request json.Marshal
// would write, params left out when nil, the method escaped.
func TestRequestLine(t *testing.T) {
	for _, c := range []struct {
		id     int
		method string
		params any
	}{
		{1, "daemon.info", nil},
		{7, "task.list", taskListParams{Filter: `project:"Home & <Garden>" +é`, Brief: true}},
		{12345, `odd "method" \ é`, map[string]any{"x": []int{1, 2}}},
	} {
		got, err := requestLine(c.id, c.method, c.params)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      int             `json:"id"`
			Method  string          `json:"method"`
			Params  json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		want, _ := marshalJSON(c.params)
		if c.params == nil {
			want = nil
		}
		if back.JSONRPC != "2.0" || back.ID != c.id || back.Method != c.method || string(back.Params) != string(want) {
			t.Fatalf("request line %s decodes as %+v", got, back)
		}
	}
}
