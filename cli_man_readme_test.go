// cli_man_readme_test.go checks heph-filters(7) and heph-quickadd(7) against the README's filter and quick-add tables, and heph help filters|quickadd.
package main

import (
	"os"
	"strings"
	"testing"
)

// readmeTableRows are the body rows of the README table whose header row
// is header, as trimmed cells.
func readmeTableRows(t *testing.T, readme, header string) [][]string {
	t.Helper()
	i := strings.Index(readme, "\n"+header+"\n")
	if i < 0 {
		t.Fatalf("README.md has no table headed %q", header)
	}
	var rows [][]string
	for n, line := range strings.Split(readme[i+1:], "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if n < 2 { // the header and the |---| rule
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("README.md's table %q has no rows", header)
	}
	return rows
}

// codeSpans are the `…` spans of a Markdown cell.
func codeSpans(cell string) []string {
	parts := strings.Split(cell, "`")
	var out []string
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

// filtersMissing lists the filter table's terms (each code span of a
// row's first cell) that roff lacks as a tagged paragraph's tag.
func filtersMissing(t *testing.T, readme, roff string) []string {
	var missing []string
	for _, row := range readmeTableRows(t, readme, "| term | matches |") {
		for _, term := range codeSpans(row[0]) {
			if !manTagHas(roff, roffArg(term)) {
				missing = append(missing, term)
			}
		}
	}
	return missing
}

// manTagHas reports whether a .B line of roff contains s.
func manTagHas(roff, s string) bool {
	for _, line := range strings.Split(roff, "\n") {
		if strings.HasPrefix(line, ".B ") && strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// quickaddMissing lists the quick-add table's rows that roff lacks: the
// row's first cell as a tag followed by the rest as its text.
func quickaddMissing(t *testing.T, readme, roff string) []string {
	var missing []string
	for _, row := range readmeTableRows(t, readme, "| you write | sets |") {
		plain := func(s string) string { return strings.ReplaceAll(s, "`", "") }
		want := ".B " + roffArg(plain(row[0])) + "\n" + roffEscape(plain(strings.Join(row[1:], "|"))) + "\n"
		if !strings.Contains(roff, want) {
			missing = append(missing, row[0])
		}
	}
	return missing
}

// TestManReadmePagesCoverTheTables checks the committed man/heph-filters.7
// and man/heph-quickadd.7 (make man writes them) against README.md's
// tables, and that the check catches a row the page lacks.
func TestManReadmePagesCoverTheTables(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if readme != readmeText {
		t.Fatal("the embedded README differs from README.md: rebuild")
	}
	for _, c := range []struct {
		file    string
		missing func(*testing.T, string, string) []string
		build   func(readme string) *manPage
		cut     string // a table row to drop from the README
		cutWant string // what the page then lacks
	}{
		{"man/heph-filters.7", filtersMissing, filtersManPage, "| `recurring` | has a recurrence |\n", "recurring"},
		{"man/heph-quickadd.7", quickaddMissing, quickaddManPage, "| `after done` | the recurrence counts from completion |\n", "`after done`"},
	} {
		roff, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatalf("%s: %v (run make man)", c.file, err)
		}
		for _, m := range c.missing(t, readme, string(roff)) {
			t.Errorf("%s lacks %s of README.md's table: run make man", c.file, m)
		}
		if m := c.missing(t, readme, c.build(readme).roff()); len(m) != 0 {
			t.Errorf("a freshly generated %s lacks %v", c.file, m)
		}
		if !strings.Contains(readme, c.cut) {
			t.Fatalf("README.md lacks the row %q", c.cut)
		}
		page := c.build(strings.Replace(readme, c.cut, "", 1)).roff()
		if m := c.missing(t, readme, page); len(m) != 1 || m[0] != c.cutWant {
			t.Errorf("%s from a README without %q: missing %v", c.file, c.cut, m)
		}
	}
	if heph := hephManPage().text(); !strings.Contains(heph, "heph-filters(7), heph-quickadd(7)") {
		t.Errorf("heph(1)'s SEE ALSO lacks the section 7 pages:\n%s", heph)
	}
}

// TestHelpFiltersAndQuickadd: heph help filters|quickadd prints the page's
// text, its README section included.
func TestHelpFiltersAndQuickadd(t *testing.T) {
	env := append(cleanEnv(), "HOME="+shortTempDir(t))
	for topic, want := range map[string]string{"filters": "text:WORD", "quickadd": "after done"} {
		out, _, code := runHeph(t, env, "", "help", topic)
		if code != 0 || out != manPages()[topic].text() || !strings.Contains(out, want) || !strings.Contains(out, "DESCRIPTION") {
			t.Errorf("heph help %s: exit %d\n%s", topic, code, out)
		}
	}
}
