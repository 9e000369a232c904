package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// countOps counts the ops recorded on node id.
func countOps(t *testing.T, ts *testStore, id string) int {
	t.Helper()
	var n int
	if err := ts.s.db.QueryRow(`SELECT count(*) FROM ops WHERE node=?`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProjectsLifecycle: add (with parents, by path), lookup by name,
// path, handle and id, rename and move without touching tasks, archive,
// counts, rm refused while tasks reference it, --move-to, --clear, and
// one undo step per change.
func TestProjectsLifecycle(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	ts := openTestStore(t, now)
	var garden projectDetail
	ts.mustCall("project.add", map[string]any{"name": "Home/Garden"}, &garden)
	if garden.Path != "Home/Garden" || garden.Title != "Garden" || garden.Parent == "" || garden.ID != projectIDFor("Home/Garden", 0) {
		t.Fatalf("project.add Home/Garden: %+v", garden.projectRef)
	}
	var shed projectDetail
	ts.mustCall("project.add", map[string]any{"name": "Shed", "parent": "home/garden"}, &shed)
	if shed.Path != "Home/Garden/Shed" || shed.Parent != garden.ID {
		t.Fatalf("project.add --parent: %+v", shed.projectRef)
	}
	if err := ts.call("project.add", map[string]any{"name": "home/GARDEN"}, nil); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("duplicate path: %v", err)
	}
	var task Node
	ts.mustCall("task.create", map[string]any{"title": "paint shed", "project": "Shed", "late": "yesterday"}, &task)
	if task.Task.ProjectID != shed.ID || task.Task.Project != "Home/Garden/Shed" {
		t.Fatalf("task project: %+v", task.Task)
	}
	for _, ref := range []string{"Shed", "home/garden/shed", shed.Handle, shed.ID} {
		var got projectDetail
		ts.mustCall("project.get", map[string]any{"id": ref}, &got)
		if got.ID != shed.ID {
			t.Errorf("project.get %q: %s", ref, got.ID)
		}
	}
	var home projectDetail
	ts.mustCall("project.get", map[string]any{"id": "Home"}, &home)
	if home.Outstanding != 1 || home.Late != 1 || len(home.Children) != 1 || home.Children[0].ID != garden.ID {
		t.Fatalf("Home counts and children: %+v", home)
	}

	// Rename and move: the task's path follows, and no op touches it.
	taskOps := countOps(t, ts, task.ID)
	ts.mustCall("project.rename", map[string]any{"id": "Home", "name": "House"}, nil)
	ts.mustCall("project.move", map[string]any{"id": "Shed", "parent": "none"}, nil)
	ts.mustCall("project.move", map[string]any{"id": "Shed", "parent": "House"}, nil)
	var after Node
	ts.mustCall("node.get", map[string]any{"id": task.ID}, &after)
	if after.Task.Project != "House/Shed" || after.Task.ProjectID != shed.ID || countOps(t, ts, task.ID) != taskOps {
		t.Fatalf("after rename+move: %+v (ops %d → %d)", after.Task, taskOps, countOps(t, ts, task.ID))
	}
	for _, bad := range []struct {
		method string
		params map[string]any
		want   string
	}{
		{"project.move", map[string]any{"id": "House", "parent": "Garden"}, "one of its sub-projects"},
		{"project.move", map[string]any{"id": "House", "parent": "House"}, "one of its sub-projects"},
		{"project.rename", map[string]any{"id": "Garden", "name": "Shed"}, "exists already"},
		{"project.rename", map[string]any{"id": "Garden", "name": "a/b"}, `no "/"`},
		{"project.add", map[string]any{"name": "none"}, "no project"},
		{"project.get", map[string]any{"id": "Nowhere"}, `no project "Nowhere"`},
		{"project.rm", map[string]any{"id": "House"}, "sub-projects"},
		{"project.rm", map[string]any{"id": "Shed"}, "1 tasks are in House/Shed"},
		{"project.rm", map[string]any{"id": "Shed", "move_to": "Shed"}, "to itself"},
		{"project.rm", map[string]any{"id": "Shed", "move_to": "Garden", "clear": true}, "not both"},
		{"project.archive", map[string]any{"id": "Shed"}, "archived"},
		{"node.rm", map[string]any{"id": shed.ID}, "project rm"},
	} {
		if err := ts.call(bad.method, bad.params, nil); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %v: want %q, got %v", bad.method, bad.params, bad.want, err)
		}
	}

	// Archive hides it from the list but keeps it resolvable.
	ts.mustCall("project.archive", map[string]any{"id": "Garden", "archived": true}, nil)
	var list []projectInfo
	ts.mustCall("project.list", map[string]any{}, &list)
	if len(list) != 2 || list[0].Path != "House" || list[1].Path != "House/Shed" {
		t.Fatalf("list without archived: %+v", list)
	}
	ts.mustCall("project.list", map[string]any{"archived": true}, &list)
	if len(list) != 3 || !list[1].Archived {
		t.Fatalf("list with archived: %+v", list)
	}

	// rm --move-to moves the task in the same undo step.
	var rm projectDetail
	ts.mustCall("project.rm", map[string]any{"id": "Shed", "move_to": "Garden"}, &rm)
	ts.mustCall("node.get", map[string]any{"id": task.ID}, &after)
	if rm.Node.Deleted == nil || after.Task.ProjectID != garden.ID || after.Task.Project != "House/Garden" {
		t.Fatalf("rm --move-to: %+v / %+v", rm.Node, after.Task)
	}
	ts.mustCall("store.undo", map[string]any{}, nil)
	ts.mustCall("node.get", map[string]any{"id": task.ID}, &after)
	var back projectDetail
	ts.mustCall("project.get", map[string]any{"id": shed.ID}, &back)
	if after.Task.ProjectID != shed.ID || back.Node.Deleted != nil {
		t.Fatalf("undo of rm: %+v, project deleted %v", after.Task, back.Node.Deleted)
	}
	// rm --clear leaves the task without a project.
	ts.mustCall("project.rm", map[string]any{"id": "Shed", "clear": true}, nil)
	after = Node{}
	ts.mustCall("node.get", map[string]any{"id": task.ID}, &after)
	if after.Task.ProjectID != "" || after.Task.Project != "" {
		t.Fatalf("rm --clear: %+v", after.Task)
	}
	// A new project at a path a removed one had gets a fresh id.
	var again projectDetail
	ts.mustCall("project.add", map[string]any{"name": "Shed", "parent": "House"}, &again)
	if again.ID == shed.ID || again.ID != projectIDFor("House/Shed", 0) {
		t.Fatalf("re-added project id %s (old %s)", again.ID, shed.ID)
	}
	// Notes are the body; wiki links from them resolve.
	ts.mustCall("node.update", map[string]any{"id": again.ID, "body": "See [[paint shed]]"}, nil)
	var links struct {
		Out []struct {
			Node *Node `json:"node"`
		} `json:"outgoing"`
	}
	ts.mustCall("link.list", map[string]any{"id": again.ID}, &links)
	if len(links.Out) != 1 || links.Out[0].Node.ID != task.ID {
		t.Fatalf("project notes wiki link: %+v", links)
	}
}

