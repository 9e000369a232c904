// cli_completion.go owns shell completion's model of the CLI (built from the command table) and the hidden heph __complete helper that completes arguments live from hephd.

package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"
)

// completionCommands are heph completion and the hidden heph __complete.
func completionCommands() []*command {
	return []*command{
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script (see the README for installing it)",
			example: "heph completion bash > ~/.local/share/bash-completion/completions/heph", run: cmdCompletion},
		{name: "__complete", args: "KIND PREFIX", summary: "print completions of KIND (task, project, view, tag) from hephd, one per line with a tab and a description",
			example: "heph __complete project Ho", hidden: true, run: cmdComplete},
	}
}

// compFlag is one flag as completion sees it.
type compFlag struct {
	name   string
	usage  string
	value  bool     // takes a value
	values []string // fixed values offered after it
	kind   string   // "", "file", "dir" or a live kind (task, project, view, tag)
}

// compVerb is one verb as completion sees it.
type compVerb struct {
	name, summary string
	subs          []string // sub-verbs offered as the first argument
	arg           string   // what its arguments are: task, project, view, tag, file, dir or ""
	// argFirst: the first argument may be an arg as well as a sub-verb
	// (heph view: a built-in view or a saved one).
	argFirst bool
	flags    []compFlag
}

// liveKinds are the argument kinds heph __complete answers from hephd.
func liveKinds() []string { return []string{"task", "project", "view", "tag"} }

func isLiveKind(k string) bool {
	for _, l := range liveKinds() {
		if l == k {
			return true
		}
	}
	return false
}

// dateWords are the date forms offered after a date flag.
func dateWords() []string {
	return []string{"today", "tomorrow", "now", "yesterday", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "+1d", "+3d", "+1w", "+2w", "+1m", "none"}
}

// flagCompletion says what follows a flag, by the flag's name: the same
// name means the same thing on every verb.
func flagCompletion(name string) (values []string, kind string) {
	switch name {
	case "attention":
		return []string{"white", "orange", "red", "blue", "a1", "a2", "a3", "a4"}, ""
	case "state":
		return []string{"outstanding", "done", "dropped", "all"}, ""
	case "do", "late":
		return dateWords(), ""
	case "recur":
		return []string{"daily", "weekly", "monthly", "yearly", "weekdays", "none"}, ""
	case "mode":
		return []string{"local", "server", "client"}, ""
	case "color":
		return colorModes(), ""
	case "keep":
		return []string{"mine", "theirs"}, ""
	case "body":
		return []string{"-"}, ""
	case "project":
		return nil, "project"
	case "tag":
		return nil, "tag"
	case "db", "socket", "log", "token-file", "hub-ca", "tls-cert", "tls-key":
		return nil, "file"
	}
	return nil, ""
}

// flagsOf lists a flag set's flags for completion, sorted by name.
func flagsOf(fs *flag.FlagSet) []compFlag {
	var out []compFlag
	fs.VisitAll(func(f *flag.Flag) {
		bf, isBool := f.Value.(interface{ IsBoolFlag() bool })
		_, usage := flag.UnquoteUsage(f)
		cf := compFlag{name: f.Name, usage: firstLine(usage), value: !(isBool && bf.IsBoolFlag())}
		if cf.value {
			cf.values, cf.kind = flagCompletion(f.Name)
		}
		out = append(out, cf)
	})
	return out
}

// globalCompFlags are the flags every verb takes.
func globalCompFlags() []compFlag {
	fs := flag.NewFlagSet("heph", flag.ContinueOnError)
	(&cli{color: "auto"}).globalFlags(fs)
	return flagsOf(fs)
}

// completionModel is the command table as completion sees it: every verb
// that is not hidden, with its own flags (the global ones apart).
func completionModel() []compVerb {
	var verbs []compVerb
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		v := compVerb{name: cmd.name, summary: cmd.summary, subs: cmd.subs, arg: cmd.complete, argFirst: cmd.complete != ""}
		if v.subs == nil {
			v.subs = subsFromArgs(cmd.args)
		}
		if v.arg == "" {
			v.arg = argKindFromArgs(cmd.args)
		}
		if cmd.flags != nil {
			fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
			cmd.flags(fs)
			v.flags = flagsOf(fs)
		}
		verbs = append(verbs, v)
	}
	return verbs
}

// subsFromArgs reads sub-verbs from a usage such as "add|rm A B" or
// "[resolve ID --keep mine|theirs]": a first word of lower-case
// alternatives.
func subsFromArgs(args string) []string {
	first, _, _ := strings.Cut(strings.TrimSpace(args), " ")
	first = strings.Trim(first, "[]")
	if first == "" {
		return nil
	}
	for _, r := range first {
		if (r < 'a' || r > 'z') && r != '|' && r != '-' {
			return nil
		}
	}
	return strings.Split(first, "|")
}

