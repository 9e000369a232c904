// The capture verbs of heph: add (quick add), today and journal (daily journals), promote.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// captureCommands are the verbs of quick add, journals and promote.
func captureCommands() []*command {
	journalFlags := func(fs *flag.FlagSet) {
		fs.String("append", "", "append a line of `text` (creates the day's journal)")
		fs.Bool("edit", false, "edit the journal in $EDITOR (saved only if nobody changed it meanwhile)")
		fs.Int("days", 7, "list: the last `N` days")
	}
	return []*command{
		{name: "add", example: `heph add "Water plants tomorrow p2 #Garden every 3 days"`, args: `TEXT... [--dry-run]`, summary: `add a task from one line: "Water plants tomorrow p2 #Garden every 3 days"`,
			flags: func(fs *flag.FlagSet) {
				fs.Bool("dry-run", false, "show how the text is read; create nothing")
			}, run: cmdAdd},
		{name: "today", example: `heph today --append "Met Bob about the roof"`, args: "[--append TEXT | --edit]", summary: "print (or write) today's journal", flags: journalFlags, run: cmdJournal},
		{name: "journal", example: "heph journal yesterday", args: "[DATE] [--append TEXT | --edit] | list [--days N]", summary: "print or write a day's journal; list recent days",
			flags: journalFlags, run: cmdJournal},
		{name: "promote", example: "heph promote 0swa 2", args: "ID N", summary: "turn checklist item N of a task's context (or of a doc) into a task linked from there",
			run: cmdPromote},
	}
}

func cmdAdd(c *cli, fs *flag.FlagSet, args []string) error {
	text := strings.Join(args, " ")
	if strings.TrimSpace(text) == "" {
		return usagef(`want the task in words: heph add "Water plants tomorrow p2 #Garden" (quote # words: the shell drops them)`)
	}
	p := quickAddParams{Text: text}
	if flagStr(fs, "dry-run") == "true" {
		var r quickAddResult
		if done, err := c.callJSON("task.parse", p, &r); done {
			return err
		}
		return c.printParse(r)
	}
	var n Node
	if done, err := c.callJSON("task.quickadd", p, &n); done {
		return err
	}
	line := n.Handle + "  " + displayText(n.Title)
	if s := taskSummary(n.Task, time.Now()); s != "" {
		line += "  (" + s + ")"
	}
	_, err := fmt.Fprintln(c.stdout, line)
	return err
}

// taskSummary says what quick add understood besides the title: "orange,
// #Home/Garden, +errand, do tomorrow (2026-11-27), every 3 days".
func taskSummary(t *Task, now time.Time) string {
	if t == nil {
		return ""
	}
	var parts []string
	if t.Attention != "" && t.Attention != "white" {
		parts = append(parts, t.Attention)
	}
	if t.Project != "" {
		parts = append(parts, "#"+displayText(t.Project))
	}
	for _, tag := range t.Tags {
		parts = append(parts, "+"+displayText(tag))
	}
	if t.Do != nil {
		parts = append(parts, "do "+relativeAndDate(*t.Do, formatRelative(*t.Do, now)))
	}
	if t.Late != nil {
		parts = append(parts, "late "+relativeAndDate(*t.Late, formatRelative(*t.Late, now)))
	}
	if t.Recur != "" {
		parts = append(parts, describeRecur(t.Recur, t.RecurAfterDone))
	}
	return strings.Join(parts, ", ")
}

// describeRecur says a stored rule in words ("every 3 days, after done").
func describeRecur(rule string, afterDone bool) string {
	s := rule
	if r, err := parseRecurrence(rule); err == nil {
		s = r.Describe()
	}
	if afterDone {
		s += ", after done"
	}
	return s
}

