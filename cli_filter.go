// cli_filter.go owns the CLI side of filters, saved views, projects and bulk changes (issue 14).

package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// protectDashTerms hides filter terms that look like flags ("-errand":
// a tag to exclude) from the flag parser: an argument that starts with
// one "-" and names no flag of fs becomes a placeholder, which restore
// turns back into the term. Order is kept.
func protectDashTerms(fs *flag.FlagSet, args []string) ([]string, func([]string) []string) {
	held := map[string]string{}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if i > 0 && takesValue(fs, args[i-1]) {
			continue // the value of the flag before it
		}
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && !strings.Contains(a, "=") && fs.Lookup(a[1:]) == nil && a != "-h" && a != "-help" {
			key := "\x00term" + strconv.Itoa(i)
			held[key] = a
			out[i] = key
		}
	}
	return out, func(pos []string) []string {
		for i, p := range pos {
			if a, ok := held[p]; ok {
				pos[i] = a
			}
		}
		return pos
	}
}

// filterFromArgs joins filter terms given as arguments; a term with
// spaces (one shell argument) is quoted so it stays one term.
func filterFromArgs(args []string) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if strings.ContainsFunc(a, unicode.IsSpace) && !strings.Contains(a, `"`) {
			if k, v, ok := strings.Cut(a, ":"); ok && !strings.ContainsFunc(k, unicode.IsSpace) {
				a = k + `:"` + v + `"`
			} else {
				a = `"` + a + `"`
			}
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// projectCommands are the verbs of projects and saved views.
func projectCommands() []*command {
	return []*command{
		{name: "project", example: "heph project add Home/Garden", args: "add NAME [--parent P] | list [--archived] | show P | rename P NAME | mv P --parent Q|none | archive P | unarchive P | rm P [--move-to Q | --clear]",
			summary: "manage projects (a tree; tasks reference them by id)", flags: func(fs *flag.FlagSet) {
				fs.String("parent", "", "parent `project` (name, path, handle or id; none: the top)")
				fs.Bool("archived", false, "list: include archived projects")
				fs.String("move-to", "", "rm: move its tasks to `project`")
				fs.Bool("clear", false, "rm: leave its tasks without a project")
			}, run: cmdProject},
	}
}

func cmdProject(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef("project needs a verb: add, list, show, rename, mv, archive, unarchive or rm")
	}
	verb, rest := args[0], args[1:]
	one := func() error { return wantArgs(rest, 1, "one project (name, path, handle or id)") }
	var res projectDetail
	var err error
	switch verb {
	case "list", "ls":
		if err := wantArgs(rest, 0, "no arguments"); err != nil {
			return err
		}
		return c.projectList(flagStr(fs, "archived") == "true")
	case "add":
		if err := wantArgs(rest, 1, "one NAME (or a path such as Home/Garden)"); err != nil {
			return err
		}
		err = c.call("project.add", projectAddParams{Name: rest[0], Parent: flagStr(fs, "parent")}, &res)
	case "show":
		if err := one(); err != nil {
			return err
		}
		err = c.call("project.get", idParams{ID: rest[0]}, &res)
	case "rename":
		if err := wantArgs(rest, 2, "a project and its new NAME"); err != nil {
			return err
		}
		err = c.call("project.rename", projectRenameParams{ID: rest[0], Name: rest[1]}, &res)
	case "mv", "move":
		if err := one(); err != nil {
			return err
		}
		if !flagSet(fs, "parent") {
			return usagef("project mv needs --parent P (none: move it to the top)")
		}
		err = c.call("project.move", projectMoveParams{ID: rest[0], Parent: flagStr(fs, "parent")}, &res)
	case "archive", "unarchive":
		if err := one(); err != nil {
			return err
		}
		a := verb == "archive"
		err = c.call("project.archive", projectArchiveParams{ID: rest[0], Archived: &a}, &res)
	case "rm":
		if err := one(); err != nil {
			return err
		}
		err = c.call("project.rm", projectRmParams{ID: rest[0], MoveTo: flagStr(fs, "move-to"), Clear: flagStr(fs, "clear") == "true"}, &res)
	default:
		return usagef("unknown project verb %q: want add, list, show, rename, mv, archive, unarchive or rm", verb)
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res)
	}
	return c.showProject(verb, &res)
}

