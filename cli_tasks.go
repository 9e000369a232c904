// The task and doc verbs of heph: task, edit, done, skip, drop, rm, next, list, view, show, log, context, doc, get, undo.

package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The task and doc verbs of heph. Each one is a single RPC (docs/protocol.md,
// "Tasks and docs"); --json prints the method's result as is.

// taskCommands are the verbs on tasks and docs.
func taskCommands() []*command {
	return []*command{
		{name: "task", example: `heph task "Fix the sink" --do fri --attention red --project Home/Repairs --tag plumbing`, args: `"Title" [--do D] [--late D] [--attention A] [--recur R] [--recur-after-done] [--project P] [--tag T]...`,
			summary: "add a task; prints its id", flags: taskFlags, run: cmdTask},
		{name: "next", example: "heph next --why --project Home", args: "[FILTER…] [--limit N] [--project P] [--tag T] [--why]", summary: "what to do next", flags: func(fs *flag.FlagSet) {
			fs.Int("limit", defaultNextLimit, "show at most `N` tasks (0: all)")
			filterFlags(fs)
			fs.Bool("why", false, "show which rule placed each task")
		}, run: cmdNext, filterArgs: true},
		{name: "list", example: "heph list project:Home +errand --sort do", args: "[FILTER…] [--state S] [--project P] [--tag T] [--sort next|do|late|created|title]", summary: "list tasks matching a filter (project:P +tag attention:red …), oldest first", pages: true, flags: func(fs *flag.FlagSet) {
			fs.String("state", "", "`state`: outstanding (default), done, dropped or all")
			fs.String("sort", "created", "order: `next`, do, late, created or title")
			filterFlags(fs)
		}, run: cmdList, filterArgs: true},
		{name: "show", example: "heph show 0swa", args: "ID", summary: "show a task (with its checklist) or a doc", run: cmdShow},
		{name: "edit", example: "heph edit 0swa --do tomorrow --tag +urgent --tag -someday", args: "ID [--title T] [--do D] [--late D] [--attention A] [--recur R] [--recur-after-done] [--project P] [--tag +x|-x]...",
			summary: "change a task (none clears a date, the recurrence or the project)", flags: func(fs *flag.FlagSet) {
				fs.String("title", "", "new `title`")
				taskFlags(fs)
				bulkFlags(fs)
			}, run: cmdEdit},
		{name: "done", example: "heph done 0swa 7kq2", args: "ID… | --filter F [--yes]", summary: "complete tasks (a recurring one moves to its next occurrence)", flags: bulkFlags, run: bulkVerb("done", "done", finishVerb("task.done", "done"))},
		{name: "skip", example: "heph skip 0swa", args: "ID", summary: "move a recurring task to its next occurrence without doing it", run: finishVerb("task.skip", "skipped")},
		{name: "drop", example: "heph drop 0swa", args: "ID… | --filter F [--yes]", summary: "drop tasks (ends a recurring series)", flags: bulkFlags, run: bulkVerb("drop", "dropped", finishVerb("task.drop", "dropped"))},
		{name: "rm", example: "heph rm 0swa", args: "ID… | --filter F [--yes]", summary: "remove tasks (with their context and log) or a doc", flags: bulkFlags, run: bulkVerb("rm", "removed", finishVerb("node.rm", "removed"))},
		{name: "log", example: `heph log 0swa "called the plumber"`, args: "ID [TEXT]", summary: "append TEXT to a task's log, or print the log", pages: true, run: cmdLog},
		{name: "context", example: `heph context 0swa --append "- [ ] buy a washer"`, args: "ID [--append TEXT | --check N | --uncheck N | --body -]", summary: "print or edit a task's context doc", flags: func(fs *flag.FlagSet) {
			fs.String("append", "", "append a line of `text`")
			fs.Int("check", 0, "check checklist item `N` (from 1)")
			fs.Int("uncheck", 0, "uncheck checklist item `N` (from 1)")
			fs.String("body", "", "replace the body with standard input (give `-`)")
		}, run: cmdContext},
		{name: "doc", example: `heph doc "Plumbing notes" --body - < notes.md`, args: `"Title" [--body -]`, summary: "add a doc; prints its id", flags: func(fs *flag.FlagSet) {
			fs.String("body", "", "read the body from standard input (give `-`)")
		}, run: cmdDoc},
		{name: "get", example: "heph get 7kq2 > notes.md", args: "ID", summary: "print a node's body as is", run: cmdGet},
		{name: "view", complete: "view", example: "heph view upcoming --days 14", args: "[NAME [FILTER…]] | save NAME FILTER… [--sort S] | rm NAME", summary: "list views with counts, run one (next, ondeck, upcoming, late, agenda or saved), save or remove one", flags: func(fs *flag.FlagSet) {
			fs.Int("days", defaultUpcomingDays, "upcoming: look `N` days ahead")
			fs.String("sort", "", "save: order `next`, do, late, created or title")
			filterFlags(fs)
		}, run: cmdViewVerb, filterArgs: true},
		{name: "undo", example: "heph undo 2", args: "[N]", summary: "revert the last N (default 1) changes made here", run: cmdUndo},
	}
}

func taskFlags(fs *flag.FlagSet) {
	fs.String("do", "", "`date` it becomes a candidate for next (none clears)")
	fs.String("late", "", "`date` after which it is late (none clears)")
	fs.String("attention", "", "`level`: white, orange, red, blue (a1..a4)")
	fs.String("recur", "", "`rule`: daily, weekly, monthly, yearly, weekdays, every N days, every mon,wed or an RRULE (none clears)")
	fs.Bool("recur-after-done", false, "count the next occurrence from completion")
	fs.String("project", "", "`path` such as Home/Repairs (none clears)")
	fs.Var(&stringList{}, "tag", "`tag` (repeatable; edit: +x adds, -x removes)")
}

func filterFlags(fs *flag.FlagSet) {
	fs.String("project", "", "only this `project` and its sub-projects")
	fs.String("tag", "", "only tasks with this `tag`")
}

// flagStr is a string flag's value.
func flagStr(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

// flagSet reports whether a flag was given.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func cmdTask(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef(`want a title: heph task "Title"`)
	}
	p := taskCreateParams{Title: strings.Join(args, " "), Do: flagStr(fs, "do"), Late: flagStr(fs, "late"),
		Attention: flagStr(fs, "attention"), Recur: flagStr(fs, "recur"), Project: flagStr(fs, "project"),
		RecurAfterDone: flagStr(fs, "recur-after-done") == "true"}
	if tags := *fs.Lookup("tag").Value.(*stringList); len(tags) > 0 {
		p.Tags = []string(tags)
	}
	return c.createAndPrintHandle("task.create", p)
}

