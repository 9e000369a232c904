#!/usr/bin/env bash
# bench/events.sh: live events. The latency from a write's commit to a
# socket subscriber reading its event (median and p99 over 1,000 writes;
# target p99 <= 2 ms) and the durable write throughput with 100 subscribers
# attached (in another process) versus none (target: within 10%). Runs the
# Go benchmarks BenchmarkEventLatency and BenchmarkEventWriteThroughput once
# each (events_bench_test.go); prints a table and exits 1 when a target is
# missed. Environment: P99_MAX_US (default 2000), RATIO_MIN (default 0.90).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
P99_MAX_US=${P99_MAX_US:-2000}
RATIO_MIN=${RATIO_MIN:-0.90}

out=$($GO test -run '^$' -bench '^(BenchmarkEventLatency|BenchmarkEventWriteThroughput)$' -benchtime 1x -count 1 .)
echo "$out" | grep '^Benchmark' || { echo "$out"; exit 1; }

# metric NAME UNIT: the value reported before UNIT on NAME's line.
metric() { echo "$out" | awk -v b="$1" -v u="$2" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i <= NF; i++) if ($i == u) print $(i-1) }'; }
p50=$(metric BenchmarkEventLatency p50-µs)
p99=$(metric BenchmarkEventLatency p99-µs)
w0=$(metric BenchmarkEventWriteThroughput writes/s-0subs)
w100=$(metric BenchmarkEventWriteThroughput writes/s-100subs)
ratio=$(metric BenchmarkEventWriteThroughput ratio)

rc=0
check() { # name value op limit
	local ok
	ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { print (op == "<=" ? v <= l : v >= l) ? "ok" : "MISSED" }')
	printf '%-48s %12s   target %s %s   %s\n' "$1" "$2" "$3" "$4" "$ok"
	[ "$ok" = ok ] || rc=1
}
echo
printf '%-48s %12s\n' "write -> subscriber latency, median (µs)" "$p50"
check "write -> subscriber latency, p99 (µs)" "$p99" "<=" "$P99_MAX_US"
printf '%-48s %12s\n' "durable writes/s, no subscribers" "$w0"
printf '%-48s %12s\n' "durable writes/s, 100 subscribers" "$w100"
check "throughput ratio (100 subscribers / none)" "$ratio" ">=" "$RATIO_MIN"
exit $rc
