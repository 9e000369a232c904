package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestCommandHelpAndFlagErrors: asked-for help goes to stdout (so it can be
// paged) with status 0; a bad flag is one line on stderr naming the
// command and where its help is, status 2; heph's own usage fits a
// terminal.
func TestCommandHelpAndFlagErrors(t *testing.T) {
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := runCLI(args, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	for _, cmd := range commands() {
		if cmd.run == nil {
			continue
		}
		out, errOut, code := run(cmd.name, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: heph "+cmd.name) || !strings.Contains(out, "\n  --json\n") || strings.Contains(out, "\n  -json") || errOut != "" {
			t.Errorf("heph %s --help: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.name, code, out, errOut)
		}
		out, errOut, code = run(cmd.name, "--no-such-flag")
		want := "heph " + cmd.name + ": flag provided but not defined: -no-such-flag (see heph " + cmd.name + " -h)\n"
		if code != 2 || out != "" || errOut != want {
			t.Errorf("heph %s --no-such-flag: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr %q", cmd.name, code, out, errOut, want)
		}
	}
	if out, _, _ := run("doc", "-h"); !strings.Contains(out, "\n  --body -\n") {
		t.Errorf("heph doc -h: --body's value is -:\n%s", out)
	}
	if out, _, _ := run("edit", "-h"); !strings.Contains(out, "[--recur-after-done]") {
		t.Errorf("heph edit -h: usage line lacks --recur-after-done:\n%s", out)
	}
	out, _, code := run("help")
	if code != 0 {
		t.Fatalf("heph help: exit %d", code)
	}
	for _, line := range strings.Split(out, "\n") {
		// Arguments and flags are in each command's -h; with them in the
		// list, every summary was pushed past column 110.
		if strings.HasPrefix(line, "  ") && strings.Contains(line, "[--") {
			t.Errorf("heph help lists a command's flags:\n%s", line)
		}
	}
	if _, errOut, code := run("show"); code != 2 || errOut != "heph: want one ID, got none\n" {
		t.Errorf("heph show: exit %d, stderr %q", code, errOut)
	}
}

// TestVerbHints: a Taskwarrior habit such as "heph add" names heph's verb.
func TestVerbHints(t *testing.T) {
	for name, verb := range verbHints() {
		var out, errOut bytes.Buffer
		code := runCLI([]string{name, "x"}, strings.NewReader(""), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), fmt.Sprintf("heph's verb for that is %q", verb)) {
			t.Errorf("heph %s: exit %d: %s", name, code, errOut.String())
		}
		found := false
		for _, c := range commands() {
			found = found || (c.name == verb && c.run != nil)
		}
		if !found {
			t.Errorf("hint %s -> %s: no such verb", name, verb)
		}
	}
}

// TestErrorsNameTheFlag: an error about a request parameter names the
// flag the person typed (--do), not the parameter (param "do").
func TestErrorsNameTheFlag(t *testing.T) {
	td := startDaemon(t)
	id := strings.TrimSpace(td.MustHeph("task", "Water plants"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"task", "x", "--do", "blah"}, `heph: --do: bad date "blah"`},
		{[]string{"edit", id, "--late", "soonish"}, `heph: --late: bad date "soonish"`},
		{[]string{"next", "--limit", "-3"}, "heph: --limit must be 0 (no limit) or more"},
		{[]string{"view", "late", "--days", "3"}, "heph: --days only applies to the upcoming view"},
	} {
		_, errOut, code := td.Heph(c.args...)
		if code != 1 || !strings.HasPrefix(errOut, c.want) {
			t.Errorf("heph %s: exit %d: %q, want it to start %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
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
