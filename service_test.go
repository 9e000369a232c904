package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// randomValue draws a string from an alphabet of characters that need
// quoting or escaping somewhere.
func randomValue(r *rand.Rand) string {
	alphabet := []rune(`ab Z09 "'%$&<>\;#=:/.,-_@+!*?{}[]()~` + "`" + `ü日本ß€`)
	n := 1 + r.Intn(12)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(rs)
}

// randomConfig builds a random DaemonConfig over every bakeable flag.
func randomConfig(r *rand.Rand) DaemonConfig {
	c := DaemonConfig{Binary: "/" + randomValue(r) + "/heph", Flags: map[string][]string{}}
	for _, b := range bakeableFlags() {
		if r.Intn(2) == 0 {
			continue
		}
		switch b.kind {
		case kindBool:
			c.Flags[b.name] = []string{"true"}
		case kindList:
			for i := 0; i <= r.Intn(3); i++ {
				c.Flags[b.name] = append(c.Flags[b.name], randomValue(r))
			}
		default:
			c.Flags[b.name] = []string{randomValue(r)}
		}
	}
	if len(c.Flags) == 0 {
		c.Flags = nil
	}
	for i := 0; i < r.Intn(4); i++ {
		c.Env = append(c.Env, fmt.Sprintf("V%d=%s", i, randomValue(r)))
	}
	return c
}

// TestBakeableFlagsMatchHephd: every hephd flag is bakeable (or listed as
// not), with the right kind, so a new hephd flag cannot be forgotten.
func TestBakeableFlagsMatchHephd(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range hephdFlags() {
		if notBakeable(f.Name) {
			continue
		}
		seen[f.Name] = true
		b, ok := lookupBakeable(f.Name)
		if !ok {
			t.Errorf("hephd flag --%s is missing from bakeableFlags()", f.Name)
			continue
		}
		_, isList := f.Value.(*stringList)
		isBool := false
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			isBool = true
		}
		if (b.kind == kindBool) != isBool || (b.kind == kindList) != isList {
			t.Errorf("--%s: bakeable kind %d does not match hephd's flag (bool %v, list %v)", f.Name, b.kind, isBool, isList)
		}
	}
	for _, b := range bakeableFlags() {
		if !seen[b.name] {
			t.Errorf("bakeable --%s is not a hephd flag", b.name)
		}
	}
}

