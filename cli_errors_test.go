package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Regression tests from the second QA pass: what a demanding user meets at
// the edges of the CLI.

// TestSocketPathNotASocket: --socket naming a regular file or a directory
// says it is not a socket (not "no socket at"), and hephd refuses to take
// the path over instead of deleting what is there.
func TestSocketPathNotASocket(t *testing.T) {
	dir := shortTempDir(t)
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(), "HOME="+dir, "XDG_RUNTIME_DIR=", "XDG_CONFIG_HOME=", "XDG_DATA_HOME=")
	for _, c := range []struct{ path, kind string }{{file, "a regular file"}, {dir, "a directory"}} {
		_, stderr, code := runHeph(t, env, "", "--socket", c.path, "next")
		want := c.path + " is " + c.kind + ", not a socket: point --socket (or HEPH_SOCKET) at hephd's socket"
		if code != exitError || !strings.Contains(stderr, want) || strings.Contains(stderr, "no socket at") {
			t.Errorf("heph --socket %s next: exit %d, stderr %q; want exit 1 and %q", c.kind, code, stderr, want)
		}
		_, stderr, _ = runHeph(t, append(env, "HEPH_SOCKET="+c.path), "", "list")
		if !strings.Contains(stderr, "not a socket") {
			t.Errorf("HEPH_SOCKET=%s: stderr %q", c.kind, stderr)
		}
	}
	// hephd on that path: a clear refusal, and the file is untouched.
	bin := filepath.Join(filepath.Dir(hephBinary(t)), "hephd")
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "heph.db"), "--socket", file)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "socket path "+file+" exists and is not a socket: refusing to replace it") {
		t.Errorf("hephd --socket on a regular file: err %v, output %q", err, out)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me\n" {
		t.Fatalf("hephd touched the file at --socket: %q, %v", b, err)
	}
}

