package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Recurrence is a parsed repeat rule: the RFC 5545 (section 3.3.10) RRULE
// subset FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, BYDAY (with
// ordinals such as 2TU or -1FR in MONTHLY and YEARLY rules), BYMONTHDAY
// (negative counts from the month's end), BYMONTH, COUNT, UNTIL and WKST.
// Occurrences are generated in dtstart's wall clock (see Next).
type Recurrence struct {
	freq       recurFreq
	interval   int          // >= 1
	byDay      []weekdayNum // sorted by weekday (Monday first), then ordinalEnglish
	byMonthDay []int        // sorted, each in -31..-1 or 1..31
	byMonth    []time.Month // sorted
	count      int          // 0: no COUNT
	until      untilKind    // which UNTIL form, if any
	untilDay   int          // civil day (see civilDay) for untilDate and untilLocal
	untilNanos int64        // nanoseconds into untilDay, for untilLocal
	untilUTC   time.Time    // for untilUTC
	wkst       time.Weekday // week start, Monday unless WKST says otherwise
}

type recurFreq int

const (
	freqDaily recurFreq = iota + 1
	freqWeekly
	freqMonthly
	freqYearly
)

var freqNames = map[recurFreq]string{freqDaily: "DAILY", freqWeekly: "WEEKLY", freqMonthly: "MONTHLY", freqYearly: "YEARLY"}

// untilKind is the form UNTIL was written in, which decides how it compares.
type untilKind int

const (
	untilNone  untilKind = iota
	untilDate            // UNTIL=20261231: through the end of that day in dtstart's zone
	untilLocal           // UNTIL=20261231T090000: wall clock in dtstart's zone
	untilUTC             // UNTIL=20261231T090000Z: an instant
)

// weekdayNum is one BYDAY entry: n=0 means every such weekday of the period,
// n>0 the n-th, n<0 the n-th from the end.
type weekdayNum struct {
	n   int
	day time.Weekday
}

// Limits that keep Next and Index bounded whatever the rule says.
const (
	maxInterval     = 1000
	maxCount        = 100000
	maxEmptyPeriods = 10000   // consecutive periods without an occurrence: the rule is dead
	maxWalkPeriods  = 1000000 // periods walked in one call
)

