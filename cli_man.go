// cli_man.go owns heph's manual pages, heph(1) and hephd(8), generated from the command table and hephd's flags (and the README's, cli_man_readme.go), as roff (make man) and as text (heph help TOPIC).

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// manCommands are heph help and the hidden heph __man.
func manCommands() []*command {
	return []*command{
		{name: "help", args: "[COMMAND | TOPIC]", summary: "show a command's usage, or a manual page as text (topics: " + strings.Join(manTopics(), ", ") + ")",
			example: "heph help hephd", subs: manTopics(), run: cmdHelp},
		{name: "__man", args: "DIR", summary: "write the manual pages (roff) into DIR (make man)",
			example: "heph __man man", hidden: true, run: cmdWriteMan},
	}
}

// manBlock is one block of a page: a paragraph, a tagged paragraph (an
// option: tag, then its text indented), or an example (kept verbatim).
type manBlock struct {
	kind string // "p", "tp" or "ex"
	tag  string
	text string
}

// manSection is a page section; sub names a subsection.
type manSection struct {
	name   string
	sub    string
	blocks []manBlock
}

// manPage is one manual page.
type manPage struct {
	name, section, summary string
	sections               []manSection
}

func para(text string) manBlock        { return manBlock{kind: "p", text: text} }
func tagged(tag, text string) manBlock { return manBlock{kind: "tp", tag: tag, text: text} }
func example(text string) manBlock     { return manBlock{kind: "ex", text: text} }

// manPages are every page heph ships, by topic name.
func manPages() map[string]*manPage {
	return map[string]*manPage{"heph": hephManPage(), "hephd": hephdManPage(),
		"filters": filtersManPage(readmeText), "quickadd": quickaddManPage(readmeText)}
}

// manTopics are the names heph help accepts besides verbs.
func manTopics() []string { return []string{"heph", "hephd", "filters", "quickadd"} }

// flagBlocks documents a flag set's flags, one tagged paragraph each.
func flagBlocks(fs *flag.FlagSet) []manBlock {
	var out []manBlock
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			name = "" // a bool flag takes no value, whatever its usage quotes
		}
		tag := flagWord(f.Name)
		if name != "" {
			tag += " " + strings.ToUpper(name)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			usage += " (default " + f.DefValue + ")"
		}
		out = append(out, tagged(tag, usage))
	})
	return out
}

