// Daily journals: one doc per day whose id is derived from the date (journal.get, journal.append, journal.list).

package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A journal is a doc titled with its date (2026-12-01, so [[2026-12-01]]
// links to it). Its id is journalID(date), the same on every replica, so
// two devices that start the same day's journal offline hold one node after
// they sync: the creates merge, and the appends are edits of one body (two
// offline appends meet as a body conflict, whose losing side the conflicts
// queue keeps). A journal is created by its first write, never by a read.

// journalDateLayout is how a journal's date is written.
const journalDateLayout = "2006-01-02"

// journalID derives the id of the journal of date (YYYY-MM-DD): a ULID
// whose 48-bit time is the date's midnight UTC (whatever the zone, so every
// replica derives the same id) and whose 80 "random" bits are the first 10
// bytes of SHA-256("heph journal " + date). It is a valid ULID that sorts
// by date like any other id.
func journalID(date string) (string, error) {
	d, err := time.Parse(journalDateLayout, date)
	if err != nil {
		return "", invalidParams("bad journal date %q: want YYYY-MM-DD", date)
	}
	if d.Year() < 1970 {
		return "", invalidParams("bad journal date %q: journals start in 1970", date)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(d.UnixMilli())<<16)
	sum := sha256.Sum256([]byte("heph journal " + date))
	copy(b[6:], sum[:10])
	return encodeULID(b), nil
}

// journalParams are the params of journal.get. Date is any day form of
// heph's date syntax (2026-12-01, today, yesterday, -2d); the default is
// today. TZ, when given, is the IANA zone "today" is read in; the default
// is hephd's.
type journalParams struct {
	Date string `json:"date"`
	TZ   string `json:"tz"`
}

// journalAppendParams are the params of journal.append: journalParams and
// the text to add.
type journalAppendParams struct {
	Date string `json:"date"`
	Text string `json:"text"`
	TZ   string `json:"tz"`
}

// journalEntry is the reply of journal.get and one item of journal.list.
type journalEntry struct {
	Date string `json:"date"`
	Node *Node  `json:"node"`
}

// clientNow is now in the zone a client asked for (tz), else hephd's.
func (s *Store) clientNow(tz string) (time.Time, error) {
	now := s.now()
	if tz == "" {
		return now, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.Contains(tz, "..") {
		return time.Time{}, invalidParams("param \"tz\": unknown time zone %q: give an IANA name such as Europe/Paris", tz)
	}
	return now.In(loc), nil
}

// clientDay is the day a journal request names (journalDate), read in
// the client's zone tz (clientNow).
func (s *Store) clientDay(date, tz string) (string, error) {
	now, err := s.clientNow(tz)
	if err != nil {
		return "", err
	}
	return journalDate(date, now)
}

// journalDate reads a date param as a day: YYYY-MM-DD as is, any other day
// form relative to now (today when empty).
func journalDate(s string, now time.Time) (string, error) {
	if strings.TrimSpace(s) == "" {
		s = "today"
	}
	t, clear, err := parseDate(s, now)
	if err != nil {
		return "", invalidParams("param \"date\": %v", err)
	}
	if clear {
		return "", invalidParams("param \"date\": a journal needs a day, not none")
	}
	return t.In(now.Location()).Format(journalDateLayout), nil
}

// journalNode returns the live journal of date, or nil when there is none.
func journalNode(ctx context.Context, q querier, date string) (*Node, error) {
	id, err := journalID(date)
	if err != nil {
		return nil, err
	}
	n, err := getNode(ctx, q, id)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if n.Deleted != nil {
		return nil, nil
	}
	return n, nil
}

func (s *Store) rpcJournalGet(ctx context.Context, params json.RawMessage) (any, error) {
	var p journalParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	date, err := s.clientDay(p.Date, p.TZ)
	if err != nil {
		return nil, err
	}
	n, err := journalNode(ctx, s.db, date)
	if err != nil {
		return nil, err
	}
	return journalEntry{Date: date, Node: n}, nil
}

func (s *Store) rpcJournalAppend(ctx context.Context, params json.RawMessage) (any, error) {
	var p journalAppendParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	date, err := s.clientDay(p.Date, p.TZ)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Text) == "" {
		return nil, invalidParams("missing param \"text\": what to write in the journal")
	}
	return s.writeNode(ctx, func(tx *Tx) (string, error) { return appendJournal(tx, date, p.Text) })
}

// appendJournal appends text to date's journal, creating it on first
// write, and returns its id.
func appendJournal(tx *Tx, date, text string) (string, error) {
	n, err := openJournal(tx, date)
	if err != nil {
		return "", err
	}
	body, err := appendLine(n.Body, text, "text")
	if err != nil {
		return "", err
	}
	return n.ID, tx.Set(n.ID, map[string]any{"body": body})
}

// openJournal returns date's journal, creating it when it does not exist.
// The create is recorded outside the undo batch: undo reverts what was
// written, but never removes the day's journal, whose removal would be
// final on every replica (tombstones win) and so stop that day's journal
// from being written anywhere. A journal removed here is brought back.
func openJournal(tx *Tx, date string) (*Node, error) {
	id, err := journalID(date)
	if err != nil {
		return nil, err
	}
	n, err := getNode(tx.Context(), tx.SQL(), id)
	if errors.Is(err, errNotFound) {
		batch := tx.Batch
		tx.Batch = ""
		err = tx.createWithID(id, "doc", map[string]any{"title": date})
		tx.Batch = batch
		if err != nil {
			return nil, err
		}
		return getNode(tx.Context(), tx.SQL(), id)
	}
	if err != nil {
		return nil, err
	}
	if n.Deleted != nil {
		// An undelete cancels only this replica's own removals.
		if err := tx.Set(id, map[string]any{"deleted": nil}); err != nil {
			return nil, err
		}
		if n, err = getNode(tx.Context(), tx.SQL(), id); err != nil {
			return nil, err
		}
		if n.Deleted != nil {
			return nil, invalidParams("the journal of %s was removed on another device, and a removal is final: write in another doc", date)
		}
	}
	return n, nil
}

// journalListParams are the params of journal.list.
type journalListParams struct {
	Days *int   `json:"days"`
	TZ   string `json:"tz"`
}

// maxJournalDays bounds journal.list's days.
const maxJournalDays = 3660

func (s *Store) rpcJournalList(ctx context.Context, params json.RawMessage) (any, error) {
	var p journalListParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	days := 7
	if p.Days != nil {
		days = *p.Days
	}
	if days < 1 || days > maxJournalDays {
		return nil, invalidParams("param \"days\" must be between 1 and %d, not %d", maxJournalDays, days)
	}
	now, err := s.clientNow(p.TZ)
	if err != nil {
		return nil, err
	}
	return listJournals(ctx, s.db, now, days)
}

// listJournals returns the last days days, newest first, each with its
// journal or a nil node.
func listJournals(ctx context.Context, q querier, now time.Time, days int) ([]journalEntry, error) {
	y, m, d := now.Date()
	out := make([]journalEntry, 0, days)
	for i := 0; i < days; i++ {
		date := time.Date(y, m, d-i, 12, 0, 0, 0, time.UTC).Format(journalDateLayout)
		if date < "1970-01-01" {
			break
		}
		n, err := journalNode(ctx, q, date)
		if err != nil {
			return nil, fmt.Errorf("journal %s: %w", date, err)
		}
		out = append(out, journalEntry{Date: date, Node: n})
	}
	return out, nil
}