// showProject prints a project after a verb.
func (c *cli) showProject(verb string, p *projectDetail) error {
	switch verb {
	case "show":
	case "rm":
		fmt.Fprintf(c.stdout, "removed project %s  %s\n", p.Handle, displayText(p.Path))
		return nil
	default:
		fmt.Fprintf(c.stdout, "%s  %s\n", p.Handle, displayText(p.Path))
		return nil
	}
	state := ""
	if p.Archived {
		state = " (archived)"
	}
	fmt.Fprintf(c.stdout, "%s  %s%s\n%d outstanding, %d late\n", p.Handle, displayText(p.Path), state, p.Outstanding, p.Late)
	for _, ch := range p.Children {
		fmt.Fprintf(c.stdout, "  %s  %s  %d outstanding, %d late\n", ch.Handle, displayText(ch.Title), ch.Outstanding, ch.Late)
	}
	if strings.TrimSpace(p.Body) != "" {
		fmt.Fprintf(c.stdout, "\n%s\n", displayText(strings.TrimRight(p.Body, "\n")))
	}
	return nil
}

// projectList prints the project tree with counts.
func (c *cli) projectList(archived bool) error {
	var list []projectInfo
	if err := c.call("project.list", projectListParams{Archived: archived}, &list); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No projects. Add one with heph project add NAME.")
		return nil
	}
	tb := &table{color: useColor(c.stdout, osGetenv)}
	for _, p := range list {
		name := strings.Repeat("  ", strings.Count(p.Path, "/")) + p.Title
		if p.Archived {
			name += " (archived)"
		}
		late := cell{text: ""}
		if p.Late > 0 {
			late = cell{text: fmt.Sprintf("%d late", p.Late), color: colorRed}
		}
		tb.add(cell{text: p.Handle, color: colorDim}, cell{text: name}, cell{text: fmt.Sprintf("%d outstanding", p.Outstanding)}, late)
	}
	return tb.write(c.stdout)
}

// cmdViewVerb is heph view: list views, run one, save or remove one.
func cmdViewVerb(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return c.viewList()
	}
	switch args[0] {
	case "save":
		if len(args) < 3 {
			return usagef("view save needs a NAME and a FILTER (heph view save errands +errand project:Home)")
		}
		var n Node
		p := viewSaveParams{Name: args[1], Filter: filterFromArgs(args[2:]), Sort: flagStr(fs, "sort")}
		if err := c.call("view.save", p, &n); err != nil {
			return err
		}
		if c.json {
			return c.printJSON(n)
		}
		fmt.Fprintf(c.stdout, "saved view %s: %s\n", displayText(n.Title), displayText(n.View.Filter))
		return nil
	case "rm":
		if err := wantArgs(args[1:], 1, "one view NAME"); err != nil {
			return err
		}
		var n Node
		if err := c.call("view.rm", viewRmParams{Name: args[1]}, &n); err != nil {
			return err
		}
		if c.json {
			return c.printJSON(n)
		}
		fmt.Fprintf(c.stdout, "removed view %s\n", displayText(n.Title))
		return nil
	}
	p := taskViewParams{Name: args[0], Filter: filterFromArgs(args[1:])}
	if flagSet(fs, "days") {
		d, _ := strconv.Atoi(flagStr(fs, "days"))
		p.Days = &d
	}
	p.Project, p.Tag = flagStr(fs, "project"), flagStr(fs, "tag")
	nodes, rows, err := c.callListing("task.view", &p, &p.Brief)
	if err != nil || c.json {
		return c.printedJSON(nodes, err)
	}
	if len(rows) == 0 {
		line := "Nothing in view " + displayText(args[0])
		if b := findBuiltinView(args[0]); b != nil {
			line = b.about
			if b.name == "ondeck" || b.name == "upcoming" || b.name == "late" {
				line = emptyViewLine(b.name, p.Days)
			}
		}
		fmt.Fprintln(c.stdout, line+filterText(fs)+".")
		return nil
	}
	return c.printRows(rows)
}

