// The heph client's main: the verb table, flag parsing, calling hephd and reporting errors.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Exit statuses of heph.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitNotRunning (3): no daemon is listening.
)

// cli is one invocation of the heph client.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool     // --json: machine output
	socket         string   // --socket
	color          string   // --color: auto, always or never
	noPager        bool     // --no-pager
	term           termInfo // stdout as it was before any pager
	client         *rpcClient
	flags          *flag.FlagSet // the running verb's flags
	// process: this is the heph process itself (main), not a test, so a
	// one-shot verb may tune the runtime (tuneCollector).
	process bool
}

// command is one heph verb.
type command struct {
	name    string
	args    string // usage after the name, e.g. "ID [flags]"
	summary string
	// example is one typical command line, shown by -h, the man page and
	// the completion descriptions (a test checks every verb has one).
	example string
	// pages sends the verb's output through $PAGER on a terminal.
	pages bool
	// hidden verbs (heph __complete) are left out of help, man pages and
	// completion.
	hidden bool
	// subs are the verb's sub-verbs, for completion and the man page
	// (default: read from args, e.g. "add|rm A B").
	subs []string
	// complete says what the verb's arguments are, for completion: task,
	// project, view, tag, file or dir (default: read from args' ID, FILE,
	// DIR placeholders).
	complete string
	// flags declares the verb's own flags (may be nil).
	flags func(fs *flag.FlagSet)
	// run executes the verb with its positional arguments.
	run func(c *cli, fs *flag.FlagSet, args []string) error
	// filterArgs: positional arguments are filter terms, so "-tag" is a
	// term, not an unknown flag (cli_filter.go).
	filterArgs bool
	// lasting verbs run until stopped (tui, watch): they keep Go's usual
	// garbage collection (tuneCollector is for the others).
	lasting bool
}

// oneShotHeap is how much a one-shot heph command may allocate before its
// first garbage collection.
const oneShotHeap = 64 << 20

// tuneCollector sets the garbage collection of a one-shot heph command:
// it lives a few milliseconds and frees nothing worth a collection
// (listing 1,250 tasks passed the default 4 MB goal and spent about 2 ms
// collecting), so collection waits for oneShotHeap. GOGC or GOMEMLIMIT,
// when set, win.
func tuneCollector() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(oneShotHeap)
}

// usageError is a mistake in how a command was invoked (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// commands is heph's verb table.
func commands() []*command {
	cmds := []*command{
		{name: "version", example: "heph version --json", summary: "print the client's and the daemon's versions", run: cmdVersion},
		{name: "hephd", example: "hephd --db ~/heph-test.db --socket /tmp/heph-test.sock --log ~/heph-test.log", args: "[flags]", summary: "run the daemon in the foreground (same as running hephd)"},
		authCommand(),
		{name: "link", example: "heph link add 0swa 7kq2", args: "add|rm A B", summary: "add or remove an explicit link from A to B", run: cmdLink},
		{name: "links", example: "heph links 0swa", args: "ID", summary: "show a node's outgoing links, backlinks and unresolved [[references]]", run: cmdLinks},
		{name: "search", example: `heph search "washer OR gasket" --limit 5`, args: "QUERY", summary: "full-text search of titles and bodies (SQLite FTS5), best first", pages: true, flags: searchFlags, run: cmdSearch},
		{name: "export", example: "heph export ~/heph-export", args: "DIR", summary: "write every live node to DIR as a markdown file with front matter", run: cmdExport},
		{name: "import", subs: []string{"taskwarrior", "markdown"}, example: "task export | heph import taskwarrior -", args: "taskwarrior FILE|- | markdown DIR", summary: "import a Taskwarrior JSON export or a tree of markdown files", run: cmdImport},
		daemonCommand(),
		watchCommand(),
		tuiCommand(),
	}
	cmds = append(cmds, taskCommands()...)
	cmds = append(cmds, syncCommands()...)
	cmds = append(cmds, captureCommands()...)
	cmds = append(cmds, projectCommands()...)
	cmds = append(cmds, backupCommands()...)
	cmds = append(cmds, doctorCommand())
	cmds = append(cmds, completionCommands()...)
	cmds = append(cmds, manCommands()...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

// commandNamed is the verb called name, or nil.
func commandNamed(name string) *command {
	for _, k := range commands() {
		if k.name == name {
			return k
		}
	}
	return nil
}

// runCLI is heph's main for the client role.
func runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newCLI(stdin, stdout, stderr).main(args)
}

// newCLI is a CLI on these streams.
func newCLI(stdin io.Reader, stdout, stderr io.Writer) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, color: "auto", term: probeTerm(stdout)}
}

