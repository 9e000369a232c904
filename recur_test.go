package main

import (
	"strings"
	"testing"
	"time"
)

// at9UTC is shorthand for the tables: 09:00 UTC on y-m-d.
func at9UTC(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 9, 0, 0, 0, time.UTC)
}

// listOccurrences lists the first n occurrences of rule from dtstart by calling Next
// repeatedly, stopping early when the series is exhausted.
func listOccurrences(t *testing.T, rule string, dtstart time.Time, n int) []time.Time {
	t.Helper()
	r, err := parseRecurrence(rule)
	if err != nil {
		t.Fatalf("parseRecurrence(%q): %v", rule, err)
	}
	var out []time.Time
	cur := dtstart.Add(-time.Nanosecond)
	for len(out) < n {
		next, ok := r.Next(dtstart, cur)
		if !ok {
			break
		}
		if !next.After(cur) {
			t.Fatalf("%s: Next(%s) = %s does not move forward", rule, cur, next)
		}
		out = append(out, next)
		cur = next
	}
	return out
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func formatTimes(ts []time.Time) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.Format("2006-01-02 15:04 MST"))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// TestRecurrenceTable checks rules against occurrences worked out by hand
// from a calendar (several are RFC 5545's own examples).
func TestRecurrenceTable(t *testing.T) {
	cases := []struct {
		name    string
		rule    string
		dtstart time.Time
		want    []time.Time // the complete list when shorter than limit
		limit   int
	}{
		{"daily", "daily", at9UTC(2026, 1, 30),
			[]time.Time{at9UTC(2026, 1, 30), at9UTC(2026, 1, 31), at9UTC(2026, 2, 1), at9UTC(2026, 2, 2)}, 4},
		{"daily interval 3 over a short February", "FREQ=DAILY;INTERVAL=3", at9UTC(2026, 2, 26),
			[]time.Time{at9UTC(2026, 2, 26), at9UTC(2026, 3, 1), at9UTC(2026, 3, 4), at9UTC(2026, 3, 7)}, 4},
		{"every 3 days preset", "every 3 days", at9UTC(2026, 11, 30),
			[]time.Time{at9UTC(2026, 11, 30), at9UTC(2026, 12, 3), at9UTC(2026, 12, 6)}, 3},
		{"weekly across the year end", "weekly", at9UTC(2026, 12, 30),
			[]time.Time{at9UTC(2026, 12, 30), at9UTC(2027, 1, 6), at9UTC(2027, 1, 13)}, 3},
		{"weekly BYDAY list from a Wednesday", "FREQ=WEEKLY;BYDAY=MO,WE,FR", at9UTC(2026, 11, 25),
			[]time.Time{at9UTC(2026, 11, 25), at9UTC(2026, 11, 27), at9UTC(2026, 11, 30), at9UTC(2026, 12, 2), at9UTC(2026, 12, 4)}, 5},
		{"fortnightly Tue/Thu", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", at9UTC(2026, 11, 24),
			[]time.Time{at9UTC(2026, 11, 24), at9UTC(2026, 11, 26), at9UTC(2026, 12, 8), at9UTC(2026, 12, 10), at9UTC(2026, 12, 22)}, 5},
		{"RFC 5545 WKST=MO", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", at9UTC(1997, 8, 5),
			[]time.Time{at9UTC(1997, 8, 5), at9UTC(1997, 8, 10), at9UTC(1997, 8, 19), at9UTC(1997, 8, 24)}, 10},
		{"RFC 5545 WKST=SU", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", at9UTC(1997, 8, 5),
			[]time.Time{at9UTC(1997, 8, 5), at9UTC(1997, 8, 17), at9UTC(1997, 8, 19), at9UTC(1997, 8, 31)}, 10},
		{"monthly on the 31st skips short months", "monthly", at9UTC(2026, 1, 31),
			[]time.Time{at9UTC(2026, 1, 31), at9UTC(2026, 3, 31), at9UTC(2026, 5, 31), at9UTC(2026, 7, 31), at9UTC(2026, 8, 31), at9UTC(2026, 10, 31), at9UTC(2026, 12, 31), at9UTC(2027, 1, 31)}, 8},
		{"BYMONTHDAY=31 from a dtstart off the rule", "FREQ=MONTHLY;BYMONTHDAY=31", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 31), at9UTC(2026, 3, 31), at9UTC(2026, 5, 31)}, 4},
		{"monthly on the 30th skips February only", "FREQ=MONTHLY", at9UTC(2026, 1, 30),
			[]time.Time{at9UTC(2026, 1, 30), at9UTC(2026, 3, 30), at9UTC(2026, 4, 30)}, 3},
		{"last day of the month", "FREQ=MONTHLY;BYMONTHDAY=-1", at9UTC(2026, 1, 31),
			[]time.Time{at9UTC(2026, 1, 31), at9UTC(2026, 2, 28), at9UTC(2026, 3, 31), at9UTC(2026, 4, 30)}, 4},
		{"last day of the month in a leap year", "FREQ=MONTHLY;BYMONTHDAY=-1", at9UTC(2024, 1, 31),
			[]time.Time{at9UTC(2024, 1, 31), at9UTC(2024, 2, 29), at9UTC(2024, 3, 31)}, 3},
		{"RFC 5545 third-to-last day", "FREQ=MONTHLY;BYMONTHDAY=-3", at9UTC(1997, 9, 28),
			[]time.Time{at9UTC(1997, 9, 28), at9UTC(1997, 10, 29), at9UTC(1997, 11, 28), at9UTC(1997, 12, 29), at9UTC(1998, 1, 29), at9UTC(1998, 2, 26)}, 6},
		{"first and last, every other month", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1,-1", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 31), at9UTC(2026, 3, 1), at9UTC(2026, 3, 31), at9UTC(2026, 5, 1)}, 5},
		{"second Tuesday", "FREQ=MONTHLY;BYDAY=2TU", at9UTC(2026, 1, 13),
			[]time.Time{at9UTC(2026, 1, 13), at9UTC(2026, 2, 10), at9UTC(2026, 3, 10), at9UTC(2026, 4, 14)}, 4},
		{"last Friday", "FREQ=MONTHLY;BYDAY=-1FR", at9UTC(2026, 1, 30),
			[]time.Time{at9UTC(2026, 1, 30), at9UTC(2026, 2, 27), at9UTC(2026, 3, 27), at9UTC(2026, 4, 24)}, 4},
		{"RFC 5545 first Friday, COUNT=10", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR", at9UTC(1997, 9, 5),
			[]time.Time{at9UTC(1997, 9, 5), at9UTC(1997, 10, 3), at9UTC(1997, 11, 7), at9UTC(1997, 12, 5), at9UTC(1998, 1, 2), at9UTC(1998, 2, 6), at9UTC(1998, 3, 6), at9UTC(1998, 4, 3), at9UTC(1998, 5, 1), at9UTC(1998, 6, 5)}, 20},
		{"RFC 5545 Friday the 13th", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", at9UTC(1997, 9, 2),
			[]time.Time{at9UTC(1997, 9, 2), at9UTC(1998, 2, 13), at9UTC(1998, 3, 13), at9UTC(1998, 11, 13), at9UTC(1999, 8, 13)}, 5},
		{"every Monday of the month", "FREQ=MONTHLY;BYDAY=MO", at9UTC(2026, 2, 2),
			[]time.Time{at9UTC(2026, 2, 2), at9UTC(2026, 2, 9), at9UTC(2026, 2, 16), at9UTC(2026, 2, 23), at9UTC(2026, 3, 2)}, 5},
		{"yearly", "yearly", at9UTC(2026, 3, 15),
			[]time.Time{at9UTC(2026, 3, 15), at9UTC(2027, 3, 15), at9UTC(2028, 3, 15)}, 3},
		{"yearly Feb 29 only in leap years", "yearly", at9UTC(2024, 2, 29),
			[]time.Time{at9UTC(2024, 2, 29), at9UTC(2028, 2, 29), at9UTC(2032, 2, 29)}, 3},
		{"yearly Feb 29 across 2100", "FREQ=YEARLY;INTERVAL=4", at9UTC(2096, 2, 29),
			[]time.Time{at9UTC(2096, 2, 29), at9UTC(2104, 2, 29)}, 2},
		{"yearly BYMONTH expands", "FREQ=YEARLY;BYMONTH=1,7", at9UTC(2026, 1, 15),
			[]time.Time{at9UTC(2026, 1, 15), at9UTC(2026, 7, 15), at9UTC(2027, 1, 15)}, 3},
		{"yearly BYMONTH on the 31st skips", "FREQ=YEARLY;BYMONTH=1,2,3,4", at9UTC(2026, 1, 31),
			[]time.Time{at9UTC(2026, 1, 31), at9UTC(2026, 3, 31), at9UTC(2027, 1, 31)}, 3},
		{"RFC 5545 20th Monday of the year", "FREQ=YEARLY;BYDAY=20MO", at9UTC(1997, 5, 19),
			[]time.Time{at9UTC(1997, 5, 19), at9UTC(1998, 5, 18), at9UTC(1999, 5, 17)}, 3},
		{"RFC 5545 Thursdays in March", "FREQ=YEARLY;BYMONTH=3;BYDAY=TH", at9UTC(1997, 3, 13),
			[]time.Time{at9UTC(1997, 3, 13), at9UTC(1997, 3, 20), at9UTC(1997, 3, 27), at9UTC(1998, 3, 5), at9UTC(1998, 3, 12), at9UTC(1998, 3, 19), at9UTC(1998, 3, 26)}, 7},
		{"US Thanksgiving", "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", at9UTC(2026, 11, 26),
			[]time.Time{at9UTC(2026, 11, 26), at9UTC(2027, 11, 25), at9UTC(2028, 11, 23)}, 3},
		{"yearly BYMONTHDAY without BYMONTH covers every month", "FREQ=YEARLY;BYMONTHDAY=1", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 2, 1), at9UTC(2026, 3, 1)}, 3},
		{"daily limited to February", "FREQ=DAILY;BYMONTH=2", at9UTC(2026, 2, 27),
			[]time.Time{at9UTC(2026, 2, 27), at9UTC(2026, 2, 28), at9UTC(2027, 2, 1)}, 3},
		{"daily limited to weekends", "FREQ=DAILY;BYDAY=SA,SU", at9UTC(2026, 11, 28),
			[]time.Time{at9UTC(2026, 11, 28), at9UTC(2026, 11, 29), at9UTC(2026, 12, 5), at9UTC(2026, 12, 6)}, 4},
		{"daily limited to the last day", "FREQ=DAILY;BYMONTHDAY=-1", at9UTC(2026, 1, 31),
			[]time.Time{at9UTC(2026, 1, 31), at9UTC(2026, 2, 28), at9UTC(2026, 3, 31)}, 3},
		{"weekly limited to December", "FREQ=WEEKLY;BYMONTH=12", at9UTC(2026, 12, 28),
			[]time.Time{at9UTC(2026, 12, 28), at9UTC(2027, 12, 6)}, 2},
		{"COUNT exhausts", "FREQ=DAILY;COUNT=3", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 2), at9UTC(2026, 1, 3)}, 10},
		{"COUNT=1 is dtstart alone", "FREQ=WEEKLY;COUNT=1", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1)}, 10},
		{"COUNT counts an off-rule dtstart", "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 15), at9UTC(2026, 2, 15)}, 10},
		{"UNTIL date is inclusive", "FREQ=WEEKLY;UNTIL=20260115", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 8), at9UTC(2026, 1, 15)}, 10},
		{"UNTIL UTC on an occurrence is inclusive", "FREQ=DAILY;UNTIL=20260103T090000Z", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 2), at9UTC(2026, 1, 3)}, 10},
		{"UNTIL UTC a second before", "FREQ=DAILY;UNTIL=20260103T085959Z", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 2)}, 10},
		{"UNTIL floating local", "FREQ=DAILY;UNTIL=20260103T083000", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 2)}, 10},
		{"UNTIL as YYYY-MM-DD", "FREQ=DAILY;UNTIL=2026-01-02", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1), at9UTC(2026, 1, 2)}, 10},
		{"UNTIL before the first rule date", "FREQ=MONTHLY;UNTIL=20260110", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1)}, 10},
		{"weekdays skips Saturday and Sunday", "weekdays", at9UTC(2026, 11, 27),
			[]time.Time{at9UTC(2026, 11, 27), at9UTC(2026, 11, 30), at9UTC(2026, 12, 1), at9UTC(2026, 12, 2), at9UTC(2026, 12, 3), at9UTC(2026, 12, 4), at9UTC(2026, 12, 7)}, 7},
		{"every mon,wed", "every mon,wed", at9UTC(2026, 11, 30),
			[]time.Time{at9UTC(2026, 11, 30), at9UTC(2026, 12, 2), at9UTC(2026, 12, 7), at9UTC(2026, 12, 9)}, 4},
		{"every 2 weeks on mon", "every 2 weeks on mon", at9UTC(2026, 11, 30),
			[]time.Time{at9UTC(2026, 11, 30), at9UTC(2026, 12, 14), at9UTC(2026, 12, 28)}, 3},
		{"every 2 months", "every 2 months", at9UTC(2026, 12, 31),
			[]time.Time{at9UTC(2026, 12, 31), at9UTC(2027, 8, 31), at9UTC(2027, 10, 31)}, 3},
		{"every year preset", "every 2 years", at9UTC(2026, 6, 1),
			[]time.Time{at9UTC(2026, 6, 1), at9UTC(2028, 6, 1)}, 2},
		{"rule that never fires ends", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", at9UTC(2026, 1, 1),
			[]time.Time{at9UTC(2026, 1, 1)}, 5},
		{"stops at year 9999", "yearly", at9UTC(9998, 5, 1),
			[]time.Time{at9UTC(9998, 5, 1), at9UTC(9999, 5, 1)}, 5},
	}
	for _, c := range cases {
		got := listOccurrences(t, c.rule, c.dtstart, c.limit)
		if !equalTimes(got, c.want) {
			t.Errorf("%s (%s):\n got  %s\n want %s", c.name, c.rule, formatTimes(got), formatTimes(c.want))
		}
	}
}

