// cli_conventions_linux_test.go tests heph's output conventions on real pseudo-terminals: --color, NO_COLOR, width fitting, paging, examples in -h.
package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runOnSizedPTY runs heph with a pseudo-terminal of cols columns as its
// stdin, stdout and stderr, and returns what it printed.
func runOnSizedPTY(t *testing.T, td *testDaemon, cols int, env []string, args ...string) string {
	t.Helper()
	master, slave := openPTY(t)
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hephBinary(t), args...)
	cmd.Env = append(append([]string{}, td.Env...), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	if err := cmd.Run(); err != nil {
		t.Fatalf("heph %v on a terminal: %v\n%s", args, err, out.String())
	}
	slave.Close()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		master.Close()
		<-done
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

func TestColorFlag(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "Urgent", "--attention", "red")
	red := "\x1b[31mred\x1b[0m"
	if out := td.MustHeph("--color", "always", "next"); !strings.Contains(out, red) {
		t.Fatalf("--color always into a pipe: %q", out)
	}
	// An explicit --color always wins over NO_COLOR (https://no-color.org).
	if out, _, _ := runHeph(t, append(td.Env, "NO_COLOR=1"), "", "next", "--color=always"); !strings.Contains(out, red) {
		t.Fatalf("--color always with NO_COLOR: %q", out)
	}
	if out := runOnSizedPTY(t, td, 100, []string{"PAGER="}, "--color", "never", "next"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "Urgent") {
		t.Fatalf("--color never on a terminal: %q", out)
	}
	if out := runOnSizedPTY(t, td, 100, []string{"PAGER="}, "next"); !strings.Contains(out, red) {
		t.Fatalf("--color auto on a terminal: %q", out)
	}
	_, errOut, code := td.Heph("--color", "sometimes", "next")
	if code != 2 || !strings.Contains(errOut, "want auto, always or never") {
		t.Fatalf("--color sometimes: exit %d, %q", code, errOut)
	}
}

// TestTitlesFitTheTerminal: on a terminal a long title is cut with an
// ellipsis to the terminal's width; into a pipe it is printed whole.
func TestTitlesFitTheTerminal(t *testing.T) {
	td := startDaemon(t)
	title := "A very long title that goes on and on " + strings.Repeat("and on ", 20) + "END"
	td.MustHeph("task", title)
	out := runOnSizedPTY(t, td, 60, []string{"PAGER="}, "--color", "never", "list")
	line := strings.TrimSpace(out)
	if !strings.HasSuffix(line, "…") || displayWidth(line) > 60 || strings.Contains(line, "END") {
		t.Fatalf("on a 60-column terminal: %q (width %d)", line, displayWidth(line))
	}
	if out := td.MustHeph("list"); !strings.Contains(out, "END") || strings.Contains(out, "…") {
		t.Fatalf("piped: %q", out)
	}
}

// TestLongOutputPages: list, search and log go through $PAGER on a
// terminal, never into a pipe, never with --no-pager; other verbs never.
func TestLongOutputPages(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "page me")
	pager := []string{"PAGER=sed 's/^/PAGED: /'"}
	if out := runOnSizedPTY(t, td, 100, pager, "list"); !strings.Contains(out, "PAGED: ") || !strings.Contains(out, "page me") {
		t.Fatalf("list on a terminal did not page: %q", out)
	}
	if out := runOnSizedPTY(t, td, 100, pager, "search", "page"); !strings.Contains(out, "PAGED: ") {
		t.Fatalf("search on a terminal did not page: %q", out)
	}
	if out := runOnSizedPTY(t, td, 100, pager, "--no-pager", "list"); strings.Contains(out, "PAGED") || !strings.Contains(out, "page me") {
		t.Fatalf("--no-pager paged: %q", out)
	}
	if out := runOnSizedPTY(t, td, 100, pager, "next"); strings.Contains(out, "PAGED") {
		t.Fatalf("next paged: %q", out)
	}
	if out, _, _ := runHeph(t, append(td.Env, pager...), "", "list"); strings.Contains(out, "PAGED") {
		t.Fatalf("a pipe paged: %q", out)
	}
	// The default pager (less -FRX) prints a short list and exits.
	if _, err := exec.LookPath("less"); err == nil {
		if out := runOnSizedPTY(t, td, 100, nil, "list"); !strings.Contains(out, "page me") {
			t.Fatalf("less -FRX: %q", out)
		}
	}
}

// TestEveryVerbHasAnExample: every verb in the table has an example, and
// its -h shows it; errors go to stderr, never stdout.
func TestEveryVerbHasAnExample(t *testing.T) {
	td := startDaemon(t)
	for _, cmd := range commands() {
		if cmd.example == "" {
			t.Errorf("verb %q has no example in the command table", cmd.name)
			continue
		}
		if !strings.HasPrefix(cmd.example, "heph") && !strings.Contains(cmd.example, "| heph") {
			t.Errorf("verb %q's example does not run heph: %q", cmd.name, cmd.example)
		}
		out, errOut, code := td.Heph(cmd.name, "-h")
		if cmd.name == "hephd" {
			out = errOut
		}
		if code != 0 || !strings.Contains(out, "Example:\n  "+cmd.example+"\n") {
			t.Errorf("heph %s -h (exit %d) lacks its example:\n%s", cmd.name, code, out)
		}
	}
	out, errOut, code := td.Heph("show", "nosuchid")
	if code != 1 || out != "" || !strings.Contains(errOut, "heph:") {
		t.Fatalf("an error: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