// printParse shows a task.parse result: each field, then how each word was
// read.
func (c *cli) printParse(r quickAddResult) error {
	now := time.Now()
	tb := &table{}
	row := func(k, v string) { tb.add(cell{text: k}, cell{text: v}) }
	title := displayText(r.Title)
	if title == "" {
		title = "(none: every word was read as a field; quote words to keep them)"
	}
	row("title", title)
	if r.Attention != "" {
		row("attention", r.Attention)
	}
	if r.Project != nil {
		row("project", displayText(r.Project.Path))
	}
	if len(r.Tags) > 0 {
		row("tags", displayText(strings.Join(r.Tags, " ")))
	}
	if r.Do != nil {
		row("do", parsedDate(*r.Do, now))
	}
	if r.Late != nil {
		row("late", parsedDate(*r.Late, now))
	}
	if r.Recur != "" {
		row("recur", describeRecur(r.Recur, r.RecurAfterDone)+"  ("+r.Recur+")")
	}
	var words []string
	for _, t := range r.Tokens {
		if t.Role == "title" {
			words = append(words, displayText(t.Text))
		} else {
			words = append(words, "["+displayText(t.Text)+" → "+t.Role+"]")
		}
	}
	row("read as", strings.Join(words, " "))
	return tb.write(c.stdout)
}

// parsedDate shows a parsed date exactly: "2026-12-04 09:00 (in 3d)", the
// time left out at midnight.
func parsedDate(t, now time.Time) string {
	s := t.Local().Format("2006-01-02 15:04")
	s = strings.TrimSuffix(s, " 00:00")
	return s + " (" + formatRelative(t, now) + ")"
}

func cmdPromote(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 2, "an ID and a checklist item number: heph promote ID N"); err != nil {
		return err
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		return usagef("want a checklist item number (from 1), not %q", args[1])
	}
	var res promoteResult
	if done, err := c.callJSON("context.promote", promoteParams{ID: args[0], N: n}, &res); done {
		return err
	}
	line := res.Task.Handle + "  " + displayText(res.Task.Title)
	if s := taskSummary(res.Task.Task, time.Now()); s != "" {
		line += "  (" + s + ")"
	}
	_, err = fmt.Fprintf(c.stdout, "%s\nlinked from %s (%s)\n", line, res.Doc.Handle, displayText(res.Doc.Title))
	return err
}

func cmdJournal(c *cli, fs *flag.FlagSet, args []string) error {
	today := c.flags.Name() == "heph today"
	if !today && len(args) > 0 && args[0] == "list" {
		if len(args) > 1 {
			return usagef("want no argument after list: heph journal list [--days N]")
		}
		return c.journalList(fs)
	}
	if flagSet(fs, "days") {
		return usagef("--days goes with list: heph journal list --days N")
	}
	if today && len(args) > 0 {
		return usagef("heph today takes no date: heph journal DATE for another day")
	}
	p := journalParams{Date: strings.Join(args, " ")}
	edit := flagStr(fs, "edit") == "true"
	switch {
	case flagSet(fs, "append") && edit:
		return usagef("give --append or --edit, not both")
	case flagSet(fs, "append"):
		var n Node
		if done, err := c.callJSON("journal.append", journalAppendParams{Date: p.Date, Text: flagStr(fs, "append")}, &n); done {
			return err
		}
		_, err := fmt.Fprintf(c.stdout, "wrote to the journal of %s (%s)\n", n.Title, n.Handle)
		return err
	case edit:
		return c.journalEdit(p)
	}
	var e journalEntry
	if done, err := c.callJSON("journal.get", p, &e); done {
		return err
	}
	if e.Node == nil {
		fmt.Fprintf(c.stderr, "No journal for %s yet: heph journal %s--append TEXT (or --edit) writes one.\n", e.Date, dateArg(p.Date, e.Date))
		return nil
	}
	if _, err := io.WriteString(c.stdout, e.Node.Body); err != nil {
		return err
	}
	c.noteConflicts(e.Node)
	return nil
}