// main runs one heph command line and returns the exit status.
func (c *cli) main(args []string) int {
	defer func() {
		if c.client != nil {
			c.client.Close()
		}
	}()
	top := flag.NewFlagSet("heph", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	top.Usage = func() {}
	c.globalFlags(top)
	version := top.Bool("version", false, "print the client's and the daemon's versions (as heph version)")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(c.stderr)
			return exitOK
		}
		fmt.Fprintf(c.stderr, "heph: %v (see heph -h)\n", err)
		return exitUsage
	}
	name, rest := top.Arg(0), top.Args()
	if len(rest) > 0 {
		rest = rest[1:]
	}
	if *version {
		// heph --version [flags] is heph version [flags].
		name, rest = "version", top.Args()
	}
	if name == "" {
		c.printUsage(c.stderr)
		return exitUsage
	}
	var cmd *command
	for _, k := range commands() {
		if k.name == name {
			cmd = k
		}
	}
	if cmd == nil || cmd.run == nil {
		if verb, ok := verbHints()[strings.ToLower(name)]; ok {
			fmt.Fprintf(c.stderr, "heph: unknown command %q: heph's verb for that is %q (see heph %s -h)\n", name, verb, verb)
			return exitUsage
		}
		fmt.Fprintf(c.stderr, "heph: unknown command %q (see heph -h)\n", name)
		return exitUsage
	}
	return c.exec(cmd, rest)
}

func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", c.json, "machine-readable JSON output")
	fs.StringVar(&c.socket, "socket", c.socket, "daemon socket `path` (default $HEPH_SOCKET, $XDG_RUNTIME_DIR/heph/hephd.sock or ~/.local/share/heph/hephd.sock)")
	fs.StringVar(&c.color, "color", c.color, "colour `when`: auto (a terminal, unless NO_COLOR is set), always or never")
	fs.BoolVar(&c.noPager, "no-pager", c.noPager, "never page long output through $PAGER")
}

