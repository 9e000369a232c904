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

// TestColourOnlyOnATerminal: heph next colours attention on a terminal,
// never with NO_COLOR, never into a pipe.
func TestColourOnlyOnATerminal(t *testing.T) {
	td := startDaemon(t)
	td.MustHeph("task", "Urgent", "--attention", "red")
	run := func(env ...string) string {
		master, slave := openPTY(t)
		cmd := exec.Command(hephBinary(t), "next")
		cmd.Env = append(append([]string{}, td.Env...), env...)
		cmd.Stdout, cmd.Stderr = slave, slave
		if err := cmd.Run(); err != nil {
			t.Fatalf("heph next on a terminal: %v", err)
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
	if out := run(); !strings.Contains(out, "\x1b[31mred\x1b[0m") {
		t.Fatalf("no colour on a terminal: %q", out)
	}
	if out := run("NO_COLOR=1"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "Urgent") {
		t.Fatalf("NO_COLOR output: %q", out)
	}
	if out := td.MustHeph("next"); strings.Contains(out, "\x1b[") {
		t.Fatalf("colour into a pipe: %q", out)
	}
}
