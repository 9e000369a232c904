// tui_prompt.go owns heph tui's line prompts (search, filter, quick add with its parse, tags, dates, the project picker) and editing the context doc in $EDITOR.

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// promptKey edits the open prompt or submits it.
func (a *tuiApp) promptKey(k tuiKey) {
	s := a.st
	p := s.Prompt
	switch k.Name {
	case "esc", "ctrl-c":
		s.Prompt = nil
		if p.Kind == "search" {
			s.Search = ""
			a.searchChanged()
		}
		return
	case "enter":
		s.Prompt = nil
		a.submit(p)
		return
	case "up", "down":
		if p.Kind == "move" && len(p.Picker) > 0 {
			d := map[string]int{"up": 1, "down": -1}[k.Name] // the picker grows upwards
			p.Pick = tuiClampInt(p.Pick+d, 0, min(len(p.Picker), 8)-1)
		}
		return
	case "backspace":
		if len(p.Text) > 0 {
			p.Text = p.Text[:len(p.Text)-1]
		}
	case "ctrl-u":
		p.Text = nil
	case "ctrl-w":
		t := strings.TrimRightFunc(string(p.Text), unicode.IsSpace)
		p.Text = []rune(t[:strings.LastIndexFunc(t, unicode.IsSpace)+1])
	case "rune":
		p.Text = append(p.Text, k.R)
	case "paste":
		// One line: a pasted line break becomes a space, and control
		// characters never reach the prompt.
		p.Text = append(p.Text, []rune(displayText(strings.ReplaceAll(k.Text, "\n", " ")))...)
	default:
		return
	}
	a.promptChanged(p)
}

// promptChanged reacts as the text is typed: search narrows the list,
// quick add shows its parse, the project picker re-ranks.
func (a *tuiApp) promptChanged(p *tuiPrompt) {
	switch p.Kind {
	case "search":
		a.st.Search = string(p.Text)
		a.searchChanged()
	case "add":
		a.parseQuickAdd(p)
	case "move":
		a.updatePicker()
	}
}

func (a *tuiApp) searchChanged() {
	s := a.st
	s.applySearch()
	s.Cursor, s.Top = 0, 0
	s.clamp()
	a.previewIfShown()
}

// parseQuickAdd shows how task.parse reads the text, before saving.
func (a *tuiApp) parseQuickAdd(p *tuiPrompt) {
	p.Tokens, p.Note = nil, ""
	text := strings.TrimSpace(string(p.Text))
	if text == "" {
		return
	}
	if !a.data.has("task.parse") {
		p.Note = "(this hephd does not parse quick add: the text becomes the title)"
		return
	}
	var res struct {
		Tokens []tuiToken `json:"tokens"`
	}
	err := a.data.call("task.parse", map[string]string{"text": text}, &res)
	switch {
	case errors.Is(err, errTuiLost):
		a.goOffline()
	case isMissing(err, ""):
		p.Note = "(this hephd does not parse quick add: the text becomes the title)"
	case err != nil:
		p.Note = "✗ " + err.Error()
	default:
		p.Tokens = res.Tokens
	}
}

// submit runs a prompt's action on Enter.
func (a *tuiApp) submit(p *tuiPrompt) {
	s := a.st
	text := strings.TrimSpace(string(p.Text))
	switch p.Kind {
	case "search":
		s.Search = text
	case "filter":
		s.Filter = text
		s.Cursor, s.Top = 0, 0
		s.Tasks, s.Shown, s.Loading = nil, nil, true
		a.reload()
	case "add":
		a.quickAdd(text)
	case "tags":
		add, rm := tuiSplitTags(text)
		a.taskAct("task.edit", &taskEditParams{TagsAdd: add, TagsRemove: rm}, "tags")
	case "do":
		a.taskAct("task.edit", &taskEditParams{Do: &text}, "do")
	case "late":
		a.taskAct("task.edit", &taskEditParams{Late: &text}, "late")
	case "move":
		target := text
		if len(p.Picker) > 0 && p.Pick < len(p.Picker) {
			target = p.Picker[p.Pick]
		}
		if target == "" {
			target = "none"
		}
		a.taskAct("task.edit", &taskEditParams{Project: &target}, "moved to "+target)
	}
}

