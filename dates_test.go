package main

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone data for tests on machines without /usr/share/zoneinfo
)

func loadZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

// wallAt builds a wall-clock time in loc; the expected values in the tables are
// written by hand with it.
func wallAt(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

func TestParseDate(t *testing.T) {
	ny := loadZone(t, "America/New_York")
	// Thursday 26 November 2026, 15:04 in New York.
	thu := wallAt(ny, 2026, 11, 26, 15, 4)
	sun := wallAt(ny, 2026, 11, 29, 8, 0)
	cases := []struct {
		in   string
		now  time.Time
		want time.Time
	}{
		{"today", thu, wallAt(ny, 2026, 11, 26, 0, 0)},
		{"  TODAY ", thu, wallAt(ny, 2026, 11, 26, 0, 0)},
		{"tomorrow", thu, wallAt(ny, 2026, 11, 27, 0, 0)},
		{"yesterday", thu, wallAt(ny, 2026, 11, 25, 0, 0)},
		{"Tomorrow", wallAt(ny, 2026, 12, 31, 23, 59), wallAt(ny, 2027, 1, 1, 0, 0)},
		{"+3d", thu, wallAt(ny, 2026, 11, 29, 0, 0)},
		{"next week", thu, wallAt(ny, 2026, 11, 30, 0, 0)},
		{"next week", wallAt(ny, 2026, 11, 30, 9, 0), wallAt(ny, 2026, 12, 7, 0, 0)}, // on a Monday: a week on
		{"Next Month", thu, wallAt(ny, 2026, 12, 1, 0, 0)},
		{"next month", wallAt(ny, 2026, 12, 31, 23, 0), wallAt(ny, 2027, 1, 1, 0, 0)},
		{"dec 24", thu, wallAt(ny, 2026, 12, 24, 0, 0)},
		{"24 Dec", thu, wallAt(ny, 2026, 12, 24, 0, 0)},
		{"december 24", thu, wallAt(ny, 2026, 12, 24, 0, 0)},
		{"nov 26", thu, wallAt(ny, 2026, 11, 26, 0, 0)}, // today counts
		{"nov 25", thu, wallAt(ny, 2027, 11, 25, 0, 0)}, // passed: next year
		{"sept 3", thu, wallAt(ny, 2027, 9, 3, 0, 0)},
		{"dec 24 9:30", thu, wallAt(ny, 2026, 12, 24, 9, 30)},
		{"3d", thu, wallAt(ny, 2026, 11, 29, 0, 0)},
		{"-3d", thu, wallAt(ny, 2026, 11, 23, 0, 0)},
		{"+0d", thu, wallAt(ny, 2026, 11, 26, 0, 0)},
		{"+10d", thu, wallAt(ny, 2026, 12, 6, 0, 0)},
		{"+2w", thu, wallAt(ny, 2026, 12, 10, 0, 0)},
		{"-1w", thu, wallAt(ny, 2026, 11, 19, 0, 0)},
		{"+1m", thu, wallAt(ny, 2026, 12, 26, 0, 0)},
		{"+2m", thu, wallAt(ny, 2026, 11+2, 26, 0, 0)},
		{"+1M", thu, wallAt(ny, 2026, 12, 26, 0, 0)},
		{"-11m", thu, wallAt(ny, 2025, 12, 26, 0, 0)},
		{"+1y", thu, wallAt(ny, 2027, 11, 26, 0, 0)},
		{"-2y", thu, wallAt(ny, 2024, 11, 26, 0, 0)},
		// Month arithmetic clamps to the end of a shorter month.
		{"+1m", wallAt(ny, 2026, 1, 31, 12, 0), wallAt(ny, 2026, 2, 28, 0, 0)},
		{"+1m", wallAt(ny, 2024, 1, 31, 12, 0), wallAt(ny, 2024, 2, 29, 0, 0)},
		{"-1m", wallAt(ny, 2026, 3, 31, 12, 0), wallAt(ny, 2026, 2, 28, 0, 0)},
		{"+3m", wallAt(ny, 2026, 1, 31, 12, 0), wallAt(ny, 2026, 4, 30, 0, 0)},
		{"+12m", wallAt(ny, 2026, 1, 31, 12, 0), wallAt(ny, 2027, 1, 31, 0, 0)},
		{"+1y", wallAt(ny, 2024, 2, 29, 12, 0), wallAt(ny, 2025, 2, 28, 0, 0)},
		{"+4y", wallAt(ny, 2024, 2, 29, 12, 0), wallAt(ny, 2028, 2, 29, 0, 0)},
		// Across the spring-forward night (8 March 2026 in New York) a day
		// offset is a calendar day: the result is midnight local, not +24h.
		{"+1d", wallAt(ny, 2026, 3, 7, 10, 0), wallAt(ny, 2026, 3, 8, 0, 0)},
		{"+2d", wallAt(ny, 2026, 3, 7, 10, 0), wallAt(ny, 2026, 3, 9, 0, 0)},
		{"tomorrow", wallAt(ny, 2026, 10, 31, 23, 30), wallAt(ny, 2026, 11, 1, 0, 0)},
		// Weekday names: the next one strictly after today (today is Thursday).
		{"fri", thu, wallAt(ny, 2026, 11, 27, 0, 0)},
		{"Friday", thu, wallAt(ny, 2026, 11, 27, 0, 0)},
		{"thu", thu, wallAt(ny, 2026, 12, 3, 0, 0)},
		{"thursday", thu, wallAt(ny, 2026, 12, 3, 0, 0)},
		{"wed", thu, wallAt(ny, 2026, 12, 2, 0, 0)},
		{"sat", thu, wallAt(ny, 2026, 11, 28, 0, 0)},
		{"sun", thu, wallAt(ny, 2026, 11, 29, 0, 0)},
		{"mon", thu, wallAt(ny, 2026, 11, 30, 0, 0)},
		{"tue", thu, wallAt(ny, 2026, 12, 1, 0, 0)},
		{"tues", thu, wallAt(ny, 2026, 12, 1, 0, 0)},
		{"THURS", thu, wallAt(ny, 2026, 12, 3, 0, 0)},
		// ... and around a Sunday, the weekday Go numbers 0.
		{"sun", sun, wallAt(ny, 2026, 12, 6, 0, 0)},
		{"sunday", sun, wallAt(ny, 2026, 12, 6, 0, 0)},
		{"mon", sun, wallAt(ny, 2026, 11, 30, 0, 0)},
		{"sat", sun, wallAt(ny, 2026, 12, 5, 0, 0)},
		{"fri", wallAt(ny, 2026, 11, 28, 9, 0), wallAt(ny, 2026, 12, 4, 0, 0)},  // from a Saturday
		{"sat", wallAt(ny, 2026, 11, 27, 9, 0), wallAt(ny, 2026, 11, 28, 0, 0)}, // from a Friday
		// The forms formatRelative prints read back: "in 3d", "3d ago".
		{"in 3d", thu, wallAt(ny, 2026, 11, 29, 0, 0)},
		{"In 2W", thu, wallAt(ny, 2026, 12, 10, 0, 0)},
		{"in  1m", thu, wallAt(ny, 2026, 12, 26, 0, 0)},
		{"3d ago", thu, wallAt(ny, 2026, 11, 23, 0, 0)},
		{"2w ago", thu, wallAt(ny, 2026, 11, 12, 0, 0)},
		{"1y ago", thu, wallAt(ny, 2025, 11, 26, 0, 0)},
		// Hours and minutes count from now, not from the start of the day.
		{"now", thu, thu},
		{"+2h", thu, wallAt(ny, 2026, 11, 26, 17, 4)},
		{"2h", thu, wallAt(ny, 2026, 11, 26, 17, 4)},
		{"-2h", thu, wallAt(ny, 2026, 11, 26, 13, 4)},
		{"+30min", thu, wallAt(ny, 2026, 11, 26, 15, 34)},
		{"+90MIN", thu, wallAt(ny, 2026, 11, 26, 16, 34)},
		{"in 2h", thu, wallAt(ny, 2026, 11, 26, 17, 4)},
		{"45min ago", thu, wallAt(ny, 2026, 11, 26, 14, 19)},
		{"+10h", thu, wallAt(ny, 2026, 11, 27, 1, 4)}, // past midnight
		// A day word plus a time of day.
		{"today 17:00", thu, wallAt(ny, 2026, 11, 26, 17, 0)},
		{"tomorrow 9:00", thu, wallAt(ny, 2026, 11, 27, 9, 0)},
		{"Tomorrow 09:05", thu, wallAt(ny, 2026, 11, 27, 9, 5)},
		{"yesterday 23:59", thu, wallAt(ny, 2026, 11, 25, 23, 59)},
		{"fri 14:00", thu, wallAt(ny, 2026, 11, 27, 14, 0)},
		{"thursday 0:30", thu, wallAt(ny, 2026, 12, 3, 0, 30)},
		{"+3d 8:00", thu, wallAt(ny, 2026, 11, 29, 8, 0)},
		{"in 2w 10:15", thu, wallAt(ny, 2026, 12, 10, 10, 15)},
		{"2d ago 12:00", thu, wallAt(ny, 2026, 11, 24, 12, 0)},
		{"today  17:00", thu, wallAt(ny, 2026, 11, 26, 17, 0)},
		{"2026-12-01 9:30", thu, wallAt(ny, 2026, 12, 1, 9, 30)},
		{"today 17:00:30", thu, time.Date(2026, 11, 26, 17, 0, 30, 0, ny)},
		// Absolute dates.
		{"2026-12-01", thu, wallAt(ny, 2026, 12, 1, 0, 0)},
		{"2024-02-29", thu, wallAt(ny, 2024, 2, 29, 0, 0)},
		{"2026-12-01 09:30", thu, wallAt(ny, 2026, 12, 1, 9, 30)},
		{"2026-12-01T09:30", thu, wallAt(ny, 2026, 12, 1, 9, 30)},
		{"2026-12-01 09:30:15", thu, time.Date(2026, 12, 1, 9, 30, 15, 0, ny)},
		{"2026-12-01T09:00:00Z", thu, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"2026-12-01t09:00:00z", thu, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"2026-07-01T09:00:00+02:00", thu, time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC)},
		{"2026-07-01T09:00:00.123456789-04:00", thu, time.Date(2026, 7, 1, 13, 0, 0, 123456789, time.UTC)},
	}
	for _, c := range cases {
		got, clear, err := parseDate(c.in, c.now)
		if err != nil || clear {
			t.Errorf("parseDate(%q, %s) = clear %v, err %v", c.in, c.now, clear, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("parseDate(%q, %s) = %s, want %s", c.in, c.now.Format(time.RFC3339), got.Format(time.RFC3339), c.want.Format(time.RFC3339))
		}
		if got.Location() != ny {
			t.Errorf("parseDate(%q) location %s, want now's (America/New_York)", c.in, got.Location())
		}
	}
}

// TestParseDateDST: dates that meet a DST change resolve as RFC 5545 says
// (first instant of a repeated time, offset before the gap for a skipped one).
// Havana skips midnight itself: "today" there must stay on today's date.
func TestParseDateDST(t *testing.T) {
	ny := loadZone(t, "America/New_York")
	havana := loadZone(t, "America/Havana")
	utc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	cases := []struct {
		in   string
		now  time.Time
		want time.Time
	}{
		{"2026-03-08 02:30", wallAt(ny, 2026, 3, 1, 12, 0), utc(2026, 3, 8, 7, 30)},   // 03:30 EDT
		{"2026-11-01 01:30", wallAt(ny, 2026, 10, 1, 12, 0), utc(2026, 11, 1, 5, 30)}, // 01:30 EDT, the first
		{"2026-11-01 01:30:00", wallAt(ny, 2026, 10, 1, 12, 0), utc(2026, 11, 1, 5, 30)},
		// Havana springs forward at midnight on 8 March 2026 (CST -5 → CDT -4):
		// the day starts at 01:00 CDT = 05:00Z.
		{"today", time.Date(2026, 3, 8, 12, 0, 0, 0, havana), utc(2026, 3, 8, 5, 0)},
		{"2026-03-08", time.Date(2026, 3, 1, 12, 0, 0, 0, havana), utc(2026, 3, 8, 5, 0)},
		{"tomorrow", time.Date(2026, 3, 7, 12, 0, 0, 0, havana), utc(2026, 3, 8, 5, 0)},
		{"+1w", time.Date(2026, 3, 1, 12, 0, 0, 0, havana), utc(2026, 3, 8, 5, 0)},
		{"sun", time.Date(2026, 3, 5, 12, 0, 0, 0, havana), utc(2026, 3, 8, 5, 0)},
		{"+1m", time.Date(2026, 2, 8, 12, 0, 0, 0, havana), utc(2026, 3, 8, 5, 0)},
		// ... and falls back at 01:00 CDT on 1 November 2026: midnight comes
		// twice, the day starts at the first (00:00 CDT = 04:00Z).
		{"2026-11-01", time.Date(2026, 10, 1, 12, 0, 0, 0, havana), utc(2026, 11, 1, 4, 0)},
	}
	for _, c := range cases {
		got, _, err := parseDate(c.in, c.now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("parseDate(%q, %s) = %s, %v; want %s", c.in, c.now, got, err, c.want)
		}
		if wy, wm, wd := c.want.In(c.now.Location()).Date(); err == nil {
			if y, m, d := got.Date(); y != wy || m != wm || d != wd {
				t.Errorf("parseDate(%q) = %s: on the wrong day", c.in, got)
			}
		}
	}
}

func TestParseDateNone(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	for _, in := range []string{"none", " NONE ", "None"} {
		got, clear, err := parseDate(in, now)
		if err != nil || !clear || !got.IsZero() {
			t.Errorf("parseDate(%q) = %v, clear %v, err %v; want zero, clear", in, got, clear, err)
		}
	}
}

func TestParseDateErrors(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	cases := []struct{ in, reason string }{
		{"", "empty date"},
		{"   ", "empty date"},
		{"someday", `bad date "someday"`},
		{"next friday", `bad date "next friday"`},
		{"+d", `bad date "+d"`},
		{"+3x", `bad date "+3x"`},
		{"3", `bad date "3"`},
		{"+-3d", `bad date "+-3d"`},
		{"+3.5d", `bad date "+3.5d"`},
		{"13/01/2026", `bad date "13/01/2026"`},
		{"2026-02-30", "day out of range"},
		{"2026-13-01", "month out of range"},
		{"2026-12-01 25:00", "hour out of range"},
		{"2026-12-01T09:00:00+25:00", `bad date`},
		{"2026-1-5", `bad date "2026-1-5"`},
		{"+1234567d", "too large"},
		{"+999999y", "out of range"},
		{"-999999y", "out of range"},
		{"in -3d", `bad date "in -3d"`},
		{"in 3", `bad date "in 3"`},
		{"ago", `bad date "ago"`},
		{"3d ago ago", `bad date`},
		{"+3 d", `bad date`},
		{"+h", `bad date "+h"`},
		{"min", `bad date "min"`},
		{"+1234567min", "too large"},
		{"nowish", `bad date "nowish"`},
		{"today 25:00", "hour out of range"},
		{"tomorrow 9:60", "minute out of range"},
		{"fri 9", `bad date "fri 9"`},
		{"fri 9:5", `is not H:MM`},
		{"fri 123:00", `is not H:MM`},
		{"someday 9:00", `bad date "someday 9:00"`},
		{"+2h 9:00", `bad date "+2h 9:00"`},
		{"now 9:00", `bad date "now 9:00"`},
		{"2026-02-30 9:00", "day out of range"},
		{"nonee", `bad date "nonee"`},
		{"feb 30", "day out of range"},
		{"feb 29", "has no February 29"},
		{"dec 0", "day out of range"},
		{"dec 123", `bad date "dec 123"`},
		{"decem 24", `bad date "decem 24"`},
		{"next year", `bad date "next year"`},
	}
	for _, c := range cases {
		_, clear, err := parseDate(c.in, now)
		if err == nil {
			t.Errorf("parseDate(%q): no error (clear %v)", c.in, clear)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.reason) {
			t.Errorf("parseDate(%q) error %q does not say %q", c.in, msg, c.reason)
		}
		if c.reason == "out of range" && strings.Contains(c.in, "y") {
			continue // a year range error names the range, not the forms
		}
		for _, form := range []string{"now", "today", "tomorrow", "yesterday", "+3d", "+2w", "+1m", "+1y", "in 3d", "3d ago", "+2h", "+30min", "fri", "today 17:00", "tomorrow 9:00", "fri 14:00", "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "RFC 3339", "none"} {
			if !strings.Contains(msg, form) {
				t.Errorf("parseDate(%q) error %q does not list the form %q", c.in, msg, form)
			}
		}
	}
}

func TestFormatRelative(t *testing.T) {
	ny := loadZone(t, "America/New_York")
	now := wallAt(ny, 2026, 11, 26, 15, 4)
	cases := []struct {
		t    time.Time
		want string
	}{
		{wallAt(ny, 2026, 11, 26, 0, 0), "today"},
		{wallAt(ny, 2026, 11, 26, 23, 59), "today"},
		{now, "today"},
		{time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), "today"}, // 22:00 in New York
		{wallAt(ny, 2026, 11, 27, 0, 0), "tomorrow"},
		{wallAt(ny, 2026, 11, 25, 23, 0), "yesterday"},
		{wallAt(ny, 2026, 11, 29, 9, 0), "in 3d"},
		{wallAt(ny, 2026, 11, 23, 9, 0), "3d ago"},
		{wallAt(ny, 2026, 12, 9, 0, 0), "in 13d"},
		{wallAt(ny, 2026, 12, 10, 0, 0), "in 2w"},
		{wallAt(ny, 2026, 11, 12, 0, 0), "2w ago"},
		{wallAt(ny, 2026, 12, 26, 0, 0), "in 4w"}, // 30 days rounds to 4 weeks
		{wallAt(ny, 2026, 12, 13, 0, 0), "in 2w"}, // 17 days
		{wallAt(ny, 2026, 12, 14, 0, 0), "in 3w"}, // 18 days
		{wallAt(ny, 2027, 1, 21, 0, 0), "in 8w"},  // 56 days
		{wallAt(ny, 2026, 10, 1, 0, 0), "8w ago"}, // 56 days
		{wallAt(ny, 2027, 1, 22, 0, 0), "2027-01-22"},
		{wallAt(ny, 2026, 9, 30, 0, 0), "2026-09-30"},
		{time.Date(2027, 6, 1, 2, 0, 0, 0, time.UTC), "2027-05-31"}, // shown in now's zone
	}
	for _, c := range cases {
		if got := formatRelative(c.t, now); got != c.want {
			t.Errorf("formatRelative(%s) = %q, want %q", c.t.Format(time.RFC3339), got, c.want)
		}
	}
	// Calendar days across the fall-back night (1 November 2026): 25 hours
	// apart is still one calendar day.
	if got := formatRelative(wallAt(ny, 2026, 11, 1, 0, 0), wallAt(ny, 2026, 10, 31, 0, 0)); got != "tomorrow" {
		t.Errorf("across fall-back: %q, want tomorrow", got)
	}
}