// noteConflicts says on stderr when text written on another device lost to
// this journal's body in a sync (two devices wrote the day offline): it
// waits in the conflicts queue.
func (c *cli) noteConflicts(n *Node) {
	var list []conflict
	if err := c.call("conflict.list", conflictListParams{}, &list); err != nil {
		return // a daemon without conflicts (a thin client's hub) has nothing to add
	}
	count := 0
	for _, k := range list {
		if k.Node == n.ID {
			count++
		}
	}
	if count > 0 {
		fmt.Fprintf(c.stderr, "note: %d version(s) of this journal written on another device wait in the conflicts queue: heph conflicts\n", count)
	}
}

// dateArg is the DATE argument to repeat in a hint ("" for today).
func dateArg(typed, date string) string {
	if typed == "" {
		return ""
	}
	return date + " "
}

func (c *cli) journalList(fs *flag.FlagSet) error {
	days, _ := strconv.Atoi(flagStr(fs, "days"))
	var list []journalEntry
	if done, err := c.callJSON("journal.list", journalListParams{Days: &days}, &list); done {
		return err
	}
	tb := &table{color: useColor(c.stdout, osGetenv)}
	for _, e := range list {
		if e.Node == nil {
			continue
		}
		first := firstLine(strings.TrimSpace(e.Node.Body))
		tb.add(cell{text: e.Date}, cell{text: e.Node.Handle, color: colorDim}, cell{text: displayText(first)})
	}
	if len(tb.rows) == 0 {
		_, err := fmt.Fprintf(c.stdout, "No journals in the last %d days.\n", days)
		return err
	}
	return tb.write(c.stdout)
}

// journalEdit opens the day's journal in $EDITOR and saves what changed:
// with node.update's expect_updated check when the journal exists (someone
// else's write meanwhile is a conflict, and the edited text is kept in a
// file), else as the first write of a new journal.
func (c *cli) journalEdit(p journalParams) error {
	var e journalEntry
	if err := c.call("journal.get", p, &e); err != nil {
		return err
	}
	old := ""
	if e.Node != nil {
		old = e.Node.Body
	}
	f, err := os.CreateTemp("", "heph-journal-"+e.Date+"-*.md")
	if err != nil {
		return fmt.Errorf("edit journal: %w", err)
	}
	path := f.Name()
	_, werr := f.WriteString(old)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("edit journal: %w", werr)
	}
	if err := runEditor(path); err != nil {
		return fmt.Errorf("edit journal: %v (your text is in %s)", err, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("edit journal: %w", err)
	}
	body := string(b)
	if body == old || (e.Node == nil && strings.TrimSpace(body) == "") {
		os.Remove(path)
		_, err := fmt.Fprintf(c.stdout, "no change to the journal of %s\n", e.Date)
		return err
	}
	var n Node
	if e.Node == nil {
		err = c.call("journal.append", journalAppendParams{Date: e.Date, Text: body}, &n)
	} else {
		updated := e.Node.Updated.Format(time.RFC3339Nano)
		err = c.call("node.update", nodeUpdateParams{ID: e.Node.ID, Body: &body, ExpectUpdated: &updated}, &n)
	}
	if err != nil {
		return fmt.Errorf("%w\nyour edited text is kept in %s", err, path)
	}
	os.Remove(path)
	if c.json {
		return c.printJSON(n)
	}
	_, err = fmt.Fprintf(c.stdout, "saved the journal of %s (%s)\n", e.Date, n.Handle)
	return err
}

// runEditor runs $EDITOR (default vi) on path, on the terminal. EDITOR may
// hold arguments ("code -w"), as shells allow.
func runEditor(path string) error {
	editor := strings.TrimSpace(os.Getenv("EDITOR"))
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.Command("/bin/sh", "-c", editor+` "$1"`, "sh", filepath.Clean(path))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("$EDITOR (%s) exited with status %d: nothing saved", editor, ee.ExitCode())
		}
		return fmt.Errorf("run $EDITOR (%s): %w", editor, err)
	}
	return nil
}
