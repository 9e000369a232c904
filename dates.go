// heph's date syntax (today, +3d, fri 14:00, RFC 3339, none) and civil-day arithmetic.

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateForms is the list of accepted date forms, shown in every date error.
const dateForms = "now, today, tomorrow, yesterday, +3d, -3d, +2w, +1m, +1y, " +
	"in 3d, 3d ago, +2h, +30min, a weekday (fri, friday), " +
	"a day plus a time (today 17:00, tomorrow 9:00, fri 14:00), " +
	"YYYY-MM-DD, YYYY-MM-DD HH:MM, RFC 3339 (2026-12-01T09:00:00Z) or none"

// weekdayByName reads every accepted weekday spelling. It is shared by
// date parsing and the recurrence presets.
func weekdayByName(name string) (time.Weekday, bool) {
	switch name {
	case "sun", "sunday":
		return time.Sunday, true
	case "mon", "monday":
		return time.Monday, true
	case "tue", "tues", "tuesday":
		return time.Tuesday, true
	case "wed", "weds", "wednesday":
		return time.Wednesday, true
	case "thu", "thur", "thurs", "thursday":
		return time.Thursday, true
	case "fri", "friday":
		return time.Friday, true
	case "sat", "saturday":
		return time.Saturday, true
	}
	return 0, false
}

// localLayouts are the date-time layouts read as wall-clock time in now's
// location (no offset given).
var localLayouts = []string{
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
}

// parseDate parses heph's date syntax relative to now; now.Location() is the
// local zone. The forms are:
//
//   - now: this instant;
//   - today, tomorrow, yesterday;
//   - +3d, -3d, +2w, +1m, +1y (the sign may be omitted for +), also written
//     "in 3d" and "3d ago": the start of the day that many days, weeks,
//     months or years from today. Months and years move the calendar and
//     clamp to the last day of a shorter month, so +1m on Jan 31 is Feb 28
//     (29 in a leap year) and +1y on Feb 29 is Feb 28;
//   - +2h, -2h, +30min (also "in 2h", "30min ago"): exactly that many hours
//     or minutes from now;
//   - a weekday name (fri, friday): the next such day strictly after today, so
//     "fri" on a Friday is a week later;
//   - any of the day forms above, or YYYY-MM-DD, followed by a time H:MM or
//     HH:MM[:SS] (today 17:00, tomorrow 9:00, fri 14:00, in 3d 9:30): that
//     wall-clock time on that day;
//   - YYYY-MM-DD, YYYY-MM-DD HH:MM (also HH:MM:SS, and a T separator) as wall
//     clock time in now's location;
//   - RFC 3339 with an offset (2026-12-01T09:00:00Z);
//   - none: clear the date (clear=true, t is zero).
//
// Input is trimmed and case-insensitive. A date without a time means the
// start of that day in now's location. Years outside 0000-9999 are rejected
// (they cannot be written as RFC 3339). A bad date returns an error that
// lists the accepted forms.
func parseDate(s string, now time.Time) (t time.Time, clear bool, err error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return time.Time{}, false, fmt.Errorf("empty date: use %s", dateForms)
	}
	if in == "none" {
		return time.Time{}, true, nil
	}
	t, ok, err := parseDateForm(in, now)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bad date %q: %v; use %s", s, err, dateForms)
	}
	if !ok {
		return time.Time{}, false, fmt.Errorf("bad date %q: use %s", s, dateForms)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, false, fmt.Errorf("bad date %q: year %d is out of range 0000-9999", s, y)
	}
	return t, false, nil
}

