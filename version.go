package main

import (
	"runtime/debug"
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
	return
}

// mainModulePath is the module this binary was built from.
func mainModulePath() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
		return bi.Main.Path
	}
	return "github.com/hephaestus/heph"
}
