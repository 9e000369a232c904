// The version and VCS revision the binary was built from.

package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion returns the module version and VCS revision the binary was
// built from: "v1.2.3" for a `go install …@v1.2.3`, "(devel)" for a
// working-tree build.
func buildVersion() (version, revision string) {
	version, revision = "(devel)", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
			if len(revision) > 12 {
				revision = revision[:12]
			}
		}
	}
	if revision == "unknown" {
		revision = pseudoVersionRevision(version)
	}
	return
}

// pseudoVersionRevision returns the commit a pseudo-version names
// ("v0.0.0-20261126190000-abcdef123456" → "abcdef123456"): `go install
// …@latest` of an untagged commit stamps no vcs.revision, only this.
func pseudoVersionRevision(v string) string {
	v, _, _ = strings.Cut(v, "+")
	i := strings.LastIndexByte(v, '-')
	if i < 0 || len(v)-i-1 != 12 {
		return "unknown"
	}
	rev := v[i+1:]
	for _, r := range rev {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return "unknown"
		}
	}
	return rev
}

// mainModulePath is the module this binary was built from.
func mainModulePath() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
		return bi.Main.Path
	}
	return "github.com/hephaestus/heph"
}
