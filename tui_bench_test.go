// tui_bench_test.go: make bench's TUI targets: keypress to screen updated with 10,000 outstanding tasks, and start to first full screen as a whole process.
package main

import (
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
