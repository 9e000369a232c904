// tui_term_darwin.go owns the macOS termios calls of the TUI's terminal layer.

package main

import "golang.org/x/sys/unix"

// tuiGetTermios reads the terminal settings of fd.
func tuiGetTermios(fd int) (*unix.Termios, error) { return unix.IoctlGetTermios(fd, unix.TIOCGETA) }

// tuiSetTermios applies t to fd once pending output is written (TCSADRAIN).
func tuiSetTermios(fd int, t *unix.Termios) error { return unix.IoctlSetTermios(fd, unix.TIOCSETAW, t) }
