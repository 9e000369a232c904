// events_hook.go owns hephd --on-change: a command run with each event's JSON on stdin, in order, one at a time.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// The hook is one more subscriber of the store's bus, with its own bounded
// queue: a hook slower than the writes falls behind and gets a resync, and
// a write never waits for it. Each run is `sh -c CMD` in its own process
// group with the event's params JSON (one line) on stdin and HEPH_SOCKET
// naming this daemon; at the timeout the whole group is killed. Failures
// are logged and change nothing else.

const (
	hookQueueMax    = 1024
	hookOutputLimit = 2048 // bytes of a failed run's output kept for the log
)

// changeHook runs --on-change for each event.
type changeHook struct {
	cmd     string
	timeout time.Duration
	socket  string
	log     *log.Logger
}

// startChangeHook subscribes the hook before the daemon serves anyone, so it
// sees every write, and runs it in the background until ctx ends. The
// returned function waits for the runner to finish (a run in progress may
// go on until its timeout); events still queued then are not run.
func startChangeHook(ctx context.Context, s *Store, h *changeHook) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	sub, _, err := s.events.subscribe(ctx, nil, hookQueueMax)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("--on-change: %w", err)
	}
	h.log.Printf("on-change: running %q for each change (timeout %s)", h.cmd, h.timeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sub.close()
		for {
			ev := sub.next(ctx)
			if ev == nil {
				return
			}
			// A panic costs this event's run and a log line, not hephd.
			_ = callRecovered(h.log, "on-change", func() { h.run(ev) })
		}
	}()
	return func() { cancel(); <-done }, nil
}

// run runs the command once for ev and logs a failure.
func (h *changeHook) run(ev *event) {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", h.cmd)
	cmd.Stdin = bytes.NewReader(append(append([]byte(nil), ev.Data()...), '\n'))
	var out limitedBuffer
	out.max = hookOutputLimit
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "HEPH_SOCKET="+h.socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	what := "tick " + ev.params.At
	if ev.params.Seq != nil {
		what = fmt.Sprintf("event %d", *ev.params.Seq)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		h.log.Printf("on-change: %s: killed after the %s timeout (its process group too)%s", what, h.timeout, out.tail())
	case err != nil:
		h.log.Printf("on-change: %s: %v%s", what, err, out.tail())
	}
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// tail is the captured output for a log line ("" when there is none).
func (b *limitedBuffer) tail() string {
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(s, "\n", " | ")
}
