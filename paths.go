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
// ~/.local/share/heph/heph.db. Socket: flagSocket, else $HEPH_SOCKET, else
// $XDG_RUNTIME_DIR/heph/hephd.sock, else ~/.local/share/heph/hephd.sock.
func resolvePaths(flagDB, flagSocket string, getenv getenvFunc) (Paths, error) {
	var p Paths
	home := getenv("HOME")
	dataDir := func() (string, error) {
		if x := getenv("XDG_DATA_HOME"); x != "" {
			return filepath.Join(x, "heph"), nil
		}
		if home == "" {
			return "", fmt.Errorf("cannot find a home for heph's data: neither XDG_DATA_HOME nor HOME is set")
		}
		return filepath.Join(home, ".local", "share", "heph"), nil
	}
	switch {
	case flagDB != "":
		p.DB = flagDB
	case getenv("HEPH_DB") != "":
		p.DB = getenv("HEPH_DB")
	default:
		d, err := dataDir()
		if err != nil {
			return p, err
		}
		p.DB = filepath.Join(d, "heph.db")
	}
	switch {
	case flagSocket != "":
		p.Socket = flagSocket
	case getenv("HEPH_SOCKET") != "":
		p.Socket = getenv("HEPH_SOCKET")
	case getenv("XDG_RUNTIME_DIR") != "":
		p.Socket = filepath.Join(getenv("XDG_RUNTIME_DIR"), "heph", "hephd.sock")
	default:
		if home == "" {
			return p, fmt.Errorf("cannot place the socket: neither XDG_RUNTIME_DIR nor HOME is set (use --socket or HEPH_SOCKET)")
		}
		p.Socket = filepath.Join(home, ".local", "share", "heph", "hephd.sock")
	}
	var err error
	if p.DB, err = filepath.Abs(p.DB); err != nil {
		return p, fmt.Errorf("store path %s: %w", p.DB, err)
	}
	if p.Socket, err = filepath.Abs(p.Socket); err != nil {
		return p, fmt.Errorf("socket path %s: %w", p.Socket, err)
	}
	return p, checkSocketPath(p.Socket)
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
