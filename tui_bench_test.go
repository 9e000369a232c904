// tui_bench_test.go: make bench's TUI targets: keypress to screen updated with 10,000 outstanding tasks, and start to first full screen as a whole process.

package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// tuiBenchDaemon is a real hephd on a store with 10,000 outstanding tasks.
func tuiBenchDaemon(b *testing.B) *testDaemon {
	b.Helper()
	dir := shortTempDir(b)
	genStore(b, filepath.Join(dir, "heph.db"), 10000, 10000).Close()
	return startDaemonIn(b, dir)
}

// tuiReportLatencies reports the median and p99 of samples in ms and fails
// the benchmark when the p99 (or, with onMedian, the median) misses target.
func tuiReportLatencies(b *testing.B, samples []time.Duration, target time.Duration, onMedian bool) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	med := samples[len(samples)/2]
	p99 := samples[min(len(samples)-1, len(samples)*99/100)]
	b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	switch {
	case len(samples) < 20:
	case onMedian && med > target:
		b.Errorf("median %s over the %s target (p99 %s, %d samples)", med, target, p99, len(samples))
	case !onMedian && p99 > target:
		b.Errorf("p99 %s over the %s target (median %s, %d samples)", p99, target, med, len(samples))
	}
}

// BenchmarkTUIKeypress: from a key (j, or k on the way back) to the
// screen's bytes written: the move, the preview's requests to hephd, the
// render at 200x60 and the diff. Target: p99 ≤ 16 ms.
func BenchmarkTUIKeypress(b *testing.B) {
	d := tuiBenchDaemon(b)
	rpc, err := dialDaemon(d.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer rpc.Close()
	a := newTuiApp(d.Socket, rpc, io.Discard)
	a.st.Width, a.st.Height = 200, 60
	if err := a.loadNow(false); err != nil {
		b.Fatal(err)
	}
	if len(a.st.Tasks) < 5000 { // next: not blue, not waiting for a do date
		b.Fatalf("loaded %d tasks of next, want most of the 10000", len(a.st.Tasks))
	}
	a.draw()
	samples := make([]time.Duration, 0, b.N)
	key := tuiKey{Name: "rune", R: 'j'}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if a.st.Cursor == len(a.st.Shown)-1 {
			key.R = 'k'
		} else if a.st.Cursor == 0 {
			key.R = 'j'
		}
		t0 := time.Now()
		a.handleKey(key)
		a.draw()
		samples = append(samples, time.Since(t0))
		if a.st.Flash != "" {
			b.Fatalf("key %c: %s", key.R, a.st.Flash)
		}
	}
	b.StopTimer()
	tuiReportLatencies(b, samples, 16*time.Millisecond, false)
}

// BenchmarkTUILiveUpdate: from another client's edit of a listed task to
// the TUI's screen showing it, with 10,000 outstanding tasks: the event,
// the patch (node.get), the render and the diff. Target: median ≤ 200 ms
// (p99 reported).
// Skipped when hephd has no events.subscribe.
func BenchmarkTUILiveUpdate(b *testing.B) {
	d := tuiBenchDaemon(b)
	if err := d.Call("events.subscribe", map[string]any{}, nil); err != nil {
		b.Skipf("hephd has no events yet: %v", err)
	}
	rpc, err := dialDaemon(d.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer rpc.Close()
	a := newTuiApp(d.Socket, rpc, io.Discard)
	a.st.Width, a.st.Height = 200, 60
	if err := a.loadNow(false); err != nil {
		b.Fatal(err)
	}
	live, err := tuiSubscribe(d.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer live.close()
	other, err := dialDaemon(d.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	a.draw()
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		target := &a.st.Tasks[a.st.Shown[i%len(a.st.Shown)]]
		id, title := target.ID, fmt.Sprintf("edited elsewhere %d", i)
		t0 := time.Now()
		if err := other.Call(context.Background(), "task.edit", map[string]any{"id": id, "title": title}, nil); err != nil {
			b.Fatal(err)
		}
		for target.Title != title {
			select {
			case ev := <-live.Events:
				a.patch(ev)
			case <-time.After(10 * time.Second):
				b.Fatalf("no event for the edit of %s", id)
			}
		}
		a.draw()
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	tuiReportLatencies(b, samples, 200*time.Millisecond, true)
}
