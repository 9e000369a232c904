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

func BenchmarkEventLatency(b *testing.B) {
	ip := serveInProcess(b, nil)
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

// TestEventSubscribersHelper is not a test: BenchmarkEventWriteThroughput
// runs the test binary with HEPH_BENCH_SUBSCRIBE=SOCKET,N to hold N
// subscriptions in another process (as real clients are), reading every
// event, until its stdin closes.
func TestEventSubscribersHelper(t *testing.T) {
	spec := os.Getenv("HEPH_BENCH_SUBSCRIBE")
	if spec == "" {
		t.Skip("a helper process of BenchmarkEventWriteThroughput")
	}
	socket, n, _ := strings.Cut(spec, ",")
	count, _ := strconv.Atoi(n)
	for i := 0; i < count; i++ {
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}` + "\n"))
		go io.Copy(io.Discard, c)
	}
	fmt.Println("subscribed")
	io.Copy(io.Discard, os.Stdin)
}

// subscribersProcess starts n subscribers of socket in a child process.
func subscribersProcess(b *testing.B, socket string, n int) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEventSubscribersHelper$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("HEPH_BENCH_SUBSCRIBE=%s,%d", socket, n))
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
}

func BenchmarkEventWriteThroughput(b *testing.B) {
	plain := serveInProcess(b, nil)
	watched := serveInProcess(b, nil)
	subscribersProcess(b, watched.Socket, 100)
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
	write := func(c *rpcClient, n int) time.Duration {
		start := time.Now()
		for k := 0; k < n; k++ {
			if err := c.Call(ctx, "doc.create", map[string]string{"title": fmt.Sprintf("w %d", k)}, nil); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	write(cPlain, block) // warm both up
	write(cWatched, block)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < blocks; j++ {
			if j%2 == 0 {
				tPlain += write(cPlain, block)
				tWatched += write(cWatched, block)
			} else {
				tWatched += write(cWatched, block)
				tPlain += write(cPlain, block)
			}
		}
	}
	b.StopTimer()
	n := float64(b.N * block * blocks)
	b.ReportMetric(n/tPlain.Seconds(), "writes/s-0subs")
	b.ReportMetric(n/tWatched.Seconds(), "writes/s-100subs")
	b.ReportMetric(tPlain.Seconds()/tWatched.Seconds(), "ratio")
}
