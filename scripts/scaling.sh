#!/usr/bin/env bash
# Scaling curve of `wormwatch run codered2-july19` (issue 11, target 7): wall
# time, CPU time and peak resident memory of whole processes against the
# number of hosts, with the placement set to uniform and left as the
# scenario's own (clustered). Writes one CSV row per run:
#
#   hosts,placement,run,load1,wall_s,cpu_s,max_rss_kb,ever_infected,infected_end
#
#   scripts/scaling.sh > scaling.csv
#   SIZES="10000 100000" PLACEMENTS=uniform RUNS=2 scripts/scaling.sh >> scaling.csv
#   BIN=/work/bin/wormwatch scripts/scaling.sh   # an already built binary
#   EXTRA=--host-by-host scripts/scaling.sh        # more arguments of run for every run
#
# load1 is the 1-minute load average just before the run. Runs go in the
# order given, smallest first; 10^8 hosts takes under a minute and 4 GB (8 GB
# and minutes host by host), so it is not in the default SIZES (add
# 100000000 to run it, alone).
# The CSV is what scripts/scalingplot reads. Each run's results folder (and
# the binary, when built here) goes to a temporary folder under
# $TMPDIR_SCALING (default: the repository; /tmp may be noexec), removed at
# the end.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10000 100000 1000000 10000000"}
PLACEMENTS=${PLACEMENTS:-"uniform clustered"}
RUNS=${RUNS:-1}
HEADER=${HEADER:-1}
read -r -a extra <<< "${EXTRA:-}"

tmp=$(mktemp -d -p "${TMPDIR_SCALING:-$PWD}" scaling.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bin=${BIN:-}
if [ -z "$bin" ]; then
	bin="$tmp/wormwatch"
	go build -o "$bin" ./cmd/wormwatch
fi

# summaryField prints the first number after "NAME": in summary.json.
summaryField() { # file, name
	grep -o "\"$2\": *[0-9]*" "$1" | head -1 | grep -o '[0-9]*$'
}

[ "$HEADER" = 1 ] && echo "hosts,placement,run,load1,wall_s,cpu_s,max_rss_kb,ever_infected,infected_end"
for hosts in $SIZES; do
	for placement in $PLACEMENTS; do
		for run in $(seq "$RUNS"); do
			set_placement=()
			if [ "$placement" != clustered ]; then
				set_placement=(--set "population.placement=$placement")
			fi
			load=$(cut -d' ' -f1 /proc/loadavg)
			rm -rf "$tmp/out"
			/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$bin" run codered2-july19 --quiet \
				--out "$tmp/out" --set "population.hosts=$hosts" "${set_placement[@]}" "${extra[@]}" \
				> "$tmp/stdout" 2> "$tmp/stderr" || {
				echo "run at $hosts hosts, $placement, failed:" >&2
				cat "$tmp/stderr" >&2
				continue
			}
			read -r wall user sys rss < "$tmp/time"
			ever=$(summaryField "$tmp/out/summary.json" ever_infected)
			end=$(summaryField "$tmp/out/summary.json" infected)
			awk -v h="$hosts" -v p="$placement" -v r="$run" -v l="$load" -v w="$wall" \
				-v u="$user" -v s="$sys" -v m="$rss" -v e="$ever" -v i="$end" \
				'BEGIN { printf "%s,%s,%s,%s,%.2f,%.2f,%s,%s,%s\n", h, p, r, l, w, u + s, m, e, i }'
		done
	done
done
