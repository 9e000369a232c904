package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// releaseBeforeProjects is the last commit of heph before projects: the
// release whose stores the migration converts and whose spokes a new hub
// must refuse.
const releaseBeforeProjects = "2fc0fe3"

var (
	oldReleaseOnce sync.Once
	oldReleaseBin  string
	oldReleaseErr  error
)

// oldReleaseBinary builds heph as of releaseBeforeProjects (from this
// repository's history) once per test process.
func oldReleaseBinary(t *testing.T) string {
	t.Helper()
	_, gitErr := exec.LookPath("git")
	requireComponent(t, gitErr == nil, "git (to build the release before projects)")
	has := exec.Command("git", "cat-file", "-e", releaseBeforeProjects+"^{commit}").Run() == nil
	requireComponent(t, has, "commit %s in this repository's history (a full clone)", releaseBeforeProjects)
	oldReleaseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "heph-old-release-")
		if err != nil {
			oldReleaseErr = err
			return
		}
		src := filepath.Join(dir, "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			oldReleaseErr = err
			return
		}
		if out, err := exec.Command("sh", "-c", "git archive "+releaseBeforeProjects+" | tar -x -C "+src).CombinedOutput(); err != nil {
			oldReleaseErr = fmt.Errorf("git archive: %v\n%s", err, out)
			return
		}
		bin := filepath.Join(dir, "heph")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			oldReleaseErr = fmt.Errorf("build %s: %v\n%s", releaseBeforeProjects, err, out)
			return
		}
		oldReleaseErr = os.Symlink("heph", filepath.Join(dir, "hephd"))
		oldReleaseBin = bin
	})
	if oldReleaseErr != nil {
		t.Fatal(oldReleaseErr)
	}
	return oldReleaseBin
}

// projectPaths is a daemon's live project paths, sorted.
func projectPaths(t *testing.T, d *testDaemon) []string {
	t.Helper()
	var list []projectInfo
	d.MustCall("project.list", map[string]any{"archived": true}, &list)
	var out []string
	for _, p := range list {
		out = append(out, p.Path)
	}
	sort.Strings(out)
	return out
}

// taskProjects maps each task title (all states) to its project path and
// id.
func taskProjects(t *testing.T, d *testDaemon) map[string][2]string {
	t.Helper()
	var nodes []*Node
	d.MustCall("task.list", map[string]any{"state": "all"}, &nodes)
	out := map[string][2]string{}
	for _, n := range nodes {
		out[n.Title] = [2]string{n.Task.Project, n.Task.ProjectID}
	}
	return out
}

