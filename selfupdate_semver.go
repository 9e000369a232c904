// Semantic versions: parsing and ordering for self-update.

package main

import (
	"strconv"
	"strings"
)

// semver is a parsed semantic version (vMAJOR.MINOR.PATCH[-PRE][+BUILD]).
type semver struct {
	major, minor, patch int
	pre                 []string // dot-separated pre-release identifiers
}

// parseSemver parses a Go module version such as "v1.2.3" or
// "v1.2.3-rc.1". Pseudo-versions parse too (they are pre-releases).
func parseSemver(v string) (semver, bool) {
	if !strings.HasPrefix(v, "v") {
		return semver{}, false
	}
	v = v[1:]
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	var s semver
	core := v
	if i := strings.IndexByte(v, '-'); i >= 0 {
		core = v[:i]
		if v[i+1:] == "" {
			return semver{}, false
		}
		s.pre = strings.Split(v[i+1:], ".")
		for _, p := range s.pre {
			if p == "" {
				return semver{}, false
			}
		}
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return semver{}, false
	}
	nums := [3]*int{&s.major, &s.minor, &s.patch}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return semver{}, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return semver{}, false
		}
		*nums[i] = n
	}
	return s, true
}

// isPrerelease reports whether the version has a pre-release part.
func (s semver) isPrerelease() bool { return len(s.pre) > 0 }

// compareSemver orders a and b by semantic-versioning precedence:
// -1, 0 or +1.
func compareSemver(a, b semver) int {
	for _, d := range [][2]int{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1 // a release sorts after its pre-releases
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := comparePreIdent(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

func comparePreIdent(a, b string) int {
	an, aerr := strconv.Atoi(a)
	bn, berr := strconv.Atoi(b)
	switch {
	case aerr == nil && berr == nil:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aerr == nil:
		return -1 // numeric identifiers sort before alphanumeric ones
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}
