// The glue between tasks and recurrence: validating a task's rule and its first occurrence.

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

// seriesStart is a series' first occurrence: its do date, else its late
// date (a series anchored on it, as Taskwarrior's on its due date), else
// the first day its rule picks from now; picked says it is that day, which
// the task then takes as its do date.
func seriesStart(recur string, do, late *time.Time, now time.Time) (start time.Time, picked bool) {
	switch {
	case do != nil:
		return *do, false
	case late != nil:
		return *late, false
	}
	return firstOccurrence(recur, now), true
}

// checkSeries refuses a recurrence that can never occur from start on: its
// UNTIL is before start, or no day matches its BY parts before UNTIL
// (BYMONTH=2;BYMONTHDAY=30). Such a series would make a task whose do date
// is not an occurrence and whose first done ends it.
func checkSeries(recur string, start time.Time) error {
	r, err := parseRecurrence(recur)
	if err != nil {
		return invalidParams("%v", err)
	}
	if r.untilBefore(start) {
		return invalidParams("recurrence %q ends (UNTIL) before it starts on %s", recur, formatOccurrence(start))
	}
	if strings.Contains(r.String(), "BY") {
		free := *r
		free.count = 0
		if _, ok := free.Next(start.AddDate(-1, 0, 0), start.Add(-time.Nanosecond)); !ok {
			return invalidParams("recurrence %q never occurs from %s on: no date matches its BYMONTH, BYMONTHDAY and BYDAY (before its UNTIL)", recur, formatOccurrence(start))
		}
	}
	return nil
}

// untilBefore reports whether r's UNTIL is earlier than t (in t's zone for
// the floating forms).
func (r *Recurrence) untilBefore(t time.Time) bool {
	day := civilDay(t.Date())
	h, m, s := t.Clock()
	nanos := int64((h*60+m)*60+s)*int64(time.Second) + int64(t.Nanosecond())
	switch r.until {
	case untilUTC:
		return r.untilUTC.Before(t)
	case untilDate:
		return r.untilDay < day
	case untilLocal:
		return r.untilDay < day || (r.untilDay == day && r.untilNanos < nanos)
	}
	return false
}