// rruleDays are RFC 5545's two-letter weekday codes, indexed by time.Weekday.
var rruleDays = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

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
		d, ok := weekdayNames[w]
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
		for f, n := range freqNames {
			if n == value {
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

func (wn weekdayNum) String() string {
	if wn.n == 0 {
		return rruleDays[wn.day]
	}
	return strconv.Itoa(wn.n) + rruleDays[wn.day]
}

// String is the canonical RRULE text without the "RRULE:" prefix, parts in
// the order FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, COUNT, UNTIL, WKST;
// INTERVAL=1 and WKST=MO are left out. parseRecurrence(r.String()) gives an
// equal rule.
func (r *Recurrence) String() string {
	var b strings.Builder
	b.WriteString("FREQ=" + freqNames[r.freq])
	if r.interval > 1 {
		b.WriteString(";INTERVAL=" + strconv.Itoa(r.interval))
	}
	if len(r.byDay) > 0 {
		b.WriteString(";BYDAY=" + joinRule(r.byDay, weekdayNum.String))
	}
	if len(r.byMonthDay) > 0 {
		b.WriteString(";BYMONTHDAY=" + joinRule(r.byMonthDay, strconv.Itoa))
	}
	if len(r.byMonth) > 0 {
		b.WriteString(";BYMONTH=" + joinRule(r.byMonth, func(m time.Month) string { return strconv.Itoa(int(m)) }))
	}
	if r.count > 0 {
		b.WriteString(";COUNT=" + strconv.Itoa(r.count))
	}
	switch r.until {
	case untilDate:
		y, m, d := civilDate(r.untilDay)
		fmt.Fprintf(&b, ";UNTIL=%04d%02d%02d", y, m, d)
	case untilLocal:
		y, m, d := civilDate(r.untilDay)
		secs := r.untilNanos / int64(time.Second)
		fmt.Fprintf(&b, ";UNTIL=%04d%02d%02dT%02d%02d%02d", y, m, d, secs/3600, secs/60%60, secs%60)
	case untilUTC:
		b.WriteString(";UNTIL=" + r.untilUTC.Format("20060102T150405Z"))
	}
	if r.wkst != time.Monday {
		b.WriteString(";WKST=" + rruleDays[r.wkst])
	}
	return b.String()
}

func joinRule[T any](xs []T, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, ",")
}

// Count is the rule's COUNT, 0 when unbounded by count.
func (r *Recurrence) Count() int { return r.count }

// Next returns the first occurrence strictly after `after` of the series
// that starts at dtstart. dtstart is always the first occurrence (it counts
// towards COUNT even when the rule would not produce it). Occurrences are
// generated in dtstart's location on the wall clock: a daily 09:00 series
// stays at 09:00 local across DST changes; a wall time that falls in a
// spring-forward gap moves forward by the gap (RFC 5545).
//
// ok=false when the series is exhausted: past UNTIL (inclusive), past COUNT
// occurrences counted from dtstart, beyond the year 9999, or when the rule
// yields nothing for maxEmptyPeriods periods in a row (BYMONTH=2;BYMONTHDAY=30).
// Without COUNT, Next jumps straight to the period holding `after`, so a
// long-missed daily task costs no more than a fresh one.
func (r *Recurrence) Next(dtstart, after time.Time) (time.Time, bool) {
	if after.Before(dtstart) {
		return dtstart, true
	}
	s := newSeries(r, dtstart)
	afterDay := civilDay(after.In(s.loc).Date())
	first := 0
	if r.count == 0 {
		first = max(0, s.periodOf(afterDay)-1)
	}
	var found time.Time
	ok := false
	s.walk(first, func(n, day int) bool {
		if day < afterDay-1 { // whole days before `after`: no need to build the time
			return true
		}
		if t := s.at(day); t.After(after) {
			found, ok = t, true
			return false
		}
		return true
	})
	return found, ok
}

// Index returns the 1-based position of t in the series from dtstart
// (dtstart is 1), or 0 when t is not an occurrence (including one past COUNT
// or UNTIL). Use it to rebuild COUNT bookkeeping from a stored date.
func (r *Recurrence) Index(dtstart, t time.Time) int {
	if t.Equal(dtstart) {
		return 1
	}
	if t.Before(dtstart) {
		return 0
	}
	s := newSeries(r, dtstart)
	tDay := civilDay(t.In(s.loc).Date())
	index := 0
	s.walk(0, func(n, day int) bool {
		if day < tDay-1 {
			return true
		}
		o := s.at(day)
		if o.Equal(t) {
			index = n
		}
		return o.Before(t)
	})
	return index
}

// recurSeries is the state of one walk over a rule from a dtstart.
type recurSeries struct {
	r          *Recurrence
	loc        *time.Location
	startDay   int // civil day of dtstart in loc
	startY     int
	startM     time.Month
	startD     int
	startWd    time.Weekday
	hh, mi, ss int
	ns         int
	todNanos   int64
	weekStart  int // civil day of the first day (WKST) of dtstart's week
	monthIdx   int // y*12 + m-1 of dtstart
	untilDayL  int // civil day of untilUTC in loc
	daySet     [7]bool
	monthSet   [13]bool
	maxDay     int
	buf        []int
}

func newSeries(r *Recurrence, dtstart time.Time) *recurSeries {
	s := &recurSeries{r: r, loc: dtstart.Location()}
	s.startY, s.startM, s.startD = dtstart.Date()
	s.hh, s.mi, s.ss = dtstart.Clock()
	s.ns = dtstart.Nanosecond()
	s.todNanos = int64((s.hh*60+s.mi)*60+s.ss)*int64(time.Second) + int64(s.ns)
	s.startDay = civilDay(s.startY, s.startM, s.startD)
	s.startWd = civilWeekday(s.startDay)
	s.weekStart = s.startDay - (int(s.startWd)-int(r.wkst)+7)%7
	s.monthIdx = s.startY*12 + int(s.startM) - 1
	if r.until == untilUTC {
		s.untilDayL = civilDay(r.untilUTC.In(s.loc).Date())
	}
	for _, wd := range r.byDay {
		s.daySet[wd.day] = true
	}
	for _, m := range r.byMonth {
		s.monthSet[m] = true
	}
	s.maxDay = civilDay(9999, time.December, 31)
	s.buf = make([]int, 0, 32)
	return s
}

// at is the occurrence on civil day `day` at dtstart's wall-clock time,
// resolved across DST changes as RFC 5545 says (see wallClock).
func (s *recurSeries) at(day int) time.Time {
	y, m, d := civilDate(day)
	return wallClock(y, m, d, s.hh, s.mi, s.ss, s.ns, s.loc)
}

// walk visits the occurrences after dtstart in order, from period `first`,
// calling visit with the occurrence's 1-based index (meaningful when first
// is 0; dtstart is 1) and its civil day, until visit returns false or the
// series ends. It applies UNTIL, COUNT and the iteration limits.
func (s *recurSeries) walk(first int, visit func(n, day int) bool) {
	n, empty := 1, 0
	for p := first; p < first+maxWalkPeriods; p++ {
		days := s.periodDays(p)
		if len(days) == 0 {
			if empty++; empty >= maxEmptyPeriods {
				return
			}
			continue
		}
		empty = 0
		for _, day := range days {
			if day <= s.startDay {
				continue // dtstart itself, or before it
			}
			if day > s.maxDay || s.pastUntil(day) {
				return
			}
			n++
			if s.r.count > 0 && n > s.r.count {
				return
			}
			if !visit(n, day) {
				return
			}
		}
	}
}

// pastUntil reports whether the occurrence on `day` is after UNTIL.
func (s *recurSeries) pastUntil(day int) bool {
	r := s.r
	switch r.until {
	case untilDate:
		return day > r.untilDay
	case untilLocal:
		return day > r.untilDay || (day == r.untilDay && s.todNanos > r.untilNanos)
	case untilUTC:
		if day < s.untilDayL-1 {
			return false
		}
		return s.at(day).After(r.untilUTC)
	}
	return false
}

// periodOf is the index of the period (counted in INTERVALs from dtstart's
// period) that holds civil day `day`.
func (s *recurSeries) periodOf(day int) int {
	r := s.r
	switch r.freq {
	case freqDaily:
		return divFloor(day-s.startDay, r.interval)
	case freqWeekly:
		return divFloor(day-s.weekStart, 7*r.interval)
	case freqMonthly:
		y, m, _ := civilDate(day)
		return divFloor(y*12+int(m)-1-s.monthIdx, r.interval)
	default:
		y, _, _ := civilDate(day)
		return divFloor(y-s.startY, r.interval)
	}
}

// periodDays returns the candidate civil days of period p, ascending and
// unique. The slice is reused by the next call.
func (s *recurSeries) periodDays(p int) []int {
	r := s.r
	s.buf = s.buf[:0]
	switch r.freq {
	case freqDaily:
		day := s.startDay + p*r.interval
		if s.keepDaily(day) {
			s.buf = append(s.buf, day)
		}
		return s.buf
	case freqWeekly:
		ws := s.weekStart + 7*p*r.interval
		for off := 0; off < 7; off++ {
			day := ws + off
			wd := civilWeekday(day)
			if len(r.byDay) > 0 && !s.daySet[wd] || len(r.byDay) == 0 && wd != s.startWd {
				continue
			}
			if len(r.byMonth) > 0 {
				if _, m, _ := civilDate(day); !s.monthSet[m] {
					continue
				}
			}
			s.buf = append(s.buf, day)
		}
		return s.buf
	case freqMonthly:
		idx := s.monthIdx + p*r.interval
		y, m := divFloor(idx, 12), time.Month(modFloor(idx, 12)+1)
		if len(r.byMonth) == 0 || s.monthSet[m] {
			first := civilDay(y, m, 1)
			s.monthDays(y, m, first, first+daysInMonth(y, m)-1)
		}
	default:
		s.yearDays(s.startY + p*r.interval)
	}
	slices.Sort(s.buf)
	s.buf = slices.Compact(s.buf)
	return s.buf
}

// keepDaily applies BYMONTH, BYMONTHDAY and BYDAY as limits on a DAILY day.
func (s *recurSeries) keepDaily(day int) bool {
	r := s.r
	if len(r.byMonth) == 0 && len(r.byMonthDay) == 0 && len(r.byDay) == 0 {
		return true
	}
	y, m, d := civilDate(day)
	if len(r.byMonth) > 0 && !s.monthSet[m] {
		return false
	}
	if len(r.byDay) > 0 && !s.daySet[civilWeekday(day)] {
		return false
	}
	if len(r.byMonthDay) > 0 {
		dim := daysInMonth(y, m)
		for _, md := range r.byMonthDay {
			if md == d || md < 0 && dim+md+1 == d {
				return true
			}
		}
		return false
	}
	return true
}

// yearDays adds the candidates of year y for a YEARLY rule.
func (s *recurSeries) yearDays(y int) {
	r := s.r
	yFirst, yLast := civilDay(y, time.January, 1), civilDay(y, time.December, 31)
	switch {
	case len(r.byMonth) > 0:
		// BYMONTH expands; BYDAY ordinals then count within each month.
		for _, m := range r.byMonth {
			first := civilDay(y, m, 1)
			s.monthDays(y, m, first, first+daysInMonth(y, m)-1)
		}
	case len(r.byMonthDay) > 0:
		// BYMONTHDAY without BYMONTH: those days of every month; BYDAY
		// limits them, its ordinals counting within the year.
		for m := time.January; m <= time.December; m++ {
			s.monthDays(y, m, yFirst, yLast)
		}
	case len(r.byDay) > 0:
		s.expandByDay(yFirst, yLast)
	default:
		// dtstart's month and day; Feb 29 only in leap years.
		if s.startD <= daysInMonth(y, s.startM) {
			s.buf = append(s.buf, civilDay(y, s.startM, s.startD))
		}
	}
}

// monthDays adds the candidates in month m of year y: BYMONTHDAY (limited
// by BYDAY, whose ordinals count within [scopeFirst, scopeLast]), else BYDAY
// expanded within the month, else dtstart's day of the month (skipped when
// the month is too short: no clamping, as RFC 5545 says).
func (s *recurSeries) monthDays(y int, m time.Month, scopeFirst, scopeLast int) {
	r := s.r
	dim := daysInMonth(y, m)
	first := civilDay(y, m, 1)
	switch {
	case len(r.byMonthDay) > 0:
		for _, md := range r.byMonthDay {
			d := md
			if md < 0 {
				d = dim + md + 1
			}
			if d < 1 || d > dim {
				continue
			}
			day := first + d - 1
			if len(r.byDay) > 0 && !s.byDayMatches(day, scopeFirst, scopeLast) {
				continue
			}
			s.buf = append(s.buf, day)
		}
	case len(r.byDay) > 0:
		s.expandByDay(first, first+dim-1)
	default:
		if s.startD <= dim {
			s.buf = append(s.buf, first+s.startD-1)
		}
	}
}

// byDayMatches reports whether day is one of the BYDAY days of [first, last].
func (s *recurSeries) byDayMatches(day, first, last int) bool {
	wd := civilWeekday(day)
	for _, wn := range s.r.byDay {
		if wn.day != wd {
			continue
		}
		switch {
		case wn.n == 0:
			return true
		case wn.n > 0 && (day-first)/7+1 == wn.n:
			return true
		case wn.n < 0 && (last-day)/7+1 == -wn.n:
			return true
		}
	}
	return false
}

// expandByDay adds the BYDAY days of [first, last]: every such weekday, or
// the n-th (n>0) or n-th from the end (n<0).
func (s *recurSeries) expandByDay(first, last int) {
	for _, wn := range s.r.byDay {
		fw := first + (int(wn.day)-int(civilWeekday(first))+7)%7
		switch {
		case wn.n == 0:
			for d := fw; d <= last; d += 7 {
				s.buf = append(s.buf, d)
			}
		case wn.n > 0:
			if d := fw + 7*(wn.n-1); d <= last {
				s.buf = append(s.buf, d)
			}
		default:
			lw := last - (int(civilWeekday(last))-int(wn.day)+7)%7
			if d := lw - 7*(-wn.n-1); d >= first {
				s.buf = append(s.buf, d)
			}
		}
	}
}

// Advance moves a series on from its current occurrence cur (a task's do
// date), skipping every occurrence up to and including now, and returns the
// first occurrence after now. seen is how many occurrences of the whole
// series came before cur (so cur is number seen+1); seenNext is the same
// count for next, and next-cur spans seenNext-seen steps. cur is treated as
// a series start, so the rule's schedule is kept (cur should be an
// occurrence of it). ok=false when COUNT or UNTIL ends the series first.
func (r *Recurrence) Advance(cur, now time.Time, seen int) (next time.Time, seenNext int, ok bool) {
	open := *r
	open.count = 0
	next, ok = open.Next(cur, now)
	if !ok {
		return time.Time{}, seen, false
	}
	if !next.After(cur) { // now is before cur: the next step is still after cur
		if next, ok = open.Next(cur, cur); !ok {
			return time.Time{}, seen, false
		}
	}
	idx := open.Index(cur, next)
	if idx < 2 {
		return time.Time{}, seen, false
	}
	seenNext = seen + idx - 1
	if r.count > 0 && seenNext+1 > r.count {
		return time.Time{}, seen, false
	}
	return next, seenNext, true
}

// Describe says the rule in words for people: "every weekday", "every 2
// weeks on Mon, Fri", "every month on the last Fri", "every month on the
// 31st", "every year in Feb on the 29th, 3 times", "every day, until
// 2026-12-31".
func (r *Recurrence) Describe() string {
	var b strings.Builder
	unit := map[recurFreq]string{freqDaily: "day", freqWeekly: "week", freqMonthly: "month", freqYearly: "year"}[r.freq]
	weekdays := r.freq == freqWeekly && r.interval == 1 && len(r.byMonth) == 0 &&
		slices.Equal(r.byDay, []weekdayNum{{day: time.Monday}, {day: time.Tuesday}, {day: time.Wednesday}, {day: time.Thursday}, {day: time.Friday}})
	switch {
	case weekdays:
		b.WriteString("every weekday")
	case r.interval == 1:
		b.WriteString("every " + unit)
	default:
		fmt.Fprintf(&b, "every %d %ss", r.interval, unit)
	}
	if len(r.byMonth) > 0 {
		b.WriteString(" in " + joinRule(r.byMonth, func(m time.Month) string { return m.String()[:3] }))
	}
	if len(r.byDay) > 0 && !weekdays {
		b.WriteString(" on " + joinWords(r.byDay, describeWeekdayNum))
	}
	if len(r.byMonthDay) > 0 {
		// Days from the start first, then days counted from the end.
		mds := slices.Clone(r.byMonthDay)
		key := func(md int) int {
			if md < 0 {
				return 100 + md
			}
			return md
		}
		slices.SortFunc(mds, func(a, b int) int { return key(a) - key(b) })
		b.WriteString(" on " + joinWords(mds, describeMonthDay))
	}
	if r.count > 0 {
		fmt.Fprintf(&b, ", %d times", r.count)
	}
	switch r.until {
	case untilDate:
		y, m, d := civilDate(r.untilDay)
		fmt.Fprintf(&b, ", until %04d-%02d-%02d", y, m, d)
	case untilLocal:
		y, m, d := civilDate(r.untilDay)
		mins := r.untilNanos / int64(time.Minute)
		fmt.Fprintf(&b, ", until %04d-%02d-%02d %02d:%02d", y, m, d, mins/60, mins%60)
	case untilUTC:
		b.WriteString(", until " + r.untilUTC.Format(time.RFC3339))
	}
	return b.String()
}

// joinDescribed joins described items with ", ".
func joinWords[T any](xs []T, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, ", ")
}

