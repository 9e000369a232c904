// Parsing repeat rules: presets ("every 2 weeks on mon,fri") and RFC 5545 RRULEs into a Recurrence.

package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

const recurForms = "daily, weekly, monthly, yearly, weekdays, every N days|weeks|months|years, " +
	"every mon,wed, every 2 weeks on mon,fri, or an RRULE such as FREQ=MONTHLY;BYDAY=-1FR"

// parseRecurrence parses a preset or an RRULE ("RRULE:" prefix optional).
// Presets, case-insensitive: daily, weekly, monthly, yearly (or "every day",
// "every week", ...), fortnightly (biweekly), quarterly, weekdays (every
// weekday), weekends, "every N days|weeks|months|years" ("every other
// week"), "every mon,wed" and "every N weeks on mon,wed".
// RRULE part names and values are case-insensitive. Errors name the bad part.
func parseRecurrence(s string) (*Recurrence, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return nil, fmt.Errorf("empty recurrence: use %s", recurForms)
	}
	if r, ok, err := parsePreset(strings.ToLower(in)); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("recurrence %q: %w", s, err)
		}
		return r, nil
	}
	up := strings.ToUpper(in)
	up = strings.TrimSpace(strings.TrimPrefix(up, "RRULE:"))
	if !strings.Contains(up, "=") {
		return nil, fmt.Errorf("recurrence %q: not a preset or an RRULE; use %s", s, recurForms)
	}
	r, err := parseRRule(up)
	if err != nil {
		return nil, fmt.Errorf("recurrence %q: %w", s, err)
	}
	return r, nil
}

// parsePreset reads the human presets. ok=false means the input is not a
// preset (it may be an RRULE); err means it looked like one but is wrong.
func parsePreset(in string) (*Recurrence, bool, error) {
	fields := strings.Fields(in)
	in = strings.Join(fields, " ")
	r := &Recurrence{interval: 1, wkst: time.Monday}
	switch in {
	case "daily", "every day":
		r.freq = freqDaily
	case "weekly", "every week":
		r.freq = freqWeekly
	case "monthly", "every month":
		r.freq = freqMonthly
	case "yearly", "annually", "every year":
		r.freq = freqYearly
	case "fortnightly", "biweekly", "every fortnight":
		r.freq, r.interval = freqWeekly, 2
	case "quarterly", "every quarter":
		r.freq, r.interval = freqMonthly, 3
	case "weekdays", "every weekday":
		r.freq = freqWeekly
		for d := time.Monday; d <= time.Friday; d++ {
			r.byDay = append(r.byDay, weekdayNum{day: d})
		}
	case "weekends", "every weekend":
		r.freq = freqWeekly
		r.byDay = []weekdayNum{{day: time.Saturday}, {day: time.Sunday}}
	default:
		if len(fields) == 0 || fields[0] != "every" {
			return nil, false, nil
		}
		if err := parseEvery(r, strings.TrimSpace(strings.TrimPrefix(in, "every"))); err != nil {
			return nil, false, err
		}
	}
	r.normalize()
	return r, true, nil
}

// parseEvery reads what follows "every": "3 days", "week", "2 weeks on
// mon,fri", "week on tue", or a weekday list "mon,wed" / "monday and friday".
func parseEvery(r *Recurrence, rest string) error {
	unitPart, dayPart, hasOn := strings.Cut(rest, " on ")
	fs := strings.Fields(unitPart)
	if len(fs) == 0 {
		return fmt.Errorf(`"every" needs what follows it; use %s`, recurForms)
	}
	unit := fs[0]
	if len(fs) == 2 && fs[0] == "other" { // every other week
		fs[0] = "2"
	}
	if len(fs) == 2 {
		n, err := strconv.Atoi(fs[0])
		if err != nil || n < 1 || n > maxInterval {
			if !hasOn && err != nil {
				return r.setWeekdays(rest)
			}
			return fmt.Errorf("bad count %q after every: want a whole number 1..%d", fs[0], maxInterval)
		}
		r.interval, unit = n, fs[1]
	} else if len(fs) > 2 || unitFreq(unit) == 0 {
		if hasOn {
			return fmt.Errorf(`cannot read %q before "on": use "every 2 weeks on mon,fri"`, unitPart)
		}
		if _, err := strconv.Atoi(unit); err == nil {
			return fmt.Errorf("%q needs a unit: days, weeks, months or years", rest)
		}
		return r.setWeekdays(rest)
	}
	if r.freq = unitFreq(unit); r.freq == 0 {
		return fmt.Errorf("unknown unit %q: use days, weeks, months or years", unit)
	}
	if !hasOn {
		return nil
	}
	if r.freq != freqWeekly {
		return fmt.Errorf(`"on" days need weeks (every 2 weeks on mon,fri), not %q`, unit)
	}
	list, err := parseDayList(dayPart)
	r.byDay = list
	return err
}

