#!/usr/bin/env bash
# bench/next.sh: "what is next", as a whole process, heph against
# Taskwarrior on the same 10,000 outstanding tasks, plus import speed, the
# daemon's start-up on a 100,000-node store and next over 100,000
# outstanding tasks. Run by `make bench` (after `make build`); prints a table
# and exits 1 when a target is missed.
#
# Environment: HEPH (default bin/heph), RUNS (timed runs of heph next,
# default 50), TW_RUNS (of task next, default 10), SKIP_100K=1 skips the
# 100,000-outstanding store (the slowest part to build).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-50}
TW_RUNS=${TW_RUNS:-10}
# shellcheck source=bench/lib.sh
source bench/lib.sh

# gen N STATUS SEED: a Taskwarrior export of N tasks (projects, tags,
# priorities, some due and scheduled dates), as `task export` writes it.
gen() {
	awk -v n="$1" -v status="$2" -v seed="$3" '
	function tw(t) { return strftime("%Y%m%dT%H%M%SZ", t, 1) }
	BEGIN {
		split("Home Work Home.Repairs Work.Reports Garden Errands Health Finance", projects, " ")
		split("urgent phone email read buy call review fix", tags, " ")
		split("H M L", prio, " ")
		base = 1735689600
		printf "["
		for (i = 1; i <= n; i++) {
			e = base + i * 60 + seed * 7
			line = sprintf("{\"uuid\":\"%08x-%04x-4000-8000-%012x\",\"description\":\"Task %d of batch %d: %s the %s\",\"status\":\"%s\",\"entry\":\"%s\",\"modified\":\"%s\"",
				seed, i % 65536, i, i, seed, (i % 3 ? "check" : "tidy"), (i % 5 ? "shed" : "report"), status, tw(e), tw(e))
			line = line sprintf(",\"project\":\"%s\",\"tags\":[\"%s\"]", projects[1 + i % 8], tags[1 + i % 8])
			if (i % 4 == 0) line = line sprintf(",\"priority\":\"%s\"", prio[1 + i % 3])
			if (i % 7 == 0) line = line sprintf(",\"due\":\"%s\"", tw(base + 86400 * (400 + i % 900)))
			if (i % 11 == 0) line = line sprintf(",\"scheduled\":\"%s\"", tw(base + 86400 * (i % 1200)))
			if (status == "completed") line = line sprintf(",\"end\":\"%s\"", tw(e + 3600))
			printf "%s%s}\n", (i > 1 ? "," : ""), line
		}
		print "]"
	}'
}

# gen_docs N DIR: N plain markdown notes.
gen_docs() {
	mkdir -p "$2"
	awk -v n="$1" -v dir="$2" 'BEGIN {
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/note-%05d.md", dir, i)
			printf "# Note %d\n\nSome words about topic %d, see [[Note %d]].\n", i, i % 97, (i % 500) + 1 > f
			close(f)
		}
	}'
}

# rpc_counts: daemon.info's node counts (needs socat).
rpc_counts() {
	if command -v socat >/dev/null 2>&1; then
		echo '{"jsonrpc":"2.0","id":1,"method":"daemon.info"}' | socat - "UNIX-CONNECT:$work/s.sock" | grep -o '"counts":{[^}]*}'
	fi
}

echo "== generating data"
gen 10000 pending 1 >"$work/outstanding10k.json"
gen 20000 completed 2 >"$work/done20k.json"
gen_docs 10000 "$work/docs"

export HEPH_SOCKET="$work/s.sock"
store="$work/heph100k.db"
start_daemon "$store"

echo "== heph: import 10,000 outstanding tasks"
c0=$(cpu_s "$daemon_pid")
a=$(now_ns)
"$HEPH" import taskwarrior "$work/outstanding10k.json" >/dev/null
b=$(now_ns)
c1=$(cpu_s "$daemon_pid")
heph_import=$(elapsed_s "$a" "$b")
import_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
echo "   ${heph_import}s (hephd CPU ${import_cpu}s)"
echo "== heph: filling to 100,000 nodes (20,000 done tasks, 10,000 notes)"
a=$(now_ns)
"$HEPH" import taskwarrior "$work/done20k.json" >/dev/null
"$HEPH" import markdown "$work/docs" >/dev/null
b=$(now_ns)
echo "   $(elapsed_s "$a" "$b")s; $(rpc_counts)"