// viewList prints built-in and saved views with their counts.
func (c *cli) viewList() error {
	var list []viewInfo
	if err := c.call("view.list", noParams{}, &list); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(list)
	}
	tb := &table{color: useColor(c.stdout, osGetenv)}
	for _, v := range list {
		kind := "saved"
		if v.Builtin {
			kind = "built-in"
		}
		count := strconv.Itoa(v.Count)
		if v.Count < 0 {
			count = "error"
		}
		tb.add(cell{text: displayText(v.Name)}, cell{text: count}, cell{text: kind, color: colorDim}, cell{text: displayText(v.Filter)}, cell{text: "sort " + v.Sort, color: colorDim})
	}
	return tb.write(c.stdout)
}

// bulkFlags are the flags of done, drop, rm and edit on several tasks.
func bulkFlags(fs *flag.FlagSet) {
	fs.String("filter", "", "act on every task this `filter` matches (see heph list)")
	fs.Bool("yes", false, "do not ask for confirmation")
}

// bulkTargets returns the task ids a bulk verb acts on: its ids, or the
// tasks --filter matches after the user confirms their count. ok=false
// means the user declined.
func (c *cli) bulkTargets(fs *flag.FlagSet, ids []string, verb string) (targets []string, ok bool, err error) {
	filter := flagStr(fs, "filter")
	if filter == "" {
		return ids, true, nil
	}
	if len(ids) > 0 {
		return nil, false, usagef("give ids or --filter, not both")
	}
	var nodes []*Node
	if err := c.call("task.list", taskListParams{Filter: filter}, &nodes); err != nil {
		return nil, false, err
	}
	if len(nodes) == 0 {
		fmt.Fprintln(c.stderr, "No tasks match the filter.")
		return nil, false, nil
	}
	for _, n := range nodes {
		targets = append(targets, n.ID)
	}
	if flagStr(fs, "yes") == "true" {
		return targets, true, nil
	}
	fmt.Fprintf(c.stderr, "%s %d tasks", verb, len(nodes))
	for i, n := range nodes {
		if i == 5 {
			fmt.Fprintf(c.stderr, ", …")
			break
		}
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(c.stderr, "%s%s %s", sep, n.Handle, displayText(n.Title))
	}
	fmt.Fprintf(c.stderr, ")? [y/N] ")
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fmt.Fprintln(c.stderr, "Nothing changed.")
		return nil, false, nil
	}
	return targets, true, nil
}

// runBulk calls task.bulk and prints one line per task.
func (c *cli) runBulk(action, past string, ids []string, edit *taskEditParams) error {
	p := taskBulkParams{Action: action, IDs: ids}
	if edit != nil {
		b, err := json.Marshal(edit)
		if err != nil {
			return fmt.Errorf("encode edit: %w", err)
		}
		p.Edit = b
	}
	var res bulkResult
	if err := c.call("task.bulk", p, &res); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res)
	}
	for _, n := range res.Nodes {
		fmt.Fprintf(c.stdout, "%s %s  %s\n", past, n.Handle, displayText(n.Title))
	}
	fmt.Fprintf(c.stdout, "%s %d tasks (heph undo reverts them all)\n", past, res.Count)
	return nil
}

// bulkVerb wraps a one-id verb: several ids or --filter go through
// task.bulk (one write, one undo step).
func bulkVerb(action, past string, single func(c *cli, fs *flag.FlagSet, args []string) error) func(c *cli, fs *flag.FlagSet, args []string) error {
	return func(c *cli, fs *flag.FlagSet, args []string) error {
		if len(args) == 1 && flagStr(fs, "filter") == "" {
			return single(c, fs, args)
		}
		if len(args) == 0 && flagStr(fs, "filter") == "" {
			return usagef("give one ID or more, or --filter FILTER")
		}
		ids, ok, err := c.bulkTargets(fs, args, action)
		if err != nil || !ok {
			return err
		}
		return c.runBulk(action, past, ids, nil)
	}
}

// takesValue says whether arg is a flag of fs that takes the next
// argument as its value (a non-boolean flag without "=").
func takesValue(fs *flag.FlagSet, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if name == arg || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}
