package main

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSyncRandomizedConvergence runs replicas that make random mutations,
// go offline and come back, and sync with a hub store in random order; at
// the end, after everyone syncs, every replica must hold the same state
// and every op. Fixed seeds run always, plus one random seed that is
// printed on failure.
func TestSyncRandomizedConvergence(t *testing.T) {
	seeds := []int64{1, 2, 3, 42, 2026}
	random := time.Now().UnixNano()
	seeds = append(seeds, random)
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			if !runConvergence(t, seed, 4, 300) {
				t.Fatalf("seed %d did not converge (rerun with this seed)", seed)
			}
		})
	}
}

// simReplica is a replica in the store-level simulation: it syncs with the
// hub store by calling the same functions the HTTP handlers call.
type simReplica struct {
	s       *Store
	pulled  int64
	pushed  int64
	offline bool
}

func (r *simReplica) syncWith(t *testing.T, hub *Store, rng *rand.Rand) {
	ctx := context.Background()
	for {
		page, cursor, more, err := hub.opsAfter(ctx, r.pulled, 1+rng.Intn(20), r.s.replica)
		if err != nil {
			t.Fatal(err)
		}
		ops := make([]Op, len(page))
		for i, o := range page {
			ops[i] = o.Op
		}
		if _, err := r.s.mergeRemote(ctx, ops, true, r.pushed); err != nil {
			t.Fatal(err)
		}
		r.pulled = cursor
		if !more {
			break
		}
	}
	for {
		batch, err := r.s.localOpsAfter(ctx, r.pushed, 1+rng.Intn(20))
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return
		}
		ops := make([]Op, len(batch))
		for i, o := range batch {
			ops[i] = o.Op
		}
		if _, err := hub.mergeRemote(ctx, ops, false, 0); err != nil {
			t.Fatal(err)
		}
		r.pushed = batch[len(batch)-1].Seq
	}
}

func runConvergence(t *testing.T, seed int64, nReplicas, steps int) bool {
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	ctx := context.Background()
	hub := openSyncStore(t, filepath.Join(dir, "hub.db"))
	reps := make([]*simReplica, nReplicas)
	for i := range reps {
		reps[i] = &simReplica{s: openSyncStore(t, filepath.Join(dir, fmt.Sprintf("r%d.db", i)))}
	}
	titles := []string{"alpha", "beta", "gamma", "delta"}
	states := []string{"outstanding", "done", "dropped"}
	for step := 0; step < steps; step++ {
		r := reps[rng.Intn(nReplicas)]
		switch k := rng.Intn(10); {
		case k == 0:
			r.offline = !r.offline
		case k <= 2 && !r.offline:
			r.syncWith(t, hub, rng)
		default:
			ids := liveIDs(t, r.s)
			err := r.s.Write(ctx, func(tx *Tx) error {
				if len(ids) == 0 || rng.Intn(5) == 0 {
					title := titles[rng.Intn(len(titles))]
					switch rng.Intn(3) {
					case 0:
						_, err := tx.Create("doc", map[string]any{"title": title})
						return err
					case 1:
						do := time.UnixMilli(1700000000000)
						_, err := createTask(tx, taskInput{Title: title, Do: &do, Recur: "daily"})
						return err
					}
					_, err := createTask(tx, taskInput{Title: title})
					return err
				}
				id := ids[rng.Intn(len(ids))]
				if n, err := getNode(ctx, tx.SQL(), id); err == nil && n.Task != nil && n.Deleted == nil && rng.Intn(3) == 0 {
					if rng.Intn(2) == 0 && n.Task.Log != "" {
						if _, err := getNode(ctx, tx.SQL(), n.Task.Log); err == nil {
							return appendLog(tx, n.Task.Log, fmt.Sprintf("note %d", step))
						}
					}
					if n.Task.State == "outstanding" {
						return completeTask(tx, n)
					}
				}
				switch rng.Intn(6) {
				case 0:
					return tx.Set(id, map[string]any{"title": fmt.Sprintf("%s-%d", titles[rng.Intn(len(titles))], step)})
				case 1:
					if owner, err := logOwner(tx, id); err != nil || owner != "" {
						return err // a task's log is append-only (node.update refuses it)
					}
					return tx.Set(id, map[string]any{"body": fmt.Sprintf("body %d", rng.Intn(5))})
				case 2:
					if rng.Intn(4) == 0 {
						return tx.Set(id, map[string]any{"deleted": float64(1700000000000 + int64(step))})
					}
					return tx.Set(id, map[string]any{"deleted": nil})
				case 3:
					dst := ids[rng.Intn(len(ids))]
					return tx.Link(id, dst, "explicit", "", rng.Intn(3) != 0)
				default:
					if isTask(t, tx, id) {
						return tx.Set(id, map[string]any{"state": states[rng.Intn(len(states))],
							"tags": []any{titles[rng.Intn(len(titles))]}})
					}
					return tx.Set(id, map[string]any{"title": "doc " + fmt.Sprint(step)})
				}
			})
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
		}
	}
	// Everyone comes back and syncs twice round.
	for round := 0; round < 2; round++ {
		for _, r := range reps {
			r.offline = false
			r.syncWith(t, hub, rng)
		}
	}
	stores := []*Store{hub}
	for _, r := range reps {
		stores = append(stores, r.s)
	}
	want, wantOps := storeDigest(t, hub)
	ok := true
	for i, s := range stores[1:] {
		got, gotOps := storeDigest(t, s)
		if got != want || fmt.Sprint(gotOps) != fmt.Sprint(wantOps) {
			t.Errorf("seed %d: replica %d differs from the hub (%d vs %d ops)\n%s", seed, i, len(gotOps), len(wantOps), lineDiff(want, got))
			ok = false
		}
	}
	return ok
}

func liveIDs(t *testing.T, s *Store) []string {
	rows, err := s.db.Query(`SELECT id FROM nodes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

func isTask(t *testing.T, tx *Tx, id string) bool {
	var kind string
	if err := tx.SQL().QueryRow(`SELECT kind FROM nodes WHERE id=?`, id).Scan(&kind); err != nil {
		t.Fatal(err)
	}
	return kind == "task"
}

// lineDiff lists the lines only in a (-) or only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out strings.Builder
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}
