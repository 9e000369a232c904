package main

// This file stands in for recur.go (the dates branch) until it lands: a
// small RRULE subset (FREQ, INTERVAL, COUNT and the daily/weekly/monthly
// presets) with the same API. It is deleted when recur.go is merged.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Recurrence is a parsed recurrence rule.
type Recurrence struct {
	freq     string
	interval int
	count    int
}

func parseRecurrence(s string) (*Recurrence, error) {
	r := &Recurrence{interval: 1}
	switch strings.ToLower(s) {
	case "daily":
		r.freq = "DAILY"
		return r, nil
	case "weekly":
		r.freq = "WEEKLY"
		return r, nil
	case "monthly":
		r.freq = "MONTHLY"
		return r, nil
	}
	for _, p := range strings.Split(strings.ToUpper(s), ";") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "FREQ":
			r.freq = v
		case "COUNT":
			r.count, _ = strconv.Atoi(v)
		case "INTERVAL":
			r.interval, _ = strconv.Atoi(v)
		default:
			return nil, fmt.Errorf("bad recurrence %q", s)
		}
	}
	if r.freq == "" {
		return nil, fmt.Errorf("bad recurrence %q", s)
	}
	return r, nil
}

func (r *Recurrence) String() string {
	s := "FREQ=" + r.freq
	if r.interval > 1 {
		s += ";INTERVAL=" + strconv.Itoa(r.interval)
	}
	if r.count > 0 {
		s += ";COUNT=" + strconv.Itoa(r.count)
	}
	return s
}

func (r *Recurrence) Count() int { return r.count }

func (r *Recurrence) step(t time.Time, n int) time.Time {
	switch r.freq {
	case "DAILY":
		return t.AddDate(0, 0, n*r.interval)
	case "WEEKLY":
		return t.AddDate(0, 0, 7*n*r.interval)
	case "MONTHLY":
		return t.AddDate(0, n*r.interval, 0)
	}
	return t.AddDate(n*r.interval, 0, 0)
}

func (r *Recurrence) Next(dtstart, after time.Time) (time.Time, bool) {
	for i := 0; i < 100000; i++ {
		if r.count > 0 && i >= r.count {
			return time.Time{}, false
		}
		t := r.step(dtstart, i)
		if t.After(after) {
			return t, true
		}
	}
	return time.Time{}, false
}

func (r *Recurrence) Index(dtstart, t time.Time) int {
	for i := 0; i < 100000; i++ {
		if !r.step(dtstart, i).Before(t) {
			return i
		}
	}
	return -1
}