func TestMergeFlags(t *testing.T) {
	old := map[string][]string{"hub-url": {"https://a"}, "self-update": {"true"}, "authorized-sub": {"x", "y"}, "mode": {"local"}}
	got := mergeFlags(old, []flagChange{
		{name: "hub-url", values: []string{"https://b"}},     // override
		{name: "self-update"},                                // --no-self-update
		{name: "authorized-sub", values: []string{"z"}},      // a list is replaced
		{name: "oidc-issuer", values: []string{"https://i"}}, // added
		{name: "mode", values: []string{""}},                 // --mode= removes
	})
	want := map[string][]string{"hub-url": {"https://b"}, "authorized-sub": {"z"}, "oidc-issuer": {"https://i"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge = %v, want %v", got, want)
	}
	if old["hub-url"][0] != "https://a" {
		t.Errorf("merge changed its input")
	}
	lines := strings.Join(describeChanges(DaemonConfig{Binary: "/b", Flags: old}, DaemonConfig{Binary: "/b", Flags: got}), "\n")
	for _, s := range []string{"--hub-url: https://a -> https://b", "--self-update: removed", "--oidc-issuer: added https://i", "--mode: removed (was local)", "--authorized-sub: x, y -> z"} {
		if !strings.Contains(lines, s) {
			t.Errorf("changes lack %q:\n%s", s, lines)
		}
	}
}

func TestDaemonConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		c    DaemonConfig
		want string
	}{
		{DaemonConfig{Binary: "heph"}, "not absolute"},
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"hub-url": {"a\nb"}}}, "control character"},
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"self-update-interval-secs": {"soon"}}}, "hephd would reject"},
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"sync-interval": {"30"}}}, "hephd would reject"},
		{DaemonConfig{Binary: "/b", Env: []string{"NOEQUALS"}}, "not NAME=value"},
		// Values that parse but that hephd refuses at start: baked, they
		// would leave the service restarting in a loop.
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"mode": {"bogus"}}}, `unknown --mode "bogus"`},
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"self-update-interval-secs": {"0"}}}, "at least 1, not 0"},
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"hub-url": {"hub.example.com"}}}, "scheme must be http or https"},
		{DaemonConfig{Binary: "/b", Flags: map[string][]string{"oidc-issuer": {"https://"}}}, "names no host"},
	} {
		if err := tc.c.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
	ok := DaemonConfig{Binary: "/b", Flags: map[string][]string{"sync-interval": {"30s"}, "self-update": {"true"}, "authorized-sub": {"a", "b"},
		"mode": {"server"}, "hub-url": {"https://hub.example.com:8417/heph"}, "oidc-issuer": {"http://127.0.0.1:3000"}}}
	if err := ok.validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestIsTemporaryPath(t *testing.T) {
	for _, tc := range []struct {
		path, home string
		want       bool
	}{
		{"/tmp/go-build123/b001/exe/heph", "/home/u", true},
		{"/home/u/.cache/go-build/ab/heph", "/home/u", true},
		{"/tmp/heph-test-bin-1/heph", "/home/u", true},
		{"/var/folders/xy/T/heph", "/Users/u", true},
		{"/home/u/go/bin/heph", "/home/u", false},
		{"/usr/local/bin/heph", "/home/u", false},
		{"/tmp/hp1/home/go/bin/heph", "/tmp/hp1/home", false}, // a home under /tmp (tests) is stable
		{"/tmpfoo/heph", "/home/u", false},
	} {
		if got := isTemporaryPath(tc.path, tc.home, "/tmp"); got != tc.want {
			t.Errorf("isTemporaryPath(%s, home %s) = %v", tc.path, tc.home, got)
		}
	}
}

func TestServiceEnv(t *testing.T) {
	vars := map[string]string{"HOME": "/home/u", "GOPROXY": "file:///proxy", "GOPATH": ""}
	r := envResolver{
		getenv:   func(k string) string { return vars[k] },
		lookPath: func(string) (string, error) { return "/opt/go/bin/go", nil },
		goEnv: func(goBin, name string) string {
			if goBin != "/opt/go/bin/go" {
				t.Errorf("go env run with %s", goBin)
			}
			return map[string]string{"GOPATH": "/home/u/go"}[name]
		},
	}
	env, note := serviceEnv(r, true, []string{"PATH=/old", "KEEP=me"}, "/usr/bin:/bin")
	want := []string{"GOPATH=/home/u/go", "GOPROXY=file:///proxy", "HOME=/home/u", "KEEP=me", "PATH=/opt/go/bin:/usr/bin:/bin"}
	if !reflect.DeepEqual(env, want) || note != "" {
		t.Errorf("env = %v (note %q), want %v", env, note, want)
	}
	env, _ = serviceEnv(r, false, env, "/usr/bin")
	if !reflect.DeepEqual(env, []string{"KEEP=me"}) {
		t.Errorf("without self-update: %v", env)
	}
	r.lookPath = func(string) (string, error) { return "", os.ErrNotExist }
	env, note = serviceEnv(r, true, nil, "/usr/bin")
	if !strings.Contains(note, "heph daemon restart --self-update") || !reflect.DeepEqual(env, []string{"GOPROXY=file:///proxy", "HOME=/home/u", "PATH=/usr/bin"}) {
		t.Errorf("no go: env %v note %q", env, note)
	}
}

// TestTailFileFollow: logs -f prints the tail, then appended lines, and
// keeps following across hephd's rotation.
func TestTailFileFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hephd.log")
	os.WriteFile(path, []byte("one\ntwo\nthree\n"), 0o600)
	var last bytes.Buffer
	if err := tailFile(context.Background(), path, 2, false, &last, 0); err != nil || last.String() != "two\nthree\n" {
		t.Fatalf("tail -n 2 = %q, %v", last.String(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error)
	go func() { done <- tailFile(ctx, path, 1, true, out, 10*time.Millisecond) }()
	appendLine := func(p, s string) {
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		f.WriteString(s)
		f.Close()
	}
	wait := func(want string) {
		t.Helper()
		if !waitUntil(2*time.Second, func() bool { return out.String() == want }) {
			t.Fatalf("followed output %q, want %q", out.String(), want)
		}
	}
	wait("three\n")
	appendLine(path, "four\n")
	wait("three\nfour\n")
	// Rotation: the old file moves aside, a new one appears.
	appendLine(path, "five\n")
	os.Rename(path, path+".1")
	appendLine(path, "six\n")
	wait("three\nfour\nfive\nsix\n")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("follow: %v", err)
	}
}

func waitUntil(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// hephdFlags lists hephd's flags (for the table check).
func hephdFlags() []*flag.Flag {
	var o daemonOptions
	fs := daemonFlagSet(&o, io.Discard)
	var out []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f) })
	return out
}

// assertRoundTrip checks parse(generate(c)) == c for one service format.
func assertRoundTrip(t *testing.T, c DaemonConfig, generate func(DaemonConfig) ([]byte, error), parse func([]byte) (DaemonConfig, error)) {
	t.Helper()
	data, err := generate(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parse(data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %#v\nwant %#v\n%s", got, c, data)
	}
}
