// Who may stand between heph and hephd: the socket directory's owner and mode, the server's uid, and which socket file is hephd's own.

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// ensureSocketDir creates the socket's directory 0700 when missing and
// refuses one that another user owns or that group or others can write:
// whoever can write the directory can rename hephd's socket and bind
// their own in its place.
func ensureSocketDir(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("socket dir %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("socket dir %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("socket dir %s: cannot read its owner", dir)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("socket dir %s belongs to uid %d, not to you (uid %d): another user could replace hephd's socket there; use a directory of your own (--socket or HEPH_SOCKET)", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("socket dir %s has mode %04o: group or others can write it and so replace hephd's socket; run: chmod go-w %s (or use a private directory)", dir, fi.Mode().Perm(), dir)
	}
	return nil
}

// verifyPeerUID checks that the process at the other end of conn runs as
// want, before a client sends anything to it.
func verifyPeerUID(conn net.Conn, socket string, want int) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("connect to hephd at %s: not a unix socket connection", socket)
	}
	uid, err := peerUID(uc)
	if err != nil {
		return fmt.Errorf("connect to hephd at %s: %w", socket, err)
	}
	if uid != want {
		return fmt.Errorf("refusing to talk to %s: the process serving it runs as uid %d, not as you (uid %d); someone may have replaced hephd's socket", socket, uid, want)
	}
	return nil
}

// fileID is a file's device and inode: which file a path named.
type fileID struct{ dev, ino uint64 }

// statID returns the device and inode of the file at path (not following
// a symlink).
func statID(path string) (fileID, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, fmt.Errorf("%s: no inode", path)
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// removeIfSame removes path only while it is still the file id names.
func removeIfSame(path string, id fileID) error {
	cur, err := statID(path)
	if err != nil || cur != id {
		return nil // gone, or someone else's now: not ours to remove
	}
	return os.Remove(path)
}
