package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// genStore fills a new store at path with `outstanding` outstanding tasks
// among `total` nodes (the rest: done tasks and docs), by direct inserts:
// the op-log is not needed to time reads. The mix: 10% red, 20% orange, 5%
// blue, the rest white; 30% with a future do date, 5% past their late date.
func genStore(tb testing.TB, path string, outstanding, total int) *Store {
	tb.Helper()
	ctx := context.Background()
	s, err := openStore(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	now := time.Now()
	// Projects are nodes (project.go); tasks reference them by id.
	projectIDs := map[string]string{"": ""}
	err = s.Write(ctx, func(tx *Tx) error {
		for _, p := range []string{"Home", "Home/Repairs", "Work", "Work/heph"} {
			id, err := ensureProjectPath(tx, p)
			if err != nil {
				return err
			}
			projectIDs[p] = id
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	node, err := tx.Prepare(`INSERT INTO nodes(id,handle,kind,title,body,created,updated) VALUES(?,?,?,?,?,?,?)`)
	if err != nil {
		tb.Fatal(err)
	}
	task, err := tx.Prepare(`INSERT INTO tasks(node_id,state,attention,do_at,late_at,project_id,tags) VALUES(?,?,?,?,?,?,?)`)
	if err != nil {
		tb.Fatal(err)
	}
	start := now.Add(-365 * 24 * time.Hour)
	for i := 0; i < total; i++ {
		created := start.Add(time.Duration(i) * 300 * time.Millisecond)
		id := newULID(created)
		kind := "doc"
		isTask := i%(total/max(outstanding, 1)) == 0 || total == outstanding
		if isTask || i%3 == 0 {
			kind = "task"
		}
		if _, err := node.Exec(id, strings.ToLower(id[10:]), kind, fmt.Sprintf("node %d", i), "", created.UnixMilli(), created.UnixMilli()); err != nil {
			tb.Fatal(err)
		}
		if kind != "task" {
			continue
		}
		state := "done"
		if isTask {
			state = "outstanding"
		}
		att := "white"
		switch r := rng.Intn(100); {
		case r < 10:
			att = "red"
		case r < 30:
			att = "orange"
		case r < 35:
			att = "blue"
		}
		var do, late sql.NullInt64
		if rng.Intn(100) < 30 {
			do = sql.NullInt64{Int64: now.Add(time.Duration(rng.Intn(30)+1) * 24 * time.Hour).UnixMilli(), Valid: true}
		}
		if rng.Intn(100) < 5 {
			late = sql.NullInt64{Int64: now.Add(-time.Duration(rng.Intn(30)+1) * 24 * time.Hour).UnixMilli(), Valid: true}
		}
		project := []string{"", "Home", "Home/Repairs", "Work", "Work/heph"}[rng.Intn(5)]
		tags := fmt.Sprintf(`["t%d","x"]`, i%7)
		if _, err := task.Exec(id, state, att, do, late, projectIDs[project], tags); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkNext times task.next (query and JSON result) with the default
// limit: 10,000 outstanding tasks among 100,000 nodes, and 100,000
// outstanding tasks.
func BenchmarkNext(b *testing.B) {
	for _, c := range []struct {
		name               string
		outstanding, total int
	}{{"10k", 10000, 100000}, {"100k", 100000, 100000}} {
		s := genStore(b, filepath.Join(b.TempDir(), "heph.db"), c.outstanding, c.total)
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				if _, err := s.rpcTaskNext(ctx, []byte(`{}`)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/project", func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				if _, err := s.rpcTaskNext(ctx, []byte(`{"project":"Home"}`)); err != nil {
					b.Fatal(err)
				}
			}
		})
		s.Close()
	}
}

// TestWriteBenchStores writes the stores BenchmarkNext uses into
// $HEPH_BENCH_DIR, for bench/next_scale.sh to time "heph next" as a whole
// process. It does nothing without that variable.
func TestWriteBenchStores(t *testing.T) {
	dir := os.Getenv("HEPH_BENCH_DIR")
	if dir == "" {
		t.Skip("HEPH_BENCH_DIR not set (bench/next_scale.sh sets it)")
	}
	for _, c := range []struct {
		name               string
		outstanding, total int
	}{{"next-10k.db", 10000, 100000}, {"next-100k.db", 100000, 100000}} {
		s := genStore(t, filepath.Join(dir, c.name), c.outstanding, c.total)
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM tasks WHERE state='outstanding'`).Scan(&n); err != nil || n != c.outstanding {
			t.Fatalf("%s: %d outstanding, %v", c.name, n, err)
		}
		s.Close()
	}
}

func TestNextUsesIndexes(t *testing.T) {
	ts := openTestStore(t, base)
	for _, q := range []string{
		taskSelectBy("tasks_late") + ` WHERE t.state = 'outstanding' AND t.node_deleted IS NULL AND t.late_at IS NOT NULL AND t.late_at <= 1 ORDER BY t.late_at, t.arank, t.node_created, t.node_id LIMIT 10`,
		taskSelectBy("tasks_next") + ` WHERE t.state = 'outstanding' AND t.node_deleted IS NULL AND (t.late_at IS NULL OR t.late_at > 1) AND t.arank < 3 ORDER BY t.arank, t.node_created, t.node_id LIMIT 10`,
	} {
		rows, err := ts.s.db.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan.WriteString(detail + "\n")
		}
		rows.Close()
		if strings.Contains(plan.String(), "TEMP B-TREE") || !strings.Contains(plan.String(), "USING INDEX tasks_") {
			t.Fatalf("next would sort instead of scanning an index:\n%s", plan.String())
		}
	}
}