// TestRecurrenceDST: a daily 09:00 series stays 09:00 local through both DST
// changes in two zones; the UTC instants move by an hour.
func TestRecurrenceDST(t *testing.T) {
	ny := loadZone(t, "America/New_York")
	berlin := loadZone(t, "Europe/Berlin")
	utc := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	cases := []struct {
		name    string
		rule    string
		dtstart time.Time
		want    []time.Time // as UTC instants, worked out from the zone offsets
	}{
		// New York springs forward on Sunday 8 March 2026 (EST -5 → EDT -4).
		{"New York spring forward", "daily", wallAt(ny, 2026, 3, 6, 9, 0),
			[]time.Time{utc(2026, 3, 6, 14), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)}},
		// ... and falls back on Sunday 1 November 2026.
		{"New York fall back", "daily", wallAt(ny, 2026, 10, 30, 9, 0),
			[]time.Time{utc(2026, 10, 30, 13), utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)}},
		// Berlin springs forward on Sunday 29 March 2026 (CET +1 → CEST +2).
		{"Berlin spring forward", "daily", wallAt(berlin, 2026, 3, 27, 9, 0),
			[]time.Time{utc(2026, 3, 27, 8), utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)}},
		// ... and falls back on Sunday 25 October 2026.
		{"Berlin fall back", "daily", wallAt(berlin, 2026, 10, 23, 9, 0),
			[]time.Time{utc(2026, 10, 23, 7), utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)}},
		{"Berlin weekly across both", "weekly", wallAt(berlin, 2026, 3, 22, 9, 0),
			[]time.Time{utc(2026, 3, 22, 8), utc(2026, 3, 29, 7), utc(2026, 4, 5, 7)}},
	}
	for _, c := range cases {
		got := listOccurrences(t, c.rule, c.dtstart, len(c.want))
		if !equalTimes(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.name, formatTimes(got), formatTimes(c.want))
		}
		for _, o := range got {
			if o.Location() != c.dtstart.Location() || o.Hour() != 9 || o.Minute() != 0 {
				t.Errorf("%s: occurrence %s is not 09:00 in %s", c.name, o, c.dtstart.Location())
			}
		}
	}
	// A 02:30 series meets the spring-forward gap: that day's occurrence is
	// 03:30 EDT (RFC 5545: the offset from before the gap), the next is 02:30 again.
	got := listOccurrences(t, "daily", wallAt(ny, 2026, 3, 7, 2, 30), 3)
	want := []time.Time{utc(2026, 3, 7, 7).Add(30 * time.Minute), utc(2026, 3, 8, 7).Add(30 * time.Minute), utc(2026, 3, 9, 6).Add(30 * time.Minute)}
	if !equalTimes(got, want) {
		t.Errorf("02:30 across the gap:\n got  %s\n want %s", formatTimes(got), formatTimes(want))
	}
	// A repeated wall time (fall back) is its first instant, in both zones:
	// 01:30 on 1 November 2026 in New York is 01:30 EDT (05:30Z), and 02:30 on
	// 25 October 2026 in Berlin is 02:30 CEST (00:30Z).
	ambiguous := []struct {
		dtstart time.Time
		want    []time.Time
	}{
		{wallAt(ny, 2026, 10, 31, 1, 30), []time.Time{utc(2026, 10, 31, 5).Add(30 * time.Minute), utc(2026, 11, 1, 5).Add(30 * time.Minute), utc(2026, 11, 2, 6).Add(30 * time.Minute)}},
		{wallAt(berlin, 2026, 10, 24, 2, 30), []time.Time{utc(2026, 10, 24, 0).Add(30 * time.Minute), utc(2026, 10, 25, 0).Add(30 * time.Minute), utc(2026, 10, 26, 1).Add(30 * time.Minute)}},
		{wallAt(berlin, 2026, 3, 28, 2, 30), []time.Time{utc(2026, 3, 28, 1).Add(30 * time.Minute), utc(2026, 3, 29, 1).Add(30 * time.Minute), utc(2026, 3, 30, 0).Add(30 * time.Minute)}},
	}
	// Havana skips midnight on 8 March 2026: a daily 00:00 series is at 01:00
	// CDT that day (05:00Z), never at 23:00 the day before.
	havana := loadZone(t, "America/Havana")
	ambiguous = append(ambiguous, struct {
		dtstart time.Time
		want    []time.Time
	}{time.Date(2026, 3, 7, 0, 0, 0, 0, havana), []time.Time{utc(2026, 3, 7, 5), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)}})
	for _, c := range ambiguous {
		if got := listOccurrences(t, "daily", c.dtstart, 3); !equalTimes(got, c.want) {
			t.Errorf("daily from %s:\n got  %s\n want %s", c.dtstart, formatTimes(got), formatTimes(c.want))
		}
	}
}

