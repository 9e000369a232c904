// import.taskwarrior: Taskwarrior's task export mapped onto heph tasks.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// import taskwarrior reads the JSON of `task export` (an array, or one
// object per line) and maps each task:
//
//	description            → title (one line; further lines go to the context doc)
//	status pending/waiting → outstanding; completed → done; deleted → dropped;
//	       recurring       → an outstanding recurring task (the series)
//	parent (an instance of a recurring task) → skipped: its series is imported
//	project (a.b.c)        → project a/b/c
//	tags                   → tags
//	scheduled, wait        → do (the later of the two)
//	due                    → late
//	priority H/M/L         → attention red/orange/white
//	recur (daily, weekly, monthly, yearly, weekdays, biweekly, quarterly,
//	       semiannual, Nd, Nw, Nmo, Ny, P1M …; recurrenceFromTaskwarrior)
//	       and until → an RRULE with UNTIL
//	annotations            → log entries, dated as in Taskwarrior
//	depends                → explicit links to the tasks it depends on
//	entry, modified        → created, updated
//
// Anything else (unknown attributes, UDAs, a start time, values heph cannot
// represent) is reported per task and counted per attribute; the task is
// still imported without it. Each task's uuid is remembered (imports table),
// so importing the same file again skips the tasks already imported.

// twKnown tells attributes that are mapped, or that carry nothing to map
// (Taskwarrior's own bookkeeping).
func twKnown(attr string) bool {
	switch attr {
	case "id", "uuid", "description", "status", "entry", "modified", "project", "tags", "scheduled", "wait", "due", "priority", "recur", "until", "annotations", "depends", "parent", "urgency", "mask", "imask", "rtype", "end":
		return true
	}
	return false
}

// twTask is the part of a Taskwarrior task heph reads.
type twTask struct {
	raw         map[string]json.RawMessage
	UUID        string         `json:"uuid"`
	Description string         `json:"description"`
	Status      string         `json:"status"`
	Entry       string         `json:"entry"`
	Modified    string         `json:"modified"`
	Project     string         `json:"project"`
	Tags        []string       `json:"tags"`
	Scheduled   string         `json:"scheduled"`
	Wait        string         `json:"wait"`
	Due         string         `json:"due"`
	Priority    string         `json:"priority"`
	Recur       string         `json:"recur"`
	Until       string         `json:"until"`
	Parent      string         `json:"parent"`
	Annotations []twAnnotation `json:"annotations"`
	Depends     twDepends      `json:"depends"`
}

type twAnnotation struct {
	Entry       string `json:"entry"`
	Description string `json:"description"`
}

// twDepends is a list of uuids: an array in Taskwarrior 2.6+, a
// comma-separated string before.
type twDepends []string

func (d *twDepends) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*d = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("depends: want uuids")
	}
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			*d = append(*d, u)
		}
	}
	return nil
}

type importTaskwarriorParams struct {
	// Data is the export's text (a JSON string) or its parsed array.
	Data json.RawMessage `json:"data"`
}

func (s *Store) rpcImportTaskwarrior(ctx context.Context, params json.RawMessage) (any, error) {
	var p importTaskwarriorParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	switch d := strings.TrimSpace(string(p.Data)); {
	case d == "" || d == "null":
		return nil, invalidParams("missing param \"data\": the JSON of 'task export' (a string or an array)")
	case strings.HasPrefix(d, `"`):
		var text string
		if err := json.Unmarshal(p.Data, &text); err != nil {
			return nil, invalidParams("param \"data\": %v", err)
		}
		var err error
		if items, err = splitTaskwarrior([]byte(text)); err != nil {
			return nil, invalidParams("param \"data\": %v", err)
		}
	case strings.HasPrefix(d, "["):
		if err := json.Unmarshal(p.Data, &items); err != nil {
			return nil, invalidParams("param \"data\": %v", err)
		}
	default:
		return nil, invalidParams("param \"data\" must be the export's text or its array of tasks")
	}
	return s.importTaskwarrior(ctx, items)
}

