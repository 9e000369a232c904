package main

import "strings"

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
