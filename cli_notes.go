// The CLI verbs of links, search, export and import.

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The CLI verbs of links, search, export and import.

func cmdLink(c *cli, _ *flag.FlagSet, args []string) error {
	if len(args) != 3 || (args[0] != "add" && args[0] != "rm") {
		return usagef("want: heph link add A B | heph link rm A B")
	}
	method := "link.add"
	if args[0] == "rm" {
		method = "link.rm"
	}
	var res linkResult
	if done, err := c.callJSON(method, linkParams{Src: args[1], Dst: args[2]}, &res); done {
		return err
	}
	verb := "linked"
	if args[0] == "rm" {
		verb = "unlinked"
	}
	fmt.Fprintf(c.stdout, "%s %s %s -> %s %s\n", verb, res.Src.Handle, displayText(res.Src.Title), res.Dst.Handle, displayText(res.Dst.Title))
	return nil
}

func cmdLinks(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "one ID"); err != nil {
		return err
	}
	var res linksResult
	if done, err := c.callJSON("link.list", idParams{ID: args[0]}, &res); done {
		return err
	}
	fmt.Fprintf(c.stdout, "%s  %s\n", res.Node.Handle, displayText(res.Node.Title))
	section := func(name string, entries []linkEntry) {
		fmt.Fprintf(c.stdout, "%s:\n", name)
		if len(entries) == 0 {
			fmt.Fprintln(c.stdout, "  (none)")
			return
		}
		tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
		for _, e := range entries {
			label := ""
			if e.Label != "" {
				label = "  (" + displayText(e.Label) + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", e.Node.Handle, displayText(e.Kind), e.Node.Kind, displayText(e.Node.Title), label)
		}
		tw.Flush()
	}
	section("outgoing", res.Outgoing)
	section("backlinks", res.Backlinks)
	if len(res.Unresolved) > 0 {
		fmt.Fprintln(c.stdout, "unresolved:")
		for _, u := range res.Unresolved {
			fmt.Fprintf(c.stdout, "  [[%s]]\n", displayText(u.Target))
		}
	}
	return nil
}

func searchFlags(fs *flag.FlagSet) {
	fs.Int("limit", 20, "show at most `N` results")
	fs.String("filter", "", "only tasks this `filter` matches, and their context docs (see heph list)")
}

func cmdSearch(c *cli, fs *flag.FlagSet, args []string) error {
	query := strings.TrimSpace(strings.Join(args, " "))
	if query == "" {
		return usagef(`want a query: heph search WORDS (FTS5 syntax: "a phrase", prefix*, a OR b, NOT c, title:word)`)
	}
	limit, _ := strconv.Atoi(fs.Lookup("limit").Value.String())
	var hits []searchHit
	if done, err := c.callJSON("node.search", searchParams{Query: query, Limit: limit, Filter: flagStr(fs, "filter")}, &hits); done {
		return err
	}
	if len(hits) == 0 {
		fmt.Fprintln(c.stdout, "no matches")
		return nil
	}
	color := useColor(c.stdout, osGetenv)
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	for _, h := range hits {
		snippet := strings.Join(strings.Fields(displayText(h.Snippet)), " ")
		title := displayText(h.Node.Title)
		if renderSnippet(snippet, false) == title {
			// The match is in the title: show it there, marked.
			title, snippet = renderSnippet(snippet, color), ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Node.Handle, h.Node.Kind, title)
		if snippet != "" {
			fmt.Fprintf(tw, "\t\t  %s\n", renderSnippet(snippet, color))
		}
	}
	return tw.Flush()
}

// renderSnippet turns a search snippet's match markers (** around each
// matched term) into bold on a terminal, or drops them for plain text.
// A marker without a partner is text and stays as it is.
func renderSnippet(s string, color bool) string {
	parts := strings.Split(s, snippetOpen)
	if len(parts)%2 == 0 {
		n := len(parts)
		parts = append(parts[:n-2], parts[n-2]+snippetOpen+parts[n-1])
	}
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i%2 == 0:
			b.WriteString(p)
		case color:
			b.WriteString("\x1b[" + colorBold + "m" + p + "\x1b[0m")
		default:
			b.WriteString(p)
		}
	}
	return b.String()
}

