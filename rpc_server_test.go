package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// rawConn speaks the wire protocol by hand, for tests that send what a
// well-behaved client never would.
type rawConn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

type rawReply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcError       `json:"error"`
}

func dialRaw(t testing.TB, socket string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatalf("dial %s: %v", socket, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

// roundTrip sends one line and reads one reply line.
func (rc *rawConn) roundTrip(line string) rawReply {
	rc.t.Helper()
	rc.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(rc.c, line+"\n"); err != nil {
		rc.t.Fatalf("send %.80q: %v", line, err)
	}
	return rc.read()
}

func (rc *rawConn) read() rawReply {
	rc.t.Helper()
	b, err := rc.r.ReadBytes('\n')
	if err != nil {
		rc.t.Fatalf("read reply: %v (got %q)", err, b)
	}
	var rep rawReply
	if err := json.Unmarshal(b, &rep); err != nil || rep.JSONRPC != "2.0" {
		rc.t.Fatalf("reply %q is not JSON-RPC 2.0: %v", b, err)
	}
	return rep
}

// wantCode fails unless rep is an error with the given code.
func wantCode(t testing.TB, what string, rep rawReply, code int) {
	t.Helper()
	if rep.Error == nil || rep.Error.Code != code {
		t.Fatalf("%s: want error %d, got %+v (result %s)", what, code, rep.Error, rep.Result)
	}
	if rep.Error.Message == "" {
		t.Fatalf("%s: error %d has no message", what, code)
	}
}

// inProcess is a socket server with the daemon's methods (plus extra ones)
// running inside the test process, on a fresh store.
type inProcess struct {
	Socket string
	Log    *syncBuffer
	Store  *Store
	srv    *socketServer
}

func serveInProcess(t testing.TB, extra map[string]handler) *inProcess {
	t.Helper()
	return serveInProcessEdit(t, func(m map[string]handler) {
		for k, v := range extra {
			m[k] = v
		}
	})
}

// serveInProcessEdit is serveInProcess with the method table edited by edit.
func serveInProcessEdit(t testing.TB, edit func(map[string]handler)) *inProcess {
	t.Helper()
	dir := shortTempDir(t)
	ctx := context.Background()
	store, err := openStore(ctx, filepath.Join(dir, "heph.db"))
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuffer{}
	logger := log.New(logBuf, "", 0)
	d := &daemon{opts: daemonOptions{Mode: "local"}, paths: Paths{DB: store.Path(), Socket: filepath.Join(dir, "s.sock")},
		store: store, log: logger, started: time.Now()}
	methods := d.socketMethods(nil)
	edit(methods)
	srv, err := listenSocket(d.paths.Socket, &dispatcher{methods: methods, log: logger}, logger)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.serve(ctx) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := srv.shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
		store.Close()
	})
	return &inProcess{Socket: d.paths.Socket, Log: logBuf, Store: store, srv: srv}
}