// parseDateForm tries each form on the lower-cased input. ok=false means no
// form matched; err explains a form that matched but is invalid.
func parseDateForm(in string, now time.Time) (t time.Time, ok bool, err error) {
	if in == "now" {
		return now, true, nil
	}
	if t, ok, err := parseDayAndClock(in, now); ok || err != nil {
		return t, ok, err
	}
	if t, ok, err := parseDayForm(in, now); ok || err != nil {
		return t, ok, err
	}
	if t, ok, err := parseRelative(in, now); ok || err != nil {
		return t, ok, err
	}
	loc := now.Location()
	up := strings.ToUpper(in)
	for _, layout := range localLayouts {
		if len(up) != len(layout) {
			continue
		}
		t, err := time.Parse(layout, up)
		if err == nil {
			return wallInZone(t, loc), true, nil
		}
		if isRangeError(err) {
			return time.Time{}, false, dateFieldError(err)
		}
	}
	t, err = time.Parse(time.RFC3339Nano, up)
	if err == nil {
		return t.In(loc), true, nil
	}
	if isRangeError(err) {
		return time.Time{}, false, dateFieldError(err)
	}
	return time.Time{}, false, nil
}

// parseDayForm parses the forms that name a whole day (today, a weekday,
// +3d, in 2w, 3d ago, YYYY-MM-DD) and returns the start of that day.
func parseDayForm(in string, now time.Time) (time.Time, bool, error) {
	loc := now.Location()
	y, m, d := now.Date()
	switch in {
	case "today":
		return wallClock(y, m, d, 0, 0, 0, 0, loc), true, nil
	case "tomorrow":
		return wallClock(y, m, d+1, 0, 0, 0, 0, loc), true, nil
	case "yesterday":
		return wallClock(y, m, d-1, 0, 0, 0, 0, loc), true, nil
	}
	if wd, found := weekdayByName(in); found {
		ahead := (int(wd)-int(now.Weekday())+6)%7 + 1 // 1..7: strictly after today
		return wallClock(y, m, d+ahead, 0, 0, 0, 0, loc), true, nil
	}
	if len(in) == len("2006-01-02") && in[4] == '-' {
		t, err := time.Parse("2006-01-02", in)
		if err != nil {
			return time.Time{}, false, dateFieldError(err)
		}
		return wallInZone(t, loc), true, nil
	}
	n, unit, ok, err := parseOffset(in)
	if !ok || err != nil || !isDayUnit(unit) {
		return time.Time{}, false, err
	}
	switch unit {
	case "d":
		return wallClock(y, m, d+n, 0, 0, 0, 0, loc), true, nil
	case "w":
		return wallClock(y, m, d+7*n, 0, 0, 0, 0, loc), true, nil
	case "m":
		return addMonthsClamped(y, m, d, n, loc), true, nil
	default:
		return addMonthsClamped(y, m, d, 12*n, loc), true, nil
	}
}

// parseRelative parses hour and minute offsets (+2h, -90min, in 2h,
// 30min ago): exactly that long from now.
func parseRelative(in string, now time.Time) (time.Time, bool, error) {
	n, unit, ok, err := parseOffset(in)
	if !ok || err != nil || isDayUnit(unit) {
		return time.Time{}, false, err
	}
	if unit == "h" {
		return now.Add(time.Duration(n) * time.Hour), true, nil
	}
	return now.Add(time.Duration(n) * time.Minute), true, nil
}

// parseDayAndClock parses a day form followed by a wall-clock time, as in
// "today 17:00", "tomorrow 9:00", "fri 14:00" or "2026-12-01 9:30".
func parseDayAndClock(in string, now time.Time) (time.Time, bool, error) {
	i := strings.LastIndexByte(in, ' ')
	if i < 0 || !strings.Contains(in[i+1:], ":") {
		return time.Time{}, false, nil
	}
	day, ok, err := parseDayForm(strings.TrimSpace(in[:i]), now)
	if !ok || err != nil {
		return time.Time{}, false, err
	}
	hh, mi, ss, err := parseClock(in[i+1:])
	if err != nil {
		return time.Time{}, false, err
	}
	y, m, d := day.Date()
	return wallClock(y, m, d, hh, mi, ss, 0, now.Location()), true, nil
}

