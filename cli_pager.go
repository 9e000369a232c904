// cli_pager.go owns paging: long output (list, search, log) goes through $PAGER (default less -FRX) on a terminal.

package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// defaultPager: quit when the text fits one screen (-F), pass colours
// (-R), and leave the text on the screen afterwards (-X).
const defaultPager = "less -FRX"

// pagerCommand is the pager to run, or "" for none: $PAGER when set
// (set and empty, or "cat", means no pager), else less -FRX when less
// is installed.
func pagerCommand(getenv func(string) (string, bool)) string {
	p, set := getenv("PAGER")
	p = strings.TrimSpace(p)
	switch {
	case set && (p == "" || p == "cat"):
		return ""
	case set:
		return p
	}
	if _, err := exec.LookPath("less"); err != nil {
		return ""
	}
	return defaultPager
}

// shouldPage: a verb marked pages, stdout and stdin both terminals (a
// pager needs the keyboard), and no --no-pager.
func (c *cli) shouldPage(cmd *command) bool {
	return cmd.pages && !c.noPager && c.term.tty && stdinTerminal(c.stdin)
}

// lazyPager starts the pager on the first write, so nothing is paged
// (and Ctrl-C still stops heph) while heph waits for hephd.
type lazyPager struct {
	command string
	out     io.Writer // the terminal
	errOut  io.Writer
	cmd     *exec.Cmd
	pipe    io.WriteCloser
	failed  bool // the pager did not start: write straight to out
}

func (p *lazyPager) Write(b []byte) (int, error) {
	if p.pipe == nil && !p.failed {
		p.start()
	}
	if p.failed {
		return p.out.Write(b)
	}
	return p.pipe.Write(b)
}

func (p *lazyPager) start() {
	cmd := exec.Command("/bin/sh", "-c", p.command)
	cmd.Stdout, cmd.Stderr = p.out, p.errOut
	cmd.Env = os.Environ()
	if _, ok := os.LookupEnv("LESS"); !ok {
		cmd.Env = append(cmd.Env, "LESS=FRX") // for a bare PAGER=less, as git does
	}
	pipe, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		p.failed = true
		return
	}
	// The pager owns the terminal now: Ctrl-C is for it (less ignores
	// it), and heph waits for the person to quit.
	signal.Ignore(os.Interrupt)
	p.cmd, p.pipe = cmd, pipe
}

// finish closes the pager's input and waits for the person to quit it.
func (p *lazyPager) finish() {
	if p.pipe == nil {
		return
	}
	p.pipe.Close()
	p.cmd.Wait()
	signal.Reset(os.Interrupt)
}

// runPaged runs fn with c.stdout going through a pager when shouldPage.
// A pager quit before the output ended is not an error.
func (c *cli) runPaged(cmd *command, fn func() error) error {
	if !c.shouldPage(cmd) {
		return fn()
	}
	command := pagerCommand(os.LookupEnv)
	if command == "" {
		return fn()
	}
	out := c.stdout
	p := &lazyPager{command: command, out: out, errOut: c.stderr}
	c.stdout = p
	err := fn()
	c.stdout = out
	p.finish()
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// stdinTerminal reports whether r is a terminal.
func stdinTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}
