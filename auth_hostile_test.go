package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Regression tests for the token and lock file findings of the hostile
// review (issue 12), run through the real binary.

// Finding 9: auth status on a 0644 or unreadable token file says what to
// do instead of crashing.
func TestAuthStatusBadTokenFile(t *testing.T) {
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME=", "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	file := filepath.Join(dir, "token.json")
	os.WriteFile(file, []byte(`{"version":1,"hubs":{}}`), 0o644)
	os.Chmod(file, 0o644)
	_, stderr, code := runHeph(t, env, "", "auth", "status", "--token-file", file)
	if code != 1 || !strings.Contains(stderr, "chmod 600") || strings.Contains(stderr, "panic") {
		t.Fatalf("auth status on a 0644 token file: exit %d, stderr %q; want exit 1 and the chmod 600 advice", code, stderr)
	}
	os.Remove(file)
	os.Mkdir(file, 0o700) // unreadable as a file
	_, stderr, code = runHeph(t, env, "", "auth", "status", "--token-file", file)
	if code != 1 || strings.Contains(stderr, "panic") {
		t.Fatalf("auth status on a directory: exit %d, stderr %q", code, stderr)
	}
}

// Finding 10: heph refuses a token file that is a symbolic link, so
// logout can never claim to delete tokens that stay in the link's target.
func TestTokenFileSymlinkRefused(t *testing.T) {
	dir := shortTempDir(t)
	target, link := filepath.Join(dir, "real.json"), filepath.Join(dir, "token.json")
	content := `{"version":1,"hubs":{"https://hub.example":{"hub_url":"https://hub.example","access_token":"secret","expiry":"2099-01-01T00:00:00Z"}}}`
	os.WriteFile(target, []byte(content), 0o600)
	os.Symlink(target, link)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME=", "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	_, stderr, code := runHeph(t, env, "", "auth", "logout", "--token-file", link, "--hub-url", "https://hub.example")
	if code == 0 || !strings.Contains(stderr, "symbolic link") {
		t.Fatalf("logout through a token file link: exit %d, stderr %q; want a refusal naming the link", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a regular file")
	}
	store, err := openTokenStore(tokenStoreOptions{File: link}, osGetenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(context.Background(), "https://hub.example"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("load through a link: %v", err)
	}
}

// Finding 11: the store's lock file is never followed through a link nor
// truncated when it is not a regular file.
func TestStoreLockFileNoFollow(t *testing.T) {
	dir := shortTempDir(t)
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	db := filepath.Join(dir, "heph.db")
	os.Symlink(victim, db+".lock")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(hephBinary(t)), "hephd"), "--db", db, "--socket", filepath.Join(dir, "s.sock"))
	cmd.Env = append(cleanEnv(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "symbolic link") {
		t.Fatalf("hephd with a symlinked lock file: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the lock file's link target was overwritten: %q", b)
	}
}

// Finding 15: hephd refuses, with what to do, a store with corrupted pages
// or one it cannot write, instead of starting and failing later.
func TestStoreHealthCheckedAtStart(t *testing.T) {
	td := startDaemon(t)
	for i := 0; i < 200; i++ {
		td.MustCall("task.create", map[string]any{"title": strings.Repeat("fill the pages ", 20)}, nil)
	}
	td.Stop()
	b, err := os.ReadFile(td.DB)
	if err != nil || len(b) < 16<<10 {
		t.Fatalf("store too small to damage: %d %v", len(b), err)
	}
	for i := 8 << 10; i < len(b)-4096; i += 4096 { // every page after the first two
		copy(b[i+100:i+400], strings.Repeat("\xde\xad", 150))
	}
	os.WriteFile(td.DB, b, 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(hephBinary(t)), "hephd"), "--db", td.DB, "--socket", td.Socket)
	cmd.Env = td.Env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "restore it from a backup") {
		t.Fatalf("hephd on a damaged store: %v\n%s\nwant exit 1 and what to do", err, out)
	}
}

// Finding 13: login refuses an http:// hub off loopback unless told
// --insecure-http, and a spoke of one warns in its log.
func TestCleartextHubRefusedOrWarned(t *testing.T) {
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME=", "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	_, stderr, code := runHeph(t, env, "", "auth", "login", "--hub-url", "http://192.0.2.1:8417", "--token-file", filepath.Join(dir, "t.json"))
	if code == 0 || !strings.Contains(stderr, "--insecure-http") || !strings.Contains(stderr, "in clear") {
		t.Fatalf("login to a cleartext hub: exit %d, stderr %q; want a refusal naming --insecure-http", code, stderr)
	}
	td := startDaemon(t, "--hub-url", "http://192.0.2.1:8417", "--token-file", filepath.Join(dir, "t.json"), "--sync-interval", "1h")
	if !pollUntil(5*time.Second, func() bool {
		return strings.Contains(td.Stderr.String(), "WARNING: the hub http://192.0.2.1:8417 is plain http://")
	}) {
		t.Fatalf("a spoke of a cleartext hub did not warn:\n%s", td.Stderr.String())
	}
}