// setWeekdays makes r weekly on the listed days ("mon,wed").
func (r *Recurrence) setWeekdays(list string) error {
	days, err := parseDayList(list)
	if err != nil {
		return err
	}
	r.freq, r.byDay = freqWeekly, days
	return nil
}

// unitFreq maps "day(s)", "week(s)", "month(s)", "year(s)" to a frequency (0: none).
func unitFreq(u string) recurFreq {
	switch strings.TrimSuffix(u, "s") {
	case "day":
		return freqDaily
	case "week":
		return freqWeekly
	case "month":
		return freqMonthly
	case "year":
		return freqYearly
	}
	return 0
}

// parseDayList reads "mon,wed", "mon, wed", "monday and friday", "mo tu".
func parseDayList(s string) ([]weekdayNum, error) {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	var list []weekdayNum
	for _, w := range words {
		if w == "and" {
			continue
		}
		d, ok := weekdayByName(w)
		if !ok {
			i := slices.Index(rruleDays[:], strings.ToUpper(w))
			if i < 0 {
				return nil, fmt.Errorf("unknown weekday %q: use mon, tue, wed, thu, fri, sat, sun", w)
			}
			d = time.Weekday(i)
		}
		list = append(list, weekdayNum{day: d})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no weekdays in %q", s)
	}
	return list, nil
}

// parseRRule parses upper-cased NAME=VALUE parts separated by ';'.
func parseRRule(s string) (*Recurrence, error) {
	r := &Recurrence{interval: 1, wkst: time.Monday}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, fmt.Errorf("bad part %q: want NAME=VALUE", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("%s given twice", name)
		}
		seen[name] = true
		if value == "" {
			return nil, fmt.Errorf("%s has no value", name)
		}
		if err := r.setPart(name, value); err != nil {
			return nil, err
		}
	}
	if err := r.validate(seen); err != nil {
		return nil, err
	}
	r.normalize()
	return r, nil
}

// setPart applies one RRULE part.
func (r *Recurrence) setPart(name, value string) error {
	var err error
	switch name {
	case "FREQ":
		for _, f := range []recurFreq{freqDaily, freqWeekly, freqMonthly, freqYearly} {
			if f.String() == value {
				r.freq = f
			}
		}
		if r.freq == 0 {
			return fmt.Errorf("FREQ=%s is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY", value)
		}
	case "INTERVAL":
		r.interval, err = parseRuleInt(name, value, 1, maxInterval)
	case "COUNT":
		r.count, err = parseRuleInt(name, value, 1, maxCount)
	case "BYMONTHDAY":
		r.byMonthDay, err = parseIntList(name, value, func(n int) bool { return n != 0 && n >= -31 && n <= 31 }, "-31..-1 or 1..31")
	case "BYMONTH":
		var ms []int
		ms, err = parseIntList(name, value, func(n int) bool { return n >= 1 && n <= 12 }, "1..12")
		for _, m := range ms {
			r.byMonth = append(r.byMonth, time.Month(m))
		}
	case "BYDAY":
		r.byDay, err = parseByDay(value)
	case "WKST":
		i := slices.Index(rruleDays[:], value)
		if i < 0 {
			return fmt.Errorf("WKST=%s: want one of MO, TU, WE, TH, FR, SA, SU", value)
		}
		r.wkst = time.Weekday(i)
	case "UNTIL":
		err = r.parseUntil(value)
	case "BYSECOND", "BYMINUTE", "BYHOUR", "BYYEARDAY", "BYWEEKNO", "BYSETPOS":
		return fmt.Errorf("%s is not supported (supported: FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, COUNT, UNTIL, WKST)", name)
	default:
		return fmt.Errorf("unknown part %s (supported: FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, COUNT, UNTIL, WKST)", name)
	}
	return err
}

