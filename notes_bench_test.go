package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// twSample builds n Taskwarrior tasks as an export would list them.
func twSample(n, batch int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"uuid":"%08x-0000-4000-8000-%012x","description":"Task %d: check the shed","status":"pending","entry":"20250101T000000Z","project":"Home.Repairs","tags":["phone"],"priority":"M"}`, batch, i, i))
	}
	return out
}

// BenchmarkImportTaskwarrior imports 1,000 tasks per iteration into one
// store (one transaction each, as the CLI's chunks are).
func BenchmarkImportTaskwarrior(b *testing.B) {
	s, err := openStore(context.Background(), filepath.Join(b.TempDir(), "heph.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.importTaskwarrior(context.Background(), twSample(1000, i)); err != nil {
			b.Fatal(err)
		}
	}
}
