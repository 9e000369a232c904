// cli_json_doc_test.go checks that protocol.md documents every verb's --json output.
package main

import (
	"os"
	"strings"
	"testing"
)

// TestEveryVerbHasAJSONSchemaRow: each verb of the command table is named
// in a row of protocol.md's "heph --json" table.
func TestEveryVerbHasAJSONSchemaRow(t *testing.T) {
	b, err := os.ReadFile("docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## heph --json: the CLI's machine output")
	if !ok {
		t.Fatal(`protocol.md has no "heph --json: the CLI's machine output" section`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	named := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `heph ") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		for _, part := range strings.Split(first, ",") {
			part = strings.Trim(strings.TrimSpace(part), "`")
			named[strings.TrimPrefix(part, "heph ")] = true
		}
	}
	for _, cmd := range commands() {
		if !cmd.hidden && !named[cmd.name] {
			t.Errorf("protocol.md's heph --json table has no row for heph %s", cmd.name)
		}
	}
}
