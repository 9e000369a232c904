#!/usr/bin/env bash
# bench/filter.sh: "list project:P +tag" and a saved view as whole
# processes, heph against Taskwarrior ("task project:P +tag list") on the
# same 10,000 outstanding tasks (imported into both from one Taskwarrior
# export). Run by `make bench` (after `make build`); prints a table and
# exits 1 when a target is missed. Target: heph >= 10x faster.
#
# Environment: HEPH (default bin/heph), RUNS (timed runs of heph, default
# 30), TW_RUNS (of task, default 10), N (outstanding tasks, default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-30}
TW_RUNS=${TW_RUNS:-10}
N=${N:-10000}
# shellcheck source=bench/lib.sh
source bench/lib.sh

# gen N: a Taskwarrior export of N pending tasks over nested projects
# (Home, Home.Repairs, ...) and tags, as `task export` writes it.
gen() {
	awk -v n="$1" '
	function tw(t) { return strftime("%Y%m%dT%H%M%SZ", t, 1) }
	BEGIN {
		split("Home Work Home.Repairs Work.Reports Garden Errands Health Finance", projects, " ")
		split("urgent phone email read buy call review fix", tags, " ")
		base = 1735689600
		printf "["
		for (i = 1; i <= n; i++) {
			e = base + i * 60
			line = sprintf("{\"uuid\":\"%08x-%04x-4000-8000-%012x\",\"description\":\"Task %d: %s the %s\",\"status\":\"pending\",\"entry\":\"%s\",\"modified\":\"%s\"",
				7, i % 65536, i, i, (i % 3 ? "check" : "tidy"), (i % 5 ? "shed" : "report"), tw(e), tw(e))
			line = line sprintf(",\"project\":\"%s\",\"tags\":[\"%s\",\"%s\"]", projects[1 + i % 8], tags[1 + i % 8], tags[1 + (i * 3) % 8])
			if (i % 4 == 0) line = line ",\"priority\":\"H\""
			printf "%s%s}\n", (i > 1 ? "," : ""), line
		}
		print "]"
	}'
}

echo "== generating $N tasks"
gen "$N" >"$work/tasks.json"

echo "== heph: import"
export HEPH_SOCKET="$work/s.sock"
start_daemon "$work/heph.db"
"$HEPH" import taskwarrior "$work/tasks.json" >/dev/null
"$HEPH" view save bench project:Home +urgent --sort next >/dev/null

echo "== taskwarrior: import"
export TASKDATA="$work/tw" TASKRC="$work/taskrc"
mkdir -p "$TASKDATA"
printf 'confirmation=off\nverbose=nothing\nhooks=off\ngc=on\n' >"$TASKRC"
task import "$work/tasks.json" >/dev/null 2>&1

heph_count=$("$HEPH" list project:Home +urgent | wc -l)
tw_count=$(task project:Home +urgent count 2>/dev/null)
echo "== both list the same tasks: heph $heph_count, task $tw_count"
if [ "$heph_count" != "$tw_count" ]; then
	echo "bench/filter.sh: heph and task disagree on project:Home +urgent" >&2
	exit 1
fi

echo "== timing (heph $RUNS runs, task $TW_RUNS runs)"
# measure VAR CMD...: median wall ms into VAR, and the CPU per run of the
# command plus (for heph) hephd's into VAR_cpu.
measure() {
	local var=$1 d0 d1; shift
	d0=$(cpu_s "$daemon_pid")
	printf -v "$var" '%s' "$(median_ms "$@")"
	d1=$(cpu_s "$daemon_pid")
	if [ "$1" = task ]; then d1=$d0; fi
	printf -v "${var}_cpu" '%s' "$(awk -v c="$(cat "$work/cpu")" -v a="$d0" -v b="$d1" -v n="$n" 'BEGIN { printf "%.2f", c + (b - a) * 1000 / (n + 3) }')"
}
n=$RUNS measure heph_floor "$HEPH" --version
n=$RUNS measure heph_list "$HEPH" list project:Home +urgent
n=$RUNS measure heph_view "$HEPH" view bench
n=$TW_RUNS measure tw_list task project:Home +urgent list

fail=0
row() {
	printf '%-40s %10s %12s %8s %-10s %s\n' "$@"
	if [ "$6" = FAIL ]; then fail=1; fi
}
ok() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
ratio=$(awk -v h="$heph_list" -v t="$tw_list" 'BEGIN { printf "%.1fx", t / h }')
vratio=$(awk -v h="$heph_view" -v t="$tw_list" 'BEGIN { printf "%.1fx", t / h }')
echo
printf '%-40s %10s %12s %8s %-10s %s\n' metric heph taskwarrior ratio target result
row "list project:Home +urgent ($heph_count of $N)" "${heph_list}ms" "${tw_list}ms" "$ratio" ">= 10x" "$(ok "$tw_list / $heph_list >= 10")"
row "saved view (same filter, sort next)" "${heph_view}ms" "${tw_list}ms" "$vratio" ">= 10x" "$(ok "$tw_list / $heph_view >= 10")"
row "  the same, CPU (heph: client + hephd)" "${heph_list_cpu}ms" "${tw_list_cpu}ms" "$(awk -v h="$heph_list_cpu" -v t="$tw_list_cpu" 'BEGIN { printf "%.1fx", t / h }')" "-" "-"
row "  heph --version (process start, floor)" "${heph_floor}ms" "-" "-" "-" "-"
echo "notes: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall times grow with load)"
exit $fail
