// A repeat rule's series: its occurrences (Next, Index) and how a task advances along it.

package main

import (
	"slices"
	"time"
)

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
