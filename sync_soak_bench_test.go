package main

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// BenchmarkSyncSoak (make bench): 200 random ops, among them bodies of
// 3 MiB full of "<", '"' and non-ASCII text (what grows most when
// escaped), pushed through the hub's real HTTP handler and pulled by a
// fresh spoke, which must end byte-identical. It prints the push and pull
// sizes and timings.
func BenchmarkSyncSoak(b *testing.B) {
	for i := 0; i < b.N; i++ {
		h := newTestHub(b, daemonOptions{})
		a := newTestSpoke(b, h.URL, "tok:me")
		big := soakBodies()
		rng := rand.New(rand.NewSource(int64(12 + i)))
		var ids []string
		for n := 0; n < 200; n++ {
			switch k := rng.Intn(10); {
			case len(ids) < 2 || k < 3:
				kind := []string{"task", "doc"}[rng.Intn(2)]
				ids = append(ids, a.create(kind, fmt.Sprintf("soak %d <\"é\">", n)))
			case k < 5:
				body := fmt.Sprintf("small body %d: <\"é\">", n)
				if rng.Intn(5) == 0 {
					body = big[rng.Intn(len(big))]
				}
				a.set(ids[rng.Intn(len(ids))], map[string]any{"body": body})
			case k < 7:
				a.set(ids[rng.Intn(len(ids))], map[string]any{"title": fmt.Sprintf("renamed %d «%s»", n, strings.Repeat("\"<", rng.Intn(5)))})
			case k < 9:
				a.link(ids[rng.Intn(len(ids))], ids[rng.Intn(len(ids))], rng.Intn(3) > 0)
			default:
				a.set(ids[rng.Intn(len(ids))], map[string]any{"deleted": time.Now().UnixMilli()})
			}
		}
		b.ResetTimer()
		start := time.Now()
		push := a.sync()
		pushTook := time.Since(start)
		pushOut, pushIn := a.c.wireBytes()
		fresh := newTestSpoke(b, h.URL, "tok:me")
		start = time.Now()
		pull := fresh.sync()
		pullTook := time.Since(start)
		pullOut, pullIn := fresh.c.wireBytes()
		b.StopTimer()
		assertConverged(b, a.s, fresh.s)
		fmt.Printf("sync soak: pushed %d ops, %.1f MiB up / %.1f KiB down in %s; fresh spoke pulled %d ops, %.1f MiB down / %.1f KiB up in %s; byte-identical\n",
			push.Pushed, float64(pushOut)/(1<<20), float64(pushIn)/1024, pushTook.Round(time.Millisecond),
			pull.Pulled, float64(pullIn)/(1<<20), float64(pullOut)/1024, pullTook.Round(time.Millisecond))
		b.ReportMetric(float64(pushOut)/(1<<20), "push-MiB")
		b.ReportMetric(float64(pullIn)/(1<<20), "pull-MiB")
		b.ReportMetric(pushTook.Seconds(), "push-s")
		b.ReportMetric(pullTook.Seconds(), "pull-s")
		if push.Pushed == 0 || pull.Pulled != push.Pushed {
			b.Fatalf("pushed %d, the fresh spoke pulled %d", push.Pushed, pull.Pulled)
		}
	}
}

// soakBodies are 3 MiB bodies of the characters that grow most when
// escaped, and non-ASCII text.
func soakBodies() []string {
	const size = 3 << 20
	return []string{
		strings.Repeat("<", size),
		strings.Repeat(`"`, size),
		strings.Repeat("<\"é→ü中", size/12),
		strings.Repeat("&>\\\n\t", size/5),
	}
}