// TestProtocolErrors: malformed JSON, an unknown method, bad params and an
// oversized line are each answered while another client keeps working.
func TestProtocolErrors(t *testing.T) {
	td := startDaemon(t)
	other := dialRaw(t, td.Socket)
	otherWorks := func(when string) {
		t.Helper()
		rep := other.roundTrip(`{"jsonrpc":"2.0","id":7,"method":"daemon.info"}`)
		if rep.Error != nil || string(rep.ID) != "7" || !strings.Contains(string(rep.Result), `"pid"`) {
			t.Fatalf("other client %s: %+v %s", when, rep.Error, rep.Result)
		}
	}
	otherWorks("at start")

	bad := dialRaw(t, td.Socket)
	wantCode(t, "malformed JSON", bad.roundTrip(`{"jsonrpc":"2.0","id":1,"method":`), codeParse)
	otherWorks("after malformed JSON")
	// The same connection stays usable.
	if rep := bad.roundTrip(`{"jsonrpc":"2.0","id":2,"method":"daemon.info"}`); rep.Error != nil || string(rep.ID) != "2" {
		t.Fatalf("connection unusable after a parse error: %+v", rep.Error)
	}
	rep := bad.roundTrip(`{"jsonrpc":"2.0","id":3,"method":"no.such.method"}`)
	wantCode(t, "unknown method", rep, codeMethodNotFound)
	if !strings.Contains(rep.Error.Message, "no.such.method") || string(rep.ID) != "3" {
		t.Fatalf("unknown method reply does not name it or lost the id: %+v id=%s", rep.Error, rep.ID)
	}
	otherWorks("after an unknown method")
	wantCode(t, "not an object", bad.roundTrip(`42`), codeInvalidRequest)
	wantCode(t, "no jsonrpc member", bad.roundTrip(`{"id":4,"method":"daemon.info"}`), codeInvalidRequest)
	wantCode(t, "batch", bad.roundTrip(`[{"jsonrpc":"2.0","id":5,"method":"daemon.info"}]`), codeInvalidRequest)
	// A notification (no id) gets no reply: the next reply is for id 6.
	if _, err := io.WriteString(bad.c, `{"jsonrpc":"2.0","method":"daemon.info"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := bad.roundTrip(`{"jsonrpc":"2.0","id":6,"method":"daemon.info"}`); string(rep.ID) != "6" {
		t.Fatalf("notification was answered: next reply has id %s", rep.ID)
	}

	// Over 4 MiB: an error reply, then that connection is closed.
	big := dialRaw(t, td.Socket)
	big.c.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		line := `{"jsonrpc":"2.0","id":9,"method":"task.create","params":{"title":"` + strings.Repeat("a", maxLine) + "\"}}\n"
		io.WriteString(big.c, line) // fails with EPIPE once hephd closes: expected
	}()
	rep = big.read()
	wantCode(t, "oversized line", rep, codeInvalidRequest)
	if !strings.Contains(rep.Error.Message, "longer than") {
		t.Fatalf("oversized line error does not say why: %q", rep.Error.Message)
	}
	// Closed: EOF, or a reset because hephd did not read the rest of the line.
	if b, err := big.r.ReadBytes('\n'); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("connection not closed after an oversized line: read %q, %v", b, err)
	}
	otherWorks("after an oversized line")
	var tasks []*Node
	td.MustCall("task.list", map[string]any{"state": "all"}, &tasks)
	if len(tasks) != 0 {
		t.Fatalf("the oversized request created %d task(s)", len(tasks))
	}
}

// TestBadParams: -32602 with a message naming the problem.
func TestBadParams(t *testing.T) {
	ip := serveInProcess(t, nil)
	c := dialRaw(t, ip.Socket)
	for _, tc := range []struct{ params, want string }{
		{`{"title":5}`, `param "title" must be a string`},
		{`{"titel":"x"}`, `unknown param "titel"`},
		{`[1]`, `params must be an object`},
		{`{"title":"  "}`, `needs a title`},
	} {
		rep := c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"task.create","params":` + tc.params + `}`)
		wantCode(t, "task.create "+tc.params, rep, codeInvalidParams)
		if !strings.Contains(rep.Error.Message, tc.want) {
			t.Errorf("task.create %s: message %q, want it to contain %q", tc.params, rep.Error.Message, tc.want)
		}
	}
	rep := c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"task.list","params":{"state":"later"}}`)
	wantCode(t, "task.list bad state", rep, codeInvalidParams)
	rep = c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"node.get","params":{"id":"zzzz"}}`)
	wantCode(t, "node.get unknown id", rep, codeNotFound)
	rep = c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"daemon.info","params":{"x":1}}`)
	wantCode(t, "daemon.info with params", rep, codeInvalidParams)
}

