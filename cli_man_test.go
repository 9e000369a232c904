// cli_man_test.go checks the manual pages: every verb and flag has its place in the committed man/ pages, and they render without warnings.
package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// manMissing lists what the heph(1) roff lacks: a section per verb, and
// each verb's flags in its section.
func manMissing(roff string) []string {
	var missing []string
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		head := ssLine(verbSub(cmd))
		i := strings.Index(roff, head)
		if i < 0 {
			missing = append(missing, "a section for heph "+cmd.name)
			continue
		}
		section := roff[i+len(head):]
		if j := strings.Index(section, "\n.S"); j >= 0 {
			section = section[:j]
		}
		if cmd.flags == nil {
			continue
		}
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(section, ".B "+roffEscape(flagWord(f.Name))) {
				missing = append(missing, "heph "+cmd.name+" "+flagWord(f.Name))
			}
		})
	}
	return missing
}

// TestManPagesCoverEveryVerb checks the committed man/heph.1 and
// man/hephd.8 (make man writes them) against the command table and
// hephd's flags.
func TestManPagesCoverEveryVerb(t *testing.T) {
	b, err := os.ReadFile("man/heph.1")
	if err != nil {
		t.Fatalf("man/heph.1: %v (run make man)", err)
	}
	for _, m := range manMissing(string(b)) {
		t.Errorf("man/heph.1 lacks %s: run make man", m)
	}
	for _, g := range globalCompFlags() {
		if !strings.Contains(string(b), ".B "+roffEscape(flagWord(g.name))) {
			t.Errorf("man/heph.1 lacks the global flag %s: run make man", flagWord(g.name))
		}
	}
	d, err := os.ReadFile("man/hephd.8")
	if err != nil {
		t.Fatalf("man/hephd.8: %v (run make man)", err)
	}
	var o daemonOptions
	daemonFlagSet(&o, io.Discard).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(string(d), ".B "+roffEscape(flagWord(f.Name))) {
			t.Errorf("man/hephd.8 lacks --%s: run make man", f.Name)
		}
	})
	// The check itself catches a verb without a section.
	page := hephManPage().roff()
	if m := manMissing(page); len(m) != 0 {
		t.Fatalf("a freshly generated heph(1) lacks %v", m)
	}
	cut := strings.Replace(page, `.SS "heph backup FILE"`, `.SS "something else"`, 1)
	if m := manMissing(cut); len(m) != 1 || m[0] != "a section for heph backup" {
		t.Fatalf("a page without heph backup's section: missing %v", m)
	}
}

// TestManPagesRender runs groff -ww and man -l on every page: no warnings.
func TestManPagesRender(t *testing.T) {
	_, gerr := exec.LookPath("groff")
	_, merr := exec.LookPath("man")
	requireComponent(t, gerr == nil && merr == nil, "groff and man (man-db) are needed")
	dir := t.TempDir()
	runHeph(t, cleanEnv(), "", "__man", dir)
	for name, p := range manPages() {
		path := dir + "/" + p.name + "." + p.section
		for _, args := range [][]string{{"groff", "-ww", "-man", "-z", path}, {"man", "--warnings", "-l", path}} {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(cleanEnv(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
			var errOut strings.Builder
			cmd.Stderr = &errOut
			out, err := cmd.Output()
			if err != nil || errOut.Len() > 0 {
				t.Errorf("%v: %v\n%s", args, err, errOut.String())
			}
			if args[0] == "man" && !strings.Contains(string(out), "SYNOPSIS") {
				t.Errorf("man -l %s rendered no SYNOPSIS:\n%s", name, out)
			}
		}
	}
}

// TestHelpTopicPrintsThePage: heph help TOPIC prints the page's text;
// heph help VERB its usage; an unknown topic is a usage error.
func TestHelpTopicPrintsThePage(t *testing.T) {
	env := append(cleanEnv(), "HOME="+shortTempDir(t))
	out, _, code := runHeph(t, env, "", "help", "hephd")
	if code != 0 || out != hephdManPage().text() || !strings.Contains(out, "--mode MODE") {
		t.Fatalf("heph help hephd: exit %d\n%s", code, out)
	}
	out, _, code = runHeph(t, env, "", "help", "heph")
	if code != 0 || !strings.Contains(out, "heph backup FILE") || !strings.Contains(out, "EXIT STATUS") {
		t.Fatalf("heph help heph: exit %d\n%s", code, out)
	}
	if out, _, code = runHeph(t, env, "", "help", "doctor"); code != 0 || !strings.Contains(out, "Usage: heph doctor") {
		t.Fatalf("heph help doctor: exit %d\n%s", code, out)
	}
	if _, errOut, code := runHeph(t, env, "", "help", "nosuch"); code != 2 || !strings.Contains(errOut, "topics are heph, hephd") {
		t.Fatalf("heph help nosuch: exit %d, %q", code, errOut)
	}
}