// TestVersionFlag: heph --version is heph version; -h lists it; an unknown
// top-level flag is one line pointing at -h.
func TestVersionFlag(t *testing.T) {
	td := startDaemon(t)
	want := td.MustHeph("version")
	if got := td.MustHeph("--version"); got != want || !strings.Contains(got, "hephd ") {
		t.Errorf("heph --version = %q, want heph version's %q", got, want)
	}
	if got := td.MustHeph("--json", "--version"); !strings.Contains(got, `"daemon"`) || !strings.Contains(got, `"client"`) {
		t.Errorf("heph --json --version = %q", got)
	}
	_, stderr, code := td.Heph("-h")
	if code != 0 || !strings.Contains(stderr, "heph --version") || !strings.Contains(stderr, "Commands:") {
		t.Errorf("heph -h: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = td.Heph("--verison")
	if code != exitUsage || stderr != "heph: flag provided but not defined: -verison (see heph -h)\n" {
		t.Errorf("heph --verison: exit %d, stderr %q", code, stderr)
	}
}

func TestCheckHubURL(t *testing.T) {
	for _, u := range []string{"https://hub.example.com", "http://127.0.0.1:8417", "https://example.com/heph/", "http://[::1]:80"} {
		if err := checkHubURL("hub-url", u); err != nil {
			t.Errorf("checkHubURL(%q): %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"hub.example.com":            "scheme must be http or https",
		"ftp://hub":                  "scheme must be http or https",
		"https://":                   "names no host",
		"http://:80":                 "names no host",
		"https://hub?x=1":            "leave out",
		"https://u:p@hub":            "leave out",
		"http://bad host":            "is not a URL",
		"https://hub.example.com#me": "leave out",
	} {
		err := checkHubURL("hub-url", u)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--hub-url https://hub.example.com") {
			t.Errorf("checkHubURL(%q) = %v, want %q and an example", u, err, want)
		}
	}
}

// TestAuthErrorsWithoutAHub: heph auth without a reachable hub says what is
// wrong in words (not a Go dial error), a malformed URL is a usage error,
// status says "not logged in" once, and logging out of a hub never logged
// in to says there was nothing to delete.
func TestAuthErrorsWithoutAHub(t *testing.T) {
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	for _, tc := range []struct {
		args    []string
		code    int
		want    string
		wantNot string
	}{
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1"}, 1,
			"heph: cannot reach the hub at http://127.0.0.1:1 (connection refused): check the URL and that the hub is running; or give --oidc-issuer", "dial tcp"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "c", "--oidc-audience", "a"}, 1,
			"heph: cannot reach the OIDC provider http://127.0.0.1:1 (connection refused)", "dial tcp"},
		{[]string{"auth", "login", "--hub-url", "hub.example.com"}, 2, `--hub-url "hub.example.com": the scheme must be http or https`, "/config"},
		{[]string{"auth", "login", "--hub-url", "http://127.0.0.1:1", "--oidc-issuer", "issuer"}, 2, `--oidc-issuer "issuer"`, "/config"},
		{[]string{"auth", "status"}, 1, "Not logged in to any hub", "heph:"},
		{[]string{"auth", "logout", "--hub-url", "http://127.0.0.1:1"}, 0, "Not logged in to http://127.0.0.1:1; nothing to delete", "Logged out"},
	} {
		out, errOut, code := runHeph(t, env, "", tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) || strings.Contains(out+errOut, tc.wantNot) {
			t.Errorf("heph %q: exit %d (want %d)\nstdout %q\nstderr %q\nwant %q, not %q", tc.args, code, tc.code, out, errOut, tc.want, tc.wantNot)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cfg", "heph", "hub-token.json")); err == nil {
		t.Error("a failed login wrote a token file")
	}
}

// hephIn runs heph in working directory dir.
func hephIn(t *testing.T, td *testDaemon, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(hephBinary(t), args...)
	cmd.Env, cmd.Dir = td.Env, dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestExportImportOddDirs: export and import markdown on an empty argument
// (never the current directory), a file, a missing or empty directory.
func TestExportImportOddDirs(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "Keep me")
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "stray.md"), []byte("# stray note\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cwd, "afile")
	os.WriteFile(file, []byte("x"), 0o600)
	before := td.MustHeph("--json", "list", "--state", "all")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", ""}, 2, "heph: want a directory to export to, got an empty argument: heph export DIR"},
		{[]string{"export", "  "}, 2, "got an empty argument"},
		{[]string{"import", "markdown", ""}, 2, "heph: want a directory to import, got an empty argument: heph import markdown DIR"},
		{[]string{"export", file}, 1, file + ": not a directory"},
		{[]string{"export", filepath.Join(file, "sub")}, 1, "not a directory"},
		{[]string{"import", "markdown", file}, 1, file + " is not a directory"},
		{[]string{"import", "markdown", filepath.Join(cwd, "missing")}, 1, "import markdown: " + filepath.Join(cwd, "missing") + " does not exist"},
		{[]string{"import", "markdown", "empty"}, 0, "nothing to import: no markdown files (*.md) under empty"},
	} {
		os.MkdirAll(filepath.Join(cwd, "empty"), 0o700)
		out, errOut, code := hephIn(t, td, cwd, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("heph %q: exit %d (want %d), stdout %q, stderr %q; want %q", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
	entries, _ := os.ReadDir(cwd)
	if len(entries) != 3 {
		t.Errorf("the working directory changed: %d entries, want stray.md, afile, empty", len(entries))
	}
	if after := td.MustHeph("--json", "list", "--state", "all"); after != before {
		t.Errorf("the store changed:\n%s\n%s", before, after)
	}
	// A directory that does not exist yet is made, parents too.
	deep := filepath.Join(cwd, "new", "deeper")
	if out := td.MustHeph("export", deep); !strings.Contains(out, "exported 3 nodes to "+deep) {
		t.Errorf("export to a new directory: %q", out)
	}
}

// TestTaskwarriorImportJunk: a Taskwarrior import with a bad entry fails
// before anything is imported and names the entry; a byte order mark is
// fine; UTF-16 says what to do.
func TestTaskwarriorImportJunk(t *testing.T) {
	td := startDaemon(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	task := func(i int) string {
		return fmt.Sprintf(`{"description":"t%d","status":"pending","uuid":"%08d-1111-1111-1111-111111111111","entry":"20260101T000000Z"}`, i, i)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"number.json", []byte("[" + task(1) + "," + task(2) + ",42]"), "task 3 is a number, not a JSON task object"},
		{"null.json", []byte("[" + task(1) + ",null]"), "task 2 is null, not a JSON task object"},
		{"utf16.json", append([]byte{0xFF, 0xFE}, []byte("[\x00]\x00")...), "the file is UTF-16"},
		{"garbage.json", []byte("garbage"), "line 1 is not a JSON task object"},
	} {
		_, errOut, code := td.Heph("import", "taskwarrior", write(tc.name, tc.data))
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tc.name, code, errOut, tc.want)
		}
	}
	if out := td.MustHeph("--json", "list", "--state", "all"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a failed import left tasks: %s", out)
	}
	bom := write("bom.json", append([]byte("\xEF\xBB\xBF"), []byte("["+task(7)+"]")...))
	if out := td.MustHeph("import", "taskwarrior", bom); !strings.Contains(out, "imported 1 taskwarrior item: 1 created") {
		t.Errorf("import with a byte order mark: %q", out)
	}
	if out := td.MustHeph("import", "taskwarrior", write("empty.json", []byte("[]"))); out != "nothing to import: the export holds no tasks\n" {
		t.Errorf("import of []: %q", out)
	}
}

func TestRenumberChunkError(t *testing.T) {
	err := renumberChunkError(&rpcError{Code: codeInvalidParams, Message: "task 3: json: cannot unmarshal string"}, 2000)
	var re *rpcError
	if !errors.As(err, &re) || re.Message != "task 2003: json: cannot unmarshal string" || re.Code != codeInvalidParams {
		t.Errorf("renumbered: %v", err)
	}
	for _, e := range []error{&rpcError{Message: "task 3: x"}, &rpcError{Message: "tasks are bad"}, errors.New("task 3: x")} {
		off := 2000
		if re, ok := e.(*rpcError); ok && re.Message == "task 3: x" {
			off = 0
		}
		if got := renumberChunkError(e, off); got != e {
			t.Errorf("renumberChunkError(%v, %d) = %v, want it unchanged", e, off, got)
		}
	}
}

// TestAuthLoginNotAHub: a --hub-url that answers but is no heph hub (a 404,
// an HTML page) says so instead of a bare JSON error.
func TestAuthLoginNotAHub(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/html/config" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>welcome</html>")
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := shortTempDir(t)
	env := append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "HEPH_SOCKET="+filepath.Join(dir, "none.sock"))
	for path, want := range map[string]string{
		"/html": srv.URL + "/html/config is not a heph hub's login settings (invalid character '<'",
		"/none": "read the hub's login settings from " + srv.URL + "/none/config: GET " + srv.URL + "/none/config: 404 Not Found: is --hub-url a heph hub?",
	} {
		_, errOut, code := runHeph(t, env, "", "auth", "login", "--hub-url", srv.URL+path)
		if code != exitError || !strings.Contains(errOut, want) {
			t.Errorf("login at %s: exit %d, stderr %q; want %q", path, code, errOut, want)
		}
	}
}

