package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master to read, the slave to
// hand to a child as its stdout.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// runOnPTY runs heph args with a pseudo-terminal as its stdout and stderr
// and returns what it printed.
func runOnPTY(t *testing.T, td *testDaemon, env []string, args ...string) string {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(hephBinary(t), args...)
	cmd.Env = append(append([]string{}, td.Env...), env...)
	cmd.Stdout, cmd.Stderr = slave, slave
	if err := cmd.Run(); err != nil {
		t.Fatalf("heph %v on a terminal: %v", args, err)
	}
	slave.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		master.Close()
		<-done
	}
	return out.String()
}

// TestColourOnlyOnATerminal: heph next colours attention on a terminal,
// never with NO_COLOR, never into a pipe.
func TestColourOnlyOnATerminal(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "Urgent", "--attention", "red")
	if out := runOnPTY(t, td, nil, "next"); !strings.Contains(out, "\x1b[31mred\x1b[0m") {
		t.Fatalf("no colour on a terminal: %q", out)
	}
	if out := runOnPTY(t, td, []string{"NO_COLOR=1"}, "next"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "Urgent") {
		t.Fatalf("NO_COLOR output: %q", out)
	}
	if out := td.MustHeph("next"); strings.Contains(out, "\x1b[") {
		t.Fatalf("colour into a pipe: %q", out)
	}
}

// TestSearchSnippetBoldOnATerminal: search marks matched terms in bold on a
// terminal; with NO_COLOR and into a pipe the ** markers are dropped, and
// --json keeps them.
func TestSearchSnippetBoldOnATerminal(t *testing.T) {
	td := startDaemon(t)
	id := strings.TrimSpace(td.MustHeph("doc", "Garden notes"))
	td.MustCall("node.update", map[string]any{"id": id, "body": "turn the compost heap every week"}, nil)
	if out := runOnPTY(t, td, nil, "search", "compost"); !strings.Contains(out, "\x1b[1mcompost\x1b[0m") || strings.Contains(out, "**") {
		t.Fatalf("search on a terminal: %q", out)
	}
	if out := runOnPTY(t, td, []string{"NO_COLOR=1"}, "search", "compost"); strings.Contains(out, "\x1b[") || strings.Contains(out, "**") || !strings.Contains(out, "turn the compost heap") {
		t.Fatalf("search with NO_COLOR: %q", out)
	}
	// A title match is shown on the title line, marked, not repeated below.
	out := runOnPTY(t, td, nil, "search", "notes")
	if !strings.Contains(out, "Garden \x1b[1mnotes\x1b[0m") || strings.Count(out, "notes") != 1 {
		t.Fatalf("title match on a terminal: %q", out)
	}
}

// TestNoColorEmptyKeepsColour: NO_COLOR disables colour only when it is
// set to a non-empty value (https://no-color.org); an empty one, as left by
// `NO_COLOR= heph next`, keeps colour on a terminal.
func TestNoColorEmptyKeepsColour(t *testing.T) {
	_, slave := openPTY(t)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	t.Setenv("NO_COLOR", "")
	if !useColor(slave, env("")) {
		t.Error("empty NO_COLOR turned colour off on a terminal")
	}
	if useColor(slave, env("1")) {
		t.Error("NO_COLOR=1 left colour on")
	}
}