// hephManPage is heph(1): every verb of the command table, its usage,
// summary, example and flags.
func hephManPage() *manPage {
	p := &manPage{name: "heph", section: "1", summary: "tasks and notes in one store, kept by the hephd daemon"}
	p.sections = append(p.sections,
		manSection{name: "SYNOPSIS", blocks: []manBlock{para("heph [--json] [--socket PATH] [--color auto|always|never] [--no-pager] COMMAND [ARGS]"), para("heph help [COMMAND | TOPIC]")}},
		manSection{name: "DESCRIPTION", blocks: []manBlock{
			para("heph keeps one person's tasks and notes in one SQLite store. The daemon, hephd(8), alone owns the store; heph is a thin client that talks to it over a unix socket and never starts it. Every command takes --json for machine output (documented in docs/protocol.md) and -h for its usage and an example."),
			para("Ids: every task and doc has a short, stable handle (such as 0swa); any unambiguous prefix of a handle or full id works. Dates: now, today, tomorrow, yesterday, +3d, +2w, +1m, in 3d, 3d ago, +2h, +30min, a weekday (fri), a day and a time (tomorrow 9:00), YYYY-MM-DD, YYYY-MM-DD HH:MM, RFC 3339, none (clears)."),
		}})
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		s := manSection{name: "COMMANDS", sub: verbSub(cmd)}
		s.blocks = append(s.blocks, para(cmd.summary))
		if cmd.example != "" {
			s.blocks = append(s.blocks, example(cmd.example))
		}
		if cmd.flags != nil {
			fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
			cmd.flags(fs)
			s.blocks = append(s.blocks, flagBlocks(fs)...)
		}
		p.sections = append(p.sections, s)
	}
	global := flag.NewFlagSet("heph", flag.ContinueOnError)
	(&cli{color: "auto"}).globalFlags(global)
	p.sections = append(p.sections,
		manSection{name: "GLOBAL OPTIONS", blocks: append([]manBlock{para("Every command takes these, before or after its name.")}, flagBlocks(global)...)},
		manSection{name: "ENVIRONMENT", blocks: []manBlock{
			tagged("HEPH_SOCKET", "hephd's socket (else $XDG_RUNTIME_DIR/heph/hephd.sock, else ~/.local/share/heph/hephd.sock)."),
			tagged("HEPH_DB", "the store, for heph restore and heph doctor when hephd is down (else $XDG_DATA_HOME/heph/heph.db, else ~/.local/share/heph/heph.db)."),
			tagged("HEPH_HUB_URL", "the sync hub for heph auth and heph doctor."),
			tagged("NO_COLOR", "set to anything but the empty string: no colour unless --color always."),
			tagged("PAGER", "the pager for list, search and log on a terminal (default less -FRX; empty or cat: none). LESS defaults to FRX."),
		}},
		manSection{name: "FILES", blocks: []manBlock{
			tagged("~/.local/share/heph/heph.db", "the store (0600), owned by hephd."),
			tagged("$XDG_CONFIG_HOME/heph/hub-token.json", "hub logins (0600)."),
			tagged("~/.local/share/heph/hephd.log", "the service's log, rotated by hephd."),
		}},
		manSection{name: "EXIT STATUS", blocks: []manBlock{
			tagged("0", "success."), tagged("1", "an error (heph doctor: a check failed)."),
			tagged("2", "a usage mistake."), tagged("3", "hephd is not running."),
		}},
		manSection{name: "SEE ALSO", blocks: []manBlock{para("hephd(8), heph-filters(7), heph-quickadd(7); docs/protocol.md and docs/how-to/ in heph's source.")}},
	)
	return p
}

// hephdManPage is hephd(8): its modes, flags, signals and files.
func hephdManPage() *manPage {
	var o daemonOptions
	fs := daemonFlagSet(&o, io.Discard)
	p := &manPage{name: "hephd", section: "8", summary: "the heph daemon: owns the store, serves clients and syncs"}
	p.sections = []manSection{
		{name: "SYNOPSIS", blocks: []manBlock{para("hephd [OPTIONS]"), para("heph hephd [OPTIONS]")}},
		{name: "DESCRIPTION", blocks: []manBlock{
			para("hephd alone owns heph's SQLite store (an exclusive lock names the owner's pid to a second hephd) and answers line-delimited JSON-RPC 2.0 on a unix socket: its directory 0700, the socket 0600, and each client's uid checked. heph(1), heph.nvim and other clients connect to it; none starts it. Run it as a service with heph daemon start (a systemd user unit or a launchd agent)."),
			example(commandNamed("hephd").example),
		}},
		{name: "MODES", blocks: []manBlock{
			tagged("local", "own the store; with --hub-url also sync it with a hub (a spoke)."),
			tagged("server", "a sync hub: own the hub's store and serve its HTTP API (OIDC-authenticated) besides the socket."),
			tagged("client", "a thin client: keep no store and forward requests to the hub at --hub-url."),
		}},
		{name: "OPTIONS", blocks: flagBlocks(fs)},
		{name: "SIGNALS", blocks: []manBlock{para("SIGTERM and SIGINT shut down cleanly: stop accepting, finish requests in flight, close the store, remove the socket.")}},
		{name: "FILES", blocks: []manBlock{
			tagged("~/.local/share/heph/heph.db", "the store; heph.db.lock holds the owner's pid."),
			tagged("$XDG_RUNTIME_DIR/heph/hephd.sock", "the socket."),
		}},
		{name: "SEE ALSO", blocks: []manBlock{para("heph(1)")}},
	}
	return p
}

