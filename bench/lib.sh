#!/usr/bin/env bash
# bench/lib.sh: what the whole-process benchmarks share (sourced by
# next.sh and filter.sh): Taskwarrior on demand, a work directory whose
# hephd is stopped on exit, timers, and the median and CPU of a command.
# HEPH (default bin/heph) names the binary; hephd is beside it.

HEPH=${HEPH:-$PWD/bin/heph}
HEPHD=$(dirname "$HEPH")/hephd
if [ ! -x "$HEPH" ] || [ ! -e "$HEPHD" ]; then
	echo "$0: $HEPH or $HEPHD missing: run make build first" >&2
	exit 1
fi

if ! command -v task >/dev/null 2>&1; then
	echo "== installing Debian's taskwarrior"
	if [ "$(id -u)" = 0 ]; then apt-get install -y -qq taskwarrior >/dev/null; else sudo apt-get install -y -qq taskwarrior >/dev/null; fi
fi

work=$(mktemp -d)
daemon_pid=""
stop_daemon() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
		daemon_pid=""
	fi
}
cleanup() { stop_daemon; rm -rf "$work"; }
trap cleanup EXIT

now_ns() { date +%s%N; }
# cpu_s PID: CPU seconds (user + system) the process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
elapsed_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# start_daemon DB: run hephd on DB and wait for its socket.
start_daemon() {
	sock="$work/s.sock"
	"$HEPHD" --db "$1" --socket "$sock" --log "$work/hephd.log" &
	daemon_pid=$!
	for _ in $(seq 1 500); do [ -S "$sock" ] && return 0; sleep 0.01; done
	echo "hephd did not start: $(cat "$work/hephd.log")" >&2
	exit 1
}

# median_ms CMD...: median wall time of a whole process, in milliseconds
# (hyperfine when present, else a timed loop), over $n runs after 3
# warm-ups. The mean CPU (user + system) of the command goes to $work/cpu.
median_ms() {
	if [ -z "${EPOCHREALTIME:-}" ]; then
		echo "bench: needs bash 5 (EPOCHREALTIME)" >&2
		exit 1
	fi
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -N --warmup 3 --runs "$n" --export-json "$work/hf.json" "$*" >/dev/null 2>&1
		grep -o '"median": *[0-9.e+-]*' "$work/hf.json" | head -1 | awk '{ printf "%.2f", $2 * 1000 }'
		awk -F': *' '/"user"/ { u = $2 + 0 } /"system"/ { s = $2 + 0 } END { printf "%.2f", (u + s) * 1000 }' "$work/hf.json" >"$work/cpu"
		return
	fi
	for _ in 1 2 3; do "$@" >/dev/null 2>&1; done
	# One subshell runs them all; its children's CPU is what `times` adds up.
	(
		for _ in $(seq 1 "$n"); do
			# EPOCHREALTIME (bash 5) reads the clock without forking, so
			# the time is the command's alone ($(date) adds a fork and exec
			# of date, several ms here, to every run).
			a=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1; b=${EPOCHREALTIME/./}
			echo $(( b - a )) >>"$work/walls"
		done
		times >"$work/times" # not in a pipeline: that would be another process
	)
	tail -1 "$work/times" | awk -v n="$n" '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 / n }' >"$work/cpu"
	sort -n "$work/walls" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }'
	rm -f "$work/walls"
}