echo "== taskwarrior: import the same 10,000 outstanding tasks"
export TASKDATA="$work/tw" TASKRC="$work/taskrc"
mkdir -p "$TASKDATA"
printf 'confirmation=off\nverbose=nothing\nhooks=off\ngc=on\n' >"$TASKRC"
a=$(now_ns)
task import "$work/outstanding10k.json" >/dev/null 2>&1
b=$(now_ns)
tw_import=$(elapsed_s "$a" "$b")
echo "   ${tw_import}s"

echo "== timing next (heph $RUNS runs, task $TW_RUNS runs)"
heph_next=$(n=$RUNS median_ms "$HEPH" next)
heph_next_cpu=$(cat "$work/cpu" 2>/dev/null || echo "?")
tw_next=$(n=$TW_RUNS median_ms task next)

echo "== hephd start-up on the 100,000-node store"
stop_daemon
for _ in $(seq 1 10); do
	rm -f "$work/s.sock"
	a=$(now_ns)
	"$HEPHD" --db "$store" --socket "$work/s.sock" --log "$work/hephd.log" &
	daemon_pid=$!
	while [ ! -S "$work/s.sock" ]; do
		kill -0 "$daemon_pid" 2>/dev/null || { echo "hephd exited: $(cat "$work/hephd.log")" >&2; exit 1; }
	done
	b=$(now_ns)
	echo $(( (b - a) / 1000 ))
	stop_daemon
done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f\n", (v[5] + v[6]) / 2 / 1000 }' >"$work/startup"
startup=$(cat "$work/startup")

next100k="-"
if [ "${SKIP_100K:-}" != 1 ]; then
	echo "== heph: a store with 100,000 outstanding tasks"
	gen 100000 pending 3 >"$work/outstanding100k.json"
	start_daemon "$work/heph100kout.db"
	a=$(now_ns)
	"$HEPH" import taskwarrior "$work/outstanding100k.json" >/dev/null
	b=$(now_ns)
	echo "   imported in $(elapsed_s "$a" "$b")s; $(rpc_counts)"
	next100k=$(n=$RUNS median_ms "$HEPH" next)
	stop_daemon
fi

# row METRIC HEPH TW RATIO TARGET OK
fail=0
row() {
	printf '%-44s %10s %12s %8s %-22s %s\n' "$@"
	if [ "$6" = FAIL ]; then fail=1; fi
}
ok() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
ratio=$(awk -v h="$heph_next" -v t="$tw_next" 'BEGIN { printf "%.1fx", t / h }')
import_ratio=$(awk -v h="$heph_import" -v t="$tw_import" 'BEGIN { printf "%.1fx", t / h }')
echo
printf '%-44s %10s %12s %8s %-22s %s\n' metric heph taskwarrior ratio target result
row "next, 10k outstanding / 100k nodes (median)" "${heph_next}ms" "${tw_next}ms" "$ratio" "<= 5ms" "$(ok "$heph_next <= 5")"
row "next speed-up over task next" "" "" "$ratio" ">= 30x" "$(ok "$tw_next / $heph_next >= 30")"
if [ "$next100k" = "-" ]; then
	row "next, 100k outstanding (median)" "skipped" "-" "-" "<= 15ms" "SKIP"
else
	row "next, 100k outstanding (median)" "${next100k}ms" "-" "-" "<= 15ms" "$(ok "$next100k <= 15")"
fi
row "import taskwarrior, 10k tasks" "${heph_import}s" "${tw_import}s" "$import_ratio" "<= 3s" "$(ok "$heph_import <= 3")"
row "hephd start to socket, 100k nodes (median)" "${startup}ms" "-" "-" "<= 200ms" "$(ok "$startup <= 200")"
echo "notes: heph next client CPU (user+sys, mean) ${heph_next_cpu:-?}ms; hephd CPU for the 10k import ${import_cpu}s;"
echo "       load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime) on $(nproc) CPUs (wall times grow with load)"
exit $fail
