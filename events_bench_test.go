package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Live event benchmarks (bench/events.sh checks their targets):
//   - BenchmarkEventLatency: from a write's commit to a socket subscriber
//     reading its event, median and p99 over 1,000 writes (target: p99 ≤
//     2 ms).
//   - BenchmarkEventWriteThroughput: durable writes per second with 100
//     subscribers attached versus none (target: within 10%).

// benchSubscriber subscribes over the socket and calls got(seq, when) for
// each event line it reads.
func benchSubscriber(b *testing.B, socket string, got func(seq int64, at time.Time)) net.Conn {
	b.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	c.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}` + "\n"))
	if _, err := r.ReadBytes('\n'); err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			at := time.Now()
			if got == nil {
				continue
			}
			var m struct {
				Params eventParams `json:"params"`
			}
			if json.Unmarshal(line, &m) == nil && m.Params.Seq != nil {
				got(*m.Params.Seq, at)
			}
		}
	}()
	return c
}

func BenchmarkEventLatency(b *testing.B) { benchLatency(b, 0) }

// BenchmarkEventLatency100 is the same with 100 more subscribers (in
// another process, decoding every event) sharing the delivery.
func BenchmarkEventLatency100(b *testing.B) { benchLatency(b, 100) }

func benchLatency(b *testing.B, others int) {
	ip := serveInProcess(b, nil)
	if others > 0 {
		subscribersProcess(b, ip.Socket, others, "parse", false)
	}
	const writes = 1000
	var mu sync.Mutex
	committed := map[int64]time.Time{}
	received := map[int64]time.Time{}
	// An in-process subscriber notes each event's commit time by seq.
	inproc, _, err := ip.Store.events.subscribe(context.Background(), nil, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer inproc.close()
	go func() {
		for ev := inproc.next(context.Background()); ev != nil; ev = inproc.next(context.Background()) {
			if ev.params.Seq != nil {
				mu.Lock()
				committed[*ev.params.Seq] = ev.committed
				mu.Unlock()
			}
		}
	}()
	sub := benchSubscriber(b, ip.Socket, func(seq int64, at time.Time) {
		mu.Lock()
		received[seq] = at
		mu.Unlock()
	})
	defer sub.Close()
	c, err := dialDaemon(ip.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < writes; j++ {
			if err := c.Call(ctx, "doc.create", map[string]string{"title": fmt.Sprintf("bench %d %d", i, j)}, nil); err != nil {
				b.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(received)
			mu.Unlock()
			if n >= (i+1)*writes || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	mu.Lock()
	for seq, at := range received {
		if c, ok := committed[seq]; ok {
			lat = append(lat, at.Sub(c))
		}
	}
	mu.Unlock()
	if len(lat) < b.N*writes {
		b.Fatalf("the subscriber got %d of %d events", len(lat), b.N*writes)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(lat)), "events")
}

// TestEventSubscribersHelper is not a test: the throughput benchmarks run
// the test binary with HEPH_BENCH_SUBSCRIBE=SOCKET,N,MODE to hold N
// subscriptions in another process (as real clients are) until its stdin
// closes. MODE "parse" reads every event and decodes its JSON as a client
// does (bufio lines, one json.Unmarshal each); "read" only reads the
// bytes; "idle" never reads.
func TestEventSubscribersHelper(t *testing.T) {
	spec := os.Getenv("HEPH_BENCH_SUBSCRIBE")
	if spec == "" {
		t.Skip("a helper process of BenchmarkEventWriteThroughput")
	}
	parts := strings.Split(spec, ",")
	count, _ := strconv.Atoi(parts[1])
	mode := parts[2]
	for i := 0; i < count; i++ {
		c, err := net.Dial("unix", parts[0])
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}` + "\n"))
		switch mode {
		case "read":
			go io.Copy(io.Discard, c)
		case "parse":
			go benchParse(c)
		}
	}
	fmt.Println("subscribed")
	io.Copy(io.Discard, os.Stdin)
}

// benchParse reads c's lines and decodes each as a client does.
func benchParse(c net.Conn) {
	r := bufio.NewReaderSize(c, 64<<10)
	var m struct {
		ID     *int64      `json:"id"`
		Method string      `json:"method"`
		Params eventParams `json:"params"`
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		m.Params = eventParams{}
		if json.Unmarshal(line, &m) != nil {
			panic(fmt.Sprintf("bad line %q", line))
		}
	}
}

// procTimes is a process's CPU time and the time its threads waited for
// a CPU while runnable (summed over /proc/PID/task/*/schedstat; zero
// where /proc is missing).
type procTimes struct{ cpu, wait time.Duration }

func readProcTimes(pid int) procTimes {
	var t procTimes
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/" + task.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		run, _ := strconv.ParseInt(f[0], 10, 64)
		wait, _ := strconv.ParseInt(f[1], 10, 64)
		t.cpu += time.Duration(run)
		t.wait += time.Duration(wait)
	}
	return t
}

func (t procTimes) sub(u procTimes) procTimes { return procTimes{t.cpu - u.cpu, t.wait - u.wait} }
func (t procTimes) add(u procTimes) procTimes { return procTimes{t.cpu + u.cpu, t.wait + u.wait} }