// parseClock parses a time of day H:MM, HH:MM or HH:MM:SS (24-hour clock).
func parseClock(s string) (hh, mi, ss int, err error) {
	parts := strings.Split(s, ":")
	bad := fmt.Errorf("time %q is not H:MM or HH:MM:SS", s)
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) < 1 || len(parts[0]) > 2 {
		return 0, 0, 0, bad
	}
	vals := make([]int, 3)
	for i, p := range parts {
		if (i > 0 && len(p) != 2) || strings.Trim(p, "0123456789") != "" {
			return 0, 0, 0, bad
		}
		vals[i], _ = strconv.Atoi(p)
	}
	switch {
	case vals[0] > 23:
		return 0, 0, 0, errors.New("hour out of range")
	case vals[1] > 59:
		return 0, 0, 0, errors.New("minute out of range")
	case vals[2] > 59:
		return 0, 0, 0, errors.New("second out of range")
	}
	return vals[0], vals[1], vals[2], nil
}

// offsetUnits are the units of an offset; d, w, m (months) and y count
// calendar days, h and min count elapsed time. Longer suffixes come first.
var offsetUnits = []string{"min", "d", "w", "m", "y", "h"}

func isDayUnit(unit string) bool { return unit != "h" && unit != "min" }

// parseOffset parses "[+-]N<unit>", "in N<unit>" and "N<unit> ago" into a
// signed count and its unit. ok=false means the input is no offset.
func parseOffset(in string) (n int, unit string, ok bool, err error) {
	sign, signed := 1, true
	switch {
	case strings.HasPrefix(in, "in "):
		in, signed = strings.TrimSpace(in[len("in "):]), false
	case strings.HasSuffix(in, " ago"):
		in, signed, sign = strings.TrimSpace(strings.TrimSuffix(in, " ago")), false, -1
	}
	for _, u := range offsetUnits {
		if strings.HasSuffix(in, u) {
			unit = u
			break
		}
	}
	num := strings.TrimSuffix(in, unit)
	if unit == "" || num == "" {
		return 0, "", false, nil
	}
	if signed {
		switch num[0] {
		case '+':
			num = num[1:]
		case '-':
			sign, num = -1, num[1:]
		}
	}
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return 0, "", false, nil
	}
	if len(num) > 6 {
		return 0, "", false, fmt.Errorf("offset %s is too large", num)
	}
	n, err = strconv.Atoi(num)
	if err != nil {
		return 0, "", false, nil
	}
	return sign * n, unit, true, nil
}

// isRangeError reports whether a time parse error is about a field out of
// range (Feb 30, month 13, hour 25) rather than the wrong shape.
func isRangeError(err error) bool {
	var pe *time.ParseError
	return errors.As(err, &pe) && strings.HasSuffix(pe.Message, "out of range")
}

// dateFieldError turns a time.ParseError about a field (month, day, hour...)
// into a short reason such as "day out of range".
func dateFieldError(err error) error {
	var pe *time.ParseError
	if errors.As(err, &pe) && pe.Message != "" {
		return errors.New(strings.TrimPrefix(pe.Message, ": "))
	}
	return errors.New("not a valid calendar date")
}

// addMonthsClamped returns the start of the day n months after y-m-d, with the
// day clamped to the target month's length (Jan 31 + 1 month = Feb 28/29).
func addMonthsClamped(y int, m time.Month, d, n int, loc *time.Location) time.Time {
	idx := y*12 + int(m) - 1 + n
	ty, tm := divFloor(idx, 12), time.Month(modFloor(idx, 12)+1)
	if dim := daysInMonth(ty, tm); d > dim {
		d = dim
	}
	return wallClock(ty, tm, d, 0, 0, 0, 0, loc)
}

// wallClock is the instant at wall-clock time y-m-d hh:mi:ss.ns in loc
// (out-of-range values normalize, as in time.Date). Where DST makes the wall
// time ambiguous or missing it follows RFC 5545 rather than time.Date's
// unspecified choice: a repeated wall time (fall back) is its first instant;
// a skipped one (spring forward) is read with the UTC offset from before the
// gap, so 02:30 on the night New York skips 02:00-03:00 is 03:30 EDT, and
// midnight on a day whose midnight is skipped (Havana) is 01:00 that day,
// never 23:00 the day before.
func wallClock(y int, m time.Month, d, hh, mi, ss, ns int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, hh, mi, ss, ns, time.UTC)
	_, before := naive.Add(-24 * time.Hour).In(loc).Zone()
	_, after := naive.Add(24 * time.Hour).In(loc).Zone()
	if before == after {
		return naive.Add(-time.Duration(before) * time.Second).In(loc)
	}
	var best time.Time
	for _, off := range [2]int{before, after} {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWall(t, naive) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() {
		best = naive.Add(-time.Duration(before) * time.Second).In(loc)
	}
	return best
}

