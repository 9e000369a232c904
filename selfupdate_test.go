package main

import (
	"bytes"
	"context"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompareSemver(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"v1.0.0", "v1.0.0", 0},
		{"v1.0.0", "v1.1.0", -1},
		{"v1.10.0", "v1.9.0", 1},
		{"v2.0.0", "v1.99.99", 1},
		{"v1.0.1", "v1.0.0", 1},
		{"v1.0.0-rc.1", "v1.0.0", -1},
		{"v1.0.0", "v1.0.0-rc.1", 1},
		{"v1.0.0-alpha", "v1.0.0-alpha.1", -1},
		{"v1.0.0-alpha.1", "v1.0.0-alpha.beta", -1},
		{"v1.0.0-alpha.beta", "v1.0.0-beta", -1},
		{"v1.0.0-beta.2", "v1.0.0-beta.11", -1},
		{"v1.0.0-rc.1", "v1.0.0-beta.11", 1},
		{"v1.2.3+build5", "v1.2.3", 0},
		{"v1.2.0", "v1.1.9-0.20250101000000-abcdef123456", 1},
	}
	for _, c := range cases {
		a, ok1 := parseSemver(c.a)
		b, ok2 := parseSemver(c.b)
		if !ok1 || !ok2 {
			t.Fatalf("parse %s / %s failed", c.a, c.b)
		}
		if got := compareSemver(a, b); got != c.want {
			t.Errorf("compare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := compareSemver(b, a); got != -c.want {
			t.Errorf("compare(%s, %s) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
	for _, bad := range []string{"", "(devel)", "1.0.0", "v1.0", "v1.0.0.0", "v01.0.0", "v1.0.0-", "v1.0.0-a..b", "vx.y.z"} {
		if _, ok := parseSemver(bad); ok {
			t.Errorf("parseSemver(%q) accepted a non-version", bad)
		}
	}
}

func TestModuleBinaryName(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/hephaestus/heph":    "heph",
		"github.com/hephaestus/heph/v2": "heph",
		"example.com/x/tool":            "tool",
	} {
		if got := moduleBinaryName(in); got != want {
			t.Errorf("moduleBinaryName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReplaceBinaryKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "heph")
	newBin := filepath.Join(dir, "new")
	os.WriteFile(exe, []byte("old binary"), 0o755)
	os.WriteFile(newBin, []byte("new binary"), 0o700)
	if err := replaceBinary(newBin, exe); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(exe); string(b) != "new binary" {
		t.Fatalf("exe holds %q after replace", b)
	}
	if b, _ := os.ReadFile(exe + ".previous"); string(b) != "old binary" {
		t.Fatalf("previous holds %q", b)
	}
	if st, _ := os.Stat(exe); st.Mode().Perm() != 0o755 {
		t.Fatalf("new exe mode %v, want 0755", st.Mode().Perm())
	}
	if _, err := os.Stat(newBin); !os.IsNotExist(err) {
		t.Fatalf("temporary binary still there: %v", err)
	}
	removePreviousBinary(exe, log.New(&bytes.Buffer{}, "", 0))
	if _, err := os.Stat(exe + ".previous"); !os.IsNotExist(err) {
		t.Fatalf("previous binary not removed after start: %v", err)
	}
}

func TestReplaceBinaryFailureLeavesExe(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "heph")
	os.WriteFile(exe, []byte("old binary"), 0o755)
	// The new binary is missing: the rename fails, the old exe must stay.
	err := replaceBinary(filepath.Join(dir, "missing"), exe)
	if err == nil {
		t.Fatal("replace with a missing binary succeeded")
	}
	if b, _ := os.ReadFile(exe); string(b) != "old binary" {
		t.Fatalf("exe damaged by a failed replace: %q", b)
	}
}

// fakeGo writes a `go` script that answers `go list` with latest and
// handles `go install` as installMode says: "fail", "wrongversion" or "ok".
func fakeGo(t *testing.T, latest, installMode string) string {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
case "$1" in
list) echo '{"Path":"example.com/heph","Version":"` + latest + `"}' ;;
install)
  case "` + installMode + `" in
  fail) echo "main.go:3:1: syntax error: non-declaration statement outside function body" >&2; exit 1 ;;
  wrongversion) printf '#!/bin/sh\necho "hephd v0.0.1 (x)"\n' > "$GOBIN/heph"; /bin/chmod +x "$GOBIN/heph" ;;
  ok) printf '#!/bin/sh\necho "hephd ` + latest + ` (x)"\n' > "$GOBIN/heph"; /bin/chmod +x "$GOBIN/heph" ;;
  esac ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testUpdater(t *testing.T, current, pathDir string) (*selfUpdater, string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "heph")
	os.WriteFile(exe, []byte("#!/bin/sh\necho running\n"), 0o755)
	var logs bytes.Buffer
	u := newSelfUpdater(selfUpdateConfig{Interval: time.Hour, Module: "example.com/heph", Current: current,
		Executable: exe, Env: []string{"PATH=" + pathDir}}, log.New(&logs, "", 0))
	return u, exe, &logs
}