// subscribersProcess starts n subscribers of socket in a child process
// (mode: see TestEventSubscribersHelper), at nice 19 when nice is set,
// and returns its pid.
func subscribersProcess(b *testing.B, socket string, n int, mode string, nice bool) int {
	b.Helper()
	args := []string{os.Args[0], "-test.run=^TestEventSubscribersHelper$"}
	if nice {
		args = append([]string{"nice", "-n", "19"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("HEPH_BENCH_SUBSCRIBE=%s,%d,%s", socket, n, mode))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "subscribed") {
		b.Fatalf("subscriber process: %q %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return cmd.Process.Pid
}

// BenchmarkEventWriteThroughput is the headline: 100 subscribers that
// read and decode every event, in another process, versus none.
func BenchmarkEventWriteThroughput(b *testing.B) { benchWriteThroughput(b, "parse", false) }

// BenchmarkEventWriteThroughputNice is the same with the subscriber
// process at nice 19: what the daemon's own fan-out costs the writer when
// the readers do not compete with it for the CPU.
func BenchmarkEventWriteThroughputNice(b *testing.B) { benchWriteThroughput(b, "parse", true) }

// BenchmarkEventWriteThroughputIdle is the same with subscribers that
// never read (they fall behind and resync).
func BenchmarkEventWriteThroughputIdle(b *testing.B) { benchWriteThroughput(b, "idle", false) }

// benchWriteThroughput measures durable writes per second on a daemon
// with 100 subscribers against one with none, and the CPU each side
// spends per event per subscriber.
func benchWriteThroughput(b *testing.B, mode string, nice bool) {
	const subs = 100
	plain := serveInProcess(b, nil)
	watched := serveInProcess(b, nil)
	child := subscribersProcess(b, watched.Socket, subs, mode, nice)
	ctx := context.Background()
	dial := func(socket string) *rpcClient {
		c, err := dialDaemon(socket)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	cPlain, cWatched := dial(plain.Socket), dial(watched.Socket)
	defer cPlain.Close()
	defer cWatched.Close()
	// Alternate blocks of writes on the two daemons (same disk, same
	// moment) so drift in the machine's load hits both alike.
	const block, blocks = 25, 12
	var tPlain, tWatched time.Duration
	var pPlain, pWatched procTimes // this process (daemons and writer)
	self := os.Getpid()
	write := func(c *rpcClient, n int, wall *time.Duration, cpu *procTimes) {
		t0 := readProcTimes(self)
		start := time.Now()
		for k := 0; k < n; k++ {
			if err := c.Call(ctx, "doc.create", map[string]string{"title": fmt.Sprintf("w %d", k)}, nil); err != nil {
				b.Fatal(err)
			}
		}
		*wall += time.Since(start)
		*cpu = cpu.add(readProcTimes(self).sub(t0))
	}
	var warm time.Duration
	var warmCPU procTimes
	write(cPlain, block, &warm, &warmCPU) // warm both up
	write(cWatched, block, &warm, &warmCPU)
	time.Sleep(50 * time.Millisecond) // let the subscribers drain
	c0 := readProcTimes(child)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < blocks; j++ {
			if j%2 == 0 {
				write(cPlain, block, &tPlain, &pPlain)
				write(cWatched, block, &tWatched, &pWatched)
			} else {
				write(cWatched, block, &tWatched, &pWatched)
				write(cPlain, block, &tPlain, &pPlain)
			}
		}
	}
	b.StopTimer()
	time.Sleep(50 * time.Millisecond) // the subscribers' last reads
	pChild := readProcTimes(child).sub(c0)
	n := float64(b.N * block * blocks)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(n/tPlain.Seconds(), "writes/s-0subs")
	b.ReportMetric(n/tWatched.Seconds(), "writes/s-100subs")
	b.ReportMetric(tPlain.Seconds()/tWatched.Seconds(), "ratio")
	// CPU per event per subscriber: the daemon's extra (watched minus
	// plain blocks) and the subscriber process's.
	b.ReportMetric(us(pWatched.cpu-pPlain.cpu)/n/subs, "daemon-cpu-µs/ev/sub")
	b.ReportMetric(us(pChild.cpu)/n/subs, "subs-cpu-µs/ev/sub")
	// How long this process's threads waited for a CPU, per write.
	b.ReportMetric(us(pPlain.wait)/n, "runq-wait-µs/write-0subs")
	b.ReportMetric(us(pWatched.wait)/n, "runq-wait-µs/write-100subs")
	b.ReportMetric(us(pPlain.cpu)/n, "cpu-µs/write-0subs")
	b.ReportMetric(us(pWatched.cpu)/n, "cpu-µs/write-100subs")
}

// BenchmarkEventWriteThroughputRead is the same with subscribers that read
// every event's bytes without decoding them.
func BenchmarkEventWriteThroughputRead(b *testing.B) { benchWriteThroughput(b, "read", false) }

// BenchmarkEventFanout isolates delivery: events published straight on
// the bus (no SQLite) every millisecond — about the pace of durable writes
// on a quiet machine — to 100 subscribers in another process that decode
// every event; it reports the CPU each side spends per event per
// subscriber.
func BenchmarkEventFanout(b *testing.B) {
	const subs, events = 100, 500
	ip := serveInProcess(b, nil)
	child := subscribersProcess(b, ip.Socket, subs, "parse", false)
	bus := ip.Store.events
	nodes := []eventNode{{ID: "01JDX4ZK8Q5Y6V7W8X9Y0Z1A2B", Kind: "doc", Change: "create"}}
	seq := bus.lastSeq()
	self := os.Getpid()
	b.ResetTimer()
	s0, c0 := readProcTimes(self), readProcTimes(child)
	for i := 0; i < b.N*events; i++ {
		seq++
		bus.publish(changeEvent(seq, originLocal, nodes))
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	b.StopTimer()
	s, c := readProcTimes(self).sub(s0), readProcTimes(child).sub(c0)
	n := float64(b.N * events * subs)
	b.ReportMetric(float64(s.cpu)/float64(time.Microsecond)/n, "daemon-cpu-µs/ev/sub")
	b.ReportMetric(float64(c.cpu)/float64(time.Microsecond)/n, "subs-cpu-µs/ev/sub")
}