// tuiSplitTags reads "+a -b c": -x removes, anything else adds.
func tuiSplitTags(text string) (add, rm []string) {
	add, rm = []string{}, []string{}
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "-") {
			rm = append(rm, f[1:])
		} else {
			add = append(add, strings.TrimPrefix(f, "+"))
		}
	}
	return add, rm
}

// quickAdd saves the text with task.quickadd (or, on an older hephd, as a
// plain title) and puts the cursor on the new task when the list shows it.
func (a *tuiApp) quickAdd(text string) {
	if text == "" {
		return
	}
	var n Node
	err := a.data.call("task.quickadd", map[string]string{"text": text}, &n)
	if isMissing(err, "") {
		err = a.data.call("task.create", taskCreateParams{Title: text}, &n)
	}
	if !a.check(err) {
		return
	}
	a.selectID = n.ID
	a.reload()
	a.flash("added "+n.Handle+" "+tuiTruncateText(n.Title, 40), false)
}

// updatePicker ranks the known projects against the typed text (a fuzzy
// match: its letters in order), best first.
func (a *tuiApp) updatePicker() {
	p := a.st.Prompt
	q := strings.ToLower(string(p.Text))
	type cand struct {
		path  string
		score int
	}
	var cands []cand
	for _, it := range a.st.Side {
		if it.Kind != "project" {
			continue
		}
		if sc, ok := tuiFuzzyScore(strings.ToLower(it.Name), q); ok {
			cands = append(cands, cand{it.Name, sc})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score < cands[j].score })
	p.Picker, p.Pick = p.Picker[:0], 0
	for _, c := range cands {
		p.Picker = append(p.Picker, c.path)
	}
}

// tuiFuzzyScore says whether q's characters appear in s in order, and how
// spread out they are (lower is better; a substring scores best).
func tuiFuzzyScore(s, q string) (int, bool) {
	if q == "" {
		return 0, true
	}
	if i := strings.Index(s, q); i >= 0 {
		return i, true
	}
	score, last := 1000, -1
	rs := []rune(s)
	j := 0
	for _, r := range q {
		for j < len(rs) && rs[j] != r {
			j++
		}
		if j == len(rs) {
			return 0, false
		}
		if last >= 0 {
			score += j - last
		}
		last = j
		j++
	}
	return score, true
}

// editContext opens the task's context doc in $EDITOR and saves it with
// the conflict check: when the doc changed meanwhile, nothing is
// overwritten and the edited text is kept in a file the message names.
func (a *tuiApp) editContext() error {
	t := a.st.current()
	if t == nil || t.Task == nil || t.Task.Context == "" {
		return errors.New("no task with a context doc here")
	}
	var doc Node
	if err := a.data.call("node.get", idParams{ID: t.Task.Context}, &doc); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "heph-tui-")
	if err != nil {
		return fmt.Errorf("edit context: %w", err)
	}
	path := filepath.Join(dir, t.Handle+"-context.md")
	if err := os.WriteFile(path, []byte(doc.Body), 0o600); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("edit context: %w", err)
	}
	if err := a.suspend(func() error { return tuiRunEditor(path) }); err != nil {
		os.RemoveAll(dir)
		return err
	}
	body, err := os.ReadFile(path)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("edit context: %w", err)
	}
	if string(body) == doc.Body {
		os.RemoveAll(dir)
		a.flash("context unchanged", false)
		return nil
	}
	text, expect := string(body), doc.Updated.Format(time.RFC3339Nano)
	err = a.data.call("node.update", nodeUpdateParams{ID: doc.ID, Body: &text, ExpectUpdated: &expect}, nil)
	var re *rpcError
	if errors.As(err, &re) && re.Code == codeConflict {
		return fmt.Errorf("the context changed while you edited it: not saved; your text is in %s", path)
	}
	os.RemoveAll(dir)
	if err != nil {
		return err
	}
	a.reload()
	a.flash("context saved", false)
	return nil
}

// tuiRunEditor runs $EDITOR (else $VISUAL, else vi) on path, through the
// shell so that an EDITOR with arguments ("code -w") works.
func tuiRunEditor(path string) error {
	ed := os.Getenv("EDITOR")
	if ed == "" {
		ed = os.Getenv("VISUAL")
	}
	if ed == "" {
		ed = "vi"
	}
	cmd := exec.Command("/bin/sh", "-c", ed+` "$1"`, "sh", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("editor %q: %w (context not saved)", ed, err)
	}
	return nil
}