// argKindFromArgs reads what a verb's arguments are from its usage's
// placeholders: ID (a task or doc), FILE, DIR.
func argKindFromArgs(args string) string {
	for _, w := range strings.Fields(args) {
		switch strings.Trim(w, "[]") {
		case "ID", "ID…", "A", "B":
			return "task"
		case "FILE", "FILE|-":
			return "file"
		case "DIR":
			return "dir"
		}
	}
	return ""
}

func cmdCompletion(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "a shell: bash, zsh or fish"); err != nil {
		return err
	}
	var script string
	switch args[0] {
	case "bash":
		script = bashCompletion(completionModel(), globalCompFlags())
	case "zsh":
		script = zshCompletion(completionModel(), globalCompFlags())
	case "fish":
		script = fishCompletion(completionModel(), globalCompFlags())
	default:
		return usagef("unknown shell %q: want bash, zsh or fish", args[0])
	}
	_, err := fmt.Fprint(c.stdout, script)
	return err
}

// completeTimeout bounds a live completion: a shell waits on it.
const completeTimeout = 2 * time.Second

// cmdComplete prints live completions of a kind. It never fails and never
// writes to stderr: when hephd is down, or lacks the method (-32601), it
// offers nothing, and the shell falls back to what it has.
func cmdComplete(c *cli, _ *flag.FlagSet, args []string) error {
	if len(args) < 1 || len(args) > 2 || !isLiveKind(args[0]) {
		return nil
	}
	prefix := ""
	if len(args) == 2 {
		prefix = args[1]
	}
	socket, err := resolveSocket(c.socket, osGetenv)
	if err != nil {
		return nil
	}
	client, err := dialDaemon(socket)
	if err != nil {
		return nil
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	items := liveCompletions(ctx, client, args[0])
	for _, it := range items {
		if strings.HasPrefix(strings.ToLower(it[0]), strings.ToLower(prefix)) {
			fmt.Fprintf(c.stdout, "%s\t%s\n", oneLine(it[0]), oneLine(it[1]))
		}
	}
	return nil
}

// oneLine keeps a completion on its line: no tabs or line breaks, no
// control characters (a title comes from anywhere).
func oneLine(s string) string { return strings.ReplaceAll(displayText(s), "\t", " ") }

// liveCompletions asks hephd for the values of kind: [value, description].
func liveCompletions(ctx context.Context, client *rpcClient, kind string) [][2]string {
	switch kind {
	case "task":
		var nodes []*Node
		if client.Call(ctx, "task.list", taskListParams{State: "outstanding"}, &nodes) != nil {
			return nil
		}
		out := make([][2]string, 0, len(nodes))
		for _, n := range nodes {
			out = append(out, [2]string{n.Handle, n.Title})
		}
		return out
	case "project":
		return liveProjects(ctx, client)
	case "view":
		var views []viewInfo
		if client.Call(ctx, "view.list", noParams{}, &views) != nil {
			return nil
		}
		out := make([][2]string, 0, len(views))
		for _, v := range views {
			out = append(out, [2]string{v.Name, fmt.Sprintf("%d task(s)", v.Count)})
		}
		return out
	case "tag":
		return tagsOfTasks(ctx, client)
	}
	return nil
}

// liveProjects are hephd's live projects by path, with their
// outstanding counts (project.list).
func liveProjects(ctx context.Context, client *rpcClient) [][2]string {
	var projects []projectInfo
	if client.Call(ctx, "project.list", projectListParams{}, &projects) != nil {
		return nil
	}
	out := make([][2]string, 0, len(projects))
	for _, p := range projects {
		out = append(out, [2]string{p.Path, fmt.Sprintf("%d outstanding", p.Outstanding)})
	}
	return out
}

// tagsOfTasks are the tags of outstanding tasks, with how many carry each.
func tagsOfTasks(ctx context.Context, client *rpcClient) [][2]string {
	var nodes []*Node
	if client.Call(ctx, "task.list", taskListParams{State: "outstanding"}, &nodes) != nil {
		return nil
	}
	count := map[string]int{}
	for _, n := range nodes {
		if n.Task != nil {
			for _, t := range n.Task.Tags {
				count[t]++
			}
		}
	}
	return countedItems(count, "task(s)")
}

func countedItems(count map[string]int, what string) [][2]string {
	out := make([][2]string, 0, len(count))
	for k, n := range count {
		out = append(out, [2]string{k, fmt.Sprintf("%d %s", n, what)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