func TestSelfUpdateRefusals(t *testing.T) {
	cases := []struct {
		name, current, latest, mode, wantErr string
		noGo                                 bool
	}{
		{name: "devel build", current: "(devel)", latest: "v1.1.0", mode: "ok", wantErr: "no release version"},
		{name: "no go on PATH", current: "v1.0.0", noGo: true, wantErr: "heph daemon restart --self-update"},
		{name: "build fails", current: "v1.0.0", latest: "v1.2.0", mode: "fail", wantErr: "syntax error"},
		{name: "new binary fails its check", current: "v1.0.0", latest: "v1.1.0", mode: "wrongversion", wantErr: "want hephd v1.1.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pathDir := t.TempDir()
			if !c.noGo {
				pathDir = fakeGo(t, c.latest, c.mode)
			}
			u, exe, logs := testUpdater(t, c.current, pathDir)
			before, _ := os.ReadFile(exe)
			for i := 0; i < 2; i++ {
				got, err := u.checkAndInstall(context.Background())
				u.record(got, err)
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				if got != "" {
					t.Fatalf("reported installing %q after a refusal", got)
				}
			}
			if after, _ := os.ReadFile(exe); !bytes.Equal(before, after) {
				t.Fatal("the binary changed after a refusal")
			}
			if n := strings.Count(logs.String(), "self-update:"); n != 1 {
				t.Fatalf("logged %d times over two identical failures, want once:\n%s", n, logs.String())
			}
			st := u.Status()
			if st.LastResult != "error" || !strings.Contains(st.LastError, c.wantErr) || st.LastCheck == nil {
				t.Fatalf("status = %+v", st)
			}
			entries, _ := os.ReadDir(filepath.Dir(exe))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".heph-update-") {
					t.Fatalf("left a temporary GOBIN behind: %s", e.Name())
				}
			}
		})
	}
}

func TestSelfUpdateNoDowngradeNoPrerelease(t *testing.T) {
	for _, latest := range []string{"v1.0.0", "v0.9.0", "v1.1.0-rc.1"} {
		u, exe, _ := testUpdater(t, "v1.0.0", fakeGo(t, latest, "ok"))
		got, err := u.checkAndInstall(context.Background())
		if err != nil || got != "" {
			t.Fatalf("latest %s: got %q, %v; want nothing done", latest, got, err)
		}
		if b, _ := os.ReadFile(exe); !strings.Contains(string(b), "running") {
			t.Fatalf("latest %s: binary replaced", latest)
		}
	}
}

func TestSelfUpdateInstallsNewer(t *testing.T) {
	u, exe, _ := testUpdater(t, "v1.0.0", fakeGo(t, "v1.1.0", "ok"))
	got, err := u.checkAndInstall(context.Background())
	if err != nil || got != "v1.1.0" {
		t.Fatalf("got %q, %v; want v1.1.0", got, err)
	}
	if b, _ := os.ReadFile(exe); !strings.Contains(string(b), "hephd v1.1.0") {
		t.Fatalf("exe not replaced: %q", b)
	}
	if b, _ := os.ReadFile(exe + ".previous"); !strings.Contains(string(b), "running") {
		t.Fatalf("previous binary not kept: %q", b)
	}
}

func TestSelfUpdateRunHandsOff(t *testing.T) {
	u, _, _ := testUpdater(t, "v1.0.0", fakeGo(t, "v1.1.0", "ok"))
	u.cfg.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var from, to string
	u.Run(ctx, func(f, t string) { from, to = f, t })
	if from != "v1.0.0" || to != "v1.1.0" {
		t.Fatalf("handoff(%q, %q), want v1.0.0 -> v1.1.0", from, to)
	}
	if st := u.Status(); st.LastResult != "installed v1.1.0" {
		t.Fatalf("status %+v", st)
	}
}