func cmdExport(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "one directory"); err != nil {
		return err
	}
	if strings.TrimSpace(args[0]) == "" {
		// filepath.Abs would make it the current directory.
		return usagef("want a directory to export to, got an empty argument: heph export DIR")
	}
	dir, err := filepath.Abs(args[0])
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var res exportResult
	if done, err := c.callJSON("export.markdown", exportParams{Dir: dir}, &res); done {
		return err
	}
	fmt.Fprintf(c.stdout, "exported %d nodes to %s: %d written, %d unchanged, %d removed\n",
		res.Nodes, res.Dir, res.Written, res.Unchanged, res.Removed)
	return nil
}

// importChunk and importChunkBytes bound what the CLI sends per request
// (tasks and bytes of their JSON), so a large export, even one of long
// annotations, stays well under the daemon's line limit.
const (
	importChunk      = 2000
	importChunkBytes = 3 << 20
)

// importChunks splits items into [start, end) ranges of at most maxItems
// items and, unless one item alone is larger, maxBytes of JSON.
func importChunks(items []json.RawMessage, maxItems, maxBytes int) [][2]int {
	var chunks [][2]int
	start, size := 0, 0
	for i, it := range items {
		if i > start && (i-start >= maxItems || size+len(it)+1 > maxBytes) {
			chunks = append(chunks, [2]int{start, i})
			start, size = i, 0
		}
		size += len(it) + 1
	}
	return append(chunks, [2]int{start, len(items)})
}

func cmdImport(c *cli, _ *flag.FlagSet, args []string) error {
	if len(args) != 2 || (args[0] != "taskwarrior" && args[0] != "markdown") {
		return usagef("want: heph import taskwarrior FILE|- | heph import markdown DIR")
	}
	var rep *importReport
	var err error
	if args[0] == "markdown" {
		rep, err = c.importMarkdown(args[1])
	} else {
		rep, err = c.importTaskwarrior(args[1])
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(rep)
	}
	if rep.Items == 0 && len(rep.Problems) == 0 {
		if args[0] == "markdown" {
			fmt.Fprintf(c.stdout, "nothing to import: no markdown files (*.md) under %s\n", args[1])
		} else {
			fmt.Fprintln(c.stdout, "nothing to import: the export holds no tasks")
		}
		return nil
	}
	c.printImportReport(rep)
	return nil
}

