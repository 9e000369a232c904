// Where the store and the socket live ($HEPH_DB, $HEPH_SOCKET, XDG, ~/.local/share/heph).

package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Paths are the locations of the store and the daemon's socket. The daemon
// and every client resolve them with resolvePaths, so they always agree.
type Paths struct {
	DB     string
	Socket string
}

// getenvFunc looks up an environment variable; tests pass their own.
type getenvFunc func(string) string

// resolvePaths picks the store and socket paths. Store: flagDB, else
// $HEPH_DB, else $XDG_DATA_HOME/heph/heph.db, else
// ~/.local/share/heph/heph.db. Socket: see resolveSocket.
func resolvePaths(flagDB, flagSocket string, getenv getenvFunc) (Paths, error) {
	var p Paths
	switch {
	case flagDB != "":
		p.DB = flagDB
	case getenv("HEPH_DB") != "":
		p.DB = getenv("HEPH_DB")
	case getenv("XDG_DATA_HOME") != "":
		p.DB = filepath.Join(getenv("XDG_DATA_HOME"), "heph", "heph.db")
	case getenv("HOME") != "":
		p.DB = filepath.Join(getenv("HOME"), ".local", "share", "heph", "heph.db")
	default:
		return p, fmt.Errorf("cannot find a home for heph's data: neither XDG_DATA_HOME nor HOME is set (use --db or HEPH_DB)")
	}
	var err error
	if p.DB, err = filepath.Abs(p.DB); err != nil {
		return p, fmt.Errorf("store path %s: %w", p.DB, err)
	}
	p.Socket, err = resolveSocket(flagSocket, getenv)
	return p, err
}

// resolveSocket picks the socket path alone (all a client needs):
// flagSocket, else $HEPH_SOCKET, else $XDG_RUNTIME_DIR/heph/hephd.sock,
// else ~/.local/share/heph/hephd.sock. The path must fit in sun_path.
func resolveSocket(flagSocket string, getenv getenvFunc) (string, error) {
	var sock string
	switch {
	case flagSocket != "":
		sock = flagSocket
	case getenv("HEPH_SOCKET") != "":
		sock = getenv("HEPH_SOCKET")
	case getenv("XDG_RUNTIME_DIR") != "":
		sock = filepath.Join(getenv("XDG_RUNTIME_DIR"), "heph", "hephd.sock")
	case getenv("HOME") != "":
		sock = filepath.Join(getenv("HOME"), ".local", "share", "heph", "hephd.sock")
	default:
		return "", fmt.Errorf("cannot place the socket: neither XDG_RUNTIME_DIR nor HOME is set (use --socket or HEPH_SOCKET)")
	}
	abs, err := filepath.Abs(sock)
	if err != nil {
		return sock, fmt.Errorf("socket path %s: %w", sock, err)
	}
	return abs, checkSocketPath(abs)
}

// checkSocketPath rejects a path that does not fit in sockaddr_un.sun_path.
func checkSocketPath(path string) error {
	// sun_path must also hold the terminating NUL.
	if len(path) >= sunPathLen {
		return fmt.Errorf("socket path %s is %d bytes; unix sockets on %s allow at most %d (sun_path is %d bytes with its NUL): choose a shorter --socket or HEPH_SOCKET",
			path, len(path), osName, sunPathLen-1, sunPathLen)
	}
	return nil
}

// osGetenv is the real environment, for main's paths.
var osGetenv getenvFunc = os.Getenv
