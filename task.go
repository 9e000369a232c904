// The task model: creating a task with its context and log docs, and the rules for its fields.

package main

import (
	"sort"
	"strings"
	"time"
	"unicode"
)

// taskInput is everything a new task can start with. Zero values mean the
// defaults: outstanding, white, no dates, no recurrence, no project.
type taskInput struct {
	Title          string
	Body           string // initial body of the context doc
	Do, Late       *time.Time
	Attention      string // white, orange, red, blue or a1..a4
	Recur          string // RRULE or preset; validated here
	RecurAfterDone bool
	Project        string
	Tags           []string
	State          string // outstanding (default), done or dropped
	// Created and Updated keep an imported task's times (zero: now).
	Created, Updated time.Time
}

// createTask creates a task with its context doc (contextTitle, the
// task's context field) and its log doc (logTitle, the log field), linked
// from it, in the caller's transaction, and returns the task's id. Every
// mutation of a task's creation is one undo unit because it is one Write.
// With in.Created set (an importer keeping a task's history) the three
// nodes are created through createAt: stamped with that time, and the task
// with in.Updated too.
func createTask(tx *Tx, in taskInput) (string, error) {
	fields, err := in.fields(tx.s.now())
	if err != nil {
		return "", err
	}
	ctxID, err := in.create(tx, "doc", map[string]any{"title": contextTitle(in.Title), "body": in.Body}, in.Created)
	if err != nil {
		return "", err
	}
	logID, err := in.create(tx, "doc", map[string]any{"title": logTitle(in.Title), "body": ""}, in.Created)
	if err != nil {
		return "", err
	}
	fields["context"], fields["log"] = ctxID, logID
	if err := setTaskProject(tx, fields, in.Project); err != nil {
		return "", err
	}
	id, err := in.create(tx, "task", fields, in.Updated)
	if err != nil {
		return "", err
	}
	if err := tx.Link(id, ctxID, "context", "", true); err != nil {
		return "", err
	}
	if err := tx.Link(id, logID, "log", "", true); err != nil {
		return "", err
	}
	return id, nil
}

// create makes one node of a new task: now, or at in.Created (clamped to
// now) with the updated time given.
func (in *taskInput) create(tx *Tx, kind string, fields map[string]any, updated time.Time) (string, error) {
	if in.Created.IsZero() {
		return tx.Create(kind, fields)
	}
	at := in.Created
	if now := tx.s.now(); at.After(now) {
		at = now
	}
	id := newULID(at)
	return id, tx.createAt(id, kind, fields, in.Created, updated)
}

// contextTitle and logTitle are the default titles of a task's context
// and log docs.
func contextTitle(task string) string { return task + " context" }
func logTitle(task string) string     { return task + " log" }

// createDoc creates a doc in the caller's transaction.
func createDoc(tx *Tx, title, body string) (string, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return "", invalidParams("a doc needs a title")
	}
	if badTitle(title) {
		return "", invalidParams("a doc's title is one line without control characters")
	}
	return tx.Create("doc", map[string]any{"title": title, "body": body})
}

// fields validates in and returns the node.create fields of the task.
func (in *taskInput) fields(now time.Time) (map[string]any, error) {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		return nil, invalidParams("a task needs a title")
	}
	if badTitle(in.Title) {
		return nil, invalidParams("a task's title is one line without control characters")
	}
	att := "white"
	if in.Attention != "" {
		a, err := normalizeAttention(in.Attention)
		if err != nil {
			return nil, err
		}
		att = a
	}
	state := "outstanding"
	if in.State != "" {
		switch in.State {
		case "outstanding", "done", "dropped":
			state = in.State
		default:
			return nil, invalidParams("unknown state %q: want outstanding, done or dropped", in.State)
		}
	}
	project, err := normalizeProject(in.Project)
	if err != nil {
		return nil, err
	}
	tags, err := normalizeTags(in.Tags)
	if err != nil {
		return nil, err
	}
	recur, err := normalizeRecur(in.Recur)
	if err != nil {
		return nil, err
	}
	f := map[string]any{"title": in.Title, "state": state, "attention": att, "project": project, "tags": tags}
	if recur != "" {
		f["recur"] = recur
		f["recur_after_done"] = in.RecurAfterDone
		start, picked := seriesStart(recur, in.Do, in.Late, now)
		if picked {
			in.Do = &start
		}
		if err := checkSeries(recur, start); err != nil {
			return nil, err
		}
	}
	if in.Do != nil {
		f["do"] = in.Do.UnixMilli()
	}
	if in.Late != nil {
		f["late"] = in.Late.UnixMilli()
	}
	return f, nil
}

// normalizeAttention accepts white, orange, red, blue or a1..a4.
func normalizeAttention(s string) (string, error) {
	switch a := strings.ToLower(strings.TrimSpace(s)); a {
	case "white", "orange", "red", "blue":
		return a, nil
	case "a1":
		return "white", nil
	case "a2":
		return "orange", nil
	case "a3":
		return "red", nil
	case "a4":
		return "blue", nil
	}
	return "", invalidParams("unknown attention %q: want white, orange, red, blue (or a1, a2, a3, a4)", s)
}

// normalizeProject trims a "/"-separated project path; "" and "none" mean
// no project.
func normalizeProject(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return "", nil
	}
	if badTitle(s) {
		return "", invalidParams("bad project %q: a project is one line without control characters (want a path such as Home/Repairs)", s)
	}
	parts := strings.Split(strings.Trim(s, "/"), "/")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return "", invalidParams("bad project %q: empty path segment (want a path such as Home/Repairs)", s)
		}
		parts[i] = p
	}
	return strings.Join(parts, "/"), nil
}

// normalizeTag checks one tag: no spaces or commas; a leading "+" is
// dropped.
func normalizeTag(s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if t == "" || strings.ContainsRune(t, ',') || strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", invalidParams("bad tag %q: a tag is one word without commas", s)
	}
	if strings.HasPrefix(t, "-") {
		// heph edit --tag -x removes x: a tag "-x" could never be added.
		return "", invalidParams("bad tag %q: a tag cannot start with - (heph edit ID --tag -x removes tag x)", s)
	}
	return t, nil
}

// normalizeTags checks, deduplicates and sorts tags.
func normalizeTags(in []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		t, err := normalizeTag(s)
		if err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

// startOfDay is midnight (local time) of t's day.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.Local().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.Local)
}
