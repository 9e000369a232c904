// tui_term.go owns the TUI's terminal: raw mode, the alternate screen, hidden cursor, bracketed paste and mouse reporting, and putting all of it back.

package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tuiTerm is the controlling terminal while the TUI runs.
type tuiTerm struct {
	in, out *os.File
	saved   *unix.Termios
	mouse   bool
	mu      sync.Mutex
	active  bool
}

// openTuiTerm checks that in and out are a terminal.
func openTuiTerm(in, out *os.File, mouse bool) (*tuiTerm, error) {
	saved, err := tuiGetTermios(int(in.Fd()))
	if err != nil {
		return nil, errors.New("heph tui needs a terminal: standard input is not one")
	}
	if _, err := tuiGetTermios(int(out.Fd())); err != nil {
		return nil, errors.New("heph tui needs a terminal: standard output is not one")
	}
	return &tuiTerm{in: in, out: out, saved: saved, mouse: mouse}, nil
}

const (
	tuiEnterSeq = "\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[H\x1b[2J"
	tuiLeaveSeq = "\x1b[0m\x1b[?2004l\x1b[?25h\x1b[?1049l"
	tuiMouseOn  = "\x1b[?1000h\x1b[?1006h"
	tuiMouseOff = "\x1b[?1006l\x1b[?1000l"
)

// enter puts the terminal in raw mode on the alternate screen.
func (t *tuiTerm) enter() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	raw := *t.saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := tuiSetTermios(int(t.in.Fd()), &raw); err != nil {
		return fmt.Errorf("set the terminal to raw mode: %w", err)
	}
	seq := tuiEnterSeq
	if t.mouse {
		seq += tuiMouseOn
	}
	t.active = true
	_, err := t.out.WriteString(seq)
	return err
}

// restore undoes enter; it is safe to call more than once.
func (t *tuiTerm) restore() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.active {
		return
	}
	t.active = false
	seq := tuiLeaveSeq
	if t.mouse {
		seq = tuiMouseOff + seq
	}
	t.out.WriteString(seq)
	tuiSetTermios(int(t.in.Fd()), t.saved)
}

// size is the terminal's columns and rows.
func (t *tuiTerm) size() (int, int) {
	ws, err := unix.IoctlGetWinsize(int(t.out.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return 80, 24
	}
	return int(ws.Col), int(ws.Row)
}

// tuiReader reads keys from the terminal in its own goroutine; it can be
// paused (while $EDITOR owns the terminal) so it steals no input.
type tuiReader struct {
	fd     int
	keys   chan []tuiKey
	pause  chan chan struct{}
	stop   chan struct{}
	closed sync.Once
}

func newTuiReader(fd int) *tuiReader {
	r := &tuiReader{fd: fd, keys: make(chan []tuiKey, 16), pause: make(chan chan struct{}), stop: make(chan struct{})}
	go r.run()
	return r
}

// run polls the terminal so that a pause or stop is seen within 50 ms.
func (r *tuiReader) run() {
	buf := make([]byte, 4096)
	var pending []byte
	for {
		select {
		case <-r.stop:
			return
		case resume := <-r.pause:
			<-resume
			pending = nil
			continue
		default:
		}
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 50)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n <= 0 {
			if len(pending) > 0 { // a lone ESC that nothing followed
				r.send(parseTuiKeys(pending, true))
				pending = nil
			}
			continue
		}
		m, err := unix.Read(r.fd, buf)
		if err != nil && errors.Is(err, unix.EINTR) {
			continue
		}
		if m <= 0 {
			return
		}
		pending = append(pending, buf[:m]...)
		keys, rest := parseTuiKeysPartial(pending)
		pending = append([]byte(nil), rest...)
		r.send(keys)
	}
}

func (r *tuiReader) send(keys []tuiKey) {
	if len(keys) == 0 {
		return
	}
	select {
	case r.keys <- keys:
	case <-r.stop:
	}
}

// suspend stops reading until the returned function is called.
func (r *tuiReader) suspend() func() {
	resume := make(chan struct{})
	select {
	case r.pause <- resume:
	case <-time.After(time.Second):
	}
	return func() { close(resume) }
}

func (r *tuiReader) close() { r.closed.Do(func() { close(r.stop) }) }
