// cli_doctor_linux_test.go tests heph doctor against a real systemd --user unit.
package main

import (
	"os"
	"testing"
)

// TestDoctorStaleServiceBinary: a systemd unit whose binary is gone fails
// the service check and names the fix.
func TestDoctorStaleServiceBinary(t *testing.T) {
	m := startUserManager(t)
	m.mustHeph("daemon", "start")
	m.mustHeph("daemon", "stop")
	if err := os.Remove(m.Bin); err != nil {
		t.Fatal(err)
	}
	rep, code := runDoctor(t, m.Env)
	if code != 1 {
		t.Fatalf("stale unit: exit %d", code)
	}
	wantCheck(t, rep, "service", checkFail, m.Bin+", which is not an executable file", "heph daemon restart")
}