// TestProjectsAcrossReleasesAndSpokes: a store made by the release before
// projects, with nested project strings, is migrated by the new hephd
// (nothing lost) and synced through a real hub; a spoke still on the old
// release is refused cleanly (nothing exchanged either way); two new
// spokes that create the same project path and the same saved view
// offline end with one of each.
func TestProjectsAcrossReleasesAndSpokes(t *testing.T) {
	old := oldReleaseBinary(t)
	p := startOIDCProvider(t)
	hub := startHub(t, "", p)
	file, _ := login(t, p, hub.URL, "alice")
	spokeArgs := []string{"--hub-url", hub.URL, "--token-file", file, "--sync-interval", "1h"}

	// The old release makes a store with nested project strings.
	dirA := shortTempDir(t)
	oldA := startDaemonBin(t, old, dirA)
	want := map[string]string{
		"fix gutter": "Home/Repairs", "patch roof": "Home/Repairs/Roof", "call roofer": "Home/Repairs/Roof",
		"mow": "Home", "report": "Work/Reports", "loose": "",
	}
	for title, project := range want {
		var n Node
		oldA.MustCall("task.create", map[string]any{"title": title, "project": project}, &n)
		if title == "call roofer" {
			oldA.MustCall("task.done", map[string]any{"id": n.ID}, nil)
		}
	}
	oldA.Stop()

	// The new hephd migrates it on open: every string is now a project,
	// every task keeps its path and points at the project by id.
	a := startDaemonIn(t, dirA, spokeArgs...)
	if got := strings.Join(projectPaths(t, a), ","); got != "Home,Home/Repairs,Home/Repairs/Roof,Work,Work/Reports" {
		t.Fatalf("projects after migration: %s", got)
	}
	got := taskProjects(t, a)
	if len(got) != len(want) {
		t.Fatalf("tasks after migration: %v", got)
	}
	for title, project := range want {
		if got[title][0] != project || (project != "") != (got[title][1] != "") {
			t.Errorf("task %q: project %q id %q, want %q", title, got[title][0], got[title][1], project)
		}
	}
	if out := a.MustHeph("list", "project:Repairs", "state:all"); strings.Count(out, "\n") != 3 {
		t.Errorf("list project:Repairs (with Roof):\n%s", out)
	}
	syncNow(t, a)

	// A spoke still on the old release is refused, and nothing moves.
	b := startDaemonBin(t, old, shortTempDir(t), spokeArgs...)
	b.MustCall("task.create", map[string]any{"title": "from the old spoke", "project": "Old/Proj"}, nil)
	opsBefore := hubOps(t, hub)
	err := b.Call("sync.now", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "sync format mismatch: the hub speaks sync format 2, the spoke 1: upgrade heph on the spoke") {
		t.Fatalf("old spoke's sync: want a format refusal, got %v", err)
	}
	if n := hubOps(t, hub); n != opsBefore {
		t.Fatalf("hub ops %d → %d after a refused old spoke", opsBefore, n)
	}
	var bTasks []*Node
	b.MustCall("task.list", map[string]any{"state": "all"}, &bTasks)
	if len(bTasks) != 1 {
		t.Fatalf("old spoke pulled %d tasks", len(bTasks))
	}

	// New spokes C and D get the projects, then create the same path and
	// the same view offline.
	c := startSpoke(t, hub.URL, file)
	d := startSpoke(t, hub.URL, file)
	syncNow(t, c)
	syncNow(t, d)
	if got := strings.Join(projectPaths(t, c), ","); got != strings.Join(projectPaths(t, a), ",") {
		t.Fatalf("spoke C projects: %s", got)
	}
	for title, pp := range taskProjects(t, c) {
		if pp != got[title] {
			t.Errorf("spoke C task %q: %v, want %v", title, pp, got[title])
		}
	}
	c.MustHeph("project", "add", "Garden/Shed")
	c.MustHeph("task", "oil hinges", "--project", "garden/shed")
	c.MustHeph("view", "save", "errands", "project:Garden")
	d.MustHeph("project", "add", "garden", "--parent", "none")
	d.MustHeph("project", "add", "shed", "--parent", "garden")
	d.MustHeph("task", "sweep", "--project", "Garden/Shed")
	d.MustHeph("view", "save", "Errands", "project:Garden", "+x", "--sort", "title")
	syncNow(t, c)
	syncNow(t, d)
	syncNow(t, c)
	for _, s := range []*testDaemon{c, d} {
		var shed []string
		for _, path := range projectPaths(t, s) {
			if strings.EqualFold(path, "Garden/Shed") {
				shed = append(shed, path)
			}
		}
		if len(shed) != 1 {
			t.Errorf("projects after sync: %v", projectPaths(t, s))
		}
		tp := taskProjects(t, s)
		if tp["oil hinges"][1] == "" || tp["oil hinges"][1] != tp["sweep"][1] {
			t.Errorf("the two tasks reference different projects: %v / %v", tp["oil hinges"], tp["sweep"])
		}
		var views []viewInfo
		s.MustCall("view.list", nil, &views)
		saved := 0
		for _, v := range views {
			if !v.Builtin {
				saved++
			}
		}
		if saved != 1 {
			t.Errorf("saved views after sync: %+v", views)
		}
	}
	if strings.Join(projectPaths(t, c), ",") != strings.Join(projectPaths(t, d), ",") {
		t.Errorf("spokes disagree: %v vs %v", projectPaths(t, c), projectPaths(t, d))
	}
}
