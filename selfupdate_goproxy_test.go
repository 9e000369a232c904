package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// A file:// GOPROXY for the self-update tests: it serves this module at
// versions the test chooses, built from the working tree's sources.

// moduleProxy is a GOPROXY tree on disk.
type moduleProxy struct {
	dir    string
	module string
}

// newModuleProxy makes an empty proxy for module under dir.
func newModuleProxy(t *testing.T, dir, module string) *moduleProxy {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, module, "@v"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &moduleProxy{dir: dir, module: module}
}

// URL is the GOPROXY entry for this proxy.
func (p *moduleProxy) URL() string { return "file://" + p.dir }

// workingTreeSources returns the module's non-test sources (what `go
// install` needs) from the working tree.
func workingTreeSources(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	matches, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	web, _ := filepath.Glob("web/*") // embedded in the binary (web.go)
	matches = append(matches, web...)
	// README.md is embedded too: heph-filters(7) and heph-quickadd(7) are
	// built from its marked sections (cli_man_readme.go).
	for _, name := range append(matches, "go.mod", "go.sum", "README.md") {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

// publish adds version with the given files (paths relative to the module
// root) and rewrites the version list to versions.
func (p *moduleProxy) publish(t *testing.T, version string, files map[string][]byte) {
	t.Helper()
	base := filepath.Join(p.dir, p.module, "@v", version)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w, err := zw.Create(p.module + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	for ext, data := range map[string][]byte{".zip": buf.Bytes(), ".mod": files["go.mod"], ".info": info} {
		if err := os.WriteFile(base+ext, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// list sets the versions the proxy offers (its @v/list).
func (p *moduleProxy) list(t *testing.T, versions ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, p.module, "@v", "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goEnvForProxy is an offline environment for the go command: this proxy,
// then the real module cache's download tree for dependencies.
func goEnvForProxy(t *testing.T, p *moduleProxy, home string) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	modcache, gocache := lines[0], lines[1]
	return []string{
		"GOPROXY=" + p.URL() + ",file://" + filepath.Join(modcache, "cache", "download"),
		"GOSUMDB=off",
		"GOTOOLCHAIN=local",
		"GOFLAGS=-mod=mod -modcacherw -trimpath -buildvcs=false",
		"GOCACHE=" + gocache,
		"GOMODCACHE=" + filepath.Join(home, "gomodcache"),
		"GOPATH=" + filepath.Join(home, "go"),
		"CGO_ENABLED=0",
	}
}

func TestModuleProxyInstalls(t *testing.T) {
	goBin, err := exec.LookPath("go")
	requireComponent(t, err == nil, "the go command is not on PATH")
	home := t.TempDir()
	p := newModuleProxy(t, filepath.Join(home, "proxy"), "github.com/hephaestus/heph")
	src := workingTreeSources(t)
	p.publish(t, "v1.0.0", src)
	p.list(t, "v1.0.0")
	gobin := filepath.Join(home, "bin")
	cmd := exec.Command(goBin, "install", "github.com/hephaestus/heph@latest")
	cmd.Dir = home
	cmd.Env = append(append(os.Environ(), goEnvForProxy(t, p, home)...), "GOBIN="+gobin, "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install from the test proxy: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(gobin, "heph"), "hephd", "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "hephd v1.0.0 ") {
		t.Fatalf("installed binary reports %q, %v", out, err)
	}
}
