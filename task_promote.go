// Promote: turning a checklist item of a doc into a task linked from where it was (context.promote).

package main

import (
	"context"
	"encoding/json"
	"strings"
)

// promoteParams are the params of context.promote: a task (its context
// doc) or any doc, and the number of a checklist item in it (from 1).
type promoteParams struct {
	ID string `json:"id"`
	N  int    `json:"n"`
	TZ string `json:"tz"`
}

// promoteResult is the reply of context.promote.
type promoteResult struct {
	Task *Node `json:"task"`
	Doc  *Node `json:"doc"`
}

func (s *Store) rpcContextPromote(ctx context.Context, params json.RawMessage) (any, error) {
	var p promoteParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := (idParams{p.ID}).check(); err != nil {
		return nil, err
	}
	if p.N < 1 {
		return nil, invalidParams("param \"n\" is a checklist item's number, from 1")
	}
	var taskID, docID string
	err := s.Write(ctx, func(tx *Tx) error {
		var err error
		taskID, docID, err = promote(tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	task, err := getNode(ctx, s.db, taskID)
	if err != nil {
		return nil, err
	}
	doc, err := getNode(ctx, s.db, docID)
	if err != nil {
		return nil, err
	}
	return promoteResult{Task: task, Doc: doc}, nil
}

// promoteDoc resolves what context.promote works on: a task's context doc,
// or the doc itself (never a task's log, which is append-only).
func promoteDoc(tx *Tx, ref string) (*Node, error) {
	n, err := liveNode(tx, ref)
	if err != nil {
		return nil, err
	}
	if n.Task != nil {
		return companion(tx, n.ID, "context")
	}
	owner, err := logOwner(tx, n.ID)
	if err != nil {
		return nil, err
	}
	if owner != "" {
		return nil, invalidParams("%s is a task's log, which is append-only: promote from a context doc or another doc", n.Handle)
	}
	return n, nil
}

// promote creates the task that checklist item p.N describes (its text
// read by the quick-add parser) and replaces the item with a link to it,
// in tx: one undo step reverts both. It returns the task's and the doc's
// ids.
func promote(tx *Tx, p promoteParams) (string, string, error) {
	d, err := promoteDoc(tx, p.ID)
	if err != nil {
		return "", "", err
	}
	lines := strings.Split(d.Body, "\n")
	i, m, err := checklistItem(lines, p.N, d.Handle+" ("+d.Title+")")
	if err != nil {
		return "", "", err
	}
	text := strings.TrimSpace(lines[i][m[1]:])
	if text == "" {
		return "", "", invalidParams("checklist item %d of %s is empty: nothing to make a task of", p.N, d.Handle)
	}
	if refs := parseWikiRefs(text); len(refs) == 1 && text == "[["+refs[0].Target+"]]" {
		return "", "", invalidParams("checklist item %d of %s is already a link (%s)", p.N, d.Handle, text)
	}
	id, err := quickAddTask(tx, quickAddParams{Text: text, TZ: p.TZ})
	if err != nil {
		return "", "", err
	}
	task, err := getNode(tx.Context(), tx.SQL(), id)
	if err != nil {
		return "", "", err
	}
	link, err := promoteLink(tx, task)
	if err != nil {
		return "", "", err
	}
	// The box keeps its indent and bullet; the item is open again.
	lines[i] = lines[i][:m[4]] + " ] " + link
	return id, d.ID, tx.Set(d.ID, map[string]any{"body": strings.Join(lines, "\n")})
}

// promoteLink is the wiki link to a promoted task: [[title]] when the title
// resolves to it, else [[handle]] (another node has the title, or the title
// holds characters a link cannot).
func promoteLink(tx *Tx, task *Node) (string, error) {
	if !strings.ContainsAny(task.Title, "[]|#`") {
		target, err := resolveWikiTarget(tx.Context(), tx.SQL(), task.Title)
		if err != nil {
			return "", err
		}
		if target == task.ID {
			return "[[" + task.Title + "]]", nil
		}
	}
	return "[[" + task.Handle + "]]", nil
}
