package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Sync benchmarks (make bench). They run the real hub handler over HTTP on
// loopback with real stores; token checking is subjectTokens, a
// bench-only verifier, so the numbers measure sync, not RSA. Targets: first
// sync of 10,000 tasks spoke→hub and hub→fresh spoke ≤ 5 s each; one-op
// incremental sync ≤ 20 ms; 50 spokes syncing every second for 30 s
// without an error.

// seedTasks creates n tasks (each with its context and log docs: five ops)
// in one transaction.
func seedTasks(tb testing.TB, s *Store, n int) {
	tb.Helper()
	if err := s.Write(context.Background(), func(tx *Tx) error {
		for i := 0; i < n; i++ {
			if _, err := createTask(tx, taskInput{Title: fmt.Sprintf("task number %d", i), Tags: []string{"bench"}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
}

const benchTasks = 10000

func BenchmarkSyncFirst10kTasks(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newTestHub(b, daemonOptions{})
		a := newTestSpoke(b, h.URL, "tok:me")
		seedTasks(b, a.s, benchTasks)
		var ops int
		a.s.db.QueryRow(`SELECT count(*) FROM ops`).Scan(&ops)
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU()
		rep := a.sync()
		push, cpu1 := time.Since(start), processCPU()
		fresh := newTestSpoke(b, h.URL, "tok:me")
		start = time.Now()
		rep2 := fresh.sync()
		pull, cpu2 := time.Since(start), processCPU()
		b.StopTimer()
		// CPU seconds of hub and spoke together (both in this process):
		// on a shared machine wall time waits for CPU, this does not.
		b.ReportMetric((cpu1 - cpu0).Seconds(), "push-cpu-s")
		b.ReportMetric((cpu2 - cpu1).Seconds(), "pull-cpu-s")
		if rep.Accepted != ops || rep2.Applied != ops {
			b.Fatalf("pushed %d pulled %d of %d ops", rep.Accepted, rep2.Applied, ops)
		}
		out, _ := a.c.wireBytes()
		_, in := fresh.c.wireBytes()
		b.ReportMetric(push.Seconds(), "push-s")
		b.ReportMetric(pull.Seconds(), "pull-s")
		b.ReportMetric(float64(ops), "ops")
		b.ReportMetric(float64(out)/float64(ops), "push-B/op")
		b.ReportMetric(float64(in)/float64(ops), "pull-B/op")
		if push > 5*time.Second || pull > 5*time.Second {
			// Reported, not failed: wall time depends on the machine's
			// load; the metrics above carry the numbers.
			b.Logf("TARGET MISSED: first sync of 10,000 tasks (%d ops): push %s, pull %s; target ≤ 5 s each", ops, push, pull)
		}
		b.StartTimer()
	}
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkSyncIncrementalOneOp(b *testing.B) {
	h := newTestHub(b, daemonOptions{})
	// Back-to-back syncs of one subject go faster than the hub's per-subject
	// rate limit allows: this measures latency, not the limiter.
	h.hub.limiter = newRateLimiter(1e9, 1e9)
	a := newTestSpoke(b, h.URL, "tok:me")
	other := newTestSpoke(b, h.URL, "tok:me")
	seedTasks(b, a.s, 1000)
	id := a.create("task", "edited")
	a.sync()
	other.sync()
	a.sync() // the pull cursor moves past a's own first push
	b.ResetTimer()
	var total, worst time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a.set(id, map[string]any{"title": fmt.Sprintf("edit %d", i)})
		b.StartTimer()
		start := time.Now()
		rep := a.sync()
		d := time.Since(start)
		total += d
		worst = max(worst, d)
		if rep.Accepted != 1 {
			b.Fatalf("pushed %+v", rep)
		}
	}
	b.StopTimer()
	mean := total / time.Duration(b.N)
	b.ReportMetric(float64(mean.Microseconds())/1000, "sync-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	if b.N >= 20 && mean > 20*time.Millisecond {
		b.Logf("TARGET MISSED: incremental one-op sync takes %s on average; target ≤ 20 ms", mean)
	}
}

// BenchmarkSync50Spokes runs 50 spokes that each edit and sync once a
// second for 30 s against one hub (single owner: the same person's 50
// machines). Every exchange must succeed and all must converge.
func BenchmarkSync50Spokes(b *testing.B) {
	for i := 0; i < b.N; i++ {
		h := newTestHub(b, daemonOptions{})
		spokes := make([]*testSpoke, 50)
		for j := range spokes {
			spokes[j] = &testSpoke{t: b, s: openSyncStore(b, filepath.Join(b.TempDir(), "s.db")), hubURL: h.URL, token: "tok:me"}
			spokes[j].connect()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var exchanges, failures int
		var firstErr error
		for j, sp := range spokes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for n := 0; ; n++ {
					err := sp.s.Write(context.Background(), func(tx *Tx) error {
						_, err := tx.Create("task", map[string]any{"title": fmt.Sprintf("spoke %d edit %d", j, n)})
						return err
					})
					if err == nil {
						_, err = exchange(context.Background(), sp.s, sp.c)
					}
					mu.Lock()
					exchanges++
					if err != nil {
						failures++
						if firstErr == nil {
							firstErr = err
						}
					}
					mu.Unlock()
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
				}
			}()
		}
		wg.Wait()
		cancel()
		for _, sp := range spokes {
			sp.sync()
		}
		for _, sp := range spokes {
			sp.sync()
		}
		stores := []*Store{h.main.store}
		for _, sp := range spokes {
			stores = append(stores, sp.s)
		}
		assertConverged(b, stores...)
		b.ReportMetric(float64(exchanges), "exchanges")
		b.ReportMetric(float64(failures), "failures")
		if failures > 0 {
			b.Fatalf("%d of %d exchanges failed; first: %v", failures, exchanges, firstErr)
		}
	}
}
