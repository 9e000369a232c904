package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// BenchmarkFilter times "list project:P +tag" and a saved view, in
// process (query and JSON reply), on 100,000 nodes with 10,000
// outstanding tasks (genStore). Target: 5 ms each. The reply line is
// built as hephd builds it (encodeReply).
func BenchmarkFilter(b *testing.B) {
	s := genStore(b, filepath.Join(b.TempDir(), "heph.db"), 10000, 100000)
	defer s.Close()
	ctx := context.Background()
	if _, err := s.rpcViewSave(ctx, []byte(`{"name":"bench","filter":"project:Work (attention:red,orange or +t3)","sort":"next"}`)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, method, params string }{
		{"list-project-tag", "task.list", `{"filter":"project:Home +t3"}`},
		{"saved-view", "task.view", `{"name":"bench"}`},
	} {
		h := map[string]func(context.Context, json.RawMessage) (any, error){"task.list": s.rpcTaskList, "task.view": s.rpcTaskView}[c.method]
		res, err := h(ctx, []byte(c.params))
		if err != nil {
			b.Fatal(err)
		}
		b1, err := marshalJSON(res)
		if err != nil {
			b.Fatal(err)
		}
		var nodes []*Node
		if err := json.Unmarshal(b1, &nodes); err != nil {
			b.Fatal(err)
		}
		if len(nodes) == 0 {
			b.Fatalf("%s matched nothing", c.name)
		}
		b.Logf("%s: %d tasks", c.name, len(nodes))
		// "made": the reply is made each time (the query runs, each task's
		// JSON comes from the listing cache); "kept": the same listing
		// again with nothing changed, answered from the kept reply.
		for _, kept := range []bool{false, true} {
			name := c.name + "-made"
			if kept {
				name = c.name + "-kept"
			}
			b.Run(name, func(b *testing.B) { benchListing(b, s, h, c.params, kept) })
		}
	}
}

// benchListing times one listing method, with or without its kept reply.
func benchListing(b *testing.B, s *Store, h func(context.Context, json.RawMessage) (any, error), params string, kept bool) {
	ctx := context.Background()
	cpu0 := processCPU()
	defer func() {
		// CPU per op alongside wall time: the wall time of a loaded
		// 2-core box says little.
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	}()
	for i := 0; i < b.N; i++ {
		if !kept {
			s.listResults.mu.Lock()
			s.listResults.entries = nil
			s.listResults.mu.Unlock()
		}
		res, err := h(ctx, []byte(params))
		if err != nil {
			b.Fatal(err)
		}
		if line := encodeReply(json.RawMessage("1"), res, nil); !bytes.Contains(line, []byte(`"result":[{`)) {
			b.Fatalf("reply %.200s", line)
		}
	}
}
