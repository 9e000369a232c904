// The ioctl that reads terminal settings on macOS (used to tell a terminal).

package main

import "golang.org/x/sys/unix"

// ioctlReadTermios is the ioctl that reads a terminal's settings.
const ioctlReadTermios = unix.TIOCGETA
