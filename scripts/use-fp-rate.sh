#!/bin/sh
# use-fp-rate.sh — measure how often cgmon's anomaly flags fire on a steady
# host: build cgmon, start a steady load (one niced CPU busy loop), run
# `cgmon use --interval 1s --format json` for MINUTES and count the checks
# that carried an anomaly flag. Needs jq.
#
#   scripts/use-fp-rate.sh [MINUTES] [ANOMALY_WINDOW] [OUTDIR]
#
# Defaults: 30 minutes, the default 1h window, a temporary directory. The
# baselines judge nothing before 20 slots are kept (window/240 each: 5 min
# for 1h), so the first minutes are warm-up and counted apart. The JSON
# lines stay in OUTDIR/use.jsonl for a closer look.
set -eu
minutes=${1:-30}
window=${2:-1h}
out=${3:-$(mktemp -d /tmp/cgmon-fp.XXXXXX)}
mkdir -p "$out"
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "use-fp-rate.sh: needs jq" >&2; exit 2; }

go build -o "$out/cgmon" ./cmd/cgmon
nice -n 19 sh -c 'while :; do :; done' &
load=$!
trap 'kill $load 2>/dev/null || true' EXIT INT TERM

"$out/cgmon" use --interval 1s -n $((minutes * 60)) --anomaly-window "$window" --format json >"$out/use.jsonl"
kill $load 2>/dev/null || true

# Per report: checks judged, checks flagged; and the flags in words.
jq -r '[.timestamp, (.host.checks | length), ([.host.checks[] | select(.anomaly)] | length)] | @tsv' "$out/use.jsonl" >"$out/counts.tsv"
jq -r '.timestamp as $t | .host.checks[] | select(.anomaly) | "\($t) \(.name): \(.anomaly)"' "$out/use.jsonl" >"$out/flags.txt"
reports=$(wc -l <"$out/counts.tsv")
checks=$(awk '{s += $2} END {print s + 0}' "$out/counts.tsv")
flags=$(awk '{s += $3} END {print s + 0}' "$out/counts.tsv")
reports_flagged=$(awk '$3 > 0 {n++} END {print n + 0}' "$out/counts.tsv")
echo "reports: $reports (1 s apart, window $window)"
echo "checks judged: $checks"
echo "anomaly flags: $flags in $reports_flagged reports"
awk -v c="$checks" -v f="$flags" -v r="$reports" 'BEGIN {
	if (c > 0) printf "false-positive rate: %.5f %% of checks, %.1f flags per hour\n", 100 * f / c, f * 3600 / r }'
echo "flags by figure:"
sed 's/^[^ ]* \([^:]*\):.*/\1/' "$out/flags.txt" | sort | uniq -c | sort -rn | head -20
echo "details: $out/flags.txt"
