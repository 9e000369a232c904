// rpc_limits_test.go tests the socket's per-connection limits against a real hephd: memory, deadlines, connection count, drain.

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// vmRSS is a process's resident set in bytes (/proc/PID/status).
func vmRSS(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// readLimitLine reads the one line hephd sends before closing a
// connection for a limit, then checks the connection is closed.
func readLimitLine(c net.Conn, within time.Duration) (string, error) {
	c.SetReadDeadline(time.Now().Add(within))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if rest, err := r.ReadString('\n'); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		return line, errors.New("connection left open after " + strings.TrimSpace(line) + ": " + rest)
	}
	return line, nil
}

// Finding 12: 200 connections each holding an unfinished 4 MiB line keep
// hephd's memory bounded (the shared buffer budget refuses the rest), the
// held ones are cut at the partial-line deadline, and a normal request is
// served throughout.
func TestSocketLimitsMemoryAndPartialLine(t *testing.T) {
	const lineDeadline = 6 * time.Second
	td := startDaemonEnv(t, shortTempDir(t), []string{socketLimitsEnv + "=line=" + lineDeadline.String()})
	pid := td.Cmd.Process.Pid
	before := vmRSS(t, pid)

	var peak int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
						kb, _ := strconv.ParseInt(f[1], 10, 64)
						peak = max(peak, kb<<10)
					}
				}
			}
		}
	}()

	payload := []byte(`{"jsonrpc":"2.0","id":1,"method":"task.create","params":{"title":"` + strings.Repeat("a", maxLine-200))
	const n = 200
	type result struct {
		line    string
		err     error
		elapsed time.Duration
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c, err := net.Dial("unix", td.Socket)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			start := time.Now()
			c.SetWriteDeadline(start.Add(30 * time.Second))
			c.Write(payload) // fails with EPIPE when hephd refuses the line: expected
			line, err := readLimitLine(c, lineDeadline+30*time.Second)
			results[i] = result{line, err, time.Since(start)}
		}(i, c)
	}
	// While the lines are held, a normal request is answered.
	var info daemonInfo
	if err := td.Call("daemon.info", nil, &info); err != nil {
		t.Fatalf("a normal request during the flood: %v", err)
	}
	wg.Wait()
	close(stop)
	<-sampled

	cut, refused := 0, 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("connection %d: %v (read %q)", i, r.err, r.line)
		case strings.Contains(r.line, "not finished within "+lineDeadline.String()):
			cut++
			if r.elapsed < lineDeadline-time.Second {
				t.Fatalf("connection %d cut after %v, before the %v partial-line deadline", i, r.elapsed, lineDeadline)
			}
		case strings.Contains(r.line, "unfinished requests"):
			refused++
		default:
			t.Fatalf("connection %d: unexpected reply %q", i, r.line)
		}
	}
	t.Logf("RSS before %d MiB, peak %d MiB; %d lines held then cut at the deadline, %d refused over the buffer budget", before>>20, peak>>20, cut, refused)
	if cut == 0 || refused == 0 {
		t.Fatalf("want some lines held (then cut) and some refused: %d cut, %d refused", cut, refused)
	}
	// Unbounded, 200 × 4 MiB lines took 1.1 GB. Bounded, the budget is
	// 64 MiB; the rest is the garbage of growing buffers not yet collected
	// (about 180 MiB at the peak measured).
	if limit := before + 6*socketMaxBuffered; peak > limit {
		t.Fatalf("hephd's RSS peaked at %d MiB holding unfinished lines (limit %d MiB)", peak>>20, limit>>20)
	}
	if !strings.Contains(td.Stderr.String(), "not finished within") || !strings.Contains(td.Stderr.String(), "unfinished requests") {
		t.Fatalf("the cut and refused connections are not logged:\n%.2000s", td.Stderr.String())
	}
	td.MustCall("daemon.info", nil, &info)
}