func (c *cli) importMarkdown(arg string) (*importReport, error) {
	if strings.TrimSpace(arg) == "" {
		// filepath.Abs would make it the current directory.
		return nil, usagef("want a directory to import, got an empty argument: heph import markdown DIR")
	}
	dir, err := filepath.Abs(arg)
	if err != nil {
		return nil, fmt.Errorf("import markdown: %w", err)
	}
	var rep importReport
	if err := c.call("import.markdown", importMarkdownParams{Dir: dir}, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// importTaskwarrior reads FILE (or stdin for "-"), splits it into chunks
// of tasks and sends each; the reports are summed.
func (c *cli) importTaskwarrior(arg string) (*importReport, error) {
	var data []byte
	var err error
	if arg == "-" {
		data, err = io.ReadAll(c.stdin)
	} else {
		data, err = os.ReadFile(arg)
	}
	if err != nil {
		return nil, fmt.Errorf("import taskwarrior: %w", err)
	}
	items, err := splitTaskwarrior(data)
	if err != nil {
		return nil, fmt.Errorf("import taskwarrior %s: %w", arg, err)
	}
	total := newImportReport("taskwarrior")
	for _, chunk := range importChunks(items, importChunk, importChunkBytes) {
		start, end := chunk[0], chunk[1]
		var rep importReport
		data, err := json.Marshal(items[start:end])
		if err != nil {
			return nil, fmt.Errorf("import taskwarrior: %w", err)
		}
		if err := c.call("import.taskwarrior", importTaskwarriorParams{Data: data}, &rep); err != nil {
			err = renumberChunkError(err, start)
			if start > 0 {
				return nil, fmt.Errorf("%w (tasks 1-%d were imported; importing the file again skips them)", err, start)
			}
			return nil, err
		}
		total.add(&rep)
	}
	return total, nil
}

// renumberChunkError makes hephd's "task N" (counted in the chunk sent)
// count in the whole file, so a person can find the task.
func renumberChunkError(err error, offset int) error {
	var re *rpcError
	if offset == 0 || !errors.As(err, &re) {
		return err
	}
	// hephd names a task of the chunk "task N" at the start of a message.
	rest, ok := strings.CutPrefix(re.Message, "task ")
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if !ok || digits == 0 || (digits < len(rest) && isWordByte(rest[digits])) {
		return err
	}
	n, _ := strconv.Atoi(rest[:digits])
	fixed := *re
	fixed.Message = fmt.Sprintf("task %d", n+offset) + rest[digits:]
	return &fixed
}

// add sums another report into r.
func (r *importReport) add(o *importReport) {
	r.Items += o.Items
	r.Created += o.Created
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	r.Skipped += o.Skipped
	r.Problems = append(r.Problems, o.Problems...)
	for k, v := range o.Unmapped {
		r.Unmapped[k] += v
	}
}

func (c *cli) printImportReport(r *importReport) {
	items := "items"
	if r.Items == 1 {
		items = "item"
	}
	fmt.Fprintf(c.stdout, "imported %d %s %s: %d created, %d updated, %d unchanged, %d skipped\n",
		r.Items, r.Source, items, r.Created, r.Updated, r.Unchanged, r.Skipped)
	if len(r.Unmapped) > 0 {
		keys := make([]string, 0, len(r.Unmapped))
		for k := range r.Unmapped {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(c.stdout, "not mapped (items):")
		for _, k := range keys {
			fmt.Fprintf(c.stdout, "  %s: %d\n", k, r.Unmapped[k])
		}
	}
	const show = 20
	for i, p := range r.Problems {
		if i == show {
			fmt.Fprintf(c.stdout, "… and %d more (see --json)\n", len(r.Problems)-show)
			break
		}
		fmt.Fprintf(c.stdout, "  %s: %s\n", displayText(p.Item), displayText(p.Message))
	}
}

// splitTaskwarrior reads a Taskwarrior export (a JSON array, or one JSON
// object per line) into raw task objects.
func splitTaskwarrior(data []byte) ([]json.RawMessage, error) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, fmt.Errorf("the file is UTF-16 (as a PowerShell redirect writes it): save it as UTF-8, or run: task export > FILE from a Unix shell")
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")) // a UTF-8 byte order mark
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return nil, fmt.Errorf("empty input: want the JSON of 'task export'")
	}
	if strings.HasPrefix(trimmed, "[") {
		var items []json.RawMessage
		if err := json.Unmarshal([]byte(trimmed), &items); err != nil {
			return nil, fmt.Errorf("not a Taskwarrior JSON export: %w", err)
		}
		// Check the shape here, before any chunk is sent: one bad entry
		// late in a large file must not leave the first chunks imported.
		for i, raw := range items {
			if kind := jsonKind(raw); kind != "an object" {
				return nil, fmt.Errorf("task %d is %s, not a JSON task object: want the JSON of 'task export'", i+1, kind)
			}
		}
		return items, nil
	}
	var items []json.RawMessage
	for i, line := range strings.Split(trimmed, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), ","))
		if line == "" {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			return nil, fmt.Errorf("line %d is not a JSON task object: %w", i+1, err)
		}
		items = append(items, json.RawMessage(line))
	}
	return items, nil
}

// jsonKind names the kind of a JSON value for a message: "an object",
// "a number", "a string"...
func jsonKind(raw json.RawMessage) string {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return "empty"
	case t[0] == '{':
		return "an object"
	case t[0] == '[':
		return "an array"
	case t[0] == '"':
		return "a string"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	case t[0] == 'n':
		return "null"
	}
	return "a number"
}

// isWordByte is regexp's \w: a letter, digit or underscore.
func isWordByte(b byte) bool {
	return b == '_' || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}