// TestProjectPathsCycle: two replicas that move projects under each other
// offline make a cycle; every replica cuts it at the same place, so paths
// stay finite and agree.
func TestProjectPathsCycle(t *testing.T) {
	parents := map[string]string{"A": "B", "B": "C", "C": "A", "D": "C", "E": "missing"}
	want := map[string]string{"A": "A", "B": "B,C,A", "C": "C,A", "D": "D,C,A", "E": "E"}
	for id, w := range want {
		if got := strings.Join(projectChain(id, parents), ","); got != w {
			t.Errorf("chain of %s: %s, want %s", id, got, w)
		}
	}
}

// TestAdoptLegacyProjects: project strings written before projects (raw
// ops, as an old release or an old op from sync leaves them) become
// project nodes with parents; tasks point at them; nothing is lost; undo
// does not revert it; a second run finds nothing to do.
func TestAdoptLegacyProjects(t *testing.T) {
	ts := openTestStore(t, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	ids := map[string]string{}
	err := ts.s.Write(ctx, func(tx *Tx) error {
		for _, p := range []string{"Home/Repairs", "Home/Repairs/Roof", "Home", "Work", "home/garden", ""} {
			id, err := tx.Create("task", map[string]any{"title": "t " + p, "state": "outstanding", "attention": "white", "project": p, "tags": []string{}})
			if err != nil {
				return err
			}
			ids[p] = id
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := ts.s.adoptLegacyProjects(ctx)
	if err != nil || n != 5 {
		t.Fatalf("adopted %d, %v", n, err)
	}
	for p, id := range ids {
		var node Node
		ts.mustCall("node.get", map[string]any{"id": id}, &node)
		want := p
		if p == "home/garden" {
			want = "Home/garden" // the existing Home, case-insensitively
		}
		if node.Task.Project != want {
			t.Errorf("task of %q: project %q (%s)", p, node.Task.Project, node.Task.ProjectID)
		}
	}
	var list []projectInfo
	ts.mustCall("project.list", map[string]any{}, &list)
	var paths []string
	for _, p := range list {
		paths = append(paths, p.Path)
	}
	if strings.Join(paths, ",") != "Home,Home/garden,Home/Repairs,Home/Repairs/Roof,Work" {
		t.Fatalf("projects: %v", paths)
	}
	if n, err := ts.s.adoptLegacyProjects(ctx); err != nil || n != 0 {
		t.Fatalf("second adoption: %d %v", n, err)
	}
	if err := ts.call("store.undo", map[string]any{}, nil); err != nil && !strings.Contains(err.Error(), "nothing to undo") {
		t.Fatal(err)
	}
	var node Node
	ts.mustCall("node.get", map[string]any{"id": ids["Work"]}, &node)
	if node.Task.Project != "Work" || node.Task.ProjectID == "" {
		t.Fatalf("undo reverted the adoption: %+v", node.Task)
	}
}

// TestTaskBulk: one write for many tasks; one undo step reverts them all;
// a failing id changes nothing.
func TestTaskBulk(t *testing.T) {
	ts := filterFixture(t)
	var errands []*Node
	ts.mustCall("task.list", map[string]any{"filter": "+errand"}, &errands)
	ids := []string{errands[0].ID, errands[1].ID}
	if err := ts.call("task.bulk", map[string]any{"action": "done", "ids": append(ids, "zzzzzz")}, nil); err == nil || !strings.Contains(err.Error(), "zzzzzz: no task") {
		t.Fatalf("bulk with a bad id: %v", err)
	}
	var left []*Node
	ts.mustCall("task.list", map[string]any{"filter": "+errand"}, &left)
	if len(left) != 2 {
		t.Fatalf("a failed bulk changed something: %d left", len(left))
	}
	var res bulkResult
	ts.mustCall("task.bulk", map[string]any{"action": "edit", "ids": ids, "edit": map[string]any{"attention": "red", "tags_add": []string{"batch"}}}, &res)
	if res.Count != 2 || res.Nodes[0].Task.Attention != "red" {
		t.Fatalf("bulk edit: %+v", res)
	}
	ts.mustCall("task.bulk", map[string]any{"action": "done", "ids": ids}, &res)
	ts.mustCall("task.list", map[string]any{"filter": "+errand"}, &left)
	if len(left) != 0 {
		t.Fatalf("bulk done left %d", len(left))
	}
	ts.mustCall("store.undo", map[string]any{}, nil)
	ts.mustCall("task.list", map[string]any{"filter": "+errand attention:red +batch"}, &left)
	if len(left) != 2 {
		t.Fatalf("one undo did not bring back both: %d", len(left))
	}
	ts.mustCall("task.bulk", map[string]any{"action": "rm", "ids": ids}, &res)
	ts.mustCall("task.list", map[string]any{"filter": "+errand state:all"}, &left)
	if len(left) != 0 {
		t.Fatalf("bulk rm left %d", len(left))
	}
	for _, bad := range []map[string]any{
		{"action": "explode", "ids": ids},
		{"action": "done"},
		{"action": "done", "ids": ids, "edit": map[string]any{"title": "x"}},
		{"action": "edit", "ids": ids, "edit": map[string]any{"id": "x", "title": "y"}},
	} {
		if err := ts.call("task.bulk", bad, nil); err == nil {
			t.Errorf("task.bulk %v: no error", bad)
		}
	}
}