// sameWall reports whether a and b show the same date and clock time.
func sameWall(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	ah, ami, as := a.Clock()
	bh, bmi, bs := b.Clock()
	return ay == by && am == bm && ad == bd && ah == bh && ami == bmi && as == bs
}

// inZone reads t's wall clock (as parsed, in UTC) as wall clock in loc.
func wallInZone(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	hh, mi, ss := t.Clock()
	return wallClock(y, m, d, hh, mi, ss, t.Nanosecond(), loc)
}

// formatRelative shows t relative to now for people: "today", "tomorrow",
// "yesterday", "in 3d", "3d ago" up to 13 days, then "in 2w" / "2w ago"
// (rounded to whole weeks) up to 8 weeks, and beyond that the date
// YYYY-MM-DD. Days are calendar days in now's location, so 23:00 yesterday
// is "yesterday" even one hour ago.
func formatRelative(t, now time.Time) string {
	loc := now.Location()
	lt := t.In(loc)
	days := civilDay(lt.Date()) - civilDay(now.Date())
	abs := days
	if abs < 0 {
		abs = -abs
	}
	var span string
	switch {
	case days == 0:
		return "today"
	case days == 1:
		return "tomorrow"
	case days == -1:
		return "yesterday"
	case abs < 14:
		span = strconv.Itoa(abs) + "d"
	case abs <= 56:
		span = strconv.Itoa((abs+3)/7) + "w"
	default:
		return lt.Format("2006-01-02")
	}
	if days > 0 {
		return "in " + span
	}
	return span + " ago"
}

// formatLate says how late a task is whose late date is in the past:
// "<1min late", "45min late", "5h late" (under a day), "2d late" (under two
// weeks), "3w late" (under a year), then "1y late". Whole units, rounded down.
// A late date that is not in the past gives "".
func formatLate(late, now time.Time) string {
	d := now.Sub(late)
	if d <= 0 {
		return ""
	}
	day := 24 * time.Hour
	switch {
	case d < time.Minute:
		return "<1min late"
	case d < time.Hour:
		return fmt.Sprintf("%dmin late", int(d/time.Minute))
	case d < day:
		return fmt.Sprintf("%dh late", int(d/time.Hour))
	case d < 14*day:
		return fmt.Sprintf("%dd late", int(d/day))
	case d < 365*day:
		return fmt.Sprintf("%dw late", int(d/(7*day)))
	default:
		return fmt.Sprintf("%dy late", int(d/(365*day)))
	}
}

// civilDay numbers calendar days: 0 is 1970-01-01, in the proleptic Gregorian
// calendar (Howard Hinnant's days_from_civil). It needs no time zone.
func civilDay(y int, m time.Month, d int) int {
	mm := int(m)
	if mm <= 2 {
		y--
	}
	era := divFloor(y, 400)
	yoe := y - era*400
	mp := (mm + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilDate is the inverse of civilDay.
func civilDate(n int) (y int, m time.Month, d int) {
	n += 719468
	era := divFloor(n, 146097)
	doe := n - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	y = yoe + era*400
	if mm <= 2 {
		y++
	}
	return y, time.Month(mm), d
}

// civilWeekday is the weekday of civil day n (1970-01-01 was a Thursday).
func civilWeekday(n int) time.Weekday {
	return time.Weekday(modFloor(n+4, 7))
}

// daysIn is the number of days in month m of year y.
func daysInMonth(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	default:
		return 31
	}
}

func divFloor(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func modFloor(a, b int) int {
	return a - divFloor(a, b)*b
}
