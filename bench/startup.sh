#!/usr/bin/env bash
# bench/startup.sh: what a client pays to start. Times `heph --version` and
# `heph next` (each a whole process: start, one round trip to a running
# hephd, print) against a Go hello-world built in this run with the same
# flags, and prints each as a ratio to it. Target: <= 1.5x. Run by
# `make bench` (after `make build`); exits 1 when a target is missed.
#
# Environment: HEPH (default bin/heph), RUNS (timed runs of each, default
# 200). The three commands run interleaved, so load on the machine falls on
# all of them alike; the wall-clock medians are compared (CPU time, user +
# system, is printed too: a busy machine disturbs it less).
set -euo pipefail
cd "$(dirname "$0")/.."

HEPH=${HEPH:-$PWD/bin/heph}
HEPHD=$(dirname "$HEPH")/hephd
RUNS=${RUNS:-200}
TARGET=1.5
if [ ! -x "$HEPH" ] || [ ! -e "$HEPHD" ]; then
	echo "bench/startup.sh: $HEPH or $HEPHD missing: run make build first" >&2
	exit 1
fi

work=$(mktemp -d)
daemon_pid=""
cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/hello"
cat >"$work/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
EOF
(cd "$work/hello" && GOFLAGS= CGO_ENABLED=0 go mod init hello >/dev/null 2>&1 && CGO_ENABLED=0 go build -trimpath -o "$work/hello/hello" .)

"$HEPHD" --db "$work/heph.db" --socket "$work/hephd.sock" --log "$work/hephd.log" </dev/null >/dev/null 2>&1 &
daemon_pid=$!
for _ in $(seq 1 200); do [ -S "$work/hephd.sock" ] && break; sleep 0.05; done
export HEPH_SOCKET="$work/hephd.sock"
for i in $(seq 1 20); do "$HEPH" task "task $i" --do today >/dev/null; done

python3 - "$RUNS" "$TARGET" "$work/hello/hello" "$HEPH" <<'EOF'
import resource, statistics, subprocess, sys, time
runs, target, hello, heph = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
cmds = {"hello-world": [hello], "heph --version": [heph, "--version"], "heph next": [heph, "next"]}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for _ in range(10):  # warm the page cache and the daemon
    for argv in cmds.values():
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
for _ in range(runs):
    for name, argv in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter_ns()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        wall[name].append(time.perf_counter_ns() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
base = statistics.median(wall["hello-world"])
cpu_base = statistics.mean(cpu["hello-world"])
ok = True
print(f"{'command':<16} {'wall median':>11} {'ratio':>6}  {'CPU mean':>9} {'ratio':>6}  target (wall)")
for name in cmds:
    med = statistics.median(wall[name])
    ratio = med / base
    c = statistics.mean(cpu[name])
    verdict = ""
    if name != "hello-world":
        verdict = f"<= {target}x " + ("ok" if ratio <= target else "MISSED")
        ok = ok and ratio <= target
    print(f"{name:<16} {med / 1e6:9.2f}ms {ratio:5.2f}x  {c * 1e3:7.2f}ms {c / cpu_base:5.2f}x  {verdict}")
sys.exit(0 if ok else 1)
EOF
