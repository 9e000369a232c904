package main

import (
	"strings"
	"time"
)

// normalizeRecur validates a recurrence and returns its canonical form
// ("" for none).
func normalizeRecur(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return "", nil
	}
	r, err := parseRecurrence(s)
	if err != nil {
		return "", invalidParams("%v", err)
	}
	return r.String(), nil
}

// firstOccurrence is where a new series without a do date starts: today,
// or for a rule that picks days (BYDAY, BYMONTHDAY, BYMONTH) the first day
// from today that it picks, so "every mon,wed" made on a Sunday starts on
// Monday.
func firstOccurrence(recur string, now time.Time) time.Time {
	today := startOfDay(now)
	r, err := parseRecurrence(recur)
	if err != nil || !strings.Contains(r.String(), "BY") {
		return today
	}
	free := *r
	free.count = 0 // the seed's COUNT must not end the search early
	if t, ok := free.Next(today.AddDate(-1, 0, 0), today.Add(-time.Nanosecond)); ok {
		return t
	}
	return today
}