func cmdEdit(c *cli, fs *flag.FlagSet, args []string) error {
	bulk := len(args) > 1 || flagStr(fs, "filter") != ""
	if !bulk {
		if err := wantArgs(args, 1, "one ID (or several, or --filter F)"); err != nil {
			return err
		}
	}
	p := taskEditParams{Title: flagPtr(fs, "title"), Do: flagPtr(fs, "do"), Late: flagPtr(fs, "late"),
		Attention: flagPtr(fs, "attention"), Recur: flagPtr(fs, "recur"), Project: flagPtr(fs, "project")}
	if !bulk {
		p.ID = args[0]
	}
	if flagSet(fs, "recur-after-done") {
		v := flagStr(fs, "recur-after-done") == "true"
		p.RecurAfterDone = &v
	}
	for _, t := range *fs.Lookup("tag").Value.(*stringList) {
		if r, ok := strings.CutPrefix(t, "-"); ok {
			p.TagsRemove = append(p.TagsRemove, r)
		} else {
			p.TagsAdd = append(p.TagsAdd, t)
		}
	}
	if !p.changes() {
		return usagef("nothing to change: give --title, --do, --late, --attention, --recur, --recur-after-done, --project or --tag")
	}
	if bulk {
		ids, ok, err := c.bulkTargets(fs, args, "edit")
		if err != nil || !ok {
			return err
		}
		return c.runBulk("edit", "edited", ids, &p)
	}
	var n Node
	if done, err := c.callJSON("task.edit", p, &n); done {
		return err
	}
	return c.printTasks([]*Node{&n})
}

