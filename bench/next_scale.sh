#!/usr/bin/env bash
# Times "heph next" as a whole process (client start, RPC, daemon query,
# output) on generated stores: 10,000 outstanding tasks among 100,000 nodes
# (target: median <= 5 ms) and 100,000 outstanding tasks (<= 15 ms).
# Needs hyperfine (Debian package) and bin/heph (make build).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "next_scale: hyperfine not installed (apt-get install hyperfine)"; exit 1; }
[ -x bin/heph ] || make build >/dev/null
dir=$(mktemp -d /tmp/heph-next-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
HEPH_BENCH_DIR=$dir go test -count=1 -run '^TestWriteBenchStores$' . >/dev/null
status=0
for store in next-10k next-100k; do
	limit=5
	[ "$store" = next-100k ] && limit=15
	bin/hephd --db "$dir/$store.db" --socket "$dir/$store.sock" --log "$dir/$store.log" &
	pid=$!
	for _ in $(seq 1 200); do [ -S "$dir/$store.sock" ] && break; sleep 0.05; done
	HEPH_SOCKET="$dir/$store.sock" bin/heph next >/dev/null
	HEPH_SOCKET="$dir/$store.sock" hyperfine -N --warmup 20 --runs 200 --export-json "$dir/$store.json" \
		"bin/heph --socket $dir/$store.sock next" | sed -n '1,4p'
	median=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000, 2))' "$dir/$store.json")
	verdict=ok
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$median" "$limit" || { verdict=SLOW; status=1; }
	printf '%-10s heph next median %6s ms (target <= %s ms) %s\n' "$store" "$median" "$limit" "$verdict"
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
exit $status
