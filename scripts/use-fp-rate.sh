#!/bin/sh
# use-fp-rate.sh — measure how often cgmon's anomaly flags fire on a steady
# host: build cgmon, start a steady load (one niced CPU busy loop), run
# `cgmon use --interval 1s --format json` for MINUTES and count the checks
# that carried an anomaly flag. Needs jq.
#
#   scripts/use-fp-rate.sh [MINUTES] [ANOMALY_WINDOW] [OUTDIR]
#
# Defaults: 30 minutes, the default 1h window, a temporary directory. A
# baseline judges nothing before it keeps 20 values (one per window/240:
# 5 min for 1h), so only the reports after that warm-up are counted, and
# only the figures that have baselines (not per-CPU, error or cgroup
# checks). Every flag on a steady host is counted as a false positive,
# though on a shared machine some are real changes: read OUTDIR/flags.txt.
set -eu
minutes=${1:-30}
window=${2:-1h}
out=${3:-$(mktemp -d /tmp/cgmon-fp.XXXXXX)}
mkdir -p "$out"
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "use-fp-rate.sh: needs jq" >&2; exit 2; }
case $window in
*h) wsec=$((${window%h} * 3600)) ;;
*m) wsec=$((${window%m} * 60)) ;;
*s) wsec=${window%s} ;;
*) echo "use-fp-rate.sh: window $window: want Nh, Nm or Ns" >&2; exit 2 ;;
esac
warmup=$((wsec * 20 / 240))

# FP_ANALYZE_ONLY=1 counts again the flags of an earlier run in OUTDIR.
if [ "${FP_ANALYZE_ONLY:-}" != 1 ]; then
	go build -o "$out/cgmon" ./cmd/cgmon
	nice -n 19 sh -c 'while :; do :; done' &
	load=$!
	trap 'kill $load 2>/dev/null || true' EXIT INT TERM
	"$out/cgmon" use --interval 1s -n $((minutes * 60)) --anomaly-window "$window" --format json >"$out/use.jsonl"
	kill $load 2>/dev/null || true
fi

# Per report after the warm-up: figures with a baseline, and those flagged.
judged='.host.checks[] | select(.resource != "cgroup" and .kind != "errors" and (.name | test("^resources[.]cpu[.]cpu[0-9]") | not))'
tail -n +$((warmup + 1)) "$out/use.jsonl" |
	jq -r "[.timestamp, ([$judged] | length), ([$judged | select(.anomaly)] | length)] | @tsv" >"$out/counts.tsv"
tail -n +$((warmup + 1)) "$out/use.jsonl" |
	jq -rn 'foreach inputs as $r (0; . + 1; . as $i | $r.host.checks[] | select(.anomaly) | "\($i) \($r.timestamp) \(.name): \(.anomaly)")' >"$out/flags.txt"
reports=$(wc -l <"$out/counts.tsv")
checks=$(awk '{s += $2} END {print s + 0}' "$out/counts.tsv")
flags=$(awk '{s += $3} END {print s + 0}' "$out/counts.tsv")
reports_flagged=$(awk '$3 > 0 {n++} END {print n + 0}' "$out/counts.tsv")
echo "reports judged: $reports (1 s apart, after a ${warmup}s warm-up; window $window)"
echo "figure-samples judged: $checks"
# An episode is a run of consecutive reports in which one figure is flagged.
episodes=$(awk '{ key = $3; if (last[key] != $1 - 1) n++; last[key] = $1 } END { print n + 0 }' "$out/flags.txt")
echo "anomaly flags: $flags in $reports_flagged reports; $episodes episodes (runs of consecutive flags of one figure)"
awk -v c="$checks" -v f="$flags" -v r="$reports" 'BEGIN {
	if (c > 0 && r > 0) printf "false-positive rate: %.4f %% of figure-samples, %.1f flags per hour\n", 100 * f / c, f * 3600 / r }'
awk -v e="$episodes" -v r="$reports" 'BEGIN { if (r > 0) printf "episodes per hour: %.1f\n", e * 3600 / r }'
awk -v r="$reports" -v n="$reports_flagged" 'BEGIN { if (r > 0) printf "reports with a flag: %.2f %%\n", 100 * n / r }'
echo "flags by figure:"
sed 's/^[^ ]* [^ ]* \([^:]*\):.*/\1/' "$out/flags.txt" | sort | uniq -c | sort -rn | head -20
echo "details: $out/flags.txt"
