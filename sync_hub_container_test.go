package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHubRunsFromEmptyRoot proves what the Dockerfile's scratch image
// needs: the static binary alone (plus a CA bundle) runs as a hub from an
// otherwise empty root and answers /healthz and /config, even though its
// OIDC issuer cannot be reached (discovery is retried lazily).
func TestHubRunsFromEmptyRoot(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	chroot, err2 := exec.LookPath("chroot")
	requireComponent(t, err == nil && err2 == nil && os.Geteuid() == 0, "needs root, unshare and chroot to run from an empty root")
	bin := hephBinary(t)
	root := t.TempDir()
	copyFile(t, bin, filepath.Join(root, "hephd"))
	os.Chmod(filepath.Join(root, "hephd"), 0o755)
	if ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		os.MkdirAll(filepath.Join(root, "etc/ssl/certs"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"), ca, 0o644)
	}
	os.MkdirAll(filepath.Join(root, "data"), 0o700)
	addr := freeLoopbackAddr(t)
	var out syncBuffer
	cmd := exec.Command(unshare, "--mount", "--pid", "--fork", "--kill-child", chroot, root,
		"/hephd", "--mode", "server", "--db", "/data/heph.db", "--socket", "/data/hephd.sock",
		"--http-addr", addr, "--oidc-issuer", "http://127.0.0.1:9/unreachable", "--oidc-audience", "urn:heph:hub")
	cmd.Env = []string{} // nothing from the host
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { cmd.Process.Kill(); <-exited }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/healthz: %s", resp.Status)
			}
			break
		}
		select {
		case <-exited:
			t.Fatalf("hub in an empty root exited: %s\n%s", cmd.ProcessState, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub in an empty root did not answer /healthz: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/config")
	if err != nil {
		t.Fatal(err)
	}
	var cfg hubConfig
	json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if cfg.Audience != "urn:heph:hub" || !strings.HasPrefix(cfg.Issuer, "http://127.0.0.1:9") {
		t.Fatalf("/config: %+v", cfg)
	}
	// With the issuer unreachable, authenticated endpoints refuse (401), and
	// the hub keeps running.
	req, _ := http.NewRequest("GET", "http://"+addr+"/sync/pull", nil)
	req.Header.Set("Authorization", "Bearer x.y.z")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("pull with the issuer down: %s", resp.Status)
	}
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