// validate checks the rules that span parts.
func (r *Recurrence) validate(seen map[string]bool) error {
	if !seen["FREQ"] {
		return errors.New("FREQ is required (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)")
	}
	if seen["COUNT"] && seen["UNTIL"] {
		return errors.New("COUNT and UNTIL cannot both be given")
	}
	if r.freq == freqWeekly && len(r.byMonthDay) > 0 {
		return errors.New("BYMONTHDAY cannot be used with FREQ=WEEKLY")
	}
	if r.freq == freqDaily || r.freq == freqWeekly {
		for _, wd := range r.byDay {
			if wd.n != 0 {
				return fmt.Errorf("BYDAY=%s: an ordinalEnglish needs FREQ=MONTHLY or YEARLY", wd)
			}
		}
	}
	if r.freq == freqMonthly {
		for _, wd := range r.byDay {
			if wd.n > 5 || wd.n < -5 {
				return fmt.Errorf("BYDAY=%s: a month has at most 5 of each weekday", wd)
			}
		}
	}
	return nil
}

func parseRuleInt(name, value string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%s: want a whole number %d..%d", name, value, lo, hi)
	}
	return n, nil
}

func parseIntList(name, value string, ok func(int) bool, want string) ([]int, error) {
	var out []int
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		n, err := strconv.Atoi(item)
		if err != nil || !ok(n) {
			return nil, fmt.Errorf("%s value %q: want %s", name, item, want)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseByDay reads "MO,WE", "2TU", "-1FR", "+1MO".
func parseByDay(value string) ([]weekdayNum, error) {
	var out []weekdayNum
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if len(item) < 2 {
			return nil, fmt.Errorf("BYDAY value %q: want MO..SU with an optional ordinalEnglish (2TU, -1FR)", item)
		}
		code, num := item[len(item)-2:], item[:len(item)-2]
		i := slices.Index(rruleDays[:], code)
		if i < 0 {
			return nil, fmt.Errorf("BYDAY value %q: %s is not one of MO, TU, WE, TH, FR, SA, SU", item, code)
		}
		wn := weekdayNum{day: time.Weekday(i)}
		if num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || n == 0 || n < -53 || n > 53 || strings.TrimLeft(num, "+-") == "" {
				return nil, fmt.Errorf("BYDAY value %q: the ordinalEnglish must be -53..-1 or 1..53", item)
			}
			wn.n = n
		}
		out = append(out, wn)
	}
	return out, nil
}

// parseUntil reads UNTIL as a date (20261231), a floating local date-time
// (20261231T090000), a UTC date-time (20261231T090000Z), or leniently as
// YYYY-MM-DD or RFC 3339 (kept as UTC).
func (r *Recurrence) parseUntil(v string) error {
	bad := fmt.Errorf("UNTIL=%s: want YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ", v)
	var t time.Time
	var err error
	switch {
	case len(v) == 8:
		t, err = time.Parse("20060102", v)
		r.until = untilDate
	case len(v) == 10 && v[4] == '-':
		t, err = time.Parse("2006-01-02", v)
		r.until = untilDate
	case len(v) == 15:
		t, err = time.Parse("20060102T150405", v)
		r.until = untilLocal
	case len(v) == 16 && v[15] == 'Z':
		t, err = time.Parse("20060102T150405Z", v)
		r.until = untilUTC
	default:
		t, err = time.Parse(time.RFC3339, v)
		r.until = untilUTC
	}
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return bad
	}
	switch r.until {
	case untilUTC:
		r.untilUTC = t.UTC().Truncate(time.Second)
	default:
		r.untilDay = civilDay(t.Date())
		h, m, s := t.Clock()
		r.untilNanos = int64(((h*60+m)*60 + s)) * int64(time.Second)
	}
	return nil
}

// normalize sorts and de-duplicates the lists so equal rules print equally.
func (r *Recurrence) normalize() {
	mondayFirst := func(d time.Weekday) int { return (int(d) + 6) % 7 }
	slices.SortFunc(r.byDay, func(a, b weekdayNum) int {
		if a.day != b.day {
			return mondayFirst(a.day) - mondayFirst(b.day)
		}
		return a.n - b.n
	})
	r.byDay = slices.Compact(r.byDay)
	slices.Sort(r.byMonthDay)
	r.byMonthDay = slices.Compact(r.byMonthDay)
	slices.Sort(r.byMonth)
	r.byMonth = slices.Compact(r.byMonth)
}