// roffEscape makes text safe in a roff line: backslashes, hyphens (as
// minus signs, so options copy and paste), a leading dot or quote, and
// non-ASCII characters as groff's \[uXXXX].
func roffEscape(s string) string {
	var b strings.Builder
	for i, r := range displayText(s) {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case (r == '.' || r == '\'') && i == 0:
			b.WriteString(`\&` + string(r))
		case r > 126:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roff renders the page for man(1).
func (p *manPage) roff() string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s %s \"\" \"heph\" \"heph manual\"\n", strings.ToUpper(p.name), p.section)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", p.name, roffEscape(p.summary))
	last := ""
	for _, s := range p.sections {
		if s.name != last {
			fmt.Fprintf(&b, ".SH %s\n", s.name)
			last = s.name
		}
		if s.sub != "" {
			b.WriteString(ssLine(s.sub) + "\n")
		}
		for _, bl := range s.blocks {
			switch bl.kind {
			case "p":
				fmt.Fprintf(&b, ".PP\n%s\n", roffEscape(bl.text))
			case "tp":
				fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffArg(bl.tag), roffEscape(bl.text))
			case "ex":
				fmt.Fprintf(&b, ".PP\nExample:\n.RS\n.nf\n%s\n.fi\n.RE\n", roffEscape(bl.text))
			}
		}
	}
	return b.String()
}

// text renders the page as plain text (heph help TOPIC).
func (p *manPage) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s(%s)\n\nNAME\n    %s - %s\n", strings.ToUpper(p.name), p.section, p.name, p.summary)
	last := ""
	for _, s := range p.sections {
		if s.name != last {
			fmt.Fprintf(&b, "\n%s\n", s.name)
			last = s.name
		}
		if s.sub != "" {
			fmt.Fprintf(&b, "\n  %s\n", s.sub)
		}
		for _, bl := range s.blocks {
			switch bl.kind {
			case "p":
				fmt.Fprintf(&b, "    %s\n", bl.text)
			case "tp":
				fmt.Fprintf(&b, "    %s\n        %s\n", bl.tag, bl.text)
			case "ex":
				fmt.Fprintf(&b, "    Example:\n        %s\n", bl.text)
			}
		}
	}
	return b.String()
}

// cmdHelp prints heph's usage, a verb's usage (heph help VERB is heph
// VERB -h) or a manual page as text.
func cmdHelp(c *cli, _ *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		c.printUsage(c.stdout)
		return nil
	}
	if len(args) > 1 {
		return usagef("want one command or topic, got %d", len(args))
	}
	// A topic wins: heph help hephd is hephd(8), not the verb's usage.
	page, ok := manPages()[args[0]]
	if cmd := commandNamed(args[0]); !ok && cmd != nil && !cmd.hidden && cmd.name != "help" {
		if code := c.exec(cmd, []string{"-h"}); code != exitOK {
			return quietError{code: code}
		}
		return nil
	}
	if !ok {
		return usagef("no command or topic %q: topics are %s (commands: heph -h)", args[0], strings.Join(manTopics(), ", "))
	}
	_, err := io.WriteString(c.stdout, page.text())
	return err
}

// cmdWriteMan writes every page into a directory as NAME.SECTION.
func cmdWriteMan(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "the directory to write the pages into"); err != nil {
		return err
	}
	if err := os.MkdirAll(args[0], 0o755); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	pages := manPages()
	names := make([]string, 0, len(pages))
	for n := range pages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := pages[n]
		path := filepath.Join(args[0], p.name+"."+p.section)
		if err := os.WriteFile(path, []byte(p.roff()), 0o644); err != nil {
			return fmt.Errorf("man pages: %w", err)
		}
		fmt.Fprintln(c.stdout, path)
	}
	return nil
}

// ssLine is a subsection heading line.
func ssLine(sub string) string { return ".SS \"" + roffArg(sub) + "\"" }

// roffArg is text escaped for a macro's arguments, where a double quote
// would group words: as \(dq it is only a character.
func roffArg(s string) string { return strings.ReplaceAll(roffEscape(s), `"`, `\(dq`) }

// verbSub is the subsection heading of a verb in heph(1).
func verbSub(cmd *command) string { return strings.TrimSpace("heph " + cmd.name + " " + cmd.args) }