// TestImportChunksBySize: the CLI splits a Taskwarrior import by count and
// by bytes, so long annotations never push a request past the line limit.
func TestImportChunksBySize(t *testing.T) {
	item := func(n int) json.RawMessage { return json.RawMessage(`{"d":"` + strings.Repeat("x", n) + `"}`) }
	var items []json.RawMessage
	for i := 0; i < 10; i++ {
		items = append(items, item(100))
	}
	if got := importChunks(items, 4, 1<<20); fmt.Sprint(got) != "[[0 4] [4 8] [8 10]]" {
		t.Fatalf("by count: %v", got)
	}
	if got := importChunks(items, 100, 350); fmt.Sprint(got) != "[[0 3] [3 6] [6 9] [9 10]]" {
		t.Fatalf("by bytes: %v", got)
	}
	big := append([]json.RawMessage{item(10)}, item(1000), item(10))
	if got := importChunks(big, 100, 500); fmt.Sprint(got) != "[[0 1] [1 2] [2 3]]" {
		t.Fatalf("an item over the byte bound goes alone: %v", got)
	}
	if got := importChunks(nil, 100, 500); fmt.Sprint(got) != "[[0 0]]" {
		t.Fatalf("empty input still makes one (empty) request: %v", got)
	}
	// End to end: 2,000 tasks of 3 KiB each (6 MiB) import in several requests.
	td := startDaemon(t)
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"uuid":"00000000-0000-4000-8000-%012d","description":"task %d","status":"pending","entry":"20261101T000000Z","annotations":[{"entry":"20261101T000000Z","description":"%s"}]}`, i, i, strings.Repeat("a", 3<<10))
	}
	b.WriteString("]")
	out, errOut, code := td.HephIn(b.String(), "--json", "import", "taskwarrior", "-")
	if code != 0 {
		t.Fatalf("import of 6 MiB: exit %d\n%s\n%s", code, out, errOut)
	}
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	if info.Counts["tasks"] != 2000 {
		t.Fatalf("imported %d tasks, want 2000", info.Counts["tasks"])
	}
}

// TestTaskwarriorWrongFieldType: a task field of the wrong JSON type is
// named in Taskwarrior's terms, and nothing is imported.
func TestTaskwarriorWrongFieldType(t *testing.T) {
	td := startDaemon(t)
	in := `[{"uuid":"00000000-0000-4000-8000-000000000001","description":"x","status":"pending","tags":"x"}]`
	_, errOut, code := td.HephIn(in, "import", "taskwarrior", "-")
	if code == 0 || !strings.Contains(errOut, `field "tags" is a string`) || !strings.Contains(errOut, "want an array") || strings.Contains(errOut, "Go struct") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var info daemonInfo
	td.MustCall("daemon.info", nil, &info)
	if info.Counts["nodes"] != 0 {
		t.Fatalf("a refused import wrote %d nodes", info.Counts["nodes"])
	}
}

// TestConflictUnknownIDEchoesInput: an unknown conflict id is quoted as the
// person typed it, not upper-cased.
func TestConflictUnknownIDEchoesInput(t *testing.T) {
	td := startDaemon(t)
	_, errOut, code := td.Heph("conflicts", "resolve", "nope", "--keep", "mine")
	if code != 1 || !strings.Contains(errOut, `no conflict with id "nope"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
