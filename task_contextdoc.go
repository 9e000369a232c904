// A task's context doc: its checklist and the context.* handlers.

package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
)

// A task's context doc is free markdown; its "- [ ]" / "- [x]" lines are
// the task's checklist, numbered from 1 in order.

// checkboxLine matches a checklist item; group 2 is the box's mark.
// Compiled on first use, not when heph starts.
var checkboxLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\s*[-*+] \[)([ xX])(\]( |$))`)
})

// resetChecklist unchecks every checked item.
func resetChecklist(body string) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if m := checkboxLine().FindStringSubmatchIndex(l); m != nil && l[m[4]:m[5]] != " " {
			lines[i] = l[:m[4]] + " " + l[m[5]:]
		}
	}
	return strings.Join(lines, "\n")
}

// setCheck checks (or unchecks) checklist item n (from 1).
func setCheck(body string, n int, checked bool) (string, error) {
	lines := strings.Split(body, "\n")
	i, m, err := checklistItem(lines, n, "the context")
	if err != nil {
		return "", err
	}
	mark := " "
	if checked {
		mark = "x"
	}
	lines[i] = lines[i][:m[4]] + mark + lines[i][m[5]:]
	return strings.Join(lines, "\n"), nil
}

// checklistItem finds checklist item n (from 1) among lines and returns its
// line index and checkboxLine's submatch indexes. what names the doc in
// errors ("the context").
func checklistItem(lines []string, n int, what string) (int, []int, error) {
	count := 0
	for i, l := range lines {
		m := checkboxLine().FindStringSubmatchIndex(l)
		if m == nil {
			continue
		}
		count++
		if count == n {
			return i, m, nil
		}
	}
	if count == 0 {
		return 0, nil, invalidParams("%s has no checklist items (lines such as \"- [ ] step\")", what)
	}
	return 0, nil, invalidParams("no checklist item %d: %s has %d (numbered from 1)", n, what, count)
}

// appendLine appends text (without its trailing newlines) to body as a new
// line; param names the param in the error for empty text.
func appendLine(body, text, param string) (string, error) {
	text = strings.TrimRight(text, "\n")
	if strings.TrimSpace(text) == "" {
		return "", invalidParams("param %q: nothing to append", param)
	}
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	return body + text + "\n", nil
}

// companion resolves ref to a task's context or log doc. ref may name the
// task or the doc itself.
func companion(tx *Tx, ref, which string) (*Node, error) {
	n, err := liveNode(tx, ref)
	if err != nil {
		return nil, err
	}
	if n.Task == nil {
		col := "context_id"
		if which == "log" {
			col = "log_id"
		}
		var owner string
		err := tx.SQL().QueryRowContext(tx.Context(), `SELECT node_id FROM tasks WHERE `+col+`=? LIMIT 1`, n.ID).Scan(&owner)
		if err == nil {
			return n, nil
		}
		return nil, invalidParams("%s (%s) is a doc, not a task: give a task's id", n.Handle, n.Title)
	}
	id := n.Task.Context
	if which == "log" {
		id = n.Task.Log
	}
	if id == "" {
		return nil, invalidParams("task %s has no %s doc", n.Handle, which)
	}
	d, err := getNode(tx.Context(), tx.SQL(), id)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// readCompanion is companion in a read-only transaction.
func (s *Store) readCompanion(ctx context.Context, params json.RawMessage, which string) (any, error) {
	p, err := decodeID(params)
	if err != nil {
		return nil, err
	}
	var out *Node
	err = s.read(ctx, func(tx *Tx) error {
		var err error
		out, err = companion(tx, p.ID, which)
		return err
	})
	return out, err
}

func (s *Store) rpcContextGet(ctx context.Context, params json.RawMessage) (any, error) {
	return s.readCompanion(ctx, params, "context")
}

type contextEditParams struct {
	ID      string  `json:"id"`
	Append  *string `json:"append"`
	Check   *int    `json:"check"`
	Uncheck *int    `json:"uncheck"`
	Body    *string `json:"body"`
}

func (s *Store) rpcContextEdit(ctx context.Context, params json.RawMessage) (any, error) {
	var p contextEditParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := (idParams{p.ID}).check(); err != nil {
		return nil, err
	}
	given := 0
	for _, ok := range []bool{p.Append != nil, p.Check != nil, p.Uncheck != nil, p.Body != nil} {
		if ok {
			given++
		}
	}
	if given != 1 {
		return nil, invalidParams("give exactly one of append, check, uncheck or body")
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return editContext(tx, p) })
}

// editContext applies a context.edit in tx and returns the context doc's
// id.
func editContext(tx *Tx, p contextEditParams) (string, error) {
	d, err := companion(tx, p.ID, "context")
	if err != nil {
		return "", err
	}
	var body string
	switch {
	case p.Body != nil:
		body = *p.Body
	case p.Append != nil:
		if body, err = appendLine(d.Body, *p.Append, "append"); err != nil {
			return "", err
		}
	case p.Check != nil:
		if body, err = setCheck(d.Body, *p.Check, true); err != nil {
			return "", err
		}
	default:
		if body, err = setCheck(d.Body, *p.Uncheck, false); err != nil {
			return "", err
		}
	}
	if body == d.Body {
		return d.ID, nil
	}
	return d.ID, tx.Set(d.ID, map[string]any{"body": body})
}
