package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Regression tests for the socket findings of the hostile review (issue 12).

// Finding 5: hephd refuses a socket directory others can write, creates a
// missing one 0700, and removes only the socket it created.
func TestSocketDirAndOwnSocket(t *testing.T) {
	bin := filepath.Join(filepath.Dir(hephBinary(t)), "hephd")
	dir := shortTempDir(t)
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--db", filepath.Join(dir, "heph.db"), "--socket", filepath.Join(open, "s.sock"))
	cmd.Env = append(cleanEnv(), "HOME="+dir)
	out, err := cmd.CombinedOutput() // old code served here until killed
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "chmod go-w") {
		t.Fatalf("hephd on a 0777 socket dir: %v\n%s\nwant exit 1 and a clear error", err, out)
	}
	if _, err := os.Stat(filepath.Join(open, "s.sock")); err == nil {
		t.Fatal("hephd bound a socket in a world-writable directory")
	}

	// A missing directory is created 0700.
	newSock := filepath.Join(dir, "new", "sub", "s.sock")
	cmd = exec.Command(bin, "--db", filepath.Join(dir, "heph.db"), "--socket", newSock)
	cmd.Env = append(cleanEnv(), "HOME="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := pollUntil(15*time.Second, func() bool { _, err := os.Stat(newSock); return err == nil })
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	fi, err := os.Stat(filepath.Dir(newSock))
	if !started || err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir: started %v, %v, want mode 0700 (%v)", started, fi, err)
	}

	// Someone renames hephd's socket and binds their own: hephd's shutdown
	// must not remove theirs (nor anything but its own socket).
	td := startDaemon(t)
	if err := os.Rename(td.Socket, td.Socket+".moved"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", td.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	td.Stop()
	if _, err := os.Stat(td.Socket); err != nil {
		t.Fatalf("hephd's shutdown removed a socket it did not create: %v", err)
	}
}

// Finding 5: the client checks the server's uid before it sends anything.
func TestClientRefusesForeignServer(t *testing.T) {
	_, lookErr := exec.LookPath("setpriv")
	requireComponent(t, lookErr == nil, "setpriv (util-linux) runs the hostile server as nobody")
	py, pyErr := "/usr/bin/python3", error(nil) // not a per-user shim nobody cannot run
	if _, err := os.Stat(py); err != nil {
		py, pyErr = exec.LookPath("python3")
	}
	requireComponent(t, pyErr == nil, "python3 runs the hostile server")
	requireComponent(t, os.Getuid() == 0, "root, to run a server as another uid")
	dir, err := os.MkdirTemp("/tmp", "hpx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	sock, got := filepath.Join(dir, "s.sock"), filepath.Join(dir, "got")
	srv := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", py, "-c", `
import socket, sys, os
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(1)
c, _ = s.accept(); c.settimeout(3)
data = b""
try:
    while True:
        b = c.recv(65536)
        if not b: break
        data += b
except Exception:
    pass
open(sys.argv[2], "wb").write(data)
`, sock, got)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	if !pollUntil(5*time.Second, func() bool { _, err := os.Stat(sock); return err == nil }) {
		t.Fatal("hostile server did not start")
	}
	env := append(cleanEnv(), "HOME="+dir, "HEPH_SOCKET="+sock)
	_, stderr, code := runHeph(t, env, "", "task", "add", "secret task")
	if code == 0 || !strings.Contains(stderr, "uid 65534") {
		t.Fatalf("heph talked to a server of another uid: exit %d, stderr %q", code, stderr)
	}
	if !pollUntil(5*time.Second, func() bool { _, err := os.Stat(got); return err == nil }) {
		t.Fatal("hostile server did not finish")
	}
	if b, _ := os.ReadFile(got); len(b) != 0 {
		t.Fatalf("the client sent %d bytes to a foreign server: %q", len(b), b)
	}
}