func (c *cli) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: heph [--json] [--socket PATH] [--color auto|always|never] [--no-pager] COMMAND [ARGS]\n       heph --version\n\nheph is a thin client of hephd, which owns your tasks and notes.\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, k := range commands() {
		if k.hidden {
			continue
		}
		// Arguments and flags are in 'heph COMMAND -h': with them, the
		// longest lines would push every summary past the terminal's edge.
		fmt.Fprintf(tw, "  %s\t%s\n", k.name, k.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'heph COMMAND -h' for a command's arguments and flags.\nExit status: 0 ok, 1 error, 2 usage, 3 hephd not running.\n")
}

// exec parses a verb's flags (anywhere among its arguments) and runs it.
func (c *cli) exec(cmd *command, args []string) int {
	fs := flag.NewFlagSet("heph "+cmd.name, flag.ContinueOnError)
	// The flag package would print its error and the whole usage to
	// stderr; heph prints asked-for help to stdout (so it pages) and a
	// mistake as one line naming the fix.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.globalFlags(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	var restore func([]string) []string
	if cmd.filterArgs {
		args, restore = protectDashTerms(fs, args)
	}
	pos, err := parseInterspersed(fs, args)
	if restore != nil {
		pos = restore(pos)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(c.stdout, "Usage: heph %s %s\n\n%s\n\n", cmd.name, cmd.args, cmd.summary)
			if cmd.example != "" {
				fmt.Fprintf(c.stdout, "Example:\n  %s\n\n", cmd.example)
			}
			fmt.Fprintf(c.stdout, "Flags:\n")
			var defaults strings.Builder
			fs.SetOutput(&defaults)
			fs.PrintDefaults()
			// Spelled as the usage line and the examples spell them.
			io.WriteString(c.stdout, strings.ReplaceAll("\n"+defaults.String(), "\n  -", "\n  --")[1:])
			return exitOK
		}
		fmt.Fprintf(c.stderr, "heph %s: %v (see heph %s -h)\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	c.flags = fs
	if err := c.checkColorFlag(); err != nil {
		return c.report(err)
	}
	if c.process && !cmd.lasting {
		tuneCollector()
	}
	err = c.runPaged(cmd, func() error { return cmd.run(c, fs, pos) })
	return c.report(err)
}

// quietError ends a command with an exit status when its output has
// already said what went wrong and what to do.
type quietError struct{ code int }

func (e quietError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints err (if any) and returns the exit status for it.
func (c *cli) report(err error) int {
	if err == nil {
		return exitOK
	}
	var nr *notRunningError
	var ue *usageError
	var qe quietError
	switch {
	case errors.As(err, &qe):
		return qe.code
	case errors.As(err, &nr):
		if !nr.quiet {
			fmt.Fprintln(c.stderr, nr.Error())
		}
		return exitNotRunning
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "heph: %s\n", ue.msg)
		return exitUsage
	}
	// A message may quote stored titles (an ambiguous id lists them).
	lines := strings.Split(c.flagTerms(err.Error()), "\n")
	for i, l := range lines {
		lines[i] = displayText(l)
	}
	fmt.Fprintf(c.stderr, "heph: %s\n", strings.Join(lines, "\n"))
	return exitError
}

// parseInterspersed parses flags that may appear before, between or after
// positional arguments ("heph task Title --do today"). Everything after
// "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// call connects on first use and makes one RPC.
func (c *cli) call(method string, params, result any) error {
	if c.client == nil {
		socket, err := resolveSocket(c.socket, osGetenv)
		if err != nil {
			return err
		}
		if c.client, err = dialDaemonWaiting(socket, serviceInstalled(osGetenv), 3*time.Second); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.client.Call(ctx, method, params, result)
}

// printJSON writes v as indented JSON (the --json output).
func (c *cli) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(c.stdout, "%s\n", b)
	return err
}

func wantArgs(args []string, n int, what string) error {
	if len(args) != n {
		if len(args) == 0 {
			return usagef("want %s, got none", what)
		}
		return usagef("want %s, got %d argument(s): %s", what, len(args), strings.Join(args, " "))
	}
	return nil
}

func cmdVersion(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	v, rev := buildVersion()
	var info daemonInfo
	derr := c.call("daemon.info", nil, &info)
	if c.json {
		out := map[string]any{"client": map[string]string{"version": v, "revision": rev}}
		if derr == nil {
			out["daemon"] = map[string]any{"version": info.Version, "revision": info.Revision, "pid": info.PID, "mode": info.Mode}
		} else {
			out["daemon_error"] = derr.Error()
		}
		if err := c.printJSON(out); err != nil {
			return err
		}
		return derr
	}
	fmt.Fprintf(c.stdout, "heph  %s (%s)\n", v, rev)
	if derr != nil {
		return derr
	}
	fmt.Fprintf(c.stdout, "hephd %s (%s) pid %d, mode %s\n", info.Version, info.Revision, info.PID, info.Mode)
	return nil
}

// flagTerms says --do where hephd's message says param "do": a person
// typed the flag, not the parameter it became. Only params that are a
// flag of the running verb are renamed.
func (c *cli) flagTerms(msg string) string {
	if c.flags == nil {
		return msg
	}
	const ref = `param "`
	var b strings.Builder
	for {
		i := strings.Index(msg, ref)
		if i < 0 {
			break
		}
		name, rest, ok := strings.Cut(msg[i+len(ref):], `"`)
		if !ok || !isParamName(name) {
			b.WriteString(msg[:i+len(ref)])
			msg = msg[i+len(ref):]
			continue
		}
		b.WriteString(msg[:i])
		b.WriteString(c.flagFor(name, msg[i:len(msg)-len(rest)]))
		msg = rest
	}
	b.WriteString(msg)
	return b.String()
}

// isParamName reports whether s looks like a request param: [a-z_]+.
func isParamName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz_") == ""
}

// flagFor is the flag of the running verb that sets param name, or ref
// (the message's own words) when none does.
func (c *cli) flagFor(name, ref string) string {
	switch name {
	case "tags", "tags_add", "tags_remove":
		name = "tag"
	}
	name = strings.ReplaceAll(name, "_", "-")
	if name == "json" || name == "socket" || c.flags.Lookup(name) == nil {
		return ref
	}
	return "--" + name
}

// verbHints name heph's verb for what people coming from Taskwarrior or
// Todoist type out of habit (built when a verb is unknown, not at start).
func verbHints() map[string]string {
	return map[string]string{
		"new": "task", "create": "task",
		"modify": "edit", "mod": "edit", "annotate": "log", "note": "doc",
		"complete": "done", "finish": "done", "delete": "rm", "del": "rm", "remove": "rm",
		"ls": "list", "info": "show", "cat": "get", "find": "search",
	}
}

// callListing calls a listing method (task.list, task.view) whose params
// have a brief flag: whole nodes for --json, else brief ones decoded as
// table rows. An hephd that predates the flag is asked again without it.
func (c *cli) callListing(method string, params any, brief *bool) (nodes []*Node, rows []taskRow, err error) {
	if c.json {
		*brief = false
		err = c.call(method, params, &nodes)
		return nodes, nil, err
	}
	*brief = true
	err = c.call(method, params, &rows)
	if isMissing(err, "brief") {
		*brief = false
		err = c.call(method, params, &rows)
	}
	return nil, rows, err
}

// printedJSON ends a verb whose result is v: err, or v printed as JSON.
func (c *cli) printedJSON(v any, err error) error {
	if err != nil {
		return err
	}
	return c.printJSON(v)
}

// callJSON makes one RPC into result; with --json it also prints result.
// done says the verb is finished (an error, or the JSON printed): the
// usual start of a verb is
//
//	if done, err := c.callJSON("node.get", p, &n); done {
//		return err
//	}
//	// print n for people
func (c *cli) callJSON(method string, params, result any) (done bool, err error) {
	if err := c.call(method, params, result); err != nil {
		return true, err
	}
	if c.json {
		return true, c.printJSON(result)
	}
	return false, nil
}
