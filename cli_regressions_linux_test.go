package main

import "testing"

// TestNoColorEmptyKeepsColour: NO_COLOR disables colour only when it is
// set to a non-empty value (https://no-color.org); an empty one, as left by
// `NO_COLOR= heph next`, keeps colour on a terminal.
func TestNoColorEmptyKeepsColour(t *testing.T) {
	_, slave := openPTY(t)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	t.Setenv("NO_COLOR", "")
	if !useColor(slave, env("")) {
		t.Error("empty NO_COLOR turned colour off on a terminal")
	}
	if useColor(slave, env("1")) {
		t.Error("NO_COLOR=1 left colour on")
	}
}