// finishVerb is done, skip, drop and rm: one id, one method.
func finishVerb(method, past string) func(c *cli, fs *flag.FlagSet, args []string) error {
	return func(c *cli, _ *flag.FlagSet, args []string) error {
		if err := wantArgs(args, 1, "one ID"); err != nil {
			return err
		}
		var n Node
		if done, err := c.callJSON(method, idParams{ID: args[0]}, &n); done {
			return err
		}
		line := fmt.Sprintf("%s %s  %s", past, n.Handle, displayText(n.Title))
		if t := n.Task; t != nil && t.State == "outstanding" && t.Recur != "" && method != "node.rm" {
			switch {
			case t.Do != nil:
				line += "; next " + relativeAndDate(*t.Do, formatRelative(*t.Do, time.Now()))
			case t.Late != nil:
				line += "; next late " + relativeAndDate(*t.Late, formatRelative(*t.Late, time.Now()))
			}
		}
		fmt.Fprintln(c.stdout, line)
		return nil
	}
}

func cmdNext(c *cli, fs *flag.FlagSet, args []string) error {
	limit, _ := strconv.Atoi(flagStr(fs, "limit"))
	p := nextParams{Limit: &limit, Project: flagStr(fs, "project"), Tag: flagStr(fs, "tag"), Filter: filterFromArgs(args)}
	var res nextResult
	if done, err := c.callJSON("task.next", p, &res); done {
		return err
	}
	if len(res.Tasks) == 0 {
		fmt.Fprintln(c.stdout, "Nothing is next"+filterText(fs)+".")
		return nil
	}
	now := time.Now()
	why := flagStr(fs, "why") == "true"
	return c.newTable().writeRows(c.stdout, len(res.Tasks), func(i int, buf []cell) []cell {
		row := rowOf(res.Tasks[i].Node)
		buf = taskCells(buf, &row, now)
		if why {
			buf = append(buf, cell{text: "(" + res.Tasks[i].Why + ")", color: colorDim})
		}
		return buf
	})
}

// flagPtr is a string flag's value when it was given, else nil.
func flagPtr(fs *flag.FlagSet, name string) *string {
	if !flagSet(fs, name) {
		return nil
	}
	v := flagStr(fs, name)
	return &v
}

// printTasks prints nodes as aligned rows.
func (c *cli) printTasks(nodes []*Node) error { return c.printRows(rowsOf(nodes)) }

// printRows prints task rows, aligned.
func (c *cli) printRows(rows []taskRow) error {
	now := time.Now()
	return c.newTable().writeRows(c.stdout, len(rows), func(i int, buf []cell) []cell {
		return taskCells(buf, &rows[i], now)
	})
}

func cmdList(c *cli, fs *flag.FlagSet, args []string) error {
	p := taskListParams{State: flagStr(fs, "state"), Project: flagStr(fs, "project"), Tag: flagStr(fs, "tag"),
		Filter: filterFromArgs(args), Sort: flagStr(fs, "sort")}
	nodes, rows, err := c.callListing("task.list", &p, &p.Brief)
	if err != nil || c.json {
		return c.printedJSON(nodes, err)
	}
	if len(rows) == 0 {
		state := flagStr(fs, "state")
		switch {
		case state == "all":
			state = ""
		case state == "" && len(args) > 0:
			state = "matching "
		case state == "":
			state = "outstanding "
		default:
			state += " "
		}
		fmt.Fprintln(c.stdout, "No "+state+"tasks"+filterText(fs)+".")
		return nil
	}
	return c.printRows(rows)
}

// filterText describes the --project and --tag filters for a line saying
// nothing matched: " in project Home, tagged errand".
func filterText(fs *flag.FlagSet) string {
	var parts []string
	if p := flagStr(fs, "project"); p != "" {
		parts = append(parts, "in project "+displayText(p))
	}
	if t := flagStr(fs, "tag"); t != "" {
		parts = append(parts, "tagged "+displayText(t))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, ", ")
}

