// Selects launchd (service_launchd.go) as heph daemon's service manager on macOS.

package main

import (
	"fmt"
	"os"
)

// On macOS heph daemon installs a LaunchAgent (service_launchd.go) and
// drives it with launchctl in the gui/<uid> domain.

// newServiceManager is the platform's service manager.
func newServiceManager(getenv getenvFunc) (serviceManager, error) {
	home := getenv("HOME")
	if home == "" {
		return nil, fmt.Errorf("cannot place the launchd agent: HOME is not set")
	}
	return newLaunchdManager(home, os.Getuid()), nil
}