// importTaskwarrior imports decoded tasks in one transaction. Every task is
// decoded before anything is written: a malformed object fails the whole
// call and leaves the store unchanged.
func (s *Store) importTaskwarrior(ctx context.Context, items []json.RawMessage) (*importReport, error) {
	rep := newImportReport("taskwarrior")
	tasks := make([]*twTask, 0, len(items))
	for i, raw := range items {
		var t twTask
		if err := json.Unmarshal(raw, &t.raw); err != nil {
			return nil, invalidParams("task %d is not a JSON object: %v", i+1, err)
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, invalidParams("task %d: %s", i+1, describeJSONError(err))
		}
		tasks = append(tasks, &t)
	}
	rep.Items = len(tasks)
	// Oldest first, so heph's FIFO order matches Taskwarrior's entry order.
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Entry < tasks[j].Entry })
	err := s.Write(ctx, func(tx *Tx) error {
		imported, err := importedNodes(tx, tasks)
		if err != nil {
			return err
		}
		var withDeps []*twTask
		var remember []string // uuid, node id, ...: new imports rows
		var last time.Time
		for _, t := range tasks {
			id, err := importTWTask(tx, t, rep, imported, &last)
			if err != nil {
				return fmt.Errorf("import task %s (%q): %w", t.UUID, t.Description, err)
			}
			if id != "" {
				remember = append(remember, t.UUID, id)
			}
			if id != "" && len(t.Depends) > 0 {
				withDeps = append(withDeps, t)
			}
		}
		if err := rememberImports(tx, remember); err != nil {
			return err
		}
		for _, t := range withDeps {
			if err := linkTWDepends(tx, t, rep, imported); err != nil {
				return fmt.Errorf("import task %s: %w", t.UUID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// importedNodes finds, with one query, the nodes earlier imports made of
// the tasks' uuids: the map has every uuid, "" for one not imported yet.
func importedNodes(tx *Tx, tasks []*twTask) (map[string]string, error) {
	imported := map[string]string{} // uuid -> node id, this call and before
	uuids := make([]string, 0, len(tasks))
	for _, t := range tasks {
		if t.UUID != "" {
			uuids = append(uuids, t.UUID)
			imported[t.UUID] = ""
		}
	}
	list, err := json.Marshal(uuids)
	if err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	rows, err := tx.query(`SELECT ext_id, node_id FROM imports WHERE source='taskwarrior' AND ext_id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uuid, id string
		if err := rows.Scan(&uuid, &id); err != nil {
			return nil, fmt.Errorf("read imports: %w", err)
		}
		imported[uuid] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	return imported, nil
}

// rememberImports inserts imports rows for pairs of uuid and node id, a
// few hundred per statement.
func rememberImports(tx *Tx, pairs []string) error {
	const perStmt = 2 * 250
	for len(pairs) > 0 {
		n := min(len(pairs), perStmt)
		args := make([]any, n)
		for i, v := range pairs[:n] {
			args[i] = v
		}
		values := strings.Repeat("('taskwarrior',?,?),", n/2)
		if _, err := tx.exec(`INSERT INTO imports(source,ext_id,node_id) VALUES `+values[:len(values)-1], args...); err != nil {
			return fmt.Errorf("remember import: %w", err)
		}
		pairs = pairs[n:]
	}
	return nil
}

// importedNode finds the node an earlier import made of a uuid (imported
// holds those known already, "" for none).
func importedNode(tx *Tx, uuid string, imported map[string]string) (string, error) {
	if id, ok := imported[uuid]; ok {
		return id, nil
	}
	var id string
	err := tx.queryRow(`SELECT node_id FROM imports WHERE source='taskwarrior' AND ext_id=?`, uuid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read imports: %w", err)
	}
	imported[uuid] = id
	return id, nil
}

// importTWTask imports one task and returns its new node id ("" when it
// was skipped).
//
// last is the created time of the previous task: Taskwarrior's times have
// one-second precision, so tasks entered in the same second get created
// times a millisecond apart, in file order, to keep heph's FIFO order.
func importTWTask(tx *Tx, t *twTask, rep *importReport, imported map[string]string, last *time.Time) (string, error) {
	item := t.UUID
	if item == "" {
		item = fmt.Sprintf("%q", t.Description)
	}
	if t.UUID == "" {
		rep.Skipped++
		rep.problem(item, "no uuid: not a Taskwarrior export task")
		return "", nil
	}
	if id, err := importedNode(tx, t.UUID, imported); err != nil || id != "" {
		if id != "" {
			rep.Unchanged++
		}
		return "", err
	}
	if t.Parent != "" {
		rep.Skipped++
		rep.problem(item, "an instance of recurring task %s: imported as that series", t.Parent)
		return "", nil
	}
	in, created, updated := mapTWTask(t, item, rep)
	if in.Title == "" {
		rep.Skipped++
		rep.problem(item, "no description")
		return "", nil
	}
	if !created.After(*last) && last.Sub(created) < time.Second {
		created = last.Add(time.Millisecond)
		if updated.Before(created) {
			updated = created
		}
	}
	*last = created
	in.Created, in.Updated = created, updated
	var id string
	err := tx.batchOps(func() (err error) {
		id, err = createTask(tx, in)
		return err
	})
	if err != nil {
		var re *rpcError
		if !errors.As(err, &re) {
			return "", err
		}
		rep.Skipped++
		rep.problem(item, "%s", re.Message)
		return "", nil
	}
	if err := addTWAnnotations(tx, id, t, item, rep); err != nil {
		return "", err
	}
	imported[t.UUID] = id
	rep.Created++
	return id, nil
}

// mapTWTask turns a Taskwarrior task into a task input, reporting what
// does not map.
func mapTWTask(t *twTask, item string, rep *importReport) (in taskInput, created, updated time.Time) {
	title, rest, _ := strings.Cut(strings.TrimSpace(t.Description), "\n")
	in.Title = cleanTitle(title)
	in.Body = strings.TrimSpace(rest)
	in.State = mapTWStatus(t.Status, item, rep)
	mapTWProjectTags(t, &in, item, rep)
	in.Attention = mapTWPriority(t.Priority, item, rep)
	created, updated = mapTWDates(t, &in, item, rep)
	reportTWUnknown(t, item, rep)
	return in, created, updated
}

// mapTWStatus is the state of a task of Taskwarrior status s ("" for
// outstanding).
func mapTWStatus(s, item string, rep *importReport) string {
	switch s {
	case "pending", "waiting", "recurring", "":
	case "completed":
		return "done"
	case "deleted":
		return "dropped"
	default:
		rep.unmapped(item, "status", "unknown status %q: imported as outstanding", s)
	}
	return ""
}

// mapTWProjectTags sets in's project (Taskwarrior's dots become slashes)
// and tags, leaving out those heph refuses.
func mapTWProjectTags(t *twTask, in *taskInput, item string, rep *importReport) {
	if t.Project != "" {
		p := strings.ReplaceAll(t.Project, ".", "/")
		if _, err := normalizeProject(p); err != nil {
			rep.unmapped(item, "project", "%q: %v", t.Project, err)
		} else {
			in.Project = p
		}
	}
	for _, tag := range t.Tags {
		if _, err := normalizeTag(tag); err != nil {
			rep.unmapped(item, "tags", "%q: %v", tag, err)
			continue
		}
		in.Tags = append(in.Tags, tag)
	}
}

// mapTWPriority is the attention of Taskwarrior priority p ("" for the
// default).
func mapTWPriority(p, item string, rep *importReport) string {
	switch p {
	case "":
	case "H":
		return "red"
	case "M":
		return "orange"
	case "L":
		return "white"
	default:
		rep.unmapped(item, "priority", "%q is not H, M or L", p)
	}
	return ""
}

// mapTWDates sets in's do date (the later of scheduled and wait), late
// date (due) and recurrence, and returns the task's created and updated
// times (entry and modified, else now).
func mapTWDates(t *twTask, in *taskInput, item string, rep *importReport) (created, updated time.Time) {
	date := func(field, v string) *time.Time {
		if v == "" {
			return nil
		}
		d, err := parseTWDate(v)
		if err != nil {
			rep.unmapped(item, field, "%v", err)
			return nil
		}
		return &d
	}
	in.Do = date("scheduled", t.Scheduled)
	if w := date("wait", t.Wait); w != nil && (in.Do == nil || w.After(*in.Do)) {
		in.Do = w
	}
	in.Late = date("due", t.Due)
	if t.Recur != "" {
		in.Recur = mapTWRecur(t, item, rep)
	} else if t.Until != "" {
		rep.unmapped(item, "until", "an expiry date on a task that does not recur has no heph equivalent")
	}
	now := time.Now()
	created, updated = now, now
	if c := date("entry", t.Entry); c != nil {
		created, updated = *c, *c
	}
	if m := date("modified", t.Modified); m != nil && m.After(created) {
		updated = *m
	}
	return created, updated
}

// reportTWUnknown reports each attribute of t that heph has no place for.
func reportTWUnknown(t *twTask, item string, rep *importReport) {
	keys := make([]string, 0, len(t.raw))
	for k := range t.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if twKnown(k) {
			continue
		}
		switch k {
		case "start":
			rep.unmapped(item, k, "heph has no 'started' state")
		default:
			rep.unmapped(item, k, "attribute %s has no heph equivalent", k)
		}
	}
}

// parseTWDate reads Taskwarrior's 20061102T150405Z (and RFC 3339 or a
// plain date, which hand-written files use).
func parseTWDate(v string) (time.Time, error) {
	for _, layout := range []string{"20060102T150405Z", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(secs, 0), nil
	}
	return time.Time{}, fmt.Errorf("bad date %q (want 20061102T150405Z)", v)
}

// mapTWRecur maps recur (and until) to a recurrence heph accepts, or
// reports it. The period is read by recurrenceFromTaskwarrior (recur.go).
func mapTWRecur(t *twTask, item string, rep *importReport) string {
	r, err := recurrenceFromTaskwarrior(t.Recur)
	if err != nil {
		rep.unmapped(item, "recur", "%v", err)
		return ""
	}
	rule := r.String()
	if t.Until != "" {
		if u, err := parseTWDate(t.Until); err == nil {
			withUntil := rule + ";UNTIL=" + u.UTC().Format("20060102T150405Z")
			if norm, err := normalizeRecur(withUntil); err == nil {
				return norm
			}
		}
		rep.unmapped(item, "until", "%q: the series is imported without its end", t.Until)
	}
	return rule
}

// addTWAnnotations appends a task's annotations to its log, dated.
func addTWAnnotations(tx *Tx, id string, t *twTask, item string, rep *importReport) error {
	if len(t.Annotations) == 0 {
		return nil
	}
	n, err := getNode(tx.Context(), tx.SQL(), id)
	if err != nil {
		return err
	}
	for _, a := range t.Annotations {
		if strings.TrimSpace(a.Description) == "" {
			continue
		}
		at, err := parseTWDate(a.Entry)
		if err != nil {
			at = time.Time{}
			rep.unmapped(item, "annotations", "entry %q: logged without its date", a.Entry)
		}
		if err := appendLogAt(tx, n.Task.Log, a.Description, at); err != nil {
			return err
		}
	}
	return nil
}

// linkTWDepends links a task to each task it depends on.
func linkTWDepends(tx *Tx, t *twTask, rep *importReport, imported map[string]string) error {
	src := imported[t.UUID]
	for _, dep := range t.Depends {
		dst, err := importedNode(tx, dep, imported)
		if err != nil {
			return err
		}
		if dst == "" {
			rep.unmapped(t.UUID, "depends", "%s is not among the imported tasks", dep)
			continue
		}
		if err := tx.Link(src, dst, "explicit", "depends on", true); err != nil {
			return err
		}
	}
	return nil
}

// describeJSONError says which field of a Taskwarrior task has the wrong
// type in Taskwarrior's own terms, instead of Go's decoder message.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("field %q is %s, which Taskwarrior's export never writes there (want %s)", te.Field, jsonValueName(te.Value), jsonTypeName(te.Type.String()))
	}
	return err.Error()
}

// jsonValueName turns a decoder's value kind ("string", "number") into
// words ("a string", "a number").
func jsonValueName(v string) string {
	switch v {
	case "array", "object":
		return "an " + v
	case "":
		return "a value"
	}
	return "a " + v
}

// taskwarriorUnit maps one of Taskwarrior's duration units (as used in
// its recur attribute) to a frequency and a multiplier of the interval.
func taskwarriorUnit(unit string) (freq recurFreq, mult int, ok bool) {
	switch unit {
	case "d", "day", "days", "daily":
		return freqDaily, 1, true
	case "w", "wk", "wks", "week", "weeks", "weekly", "sennight":
		return freqWeekly, 1, true
	case "biweekly", "fortnight":
		return freqWeekly, 2, true
	case "m", "mo", "mos", "mth", "mths", "mnths", "month", "months", "monthly":
		return freqMonthly, 1, true
	case "bimonthly":
		return freqMonthly, 2, true
	case "q", "qtr", "qtrs", "qrtrs", "quarter", "quarters", "quarterly":
		return freqMonthly, 3, true
	case "semiannual":
		return freqMonthly, 6, true
	case "y", "yr", "yrs", "year", "years", "yearly", "annual", "annually":
		return freqYearly, 1, true
	case "biannual", "biyearly":
		return freqYearly, 2, true
	}
	return 0, 0, false
}

// recurrenceFromTaskwarrior maps a Taskwarrior recur value (a duration such
// as "weekly", "3d", "2 weeks", "quarterly", "weekdays" or ISO 8601 "P1M")
// to a rule. Taskwarrior's months and years are calendar steps here (heph
// keeps the day of the month) rather than 30 and 365 days. Sub-day units,
// fractions and compound durations are not mapped: the error says why, for
// the importer's report of what it could not map.
func recurrenceFromTaskwarrior(s string) (*Recurrence, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return nil, errors.New("taskwarrior recur is empty")
	}
	if in == "weekdays" {
		return parseRecurrence("weekdays")
	}
	num, unit := in, ""
	if strings.HasPrefix(in, "p") && len(in) > 2 { // ISO 8601: P3D, P2W, P1M, P1Y
		num, unit = in[1:len(in)-1], in[len(in)-1:]
		if strings.ContainsAny(num, "tymwd") {
			return nil, fmt.Errorf("taskwarrior recur %q: compound or sub-day ISO 8601 durations are not supported", s)
		}
	} else {
		i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i < 0 {
			return nil, fmt.Errorf("taskwarrior recur %q: a number needs a unit (d, w, mo, y)", s)
		}
		num, unit = in[:i], strings.TrimSpace(in[i:])
	}
	freq, mult, ok := taskwarriorUnit(unit)
	if !ok {
		switch unit {
		case "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour", "hours", "hourly":
			return nil, fmt.Errorf("taskwarrior recur %q: recurrence more often than daily is not supported", s)
		}
		return nil, fmt.Errorf("taskwarrior recur %q: unknown duration unit %q", s, unit)
	}
	n := 1
	if num != "" {
		var err error
		if n, err = strconv.Atoi(num); err != nil || n < 1 {
			return nil, fmt.Errorf("taskwarrior recur %q: %q is not a whole number of %s", s, num, unit)
		}
	}
	n *= mult
	if n > maxInterval {
		return nil, fmt.Errorf("taskwarrior recur %q: an interval over %d is not supported", s, maxInterval)
	}
	r := &Recurrence{freq: freq, interval: n, wkst: time.Monday}
	return r, nil
}