// emptyViewLine says that a view has nothing in it.
func emptyViewLine(view string, days *int) string {
	switch view {
	case "ondeck":
		return "Nothing is on deck"
	case "upcoming":
		n := defaultUpcomingDays
		if days != nil {
			n = *days
		}
		if n == 1 {
			return "Nothing is upcoming in the next day"
		}
		return fmt.Sprintf("Nothing is upcoming in the next %d days", n)
	}
	return "Nothing is late"
}

func cmdShow(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "one ID"); err != nil {
		return err
	}
	var n Node
	if done, err := c.callJSON("node.get", idParams{ID: args[0]}, &n); done {
		return err
	}
	return c.showNode(&n)
}

// showNode prints a node's fields, then (for a task) its context and log.
func (c *cli) showNode(n *Node) error {
	w := c.stdout
	now := time.Now()
	fmt.Fprintf(w, "%s  %s\n", n.Handle, displayText(n.Title))
	tb := &table{}
	tb.add(cell{text: "id"}, cell{text: n.ID})
	tb.add(cell{text: "kind"}, cell{text: n.Kind})
	if n.Deleted != nil {
		tb.add(cell{text: "removed"}, cell{text: n.Deleted.Local().Format("2006-01-02 15:04")})
	}
	if t := n.Task; t != nil {
		tb.add(cell{text: "state"}, cell{text: t.State})
		tb.add(cell{text: "attention"}, cell{text: t.Attention})
		if t.Do != nil {
			tb.add(cell{text: "do"}, cell{text: dateAndRelative(*t.Do, formatRelative(*t.Do, now))})
		}
		if t.Late != nil {
			rel := formatLate(*t.Late, now)
			if rel == "" {
				rel = formatRelative(*t.Late, now)
			}
			tb.add(cell{text: "late"}, cell{text: dateAndRelative(*t.Late, rel)})
		}
		if t.Recur != "" {
			r := t.Recur
			if t.RecurAfterDone {
				r += " (after done)"
			}
			tb.add(cell{text: "recur"}, cell{text: r})
		}
		if t.Project != "" {
			tb.add(cell{text: "project"}, cell{text: t.Project})
		}
		if len(t.Tags) > 0 {
			tb.add(cell{text: "tags"}, cell{text: strings.Join(t.Tags, " ")})
		}
	}
	tb.add(cell{text: "created"}, cell{text: n.Created.Local().Format("2006-01-02 15:04")})
	tb.add(cell{text: "updated"}, cell{text: n.Updated.Local().Format("2006-01-02 15:04")})
	if err := tb.write(w); err != nil {
		return err
	}
	if n.Body != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(n.Body, "\n"))
	}
	if n.Task == nil || n.Deleted != nil {
		return nil
	}
	c.printCompanion(w, "context.get", "Context", n.ID)
	c.printCompanion(w, "log.get", "Log", n.ID)
	return nil
}

// printCompanion prints a task's context or log doc (fetched with
// method) under label, when it has a body.
func (c *cli) printCompanion(w io.Writer, method, label, id string) {
	var d Node
	if err := c.call(method, idParams{ID: id}, &d); err != nil {
		return // a companion not synced yet: show the rest
	}
	if strings.TrimSpace(d.Body) != "" {
		fmt.Fprintf(w, "\n%s (%s):\n%s\n", label, d.Handle, strings.TrimRight(d.Body, "\n"))
	}
}

func cmdLog(c *cli, _ *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef("want an ID (and text to append): heph log ID [TEXT]")
	}
	var d Node
	if len(args) == 1 {
		if done, err := c.callJSON("log.get", idParams{ID: args[0]}, &d); done {
			return err
		}
		_, err := io.WriteString(c.stdout, d.Body)
		return err
	}
	text := strings.Join(args[1:], " ")
	if strings.TrimSpace(text) == "" {
		return usagef("want text to log: heph log ID TEXT (heph log ID prints the log)")
	}
	if done, err := c.callJSON("log.append", logAppendParams{ID: args[0], Text: text}, &d); done {
		return err
	}
	fmt.Fprintf(c.stdout, "logged to %s (%s)\n", d.Handle, displayText(d.Title))
	return nil
}