// Finding 12: a connection that sends nothing is closed at the idle
// deadline with a message, before and after a request; one more than the
// connection limit is refused with a message; requests still work.
func TestSocketLimitsIdleAndConnections(t *testing.T) {
	td := startDaemonEnv(t, shortTempDir(t), []string{socketLimitsEnv + "=idle=2s,conns=4"})
	silent := dialRaw(t, td.Socket)
	used := dialRaw(t, td.Socket)
	if rep := used.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"daemon.info"}`); rep.Error != nil {
		t.Fatalf("daemon.info: %+v", rep.Error)
	}
	for name, c := range map[string]net.Conn{"a silent connection": silent.c, "an idle connection after a request": used.c} {
		start := time.Now()
		line, err := readLimitLine(c, 20*time.Second)
		if err != nil || !strings.Contains(line, "idle for 2s") {
			t.Fatalf("%s: %q, %v; want the idle message and a close", name, line, err)
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%s closed only after %v", name, time.Since(start))
		}
	}
	// Four connections open: the fifth is refused with why.
	var held []*rawConn
	for i := 0; i < 4; i++ {
		held = append(held, dialRaw(t, td.Socket))
	}
	fifth, err := net.Dial("unix", td.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer fifth.Close()
	if line, err := readLimitLine(fifth, 10*time.Second); err != nil || !strings.Contains(line, "limit of 4 connections") {
		t.Fatalf("a connection over the limit: %q, %v", line, err)
	}
	for _, c := range held {
		c.c.Close()
	}
	var info daemonInfo
	if !pollUntil(10*time.Second, func() bool { return td.Call("daemon.info", nil, &info) == nil }) {
		t.Fatalf("requests fail after the connections closed:\n%s", td.Stderr.String())
	}
	if !strings.Contains(td.Stderr.String(), "idle for 2s") || !strings.Contains(td.Stderr.String(), "limit of 4 connections") {
		t.Fatalf("idle closes and refusals are not logged:\n%s", td.Stderr.String())
	}
}

// Finding 12: the deadlines do not hold up a graceful shutdown: with an
// idle connection and one mid-line, hephd exits promptly on SIGTERM, well
// before either deadline, closing both quietly (TestSIGTERMShutdown checks
// that a request in flight still gets its reply).
func TestSocketLimitsShutdownDrains(t *testing.T) {
	td := startDaemon(t)
	idle := dialRaw(t, td.Socket)
	mid := dialRaw(t, td.Socket)
	if _, err := io.WriteString(mid.c, `{"jsonrpc":"2.0","id":1,"method":"daemon.info"`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let hephd read the partial line
	start := time.Now()
	td.Stop()
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("shutdown took %v with an idle and a mid-line connection", took)
	}
	if !td.Cmd.ProcessState.Success() {
		t.Fatalf("hephd exit: %v\n%s", td.Cmd.ProcessState, td.Stderr.String())
	}
	for name, c := range map[string]net.Conn{"idle": idle.c, "mid-line": mid.c} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("%s connection after shutdown: %v", name, err)
		}
		if len(b) != 0 {
			t.Fatalf("%s connection got %q at shutdown; want a quiet close", name, b)
		}
	}
	if strings.Contains(td.Stderr.String(), "idle for") || strings.Contains(td.Stderr.String(), "not finished within") {
		t.Fatalf("shutdown was reported as a deadline:\n%s", td.Stderr.String())
	}
}

// The test hook can only lower the socket's limits, and a malformed hook
// stops hephd from starting rather than being half applied.
func TestSocketLimitsHook(t *testing.T) {
	env := func(v string) getenvFunc {
		return func(k string) string {
			if k == socketLimitsEnv {
				return v
			}
			return ""
		}
	}
	l, err := socketLimitsFrom(env(""))
	if err != nil || l != (socketLimits{socketMaxConns, socketMaxBuffered, socketIdleTimeout, socketLineTimeout}) {
		t.Fatalf("no hook: %+v, %v; want the constants", l, err)
	}
	l, err = socketLimitsFrom(env("conns=3,buffered=1000,idle=1s,line=2s"))
	if err != nil || l != (socketLimits{3, 1000, time.Second, 2 * time.Second}) {
		t.Fatalf("lowered: %+v, %v", l, err)
	}
	l, err = socketLimitsFrom(env("conns=100000,idle=100h,line=1h,buffered=99999999999"))
	if err != nil || l != (socketLimits{socketMaxConns, socketMaxBuffered, socketIdleTimeout, socketLineTimeout}) {
		t.Fatalf("raised: %+v, %v; want the constants kept", l, err)
	}
	for _, bad := range []string{"conns=0", "idle=-1s", "line=soon", "buffered", "memory=1"} {
		if _, err := socketLimitsFrom(env(bad)); err == nil || !strings.Contains(err.Error(), socketLimitsEnv) {
			t.Fatalf("hook %q: %v; want an error naming %s", bad, err, socketLimitsEnv)
		}
	}
}
