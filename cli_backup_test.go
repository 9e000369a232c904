// cli_backup_test.go tests heph backup during a write burst, heph restore, and the backup path rules.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupDuringWriteBurstRestores takes a backup while another client
// writes 1,000 tasks, restores it, and checks the restored store: it passes
// integrity_check and holds every write acknowledged before the backup
// began.
func TestBackupDuringWriteBurstRestores(t *testing.T) {
	d := startDaemon(t)
	const total = 1000
	var acked atomic.Int64
	burstErr := make(chan error, 1)
	go func() {
		c, err := dialDaemon(d.Socket)
		if err != nil {
			burstErr <- err
			return
		}
		defer c.Close()
		for i := 0; i < total; i++ {
			if err := c.Call(context.Background(), "task.create", map[string]any{"title": fmt.Sprintf("burst %04d", i)}, nil); err != nil {
				burstErr <- fmt.Errorf("write %d: %w", i, err)
				return
			}
			acked.Store(int64(i + 1))
		}
		burstErr <- nil
	}()
	for acked.Load() < 200 {
		time.Sleep(2 * time.Millisecond)
	}
	file := filepath.Join(d.Dir, "backups", "heph backup.db")
	if err := os.Mkdir(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	before := acked.Load()
	out := d.MustHeph("backup", file)
	if !strings.Contains(out, "backed up the store to "+file) {
		t.Fatalf("backup output: %q", out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup's mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if err := <-burstErr; err != nil {
		t.Fatal(err)
	}
	if before >= total {
		t.Fatalf("the burst ended before the backup began; nothing was tested")
	}

	// Restoring under a running hephd is refused, and says how.
	_, errOut, code := d.Heph("restore", file)
	if code != 1 || !strings.Contains(errOut, "heph daemon stop") || !strings.Contains(errOut, "is running") {
		t.Fatalf("restore under a running hephd: exit %d, stderr %q", code, errOut)
	}
	d.Stop()
	out = d.MustHeph("restore", file)
	if !strings.Contains(out, "integrity ok") || !strings.Contains(out, "kept at "+d.DB+".pre-restore-") {
		t.Fatalf("restore output: %q", out)
	}
	info, err := checkStoreFile(context.Background(), d.DB, "integrity_check")
	if err != nil {
		t.Fatalf("restored store: %v", err)
	}
	if info.Tasks < int(before) || info.Tasks > total {
		t.Fatalf("restored store holds %d tasks; want between %d (acknowledged before the backup) and %d", info.Tasks, before, total)
	}
	asides, _ := filepath.Glob(d.DB + ".pre-restore-*")
	if len(asides) != 1 {
		t.Fatalf("want the old store kept aside once, got %v", asides)
	}
	if old, err := checkStoreFile(context.Background(), asides[0], "integrity_check"); err != nil || old.Tasks != total {
		t.Fatalf("the store kept aside: %+v, %v; want all %d writes", old, err, total)
	}

	// The restored store serves every write acknowledged before the backup.
	d2 := startDaemonIn(t, d.Dir)
	var nodes []*Node
	d2.MustCall("task.list", map[string]any{"state": "all"}, &nodes)
	have := map[string]bool{}
	for _, n := range nodes {
		have[n.Title] = true
	}
	for i := 0; i < int(before); i++ {
		if title := fmt.Sprintf("burst %04d", i); !have[title] {
			t.Fatalf("restored store lacks %q, acknowledged before the backup began", title)
		}
	}
}

// TestBackupPathRules checks what store.backup refuses to write.
func TestBackupPathRules(t *testing.T) {
	d := startDaemon(t)
	existing := filepath.Join(d.Dir, "exists.db")
	os.WriteFile(existing, []byte("keep me"), 0o600)
	for _, tc := range []struct{ path, want string }{
		{"relative.db", "not absolute"},
		{existing, "already exists"},
		{filepath.Join(d.Dir, "no-such-dir", "b.db"), "no such file"},
		{"", "absolute path"},
	} {
		err := d.Call("store.backup", map[string]any{"path": tc.path}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("store.backup %q: %v; want an error containing %q", tc.path, err, tc.want)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Fatalf("an existing file was overwritten: %q", b)
	}
	// A directory that belongs to another uid is refused.
	if err := checkBackupTarget(filepath.Join(d.Dir, "x.db"), os.Getuid()+1); err == nil || !strings.Contains(err.Error(), "belongs to uid") {
		t.Fatalf("a directory of another uid: %v", err)
	}
	// The CLI makes a relative path absolute against its own directory.
	env := d.Env
	cmd := runHephInDir(t, env, d.Dir, "backup", "rel.db")
	if cmd != 0 {
		t.Fatalf("heph backup rel.db in %s: exit %d", d.Dir, cmd)
	}
	if _, err := checkStoreFile(context.Background(), filepath.Join(d.Dir, "rel.db"), "integrity_check"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(d.Dir, ".*partial*")); len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// TestRestoreRefusesBadFiles: a file that is not a heph store, or is a
// corrupted one, is refused and the store is left as it was.
func TestRestoreRefusesBadFiles(t *testing.T) {
	d := startDaemon(t)
	d.MustHeph("task", "precious")
	good := filepath.Join(d.Dir, "good.db")
	d.MustHeph("backup", good)
	d.Stop()
	junk := filepath.Join(d.Dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not sqlite ", 1000)), 0o600)
	corrupt := filepath.Join(d.Dir, "corrupt.db")
	b, _ := os.ReadFile(good)
	corruptPages(b)
	os.WriteFile(corrupt, b, 0o600)
	for _, f := range []string{junk, corrupt, filepath.Join(d.Dir, "missing.db")} {
		_, errOut, code := d.Heph("restore", f)
		if code != 1 || !strings.Contains(errOut, "nothing changed") && !strings.Contains(errOut, "no such file") {
			t.Errorf("restore %s: exit %d, %q", f, code, errOut)
		}
	}
	if asides, _ := filepath.Glob(d.DB + ".pre-restore-*"); len(asides) != 0 {
		t.Fatalf("a refused restore moved the store aside: %v", asides)
	}
	d2 := startDaemonIn(t, d.Dir)
	if out := d2.MustHeph("list"); !strings.Contains(out, "precious") {
		t.Fatalf("store changed by a refused restore: %q", out)
	}
}

// corruptPages overwrites the middle of every page after the first of a
// SQLite file (page size from its header), so integrity_check fails while
// the header still reads as SQLite.
func corruptPages(b []byte) {
	size := int(b[16])<<8 | int(b[17])
	if size == 1 {
		size = 65536
	}
	for p := size; p+size <= len(b); p += size {
		for i := p + 8; i < p+size-8; i++ {
			b[i] = 0xA5
		}
	}
}

// runHephInDir runs heph in dir and returns its exit status.
func runHephInDir(t *testing.T, env []string, dir string, args ...string) int {
	t.Helper()
	cmd := exec.Command(hephBinary(t), args...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("heph %v: %s", args, out)
		return cmd.ProcessState.ExitCode()
	}
	return 0
}