// TestRecurrenceNextSkipsMissed: Next from long after dtstart lands on the
// first occurrence after `after`, with and without COUNT.
func TestRecurrenceNextSkipsMissed(t *testing.T) {
	ny := loadZone(t, "America/New_York")
	now := wallAt(ny, 2026, 11, 26, 15, 4) // a Thursday
	cases := []struct {
		rule    string
		dtstart time.Time
		after   time.Time
		want    time.Time
		ok      bool
	}{
		{"daily", wallAt(ny, 2000, 1, 1, 9, 0), now, wallAt(ny, 2026, 11, 27, 9, 0), true},
		{"daily", wallAt(ny, 2000, 1, 1, 16, 0), now, wallAt(ny, 2026, 11, 26, 16, 0), true},
		{"FREQ=DAILY;COUNT=100000", wallAt(ny, 2000, 1, 1, 9, 0), now, wallAt(ny, 2026, 11, 27, 9, 0), true},
		{"FREQ=DAILY;COUNT=9000", wallAt(ny, 2000, 1, 1, 9, 0), now, time.Time{}, false}, // ended in 2024
		{"FREQ=WEEKLY;BYDAY=MO,FR", wallAt(ny, 2020, 1, 6, 8, 0), now, wallAt(ny, 2026, 11, 27, 8, 0), true},
		{"FREQ=WEEKLY;INTERVAL=2", wallAt(ny, 2026, 11, 12, 8, 0), now, wallAt(ny, 2026, 12, 10, 8, 0), true},
		{"FREQ=MONTHLY;BYDAY=-1FR", wallAt(ny, 2010, 1, 29, 8, 0), now, wallAt(ny, 2026, 11, 27, 8, 0), true},
		{"monthly", wallAt(ny, 2016, 1, 31, 8, 0), now, wallAt(ny, 2026, 12, 31, 8, 0), true},
		{"FREQ=MONTHLY;INTERVAL=5", wallAt(ny, 2026, 1, 31, 8, 0), wallAt(ny, 2026, 2, 1, 0, 0), wallAt(ny, 2028, 7, 31, 8, 0), true}, // Jun, Nov, Apr, Sep, Feb lack a 31st
		{"yearly", wallAt(ny, 1996, 2, 29, 8, 0), now, wallAt(ny, 2028, 2, 29, 8, 0), true},
		{"FREQ=DAILY;UNTIL=20261126", wallAt(ny, 2026, 11, 1, 9, 0), now, time.Time{}, false},
		{"FREQ=DAILY;UNTIL=20261127", wallAt(ny, 2026, 11, 1, 9, 0), now, wallAt(ny, 2026, 11, 27, 9, 0), true},
		// after before dtstart: dtstart is the first occurrence.
		{"FREQ=MONTHLY;BYMONTHDAY=15", wallAt(ny, 2026, 12, 1, 9, 0), now, wallAt(ny, 2026, 12, 1, 9, 0), true},
		// after exactly on an occurrence: strictly after.
		{"daily", wallAt(ny, 2026, 11, 1, 9, 0), wallAt(ny, 2026, 11, 26, 9, 0), wallAt(ny, 2026, 11, 27, 9, 0), true},
	}
	for _, c := range cases {
		r, err := parseRecurrence(c.rule)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := r.Next(c.dtstart, c.after)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("%s from %s, after %s: got %s %v, want %s %v", c.rule, c.dtstart, c.after, got, ok, c.want, c.ok)
		}
	}
}

