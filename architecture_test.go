package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchitectureMapsEveryFile: docs/architecture.md's file map names
// every non-test Go file, and every Go file it names exists.
func TestArchitectureMapsEveryFile(t *testing.T) {
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b[a-z0-9_]+\.go\b`).FindAllString(string(doc), -1) {
		named[m] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, f := range files {
		exists[f] = true
		if !strings.HasSuffix(f, "_test.go") && !named[f] {
			t.Errorf("docs/architecture.md does not say where %s belongs", f)
		}
	}
	for f := range named {
		if !exists[f] {
			t.Errorf("docs/architecture.md names %s, which does not exist", f)
		}
	}
}

// TestEveryFileSaysWhatItOwns: every non-test Go file opens with a
// one-line comment (then a blank line, so it is no package doc comment).
func TestEveryFileSaysWhatItOwns(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "main.go" { // main.go opens with the package's doc
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 3)
		if len(lines) < 3 || !strings.HasPrefix(lines[0], "// ") || lines[1] != "" {
			t.Errorf("%s does not open with one comment line saying what it owns", f)
		}
	}
}
