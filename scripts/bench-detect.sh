#!/usr/bin/env bash
# Benchmark of `wormwatch detect` on one core, on an Apache log of more than
# 1 GB built by repeating the sample logs (testdata/shared/logs) with shifted
# times, compared with `grep -c default.ida` on the same file.
#
#   scripts/bench-detect.sh                 # builds /tmp/wormwatch-bench-detect.log once, 3 runs each
#   SIZE=2000000000 RUNS=5 scripts/bench-detect.sh
#
# Prints, per run, the wall time, the CPU time (user + system), the
# throughput (file bytes / wall time, in MB of 10^6 bytes) and the peak
# resident memory, from /usr/bin/time. detect runs with GOMAXPROCS=1 and,
# when taskset exists, pinned to one CPU; grep is pinned the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

LOGS=${LOGS:-testdata/shared/logs}
SIZE=${SIZE:-1100000000}
BIG=${BIG:-/tmp/wormwatch-bench-detect.log}
RUNS=${RUNS:-3}
CPU=${CPU:-0}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin="$tmp/wormwatch"
go build -o "$bin" ./cmd/wormwatch

if [ ! -f "$BIG" ] || [ "$(stat -c %s "$BIG")" -lt "$SIZE" ]; then
	echo "building $BIG (at least $SIZE bytes) from $LOGS ..." >&2
	go run ./detect/internal/biglog/mkbiglog -size "$SIZE" -out "$BIG" \
		"$LOGS/honeynet2004_access_log.22" "$LOGS/honeynet2004_access_log.10"
fi
bytes=$(stat -c %s "$BIG")
lines=$(wc -l < "$BIG")
cat "$BIG" > /dev/null # into the page cache, so that every run reads from memory

pin=()
if command -v taskset > /dev/null; then
	pin=(taskset -c "$CPU")
fi

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(go version | cut -d' ' -f3)"
echo "# file: $BIG, $bytes bytes, $lines lines; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | run | wall s | CPU s (user+sys) | MB/s (wall) | MB/s (CPU) | peak RSS MB | output |"
echo "|---|---|---|---|---|---|---|---|"

measure() { # name, run, command...
	local name=$1 run=$2
	shift 2
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$@" > "$tmp/out" 2> "$tmp/err" || {
		echo "$name failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	read -r wall user sys rss < "$tmp/time"
	local out
	out=$(head -c 60 "$tmp/out" | head -1)
	awk -v n="$name" -v r="$run" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v b="$bytes" -v o="$out" 'BEGIN {
		c = u + s
		printf "| %s | %d | %.2f | %.2f | %.0f | %.0f | %.1f | %s |\n", n, r, w, c, b / w / 1e6, (c > 0 ? b / c / 1e6 : 0), m / 1024, o
	}'
}

for run in $(seq "$RUNS"); do
	measure "GOMAXPROCS=1 ${pin[*]} wormwatch detect --format json -o $tmp/found.json $BIG" "$run" \
		env GOMAXPROCS=1 "${pin[@]}" "$bin" detect --format json -o "$tmp/found.json" "$BIG"
	measure "${pin[*]} grep -c default.ida $BIG" "$run" "${pin[@]}" grep -c default.ida "$BIG"
done
echo
echo "detect found (from its JSON): $(grep -o '"matched": [0-9]*' "$tmp/found.json"), codered2 lines: $(
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["families"]["codered2"]["lines"])' "$tmp/found.json" 2> /dev/null || echo '?')"
