// cli_man_readme.go owns heph-filters(7) and heph-quickadd(7): manual pages whose text is the README's marked sections, parsed from the embedded README.

package main

import (
	_ "embed"
	"strings"
)

// readmeText is README.md; its sections between <!-- man NAME --> and
// <!-- /man --> are the text of the pages named NAME.
//
//go:embed README.md
var readmeText string

// readmeSection is the Markdown between <!-- man NAME --> and the next
// <!-- /man --> in readme, or "" when the README has no such section.
func readmeSection(readme, name string) string {
	start := "<!-- man " + name + " -->"
	i := strings.Index(readme, start)
	if i < 0 {
		return ""
	}
	rest := readme[i+len(start):]
	if j := strings.Index(rest, "<!-- /man -->"); j >= 0 {
		return rest[:j]
	}
	return ""
}

// mdBlocks turns Markdown paragraphs and tables into page blocks: a
// paragraph is one "p" block, a table row (header and rule skipped) a
// tagged paragraph of its first cell and the rest. Code spans lose their
// backticks.
func mdBlocks(md string) []manBlock {
	var out []manBlock
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, manBlock{kind: "p", text: mdInline(strings.Join(para, " "))})
			para = nil
		}
	}
	header := true // the next table row is a header
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
			header = true
		case strings.HasPrefix(line, "|"):
			flush()
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if header || strings.Trim(line, "|-: ") == "" {
				header = false
				continue
			}
			out = append(out, tagged(mdInline(cells[0]), mdInline(strings.Join(cells[1:], "|"))))
		default:
			para = append(para, line)
		}
	}
	flush()
	return out
}

// mdInline is a Markdown fragment as plain text: trimmed, backticks gone.
func mdInline(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "`", "")) }

// readmePage is a section 7 page: the usage of cmds as its synopsis, the
// README section as its description, their examples, and heph(1).
func readmePage(readme, name, summary string, cmds []*command) *manPage {
	var synopsis, examples []manBlock
	seeAlso := []string{"heph(1)", "hephd(8)"}
	for _, other := range []string{"heph-filters(7)", "heph-quickadd(7)"} {
		if other != name+"(7)" {
			seeAlso = append(seeAlso, other)
		}
	}
	for _, cmd := range cmds {
		synopsis = append(synopsis, para(verbSub(cmd)))
		if cmd.example != "" {
			examples = append(examples, example(cmd.example))
		}
	}
	return &manPage{name: name, section: "7", summary: summary, sections: []manSection{
		{name: "SYNOPSIS", blocks: synopsis},
		{name: "DESCRIPTION", blocks: mdBlocks(readmeSection(readme, name+"(7)"))},
		{name: "EXAMPLES", blocks: examples},
		{name: "SEE ALSO", blocks: []manBlock{para(strings.Join(seeAlso, ", ") + "; docs/protocol.md in heph's source.")}},
	}}
}

// filtersManPage is heph-filters(7), the filter language; its synopsis
// is every verb whose usage takes a filter.
func filtersManPage(readme string) *manPage {
	var cmds []*command
	for _, cmd := range commands() {
		if !cmd.hidden && (strings.Contains(cmd.args, "FILTER") || strings.Contains(cmd.args, "--filter")) {
			cmds = append(cmds, cmd)
		}
	}
	return readmePage(readme, "heph-filters", "the filter language of heph list, next, view and bulk changes", cmds)
}

// quickaddManPage is heph-quickadd(7), the grammar heph add and heph
// promote read a task from.
func quickaddManPage(readme string) *manPage {
	return readmePage(readme, "heph-quickadd", "the quick-add grammar: one line becomes a task", []*command{commandNamed("add"), commandNamed("promote")})
}
