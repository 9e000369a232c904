// The socket peer's uid on macOS (LOCAL_PEERCRED).

//go:build darwin

package main

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

const (
	osName     = "macOS"
	sunPathLen = 104
)

// peerUID returns the uid of the process at the other end of a unix socket,
// read with LOCAL_PEERCRED (what getpeereid(3) uses).
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Xucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return -1, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return -1, fmt.Errorf("LOCAL_PEERCRED: %w", credErr)
	}
	return int(cred.Uid), nil
}
