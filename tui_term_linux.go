// tui_term_linux.go owns the Linux termios calls of the TUI's terminal layer.

package main

import "golang.org/x/sys/unix"

// tuiGetTermios reads the terminal settings of fd.
func tuiGetTermios(fd int) (*unix.Termios, error) { return unix.IoctlGetTermios(fd, unix.TCGETS) }

// tuiSetTermios applies t to fd once pending output is written (TCSADRAIN).
func tuiSetTermios(fd int, t *unix.Termios) error { return unix.IoctlSetTermios(fd, unix.TCSETSW, t) }
