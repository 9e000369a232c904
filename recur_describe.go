// A repeat rule in words for people ("every month on the last Fri").

package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
		b.WriteString(" in " + joinMapped(r.byMonth, func(m time.Month) string { return m.String()[:3] }, ","))
	}
	if len(r.byDay) > 0 && !weekdays {
		b.WriteString(" on " + joinMapped(r.byDay, describeWeekdayNum, ", "))
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
		b.WriteString(" on " + joinMapped(mds, describeMonthDay, ", "))
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
