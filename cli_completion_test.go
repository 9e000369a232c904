// cli_completion_test.go drives heph's completion scripts in real bash, zsh (interactive, in tmux) and fish against a real hephd.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// completionFixture is a daemon with one task in a project whose name has
// a space, and an environment whose PATH finds the built heph.
type completionFixture struct {
	d      *testDaemon
	handle string
	env    []string
	dir    string
}

func newCompletionFixture(t *testing.T) *completionFixture {
	t.Helper()
	d := startDaemon(t)
	out := d.MustHeph("task", "Fix the sink", "--project", "Garden Shed", "--tag", "errand")
	f := &completionFixture{d: d, handle: strings.TrimSpace(out), dir: shortTempDir(t)}
	bin := filepath.Dir(hephBinary(t))
	f.env = append(append([]string{}, d.Env...), "PATH="+bin+":"+os.Getenv("PATH"))
	return f
}

// script writes heph's completion script for shell into the fixture's dir.
func (f *completionFixture) script(t *testing.T, shell string) string {
	t.Helper()
	out, errOut, code := runHeph(t, f.env, "", "completion", shell)
	if code != 0 || errOut != "" {
		t.Fatalf("heph completion %s: exit %d, %s", shell, code, errOut)
	}
	path := filepath.Join(f.dir, "heph."+shell)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompletionBash drives the bash completion function through bash's
// own COMP_WORDS/COMP_CWORD interface.
func TestCompletionBash(t *testing.T) {
	_, err := exec.LookPath("bash")
	requireComponent(t, err == nil, "bash is not installed")
	f := newCompletionFixture(t)
	script := f.script(t, "bash")
	run := func(env []string, words ...string) (string, string) {
		var cmds strings.Builder
		fmt.Fprintf(&cmds, "source %s\n", shQuote(script))
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = shQuote(w)
		}
		fmt.Fprintf(&cmds, "COMP_WORDS=(%s); COMP_CWORD=%d; COMPREPLY=(); _heph; printf '%%s\\n' \"${COMPREPLY[@]}\"\n", strings.Join(quoted, " "), len(words)-1)
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", cmds.String())
		cmd.Env = env
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("bash completing %q: %v\n%s", words, err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"heph", "sh"}, "show\n"},
		{[]string{"heph", "task", "x", "--att"}, "--attention\n"},
		{[]string{"heph", "task", "x", "--attention", "r"}, "red\n"},
		{[]string{"heph", "show", ""}, f.handle + "\n"},
		{[]string{"heph", "--json", "done", f.handle[:2]}, f.handle + "\n"},
		{[]string{"heph", "list", "--project", "Gar"}, `Garden\ Shed` + "\n"},
		{[]string{"heph", "list", "--project", `Garden\ S`}, `Garden\ Shed` + "\n"},
		{[]string{"heph", "next", "--tag", "err"}, "errand\n"},
		{[]string{"heph", "daemon", "sta"}, "start\nstatus\n"},
	} {
		if got, _ := run(f.env, tc.words...); got != tc.want {
			t.Errorf("bash completes %q to %q; want %q", tc.words, got, tc.want)
		}
	}
	// hephd down: verbs and flags still complete; arguments offer nothing
	// and nothing odd is printed.
	down := append(append([]string{}, f.env...), "HEPH_SOCKET="+filepath.Join(f.dir, "none.sock"))
	if got, errOut := run(down, "heph", "show", ""); got != "\n" || errOut != "" {
		t.Errorf("hephd down: show completes to %q, stderr %q", got, errOut)
	}
	if got, _ := run(down, "heph", "ver"); got != "version\n" {
		t.Errorf("hephd down: verbs complete to %q", got)
	}
}

