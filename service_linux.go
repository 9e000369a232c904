// Selects systemd (service_systemd.go) as heph daemon's service manager on Linux.

package main

// newServiceManager is the platform's service manager.
func newServiceManager(getenv getenvFunc) (serviceManager, error) {
	return newSystemdManager(getenv)
}