func TestFormatLate(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	cases := []struct {
		ago  time.Duration
		want string
	}{
		{-time.Hour, ""},
		{0, ""},
		{30 * time.Second, "<1min late"},
		{45 * time.Minute, "45min late"},
		{5*time.Hour + 59*time.Minute, "5h late"},
		{23 * time.Hour, "23h late"},
		{24 * time.Hour, "1d late"},
		{2*24*time.Hour + 3*time.Hour, "2d late"},
		{13 * 24 * time.Hour, "13d late"},
		{20 * 24 * time.Hour, "2w late"},
		{364 * 24 * time.Hour, "52w late"},
		{400 * 24 * time.Hour, "1y late"},
		{800 * 24 * time.Hour, "2y late"},
	}
	for _, c := range cases {
		if got := formatLate(now.Add(-c.ago), now); got != c.want {
			t.Errorf("formatLate(now-%s) = %q, want %q", c.ago, got, c.want)
		}
	}
}

func TestCivilDay(t *testing.T) {
	cases := []struct {
		y  int
		m  time.Month
		d  int
		n  int
		wd time.Weekday
	}{
		{1970, 1, 1, 0, time.Thursday},
		{1969, 12, 31, -1, time.Wednesday},
		{2000, 3, 1, 11017, time.Wednesday},
		{2026, 11, 26, 20783, time.Thursday},
		{1600, 2, 29, -135081, time.Tuesday},
	}
	for _, c := range cases {
		if n := civilDay(c.y, c.m, c.d); n != c.n {
			t.Errorf("civilDay(%d-%d-%d) = %d, want %d", c.y, c.m, c.d, n, c.n)
		}
		if y, m, d := civilDate(c.n); y != c.y || m != c.m || d != c.d {
			t.Errorf("civilDate(%d) = %d-%d-%d", c.n, y, m, d)
		}
		if wd := civilWeekday(c.n); wd != c.wd {
			t.Errorf("civilWeekday(%d) = %s, want %s", c.n, wd, c.wd)
		}
	}
	// Every day of four centuries agrees with the time package.
	for n := -200000; n < 200000; n += 7 {
		ty, tm, td := time.Unix(int64(n)*86400, 0).UTC().Date()
		if y, m, d := civilDate(n); y != ty || m != tm || d != td || civilDay(y, m, d) != n {
			t.Fatalf("civil day %d: %d-%d-%d, time says %d-%d-%d", n, y, m, d, ty, tm, td)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"today", "+3d", "-2w", "+1m", "in 3d", "3d ago", "+2h", "-30min", "now", "fri 14:00", "fri", "2026-12-01", "2026-12-01 09:30", "2026-12-01T09:00:00Z", "none", "2026-02-30", "+999999y"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 31, 15, 4, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, clear, err := parseDate(s, now)
		if err != nil {
			if clear || !got.IsZero() {
				t.Fatalf("parseDate(%q) error %v with a value", s, err)
			}
			return
		}
		if clear {
			return
		}
		if y := got.Year(); y < 0 || y > 9999 {
			t.Fatalf("parseDate(%q) = %s: year out of range", s, got)
		}
		// Whatever parsed must survive RFC 3339 and parse back to the same instant.
		text := got.Format(time.RFC3339Nano)
		again, _, err := parseDate(text, now)
		if err != nil || !again.Equal(got) {
			t.Fatalf("parseDate(%q) = %s; reparse = %s, %v", s, text, again, err)
		}
		_ = formatRelative(got, now)
		_ = formatLate(got, now)
	})
}

// TestFormatRelativeReadsBack: every relative day formatRelative prints is a
// date parseDate accepts, naming the same calendar day.
func TestFormatRelativeReadsBack(t *testing.T) {
	ny := loadZone(t, "America/New_York")
	now := wallAt(ny, 2026, 11, 26, 15, 4)
	for days := -56; days <= 56; days++ {
		day := wallAt(ny, 2026, 11, 26+days, 0, 0)
		text := formatRelative(day, now)
		got, _, err := parseDate(text, now)
		if err != nil {
			t.Errorf("formatRelative gave %q for %+d days, which parseDate rejects: %v", text, days, err)
			continue
		}
		if days >= -13 && days <= 13 && !got.Equal(day) {
			t.Errorf("%q (%+d days) parses to %s, want %s", text, days, got, day)
		}
	}
}