func cmdContext(c *cli, fs *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "one ID"); err != nil {
		return err
	}
	p := contextEditParams{ID: args[0], Append: flagPtr(fs, "append")}
	changes := 0
	for _, name := range []string{"append", "check", "uncheck", "body"} {
		if !flagSet(fs, name) {
			continue
		}
		changes++
		switch name {
		case "check", "uncheck":
			n, _ := strconv.Atoi(flagStr(fs, name))
			if name == "check" {
				p.Check = &n
			} else {
				p.Uncheck = &n
			}
		case "body":
			body, err := readStdinFlag(c, "body", flagStr(fs, "body"))
			if err != nil {
				return err
			}
			p.Body = &body
		}
	}
	if changes > 1 {
		return usagef("give one of --append, --check, --uncheck or --body")
	}
	var d Node
	var err error
	if changes == 0 {
		err = c.call("context.get", idParams{ID: p.ID}, &d)
	} else {
		err = c.call("context.edit", p, &d)
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(d)
	}
	_, err = io.WriteString(c.stdout, d.Body)
	return err
}

// readStdinFlag reads standard input for a flag whose value must be "-".
func readStdinFlag(c *cli, name, v string) (string, error) {
	if v != "-" {
		return "", usagef("--%s takes - (read standard input), not %q", name, v)
	}
	b, err := io.ReadAll(c.stdin)
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	return string(b), nil
}

func cmdDoc(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef(`want a title: heph doc "Title" [--body -]`)
	}
	p := docCreateParams{Title: strings.Join(args, " ")}
	if flagSet(fs, "body") {
		body, err := readStdinFlag(c, "body", flagStr(fs, "body"))
		if err != nil {
			return err
		}
		p.Body = body
	}
	return c.createAndPrintHandle("doc.create", p)
}

func cmdGet(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "one ID"); err != nil {
		return err
	}
	var n Node
	if done, err := c.callJSON("node.get", idParams{ID: args[0]}, &n); done {
		return err
	}
	_, err := io.WriteString(c.stdout, n.Body)
	return err
}

func cmdUndo(c *cli, _ *flag.FlagSet, args []string) error {
	var p undoParams
	switch len(args) {
	case 0:
	case 1:
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			return usagef("want a count of changes to undo (1 or more), not %q", args[0])
		}
		p.N = &n
	default:
		return usagef("want at most one argument: heph undo [N]")
	}
	var res undoResult
	if done, err := c.callJSON("store.undo", p, &res); done {
		return err
	}
	for _, r := range res.Reverted {
		fmt.Fprintf(c.stdout, "undid: %s  %s\n", displayText(r.Title), displayText(r.Summary))
	}
	return nil
}

// dateAndRelative is "2026-12-01 (in 5d)", or the date alone when the
// relative form is that same date (a far one).
func dateAndRelative(t time.Time, rel string) string {
	if date := formatOccurrence(t); !strings.HasPrefix(date, rel) {
		return date + " (" + rel + ")"
	}
	return formatOccurrence(t)
}

// relativeAndDate is "in 5d (2026-12-01)", or the date alone when the
// relative form is that same date (a far one).
func relativeAndDate(t time.Time, rel string) string {
	if date := formatOccurrence(t); !strings.HasPrefix(date, rel) {
		return rel + " (" + date + ")"
	}
	return formatOccurrence(t)
}

// createAndPrintHandle calls a create method and prints the new node's
// handle (or, with --json, the node).
func (c *cli) createAndPrintHandle(method string, params any) error {
	var n Node
	if done, err := c.callJSON(method, params, &n); done {
		return err
	}
	_, err := fmt.Fprintln(c.stdout, n.Handle)
	return err
}
