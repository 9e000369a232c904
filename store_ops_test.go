package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// remoteSet builds a node.set op from another replica at the given HLC.
func remoteSet(t *testing.T, node string, h HLC, fields map[string]any) Op {
	t.Helper()
	data, err := json.Marshal(opSetData{Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	return Op{ID: newULID(base), HLC: h.String(), Node: node, Type: opNodeSet, Data: data}
}

// applyRemoteLost applies one remote op and returns the fields it lost.
func applyRemoteLost(t *testing.T, s *Store, op Op) []string {
	t.Helper()
	var lost []string
	err := s.Write(context.Background(), func(tx *Tx) error {
		var err error
		_, lost, err = tx.ApplyRemote(op)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return lost
}

// TestCreateClocksLWW: a create writes no clock rows, yet its HLC still
// orders its fields against later and earlier sets exactly as per-field
// clocks did: an older set loses (and says so), an equal HLC is a no-op, a
// newer set wins and becomes the field's clock; a field the create did not
// set takes any set.
func TestCreateClocksLWW(t *testing.T) {
	ts := openTestStore(t, base)
	n := ts.task(map[string]any{"title": "Original", "project": "Home"})
	var createHLC string
	if err := ts.s.db.QueryRow(`SELECT hlc FROM ops WHERE node=? AND type=?`, n.ID, opNodeCreate).Scan(&createHLC); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := ts.s.db.QueryRow(`SELECT count(*) FROM clocks WHERE node=?`, n.ID).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("a create wrote %d clock rows (%v)", rows, err)
	}
	ch, err := parseHLC(createHLC)
	if err != nil {
		t.Fatal(err)
	}
	older := HLC{Wall: ch.Wall - 1, Replica: "zzzzzz"}
	if lost := applyRemoteLost(t, ts.s, remoteSet(t, n.ID, older, map[string]any{"title": "Older", "recur": "daily"})); !reflect.DeepEqual(lost, []string{"title"}) {
		t.Fatalf("older set: lost %v, want [title]", lost)
	}
	got := ts.get(n.ID)
	if got.Title != "Original" {
		t.Fatalf("a set older than the create won: title %q", got.Title)
	}
	if got.Task.Recur != "daily" {
		t.Fatalf("a field the create did not set refused an older set: recur %q", got.Task.Recur)
	}
	// The same HLC as the create: neither wins nor is reported lost.
	same := ch
	if lost := applyRemoteLost(t, ts.s, remoteSet(t, n.ID, same, map[string]any{"project": "Tie"})); len(lost) != 0 {
		t.Fatalf("tie: lost %v", lost)
	}
	// The create set the task's project by id and the legacy project
	// string (the field these sets write) to "".
	if got := legacyProject(t, ts.s, n.ID); got != "" {
		t.Fatalf("a set with the create's HLC won: project %q", got)
	}
	newer := HLC{Wall: ch.Wall + 10, Replica: "zzzzzz"}
	if lost := applyRemoteLost(t, ts.s, remoteSet(t, n.ID, newer, map[string]any{"title": "Newer"})); len(lost) != 0 {
		t.Fatalf("newer set: lost %v", lost)
	}
	between := HLC{Wall: ch.Wall + 5, Replica: "zzzzzz"}
	if lost := applyRemoteLost(t, ts.s, remoteSet(t, n.ID, between, map[string]any{"title": "Between", "project": "Work"})); !reflect.DeepEqual(lost, []string{"title"}) {
		t.Fatalf("set between create and newer set: lost %v, want [title]", lost)
	}
	got = ts.get(n.ID)
	if got.Title != "Newer" || legacyProject(t, ts.s, n.ID) != "Work" {
		t.Fatalf("after sets: title %q project %q, want Newer, Work", got.Title, legacyProject(t, ts.s, n.ID))
	}
}

// TestCreateClocksConverge applies a create and then sets older than,
// equal to and newer than it in every order: every order must end in the
// same store. (Sets that arrive before their node's create are not
// covered: their values were never materialized, before create clocks
// too; sync ships a replica's ops in order, creates first.)
func TestCreateClocksConverge(t *testing.T) {
	src := openTestStore(t, base)
	n := src.task(map[string]any{"title": "Original", "project": "Home", "tags": []string{"a"}})
	create := opsOf(t, src.s, 0)
	var ch HLC
	for _, op := range create {
		if op.Node == n.ID && op.Type == opNodeCreate {
			h, err := parseHLC(op.HLC)
			if err != nil {
				t.Fatal(err)
			}
			ch = h
		}
	}
	sets := []Op{
		remoteSet(t, n.ID, HLC{Wall: ch.Wall - 1, Replica: "r1"}, map[string]any{"title": "Older", "attention": "red", "recur": "daily"}),
		remoteSet(t, n.ID, ch, map[string]any{"project": "Tie"}),
		remoteSet(t, n.ID, HLC{Wall: ch.Wall + 1, Replica: "r2"}, map[string]any{"project": "Newer", "tags": []string{"b"}}),
		remoteSet(t, n.ID, HLC{Wall: ch.Wall + 2, Replica: "r3"}, map[string]any{"title": "Newest", "project": "Newest"}),
	}
	var want string
	for _, order := range permutations(sets) {
		dst := openTestStore(t, base)
		applyRemote(t, dst.s, append(append([]Op{}, create...), order...))
		got := dst.snapshot()
		if want == "" {
			want = got
			continue
		}
		if got != want {
			t.Fatalf("order diverged:\n%s\n--\n%s", got, want)
		}
	}
	dst := openTestStore(t, base)
	applyRemote(t, dst.s, append(append([]Op{}, create...), sets...))
	got := dst.get(n.ID)
	if got.Title != "Newest" || legacyProject(t, dst.s, n.ID) != "Newest" || got.Task.Attention != "white" || got.Task.Recur != "daily" || fmt.Sprint(got.Task.Tags) != "[b]" {
		t.Fatalf("converged to title %q project %q attention %q recur %q tags %v", got.Title, legacyProject(t, dst.s, n.ID), got.Task.Attention, got.Task.Recur, got.Task.Tags)
	}
}

// permutations returns every order of ops.
func permutations(ops []Op) [][]Op {
	if len(ops) <= 1 {
		return [][]Op{append([]Op{}, ops...)}
	}
	var out [][]Op
	for i := range ops {
		rest := append(append([]Op{}, ops[:i]...), ops[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]Op{ops[i]}, p...))
		}
	}
	return out
}

// legacyProject reads a task's project string column (the field these
// tests set; the task's project itself is project_id).
func legacyProject(t *testing.T, s *Store, id string) string {
	t.Helper()
	var p string
	if err := s.db.QueryRow(`SELECT project FROM tasks WHERE node_id=?`, id).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}
