// store_hostile_test.go tests the store's start-up refusals under hostile conditions: a store hephd cannot write.

package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Finding 15: hephd running as a user who cannot write its store (a
// read-only directory, or a read-only file) refuses to start with what to
// do, instead of starting and failing every write; the store is untouched.
func TestStoreUnwritableRefused(t *testing.T) {
	_, lookErr := exec.LookPath("setpriv")
	requireComponent(t, lookErr == nil, "setpriv (util-linux) runs hephd as nobody")
	requireComponent(t, os.Getuid() == 0, "root, to run hephd as another uid")
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	bin := nobodyBinary(t, "hephd")

	td := startDaemon(t)
	td.MustCall("task.create", map[string]any{"title": "keep me"}, nil)
	td.Stop()
	sockDir := shortTempDir(t) // nobody's own socket directory
	if err := os.Chown(sockDir, uid, gid); err != nil {
		t.Fatal(err)
	}
	// nobody can take the lock, so the refusal is about the store itself.
	if err := os.Chown(td.DB+".lock", uid, gid); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name string }{{"read-only directory"}, {"read-only file"}} {
		dirMode := os.FileMode(0o755)
		if tc.name == "read-only file" {
			dirMode = 0o777
		}
		for path, mode := range map[string]os.FileMode{td.Dir: dirMode, td.DB: 0o644} {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "--db", td.DB, "--socket", filepath.Join(sockDir, "s.sock"))
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + sockDir}
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Fatalf("%s: hephd as nobody: %v\n%s\nwant exit 1", tc.name, err, out)
		}
		msg := string(out)
		if !strings.Contains(msg, "cannot be written") || !strings.Contains(msg, "check the permissions") || strings.Contains(msg, "damaged") {
			t.Fatalf("%s: refusal does not say what is wrong and what to do:\n%s", tc.name, msg)
		}
		if strings.Contains(msg, "serving") {
			t.Fatalf("%s: hephd started serving an unwritable store:\n%s", tc.name, msg)
		}
		os.Remove(td.DB + "-wal")
		os.Remove(td.DB + "-shm")
	}
	// Writable again: everything is still there.
	os.Chmod(td.Dir, 0o700)
	os.Chmod(td.DB, 0o600)
	td2 := startDaemonIn(t, td.Dir)
	var tasks []*Node
	td2.MustCall("task.list", map[string]any{"state": "all"}, &tasks)
	if len(tasks) != 1 || tasks[0].Title != "keep me" {
		t.Fatalf("store changed by the refused starts: %+v", tasks)
	}
}
