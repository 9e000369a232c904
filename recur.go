// The Recurrence type (a parsed RRULE subset) and its canonical RRULE text.

package main

import (
	"fmt"
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

// String is the frequency's RRULE name.
func (f recurFreq) String() string {
	switch f {
	case freqDaily:
		return "DAILY"
	case freqWeekly:
		return "WEEKLY"
	case freqMonthly:
		return "MONTHLY"
	case freqYearly:
		return "YEARLY"
	}
	return ""
}

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
	b.WriteString("FREQ=" + r.freq.String())
	if r.interval > 1 {
		b.WriteString(";INTERVAL=" + strconv.Itoa(r.interval))
	}
	if len(r.byDay) > 0 {
		b.WriteString(";BYDAY=" + joinMapped(r.byDay, weekdayNum.String, ","))
	}
	if len(r.byMonthDay) > 0 {
		b.WriteString(";BYMONTHDAY=" + joinMapped(r.byMonthDay, strconv.Itoa, ","))
	}
	if len(r.byMonth) > 0 {
		b.WriteString(";BYMONTH=" + joinMapped(r.byMonth, func(m time.Month) string { return strconv.Itoa(int(m)) }, ","))
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

// joinMapped joins f(x) for each of xs with sep.
func joinMapped[T any](xs []T, f func(T) string, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, sep)
}

// Count is the rule's COUNT, 0 when unbounded by count.
func (r *Recurrence) Count() int { return r.count }
