package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestResolvePaths walks every flag/environment combination that decides
// where the store and the socket live.
func TestResolvePaths(t *testing.T) {
	type env map[string]string
	cases := []struct {
		name             string
		flagDB, flagSock string
		env              env
		wantDB, wantSock string
	}{
		{name: "flags win over everything", flagDB: "/f/db", flagSock: "/f/s.sock",
			env:    env{"HEPH_DB": "/e/db", "HEPH_SOCKET": "/e/s", "XDG_DATA_HOME": "/xd", "XDG_RUNTIME_DIR": "/xr", "HOME": "/h"},
			wantDB: "/f/db", wantSock: "/f/s.sock"},
		{name: "HEPH_ env over XDG and HOME",
			env:    env{"HEPH_DB": "/e/db", "HEPH_SOCKET": "/e/s", "XDG_DATA_HOME": "/xd", "XDG_RUNTIME_DIR": "/xr", "HOME": "/h"},
			wantDB: "/e/db", wantSock: "/e/s"},
		{name: "XDG over HOME",
			env:    env{"XDG_DATA_HOME": "/xd", "XDG_RUNTIME_DIR": "/xr", "HOME": "/h"},
			wantDB: "/xd/heph/heph.db", wantSock: "/xr/heph/hephd.sock"},
		{name: "HOME only",
			env:    env{"HOME": "/h"},
			wantDB: "/h/.local/share/heph/heph.db", wantSock: "/h/.local/share/heph/hephd.sock"},
		{name: "flag db, env socket", flagDB: "/f/db",
			env:    env{"HEPH_SOCKET": "/e/s", "HOME": "/h"},
			wantDB: "/f/db", wantSock: "/e/s"},
		{name: "env db, flag socket", flagSock: "/f/s",
			env:    env{"HEPH_DB": "/e/db", "XDG_RUNTIME_DIR": "/xr", "HOME": "/h"},
			wantDB: "/e/db", wantSock: "/f/s"},
		{name: "XDG data only, HOME socket",
			env:    env{"XDG_DATA_HOME": "/xd", "HOME": "/h"},
			wantDB: "/xd/heph/heph.db", wantSock: "/h/.local/share/heph/hephd.sock"},
		{name: "XDG runtime only, HOME data",
			env:    env{"XDG_RUNTIME_DIR": "/xr", "HOME": "/h"},
			wantDB: "/h/.local/share/heph/heph.db", wantSock: "/xr/heph/hephd.sock"},
		{name: "no HOME but everything explicit", flagDB: "/f/db",
			env:    env{"HEPH_SOCKET": "/e/s"},
			wantDB: "/f/db", wantSock: "/e/s"},
		{name: "relative paths become absolute", flagDB: "rel/db", flagSock: "rel/s",
			env:    env{"HOME": "/h"},
			wantDB: mustAbs(t, "rel/db"), wantSock: mustAbs(t, "rel/s")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := resolvePaths(c.flagDB, c.flagSock, func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatalf("resolvePaths: %v", err)
			}
			if p.DB != c.wantDB || p.Socket != c.wantSock {
				t.Fatalf("got db=%s socket=%s, want db=%s socket=%s", p.DB, p.Socket, c.wantDB, c.wantSock)
			}
		})
	}
}

func mustAbs(t *testing.T, rel string) string {
	t.Helper()
	p, err := resolvePaths(rel, "/s", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.DB, "/") || !strings.HasSuffix(p.DB, rel) {
		t.Fatalf("%s did not become absolute: %s", rel, p.DB)
	}
	return p.DB
}

// TestResolvePathsErrors: nothing to go on, and a socket path too long for
// sun_path, are clear errors.
func TestResolvePathsErrors(t *testing.T) {
	none := func(string) string { return "" }
	if _, err := resolvePaths("", "", none); err == nil || !strings.Contains(err.Error(), "HOME") {
		t.Fatalf("no HOME, no XDG: want an error naming HOME, got %v", err)
	}
	if _, err := resolvePaths("/db", "", none); err == nil || !strings.Contains(err.Error(), "--socket") {
		t.Fatalf("no socket location: want an error suggesting --socket, got %v", err)
	}
	// A client needs only the socket: no HOME is fine when it is given.
	if sock, err := resolveSocket("", func(k string) string { return map[string]string{"HEPH_SOCKET": "/e/s"}[k] }); err != nil || sock != "/e/s" {
		t.Fatalf("resolveSocket with only HEPH_SOCKET: %q, %v", sock, err)
	}
	long := "/tmp/" + strings.Repeat("x", sunPathLen)
	_, err := resolvePaths("/db", long, none)
	if err == nil {
		t.Fatalf("socket path of %d bytes accepted", len(long))
	}
	for _, want := range []string{long, strconv.Itoa(sunPathLen - 1), osName} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("long socket error %q does not name %q", err, want)
		}
	}
	// The longest path that fits is accepted.
	fits := "/" + strings.Repeat("y", sunPathLen-2)
	if _, err := resolvePaths("/db", fits, none); err != nil {
		t.Fatalf("socket path of %d bytes (the limit) refused: %v", len(fits), err)
	}
}

// TestDaemonRefusesLongSocket: hephd itself exits non-zero naming the path
// and the limit.
func TestDaemonRefusesLongSocket(t *testing.T) {
	dir := shortTempDir(t)
	long := dir + "/" + strings.Repeat("s", sunPathLen)
	var out, errOut syncBuffer
	code := run([]string{"hephd", "--db", dir + "/heph.db", "--socket", long}, strings.NewReader(""), &out, &errOut)
	if code == 0 {
		t.Fatalf("hephd accepted a %d-byte socket path", len(long))
	}
	if !strings.Contains(errOut.String(), long) || !strings.Contains(errOut.String(), strconv.Itoa(sunPathLen-1)) {
		t.Fatalf("stderr does not name the path and the limit:\n%s", errOut.String())
	}
}
