// Command heph is a personal context tool: tasks and notes in one SQLite
// store, owned by one daemon (hephd) and reached by thin clients.
//
// One binary plays both roles. When the base name of argv[0] is "hephd" it
// runs the daemon; otherwise it is the heph CLI, where "heph hephd ..." also
// runs the daemon, so the binary works without the symlink too.
package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// isDaemonRole reports whether args (argv) run hephd: argv[0] names it,
// or the first argument is "hephd".
func isDaemonRole(args []string) bool {
	return isDaemonName(args[0]) || (len(args) > 1 && args[1] == "hephd")
}

// run dispatches on argv[0] and returns the process exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if isDaemonRole(args) {
		if isDaemonName(args[0]) {
			return runDaemon(args[1:], stdout, stderr)
		}
		return runDaemon(args[2:], stdout, stderr)
	}
	c := newCLI(stdin, stdout, stderr)
	c.process = true
	return c.main(args[1:])
}

// isDaemonName reports whether argv0 names the daemon role.
func isDaemonName(argv0 string) bool {
	base := filepath.Base(argv0)
	base = strings.TrimSuffix(base, ".exe")
	return base == "hephd"
}