func TestRecurrenceIndex(t *testing.T) {
	cases := []struct {
		rule    string
		dtstart time.Time
		t       time.Time
		want    int
	}{
		{"daily", at9UTC(2026, 1, 1), at9UTC(2026, 1, 1), 1},
		{"daily", at9UTC(2026, 1, 1), at9UTC(2026, 1, 5), 5},
		{"daily", at9UTC(2026, 1, 1), at9UTC(2026, 1, 5).Add(time.Hour), 0},
		{"daily", at9UTC(2026, 1, 1), at9UTC(2025, 12, 31), 0},
		{"daily", at9UTC(2026, 1, 1), at9UTC(2027, 1, 1), 366},
		{"FREQ=DAILY;COUNT=3", at9UTC(2026, 1, 1), at9UTC(2026, 1, 3), 3},
		{"FREQ=DAILY;COUNT=3", at9UTC(2026, 1, 1), at9UTC(2026, 1, 4), 0},
		{"FREQ=DAILY;UNTIL=20260103", at9UTC(2026, 1, 1), at9UTC(2026, 1, 4), 0},
		{"monthly", at9UTC(2026, 1, 31), at9UTC(2026, 3, 31), 2},
		{"monthly", at9UTC(2026, 1, 31), at9UTC(2026, 2, 28), 0},
		{"FREQ=MONTHLY;BYDAY=2TU", at9UTC(2026, 1, 13), at9UTC(2026, 4, 14), 4},
		{"FREQ=MONTHLY;BYMONTHDAY=15", at9UTC(2026, 1, 1), at9UTC(2026, 2, 15), 3},
		{"weekdays", at9UTC(2026, 11, 27), at9UTC(2026, 12, 7), 7},
	}
	for _, c := range cases {
		r, err := parseRecurrence(c.rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Index(c.dtstart, c.t); got != c.want {
			t.Errorf("%s from %s: Index(%s) = %d, want %d", c.rule, c.dtstart.Format("2006-01-02"), c.t, got, c.want)
		}
	}
}

// TestParseRecurrenceCanonical: presets and RRULEs print as canonical RRULE
// text, and that text parses back to the same rule.
func TestParseRecurrenceCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{"daily", "FREQ=DAILY"},
		{"Every Day", "FREQ=DAILY"},
		{"weekly", "FREQ=WEEKLY"},
		{"monthly", "FREQ=MONTHLY"},
		{"yearly", "FREQ=YEARLY"},
		{"annually", "FREQ=YEARLY"},
		{"weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"weekends", "FREQ=WEEKLY;BYDAY=SA,SU"},
		{"every 3 days", "FREQ=DAILY;INTERVAL=3"},
		{"every 1 day", "FREQ=DAILY"},
		{"every other week", "FREQ=WEEKLY;INTERVAL=2"},
		{"every other week on tue,thu", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"},
		{"fortnightly", "FREQ=WEEKLY;INTERVAL=2"},
		{"biweekly", "FREQ=WEEKLY;INTERVAL=2"},
		{"quarterly", "FREQ=MONTHLY;INTERVAL=3"},
		{"every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"},
		{"every  6   months", "FREQ=MONTHLY;INTERVAL=6"},
		{"every 10 years", "FREQ=YEARLY;INTERVAL=10"},
		{"every mon,wed", "FREQ=WEEKLY;BYDAY=MO,WE"},
		{"every wed, mon", "FREQ=WEEKLY;BYDAY=MO,WE"},
		{"every monday and friday", "FREQ=WEEKLY;BYDAY=MO,FR"},
		{"every sun", "FREQ=WEEKLY;BYDAY=SU"},
		{"every 2 weeks on fri,mon", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR"},
		{"every week on tue", "FREQ=WEEKLY;BYDAY=TU"},
		{"FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE"},
		{"RRULE:FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR"},
		{"rrule:freq=monthly;byday=+2tu", "FREQ=MONTHLY;BYDAY=2TU"},
		{" FREQ=DAILY ; INTERVAL=1 ; ", "FREQ=DAILY"},
		{"FREQ=WEEKLY;WKST=SU;BYDAY=SU,TU;INTERVAL=2", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU"},
		{"FREQ=WEEKLY;WKST=MO", "FREQ=WEEKLY"},
		{"FREQ=MONTHLY;BYMONTHDAY=-1,15,1,15", "FREQ=MONTHLY;BYMONTHDAY=-1,1,15"},
		{"FREQ=YEARLY;BYMONTH=12,3;BYDAY=-1SU,1SU", "FREQ=YEARLY;BYDAY=-1SU,1SU;BYMONTH=3,12"},
		{"FREQ=DAILY;COUNT=5", "FREQ=DAILY;COUNT=5"},
		{"FREQ=DAILY;UNTIL=20261231", "FREQ=DAILY;UNTIL=20261231"},
		{"FREQ=DAILY;UNTIL=2026-12-31", "FREQ=DAILY;UNTIL=20261231"},
		{"FREQ=DAILY;UNTIL=20261231T235959", "FREQ=DAILY;UNTIL=20261231T235959"},
		{"FREQ=DAILY;UNTIL=20261231T235959Z", "FREQ=DAILY;UNTIL=20261231T235959Z"},
		{"FREQ=DAILY;UNTIL=2026-12-31T18:00:00-05:00", "FREQ=DAILY;UNTIL=20261231T230000Z"},
	}
	for _, c := range cases {
		r, err := parseRecurrence(c.in)
		if err != nil {
			t.Errorf("parseRecurrence(%q): %v", c.in, err)
			continue
		}
		if got := r.String(); got != c.want {
			t.Errorf("parseRecurrence(%q).String() = %q, want %q", c.in, got, c.want)
		}
		again, err := parseRecurrence(r.String())
		if err != nil || again.String() != r.String() {
			t.Errorf("round trip of %q: %v, %v", r.String(), again, err)
		}
	}
	r, _ := parseRecurrence("FREQ=DAILY;COUNT=7")
	if r.Count() != 7 {
		t.Errorf("Count() = %d, want 7", r.Count())
	}
	r, _ = parseRecurrence("daily")
	if r.Count() != 0 {
		t.Errorf("Count() of an unbounded rule = %d, want 0", r.Count())
	}
}

func TestParseRecurrenceErrors(t *testing.T) {
	cases := []struct{ in, says string }{
		{"", "empty recurrence"},
		{"   ", "empty recurrence"},
		{"hourly", "not a preset or an RRULE"},
		{"sometimes", "every N days"},
		{"FREQ=HOURLY", "FREQ=HOURLY is not supported"},
		{"FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported"},
		{"FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO", "BYSETPOS is not supported"},
		{"FREQ=DAILY;FOO=1", "unknown part FOO"},
		{"FREQ=DAILY;INTERVAL", `bad part "INTERVAL"`},
		{"FREQ=DAILY;COUNT=", "COUNT has no value"},
		{"INTERVAL=2", "FREQ is required"},
		{"FREQ=DAILY;FREQ=WEEKLY", "FREQ given twice"},
		{"FREQ=DAILY;INTERVAL=0", "INTERVAL=0"},
		{"FREQ=DAILY;INTERVAL=1001", "INTERVAL=1001"},
		{"FREQ=DAILY;COUNT=abc", "COUNT=ABC"},
		{"FREQ=DAILY;COUNT=0", "COUNT=0"},
		{"FREQ=DAILY;COUNT=2;UNTIL=20260101", "COUNT and UNTIL"},
		{"FREQ=WEEKLY;BYDAY=2TU", "an ordinal needs FREQ=MONTHLY or YEARLY"},
		{"FREQ=DAILY;BYDAY=-1FR", "an ordinal needs FREQ=MONTHLY or YEARLY"},
		{"FREQ=MONTHLY;BYDAY=XX", "XX is not one of"},
		{"FREQ=MONTHLY;BYDAY=6MO", "at most 5"},
		{"FREQ=YEARLY;BYDAY=54MO", "the ordinal must be"},
		{"FREQ=MONTHLY;BYDAY=0MO", "the ordinal must be"},
		{"FREQ=MONTHLY;BYDAY=+MO", "the ordinal must be"},
		{"FREQ=MONTHLY;BYDAY=M", `BYDAY value "M"`},
		{"FREQ=MONTHLY;BYMONTHDAY=32", `BYMONTHDAY value "32"`},
		{"FREQ=MONTHLY;BYMONTHDAY=0", `BYMONTHDAY value "0"`},
		{"FREQ=MONTHLY;BYMONTHDAY=1,,2", `BYMONTHDAY value ""`},
		{"FREQ=YEARLY;BYMONTH=13", `BYMONTH value "13"`},
		{"FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"},
		{"FREQ=DAILY;UNTIL=2026", "UNTIL=2026"},
		{"FREQ=DAILY;UNTIL=20261301", "UNTIL=20261301"},
		{"FREQ=WEEKLY;WKST=XX", "WKST=XX"},
		{"every", "every"},
		{"every 3", "needs a unit"},
		{"every 3 fortnights", `unknown unit "fortnights"`},
		{"every 0 days", `bad count "0"`},
		{"every funday", `unknown weekday "funday"`},
		{"every 2 months on mon", `"on" days need weeks`},
		{"every 2 weeks on someday", `unknown weekday "someday"`},
	}
	for _, c := range cases {
		r, err := parseRecurrence(c.in)
		if err == nil {
			t.Errorf("parseRecurrence(%q) = %s, want an error", c.in, r)
			continue
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("parseRecurrence(%q) error %q does not say %q", c.in, err, c.says)
		}
	}
}

// BenchmarkRecurrenceNextMissed: `done` on a daily task missed for 26 years.
func BenchmarkRecurrenceNextMissed(b *testing.B) {
	for _, rule := range []string{"daily", "FREQ=DAILY;COUNT=100000", "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"} {
		r, err := parseRecurrence(rule)
		if err != nil {
			b.Fatal(err)
		}
		dtstart := time.Date(2000, 1, 1, 9, 0, 0, 0, time.UTC)
		now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
		b.Run(rule, func(b *testing.B) {
			for b.Loop() {
				r.Next(dtstart, now)
			}
		})
	}
}

func FuzzParseRecurrence(f *testing.F) {
	for _, s := range []string{"daily", "weekdays", "every 3 days", "every mon,wed", "every 2 weeks on fri",
		"FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU;COUNT=4",
		"FREQ=DAILY;UNTIL=20261231T235959Z", "FREQ=MONTHLY;BYMONTHDAY=31,-1", "FREQ=YEARLY;BYDAY=20MO"} {
		f.Add(s, int64(0))
	}
	loc := time.FixedZone("X", -5*3600)
	f.Fuzz(func(t *testing.T, s string, offset int64) {
		r, err := parseRecurrence(s)
		if err != nil {
			if r != nil {
				t.Fatalf("parseRecurrence(%q) returned a rule and an error", s)
			}
			return
		}
		text := r.String()
		again, err := parseRecurrence(text)
		if err != nil || again.String() != text {
			t.Fatalf("round trip of %q: %q -> %v, %v", s, text, again, err)
		}
		if r.Describe() == "" {
			t.Fatalf("%s: empty description", text)
		}
		dtstart := time.Date(2026, 1, 31, 9, 30, 0, 0, loc).Add(time.Duration(offset%(1<<40)) * time.Second)
		if next, seen, ok := r.Advance(dtstart, dtstart.Add(40*24*time.Hour), 0); ok && (!next.After(dtstart) || seen < 1) {
			t.Fatalf("%s: Advance from %s = %s, %d", text, dtstart, next, seen)
		}
		prev := dtstart
		for i := 2; i <= 4; i++ {
			next, ok := r.Next(dtstart, prev)
			if !ok {
				break
			}
			if !next.After(prev) {
				t.Fatalf("%s: Next(%s) = %s does not move forward", text, prev, next)
			}
			if idx := r.Index(dtstart, next); idx != i {
				t.Fatalf("%s from %s: Index(%s) = %d, want %d", text, dtstart, next, idx, i)
			}
			prev = next
		}
	})
}

// TestRecurrenceAdvance: `done` on a recurring task moves it past now,
// counting the occurrences it skips so COUNT still ends the series on time.
func TestRecurrenceAdvance(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC) // a Thursday
	cases := []struct {
		rule     string
		cur      time.Time
		seen     int
		want     time.Time
		wantSeen int
		ok       bool
	}{
		{"daily", at9UTC(2026, 11, 26), 0, at9UTC(2026, 11, 27), 1, true},
		{"daily", at9UTC(2026, 11, 20), 4, at9UTC(2026, 11, 27), 11, true}, // 20th..26th missed: 7 steps
		{"daily", at9UTC(2026, 11, 28), 2, at9UTC(2026, 11, 29), 3, true},  // done early: the next one after cur
		{"FREQ=DAILY;COUNT=12", at9UTC(2026, 11, 20), 4, at9UTC(2026, 11, 27), 11, true},
		{"FREQ=DAILY;COUNT=11", at9UTC(2026, 11, 20), 4, time.Time{}, 4, false},
		{"FREQ=WEEKLY;COUNT=3", at9UTC(2026, 11, 26), 1, at9UTC(2026, 12, 3), 2, true},
		{"FREQ=WEEKLY;COUNT=3", at9UTC(2026, 12, 3), 2, time.Time{}, 2, false},
		{"FREQ=WEEKLY;UNTIL=20261203", at9UTC(2026, 11, 26), 0, at9UTC(2026, 12, 3), 1, true},
		{"FREQ=WEEKLY;UNTIL=20261202", at9UTC(2026, 11, 26), 0, time.Time{}, 0, false},
		{"monthly", at9UTC(2026, 8, 31), 0, at9UTC(2026, 12, 31), 2, true}, // Oct 31 missed; Sep and Nov have no 31st
		{"FREQ=MONTHLY;BYDAY=-1FR", at9UTC(2026, 10, 30), 0, at9UTC(2026, 11, 27), 1, true},
		{"weekdays", at9UTC(2026, 11, 20), 0, at9UTC(2026, 11, 27), 5, true}, // Fri 20 → Mon..Thu missed
	}
	for _, c := range cases {
		r, err := parseRecurrence(c.rule)
		if err != nil {
			t.Fatal(err)
		}
		next, seen, ok := r.Advance(c.cur, now, c.seen)
		if ok != c.ok || !next.Equal(c.want) || seen != c.wantSeen {
			t.Errorf("%s: Advance(%s, now, %d) = %s, %d, %v; want %s, %d, %v", c.rule, c.cur.Format("2006-01-02"), c.seen, next, seen, ok, c.want, c.wantSeen, c.ok)
		}
	}
}

func TestRecurrenceDescribe(t *testing.T) {
	cases := []struct{ in, want string }{
		{"daily", "every day"},
		{"every 3 days", "every 3 days"},
		{"weekly", "every week"},
		{"weekdays", "every weekday"},
		{"every 2 weeks on mon,fri", "every 2 weeks on Mon, Fri"},
		{"every mon,wed", "every week on Mon, Wed"},
		{"monthly", "every month"},
		{"FREQ=MONTHLY;BYDAY=-1FR", "every month on the last Fri"},
		{"FREQ=MONTHLY;BYDAY=2TU,-2MO", "every month on the 2nd last Mon, the 2nd Tue"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,-1,31,22,13,-3", "every month on the 1st, the 13th, the 22nd, the 31st, the 3rd last day, the last day"},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3", "every year in Feb on the 29th, 3 times"},
		{"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "every year in Nov on the 4th Thu"},
		{"FREQ=DAILY;UNTIL=20261231", "every day, until 2026-12-31"},
		{"FREQ=DAILY;UNTIL=20261231T173000", "every day, until 2026-12-31 17:30"},
		{"FREQ=DAILY;UNTIL=20261231T173000Z", "every day, until 2026-12-31T17:30:00Z"},
		{"FREQ=YEARLY;INTERVAL=2", "every 2 years"},
	}
	for _, c := range cases {
		r, err := parseRecurrence(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Describe(); got != c.want {
			t.Errorf("Describe(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRecurrenceFromTaskwarrior(t *testing.T) {
	cases := []struct{ in, want string }{
		{"daily", "FREQ=DAILY"},
		{"day", "FREQ=DAILY"},
		{"3d", "FREQ=DAILY;INTERVAL=3"},
		{"3 days", "FREQ=DAILY;INTERVAL=3"},
		{"weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"weekly", "FREQ=WEEKLY"},
		{"2wks", "FREQ=WEEKLY;INTERVAL=2"},
		{"biweekly", "FREQ=WEEKLY;INTERVAL=2"},
		{"fortnight", "FREQ=WEEKLY;INTERVAL=2"},
		{"Monthly", "FREQ=MONTHLY"},
		{"1mo", "FREQ=MONTHLY"},
		{"2m", "FREQ=MONTHLY;INTERVAL=2"},
		{"bimonthly", "FREQ=MONTHLY;INTERVAL=2"},
		{"quarterly", "FREQ=MONTHLY;INTERVAL=3"},
		{"2q", "FREQ=MONTHLY;INTERVAL=6"},
		{"semiannual", "FREQ=MONTHLY;INTERVAL=6"},
		{"annual", "FREQ=YEARLY"},
		{"yearly", "FREQ=YEARLY"},
		{"biannual", "FREQ=YEARLY;INTERVAL=2"},
		{"P1D", "FREQ=DAILY"},
		{"P2W", "FREQ=WEEKLY;INTERVAL=2"},
		{"P1M", "FREQ=MONTHLY"},
		{"P1Y", "FREQ=YEARLY"},
	}
	for _, c := range cases {
		r, err := recurrenceFromTaskwarrior(c.in)
		if err != nil {
			t.Errorf("recurrenceFromTaskwarrior(%q): %v", c.in, err)
			continue
		}
		if got := r.String(); got != c.want {
			t.Errorf("recurrenceFromTaskwarrior(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, says string }{
		{"hourly", "more often than daily"},
		{"3h", "more often than daily"},
		{"PT1H", "compound or sub-day"},
		{"P1Y2M", "compound or sub-day"},
		{"1.5d", "not a whole number"},
		{"0d", "not a whole number"},
		{"3", "needs a unit"},
		{"3 lunations", `unknown duration unit "lunations"`},
		{"", "empty"},
		{"5000y", "over 1000"},
	} {
		_, err := recurrenceFromTaskwarrior(c.in)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("recurrenceFromTaskwarrior(%q) = %v, want an error saying %q", c.in, err, c.says)
		}
	}
}