// TestCompletionFish asks fish itself (complete -C) what it offers.
func TestCompletionFish(t *testing.T) {
	_, err := exec.LookPath("fish")
	requireComponent(t, err == nil, "fish is not installed")
	f := newCompletionFixture(t)
	script := f.script(t, "fish")
	run := func(env []string, line string) (string, string) {
		cmd := exec.Command("fish", "--no-config", "-c", "source "+fishQuote(script)+"; complete -C "+fishQuote(line))
		cmd.Env, cmd.Dir = env, f.dir
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("fish completing %q: %v\n%s", line, err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	for _, tc := range []struct{ line, want string }{
		{"heph sh", "show\tshow a task"},
		{"heph task x --att", "--attention\tlevel: white"},
		{"heph show ", f.handle + "\tFix the sink"},
		{"heph list --project Gar", "Garden Shed\t1 outstanding"},
		{"heph next --tag ", "errand\t1 task(s)"},
		{"heph completion ", "zsh"},
	} {
		if got, _ := run(f.env, tc.line); !strings.Contains(got, tc.want) {
			t.Errorf("fish completes %q to %q; want a line with %q", tc.line, got, tc.want)
		}
	}
	down := append(append([]string{}, f.env...), "HEPH_SOCKET="+filepath.Join(f.dir, "none.sock"))
	if got, errOut := run(down, "heph show "); got != "" || errOut != "" {
		t.Errorf("hephd down: fish completes show to %q, stderr %q", got, errOut)
	}
	if got, _ := run(down, "heph --c"); !strings.Contains(got, "--color") {
		t.Errorf("hephd down: fish flags %q", got)
	}
}

// tmuxSession is an interactive shell in a private tmux server.
type tmuxSession struct {
	t      *testing.T
	server string
	env    []string
}

func (s *tmuxSession) tmux(args ...string) string {
	cmd := exec.Command("tmux", append([]string{"-L", s.server}, args...)...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// waitFor polls the pane until it shows want.
func (s *tmuxSession) waitFor(want string, timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pane := s.tmux("capture-pane", "-p")
		if strings.Contains(pane, want) {
			return pane
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the pane never showed %q:\n%s", want, pane)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCompletionZsh types into an interactive zsh in tmux and presses TAB.
func TestCompletionZsh(t *testing.T) {
	_, zerr := exec.LookPath("zsh")
	_, terr := exec.LookPath("tmux")
	requireComponent(t, zerr == nil && terr == nil, "zsh and tmux are needed")
	f := newCompletionFixture(t)
	script := f.script(t, "zsh")
	fpathDir := filepath.Join(f.dir, "fpath")
	os.Mkdir(fpathDir, 0o755)
	os.Rename(script, filepath.Join(fpathDir, "_heph"))
	rc := fmt.Sprintf("PS1='ready%%# '\npath=(%s $path)\nfpath=(%s $fpath)\nautoload -U compinit && compinit -u -D\n",
		shQuote(filepath.Dir(hephBinary(t))), shQuote(fpathDir))
	os.WriteFile(filepath.Join(f.dir, ".zshrc"), []byte(rc), 0o644)
	s := &tmuxSession{t: t, server: "heph-" + filepath.Base(f.dir), env: f.env}
	s.tmux("new-session", "-d", "-x", "150", "-y", "30", "-e", "ZDOTDIR="+f.dir, "-e", "HEPH_SOCKET="+f.d.Socket, "zsh", "-i")
	t.Cleanup(func() { exec.Command("tmux", "-L", s.server, "kill-server").Run() })
	s.waitFor("ready#", 60*time.Second)
	for _, tc := range []struct{ typed, want string }{
		{"heph sh", "heph show"},
		{"heph task x --att", "heph task x --attention"},
		{"heph show ", "heph show " + f.handle},
		{"heph list --project Gar", `heph list --project Garden\ Shed`},
	} {
		// (capture-pane drops the space completion adds after a word.)
		s.tmux("send-keys", "C-u", tc.typed, "Tab")
		s.waitFor(tc.want, 15*time.Second)
	}
	// Two tasks: the menu lists handles with their titles.
	f.d.MustHeph("task", "Water the plants")
	s.tmux("send-keys", "C-u", "heph show ", "Tab")
	// Two random handles share a first letter one time in 32: zsh then
	// inserts it, and lists the matches at the next TAB.
	if pane := s.waitFor("ready# heph show", 5*time.Second); !strings.Contains(pane, "-- Water the plants") {
		time.Sleep(time.Second)
		if !strings.Contains(s.tmux("capture-pane", "-p"), "-- Water the plants") {
			s.tmux("send-keys", "Tab")
		}
	}
	s.waitFor("-- Water the plants", 15*time.Second)
	s.waitFor("-- Fix the sink", 5*time.Second)
	// hephd down: verbs still complete, arguments offer nothing, and
	// nothing is printed into the line or the pane.
	s.tmux("send-keys", "C-u", "clear; export HEPH_SOCKET="+filepath.Join(f.dir, "none.sock"), "Enter")
	s.tmux("send-keys", "heph ver", "Tab")
	s.waitFor("heph version", 15*time.Second)
	s.tmux("send-keys", "C-u", "heph show ", "Tab", "x")
	pane := s.waitFor("heph show x", 15*time.Second)
	if strings.Contains(pane, "heph:") || strings.Contains(pane, "not running") {
		t.Fatalf("hephd down: completion printed into the pane:\n%s", pane)
	}
}