func describeWeekdayNum(wn weekdayNum) string {
	name := wn.day.String()[:3]
	switch {
	case wn.n == 0:
		return name
	case wn.n == -1:
		return "the last " + name
	case wn.n < 0:
		return "the " + ordinalEnglish(-wn.n) + " last " + name
	default:
		return "the " + ordinalEnglish(wn.n) + " " + name
	}
}

func describeMonthDay(md int) string {
	switch {
	case md == -1:
		return "the last day"
	case md < 0:
		return "the " + ordinalEnglish(-md) + " last day"
	default:
		return "the " + ordinalEnglish(md)
	}
}

// ordinal writes 1st, 2nd, 3rd, 4th, 11th, 21st, 22nd...
func ordinalEnglish(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// taskwarriorUnits maps Taskwarrior's duration units (as used in its recur
// attribute) to a frequency and a multiplier of the interval.
var taskwarriorUnits = map[string]struct {
	freq recurFreq
	mult int
}{
	"d": {freqDaily, 1}, "day": {freqDaily, 1}, "days": {freqDaily, 1}, "daily": {freqDaily, 1},
	"w": {freqWeekly, 1}, "wk": {freqWeekly, 1}, "wks": {freqWeekly, 1}, "week": {freqWeekly, 1},
	"weeks": {freqWeekly, 1}, "weekly": {freqWeekly, 1}, "sennight": {freqWeekly, 1},
	"biweekly": {freqWeekly, 2}, "fortnight": {freqWeekly, 2},
	"m": {freqMonthly, 1}, "mo": {freqMonthly, 1}, "mos": {freqMonthly, 1}, "mth": {freqMonthly, 1},
	"mths": {freqMonthly, 1}, "mnths": {freqMonthly, 1}, "month": {freqMonthly, 1},
	"months": {freqMonthly, 1}, "monthly": {freqMonthly, 1}, "bimonthly": {freqMonthly, 2},
	"q": {freqMonthly, 3}, "qtr": {freqMonthly, 3}, "qtrs": {freqMonthly, 3}, "qrtrs": {freqMonthly, 3},
	"quarter": {freqMonthly, 3}, "quarters": {freqMonthly, 3}, "quarterly": {freqMonthly, 3}, "semiannual": {freqMonthly, 6},
	"y": {freqYearly, 1}, "yr": {freqYearly, 1}, "yrs": {freqYearly, 1}, "year": {freqYearly, 1},
	"years": {freqYearly, 1}, "yearly": {freqYearly, 1}, "annual": {freqYearly, 1},
	"annually": {freqYearly, 1}, "biannual": {freqYearly, 2}, "biyearly": {freqYearly, 2},
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
	u, ok := taskwarriorUnits[unit]
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
	n *= u.mult
	if n > maxInterval {
		return nil, fmt.Errorf("taskwarrior recur %q: an interval over %d is not supported", s, maxInterval)
	}
	r := &Recurrence{freq: u.freq, interval: n, wkst: time.Monday}
	return r, nil
}