// TestHandlerPanicRecovered: a panicking handler is logged and answered
// as an internal error; the server keeps serving that client and others.
func TestHandlerPanicRecovered(t *testing.T) {
	ip := serveInProcess(t, map[string]handler{
		"test.boom": func(context.Context, json.RawMessage) (any, error) { panic("boom in a handler") },
	})
	a, b := dialRaw(t, ip.Socket), dialRaw(t, ip.Socket)
	rep := a.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"test.boom"}`)
	wantCode(t, "panicking handler", rep, codeInternal)
	if strings.Contains(rep.Error.Message, "boom in a handler") {
		t.Fatalf("panic value leaked to the client: %q", rep.Error.Message)
	}
	if !strings.Contains(ip.Log.String(), "panic in test.boom: boom in a handler") {
		t.Fatalf("panic not logged:\n%s", ip.Log.String())
	}
	for _, c := range []*rawConn{a, b} {
		if rep := c.roundTrip(`{"jsonrpc":"2.0","id":2,"method":"task.create","params":{"title":"after the panic"}}`); rep.Error != nil {
			t.Fatalf("server stopped serving after a panic: %+v", rep.Error)
		}
	}
}

// TestDispatcherPanicUnit checks the recovery at the dispatcher alone.
func TestDispatcherPanicUnit(t *testing.T) {
	var logBuf syncBuffer
	d := &dispatcher{log: log.New(&logBuf, "", 0), methods: map[string]handler{
		"nil.deref": func(context.Context, json.RawMessage) (any, error) {
			var m map[string]int
			m["x"]++ // panics: assignment to entry in nil map
			return nil, nil
		},
		"ok": func(context.Context, json.RawMessage) (any, error) { return "fine", nil },
	}}
	var rep rawReply
	decodeJSON(t, string(d.handleLine(context.Background(), []byte(`{"jsonrpc":"2.0","id":"a","method":"nil.deref"}`))), &rep)
	if rep.Error == nil || rep.Error.Code != codeInternal || string(rep.ID) != `"a"` {
		t.Fatalf("panic not answered as internal error: %+v", rep)
	}
	if !strings.Contains(logBuf.String(), "panic in nil.deref") {
		t.Fatalf("panic not logged: %s", logBuf.String())
	}
	rep = rawReply{}
	decodeJSON(t, string(d.handleLine(context.Background(), []byte(`{"jsonrpc":"2.0","id":"b","method":"ok"}`))), &rep)
	if rep.Error != nil || string(rep.Result) != `"fine"` {
		t.Fatalf("dispatcher broken after a panic: %+v", rep)
	}
}

// TestConcurrentConnections: many clients at once, each with several
// requests on its connection, all answered, all writes kept.
func TestConcurrentConnections(t *testing.T) {
	td := startDaemon(t)
	const clients, perClient = 40, 5
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := dialDaemon(td.Socket)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for j := 0; j < perClient; j++ {
				var n Node
				title := fmt.Sprintf("client %d task %d", i, j)
				if err := c.Call(ctx, "task.create", map[string]any{"title": title}, &n); err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				if n.Title != title {
					errs <- fmt.Errorf("client %d got %q back for %q", i, n.Title, title)
					return
				}
				var info daemonInfo
				if err := c.Call(ctx, "daemon.info", nil, &info); err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	if info.Counts["tasks"] != clients*perClient {
		t.Fatalf("daemon.info counts %d tasks, want %d", info.Counts["tasks"], clients*perClient)
	}
}

// TestSecurityModes: the store, its lock, the socket, the socket's new
// directory and the log file are private to the user.
func TestSecurityModes(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "run", "heph", "s.sock")
	logPath := filepath.Join(dir, "logs", "hephd.log")
	td := startDaemonAt(t, dir, sock, "--log", logPath)
	td.MustHeph("task", "private")
	for path, want := range map[string]os.FileMode{
		td.DB:                            0o600,
		td.DB + "-wal":                   0o600,
		td.DB + ".lock":                  0o600,
		sock:                             os.ModeSocket | 0o600,
		filepath.Dir(sock):               os.ModeDir | 0o700,
		filepath.Dir(filepath.Dir(sock)): os.ModeDir | 0o700,
		logPath:                          0o600,
		filepath.Dir(logPath):            os.ModeDir | 0o700,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
		}
	}
	if b, err := os.ReadFile(logPath); err != nil || !strings.Contains(string(b), "serving "+sock) {
		t.Errorf("--log file does not record the start: %v\n%s", err, b)
	}
}

// TestPeerUIDRefused: a client running as another uid (nobody) reaches the
// socket (the test opens the permissions that normally stop it) and is
// refused by the peer-credential check, which hephd logs; hephd goes on
// serving its own user.
func TestPeerUIDRefused(t *testing.T) {
	_, lookErr := exec.LookPath("setpriv")
	requireComponent(t, lookErr == nil, "setpriv (util-linux) runs the client as nobody")
	requireComponent(t, os.Getuid() == 0, "root, to run a client as another uid")
	td := startDaemon(t)
	// Let nobody reach the socket and run a copy of the binary.
	bin := nobodyBinary(t, "heph")
	for path, mode := range map[string]os.FileMode{td.Dir: 0o711, td.Socket: 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "--socket", td.Socket, "version")
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // no HOME: --socket is all a client needs
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a client running as nobody was served:\n%s", out)
	}
	if strings.Contains(string(out), "hephd (devel)") || strings.Contains(string(out), "mode local") {
		t.Fatalf("nobody got daemon.info:\n%s", out)
	}
	if !pollUntil(5*time.Second, func() bool { return strings.Contains(td.Stderr.String(), "refused a connection from uid 65534") }) {
		t.Fatalf("refusal not logged; hephd log:\n%s\nclient:\n%s", td.Stderr.String(), out)
	}
	td.MustHeph("version")
}

// nobodyBinary copies the built binary, as name (heph or hephd), where the
// user nobody can run it.
func nobodyBinary(t testing.TB, name string) string {
	t.Helper()
	binDir, err := os.MkdirTemp("/tmp", "hephbin") // /tmp: nobody can traverse it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	data, err := os.ReadFile(hephBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, name)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// pollUntil polls cond until it holds or d passes.
func pollUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// TestLiveSocketNotStolen: a second hephd (another store) aimed at a live
// socket exits non-zero and the first keeps serving it.
func TestLiveSocketNotStolen(t *testing.T) {
	td := startDaemon(t)
	other := shortTempDir(t)
	var out, errOut syncBuffer
	code := run([]string{"hephd", "--db", filepath.Join(other, "heph.db"), "--socket", td.Socket}, strings.NewReader(""), &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "is live") {
		t.Fatalf("second hephd on a live socket: exit %d\n%s", code, errOut.String())
	}
	td.MustHeph("version")
}

// TestStaleSocketReplaced: a socket file nobody listens on (left by a
// crash) is replaced; a regular file at the socket path is never removed.
func TestStaleSocketReplaced(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "s.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	td := startDaemonIn(t, dir)
	td.MustHeph("version")
	if !strings.Contains(td.Stderr.String(), "replacing stale socket") {
		t.Fatalf("stale socket replacement not logged:\n%s", td.Stderr.String())
	}

	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	code := run([]string{"hephd", "--db", filepath.Join(dir, "other.db"), "--socket", notes}, strings.NewReader(""), &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "not a socket") {
		t.Fatalf("hephd with a regular file as --socket: exit %d\n%s", code, errOut.String())
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "precious" {
		t.Fatalf("the regular file at the socket path was lost: %q %v", b, err)
	}
}

// startDaemonAt is startDaemonIn with the socket at sock.
func startDaemonAt(t testing.TB, dir, sock string, extraArgs ...string) *testDaemon {
	t.Helper()
	bin := hephBinary(t)
	td := &testDaemon{t: t, Dir: dir, DB: filepath.Join(dir, "heph.db"), Socket: sock, Stderr: &syncBuffer{}, done: make(chan struct{})}
	td.Env = append(cleanEnv(), "HOME="+dir, "HEPH_DB="+td.DB, "HEPH_SOCKET="+sock, "XDG_RUNTIME_DIR=", "XDG_DATA_HOME=", "XDG_CONFIG_HOME=")
	td.Cmd = exec.Command(filepath.Join(filepath.Dir(bin), "hephd"), append([]string{"--db", td.DB, "--socket", sock}, extraArgs...)...)
	td.Cmd.Env = td.Env
	td.Cmd.Stdout, td.Cmd.Stderr = td.Stderr, td.Stderr
	if err := td.Cmd.Start(); err != nil {
		t.Fatalf("start hephd: %v", err)
	}
	go func() { td.Cmd.Wait(); close(td.done) }()
	t.Cleanup(td.Stop)
	td.WaitReady()
	return td
}

// TestAcceptSurvivesFDExhaustion: a flood of connections past hephd's
// file-descriptor limit makes accept fail for a while; hephd keeps serving
// and accepts again once descriptors free up.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	prlimit, lookErr := exec.LookPath("prlimit")
	requireComponent(t, lookErr == nil, "prlimit (util-linux) caps hephd's open files")
	bin := hephBinary(t)
	dir := shortTempDir(t)
	td := &testDaemon{t: t, Dir: dir, DB: filepath.Join(dir, "heph.db"), Socket: filepath.Join(dir, "s.sock"), Stderr: &syncBuffer{}, done: make(chan struct{})}
	td.Env = append(cleanEnv(), "HOME="+dir, "HEPH_SOCKET="+td.Socket)
	td.Cmd = exec.Command(prlimit, "--nofile=32:32", filepath.Join(filepath.Dir(bin), "hephd"), "--db", td.DB, "--socket", td.Socket)
	td.Cmd.Stdout, td.Cmd.Stderr = td.Stderr, td.Stderr
	if err := td.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { td.Cmd.Wait(); close(td.done) }()
	t.Cleanup(td.Stop)
	td.WaitReady()

	var flood []net.Conn
	for i := 0; i < 60; i++ {
		c, err := net.Dial("unix", td.Socket)
		if err != nil {
			break
		}
		flood = append(flood, c)
	}
	if !pollUntil(10*time.Second, func() bool { return strings.Contains(td.Stderr.String(), "too many open files") }) {
		t.Fatalf("%d connections never exhausted hephd's descriptors:\n%s", len(flood), td.Stderr.String())
	}
	for _, c := range flood {
		c.Close()
	}
	select {
	case <-td.Exited():
		t.Fatalf("hephd died when it ran out of descriptors:\n%s", td.Stderr.String())
	default:
	}
	var info daemonInfo
	if err := td.Call("daemon.info", nil, &info); err != nil {
		t.Fatalf("hephd stopped serving after descriptor exhaustion: %v\n%s", err, td.Stderr.String())
	}
}

// TestLineLimitBoundary: a line of exactly 4 MiB (newline included) is
// read and answered; one byte more is refused.
func TestLineLimitBoundary(t *testing.T) {
	ip := serveInProcess(t, nil)
	line := func(size int) string {
		head, tail := `{"jsonrpc":"2.0","id":1,"method":"daemon.info","params":{"pad":"`, `"}}`
		return head + strings.Repeat("a", size-len(head)-len(tail)-1) + tail // -1: the newline roundTrip adds
	}
	c := dialRaw(t, ip.Socket)
	rep := c.roundTrip(line(maxLine))
	wantCode(t, "a line of exactly 4 MiB", rep, codeInvalidParams) // parsed: daemon.info takes no "pad"
	c2 := dialRaw(t, ip.Socket)
	go io.WriteString(c2.c, line(maxLine+1)+"\n")
	wantCode(t, "a line one byte over 4 MiB", c2.read(), codeInvalidRequest)
}
