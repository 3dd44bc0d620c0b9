#!/usr/bin/env bash
# Measures what the real cgmon binary costs on this host beside a floor: a
# bare reader of the same files through kept-open handles, with no parsing
# and no model (bench/floor). Creates N cgroups /cgmon-bench-PID/g<i> in
# every cgroup hierarchy, as systemd does, each with one sleeping process,
# then runs `cgmon snapshot --interval 1s --iterations D --format json` and
# then the floor for the same D seconds, one after the other, and prints CPU
# % of one core, peak RSS and files open for each, with the issue's targets.
# Every process and cgroup it creates is removed on exit, Ctrl-C included.
#
# Usage: scripts/bench.sh [-n N] [-d SECONDS] [-r RUNS] [-p DIR]   (as root)
#   -n  cgroups to create (default 1000)
#   -d  seconds each tool runs (default 60)
#   -r  runs of each tool, alternating (default 1)
#   -p  also run bench/profile (the engine under runtime/pprof, same
#       duration) and leave cpu.pprof, mem.pprof and their `go tool pprof
#       -top` in DIR
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

N=1000
D=60
R=1
PROFILE_DIR=
usage() { echo "usage: $0 [-n N] [-d SECONDS] [-r RUNS] [-p DIR]" >&2; exit 2; }
while getopts n:d:r:p:h opt; do
	case $opt in
	n) N=$OPTARG ;;
	d) D=$OPTARG ;;
	r) R=$OPTARG ;;
	p) PROFILE_DIR=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[[ $N =~ ^[0-9]+$ && $N -ge 1 ]] || usage
[[ $D =~ ^[0-9]+$ && $D -ge 1 ]] || usage
[[ $R =~ ^[0-9]+$ && $R -ge 1 ]] || usage
[ -z "$PROFILE_DIR" ] || [[ $PROFILE_DIR == /* ]] || PROFILE_DIR=$CALLER_DIR/$PROFILE_DIR
[ "$(id -u)" = 0 ] || { echo "bench.sh: must run as root (it creates cgroups)" >&2; exit 1; }

die() { echo "bench.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }

TMP=$(mktemp -d /tmp/cgmon-bench.XXXXXX)
PARENT=cgmon-bench-$$
MOUNTS=()       # every cgroup hierarchy's mount point
CREATED=()      # mount points where $PARENT was created
SLEEPERS=()     # one pid per group
MEASURE_PID=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [ -n "$MEASURE_PID" ]; then
		kill -TERM "$MEASURE_PID" 2>/dev/null
		wait "$MEASURE_PID" 2>/dev/null
	fi
	if [ ${#SLEEPERS[@]} -gt 0 ]; then
		kill -KILL "${SLEEPERS[@]}" 2>/dev/null
		wait "${SLEEPERS[@]}" 2>/dev/null
	fi
	local mp try left=0
	for mp in "${CREATED[@]}"; do
		for try in 1 2 3 4 5; do
			# Children first; a cgroup directory holds no other directories.
			find "$mp/$PARENT" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			rmdir "$mp/$PARENT" 2>/dev/null && break
			sleep 0.2
		done
		[ -d "$mp/$PARENT" ] && { echo "bench.sh: could not remove $mp/$PARENT" >&2; left=1; }
	done
	rm -rf "$TMP"
	[ $left = 0 ] || rc=1
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build (not measured) ---------------------------------------------------
echo "building cgmon, the floor and the measuring wrapper into $TMP"
go build -o "$TMP/cgmon" ./cmd/cgmon
go build -o "$TMP/floor" ./bench/floor
go build -o "$TMP/measure" ./bench/measure
[ -z "$PROFILE_DIR" ] || go build -o "$TMP/profile" ./bench/profile

# --- cgroups ----------------------------------------------------------------
# Every cgroup and cgroup2 mount, once per hierarchy (field 3 is the
# device: a hierarchy mounted twice shows the same one).
v1=0
v2mount=
declare -A seen=()
while read -r -a f; do
	i=6
	while [ "${f[i]}" != - ]; do i=$((i + 1)); done
	fstype=${f[i + 1]}
	[ "$fstype" = cgroup ] || [ "$fstype" = cgroup2 ] || continue
	[ -z "${seen[${f[2]}]:-}" ] || continue
	seen[${f[2]}]=1
	mp=$(printf '%b' "${f[4]//\\/\\0}") # mountinfo escapes spaces as \040
	MOUNTS+=("$mp")
	if [ "$fstype" = cgroup ]; then v1=1; else v2mount=$mp; fi
done </proc/self/mountinfo
[ ${#MOUNTS[@]} -gt 0 ] || die "no cgroup mounts in /proc/self/mountinfo"
if [ $v1 = 1 ]; then mode=$([ -n "$v2mount" ] && echo hybrid || echo v1); else mode=v2; fi
echo "cgroup $mode: ${MOUNTS[*]}"

names=()
for ((i = 1; i <= N; i++)); do names+=("g$i"); done
t0=$(now)
for mp in "${MOUNTS[@]}"; do
	mkdir "$mp/$PARENT"
	CREATED+=("$mp")
	if [ -f "$mp/cpuset.cpus" ] && [ "$mp" != "$v2mount" ]; then
		# v1 cpuset: a group takes no task until it has CPUs and memory
		# nodes; clone_children hands the parent's to every new child.
		cat "$mp/cpuset.cpus" >"$mp/$PARENT/cpuset.cpus"
		cat "$mp/cpuset.mems" >"$mp/$PARENT/cpuset.mems"
		echo 1 >"$mp/$PARENT/cgroup.clone_children"
	fi
	if [ $mode = v2 ]; then
		for c in cpu memory io pids; do
			grep -qw "$c" "$mp/cgroup.controllers" || continue
			grep -qw "$c" "$mp/cgroup.subtree_control" || echo "+$c" >"$mp/cgroup.subtree_control"
			echo "+$c" >"$mp/$PARENT/cgroup.subtree_control"
		done
	fi
	(cd "$mp/$PARENT" && mkdir "${names[@]}")
done
t1=$(now)

# One helper per group, in the background: it moves itself into g<i> of
# every hierarchy, then becomes the sleeper.
for ((i = 1; i <= N; i++)); do
	(
		for mp in "${MOUNTS[@]}"; do
			echo "$BASHPID" >"$mp/$PARENT/g$i/cgroup.procs" || exit 1
		done
		exec sleep infinity
	) &
	SLEEPERS+=($!)
done
# The last hierarchy is written last: a process there is in every one.
last=${MOUNTS[${#MOUNTS[@]} - 1]}/$PARENT
deadline=$((SECONDS + 600))
from=1
while :; do
	for ((; from <= N; from++)); do
		pid=
		read -r pid <"$last/g$from/cgroup.procs" || true
		[ -n "$pid" ] || break
	done
	[ $from -gt $N ] && break
	kill -0 "${SLEEPERS[from - 1]}" 2>/dev/null || die "the helper of g$from failed to join its cgroups"
	[ $SECONDS -lt $deadline ] || die "groups still empty after 600 s (from g$from)"
	sleep 0.1
done
t2=$(now)
printf 'created %d cgroups x %d hierarchies in %.1f s; %d sleepers placed in %.1f s\n' \
	"$N" "${#MOUNTS[@]}" "$(echo "$t1 - $t0" | bc)" "$N" "$(echo "$t2 - $t1" | bc)"

# --- runs -------------------------------------------------------------------
# busy: CPU seconds the whole machine has spent busy since boot (/proc/stat,
# in USER_HZ = 1/100 s; idle and iowait are not busy).
busy() { awk '$1 == "cpu" { print ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat; }

# measure NAME COMMAND...: runs a command under bench/measure, stdout to
# NAME.out, stderr to NAME.err, the report to NAME.m, with what the rest of
# the machine used meanwhile (others_cores: CPU busy less the command's own,
# over the wall time, in cores).
measure() {
	local name=$1 rc=0 b0 b1
	shift
	echo "running $name for $D s"
	b0=$(busy)
	"$TMP/measure" -o "$TMP/$name.m" -- "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	MEASURE_PID=$!
	wait "$MEASURE_PID" || rc=$?
	MEASURE_PID=
	b1=$(busy)
	if [ -s "$TMP/$name.err" ]; then
		echo "--- $name stderr:"
		head -20 "$TMP/$name.err"
	fi
	[ $rc = 0 ] || die "$name exited with status $rc"
	awk -v b0="$b0" -v b1="$b1" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		o = (b1 - b0 - v["cpu_s"]) / v["wall_s"]
		printf "%s others_cores=%.2f\n", $0, (o < 0 ? 0 : o)
	}' "$TMP/$name.m" >"$TMP/$name.m2" && mv "$TMP/$name.m2" "$TMP/$name.m"
}

for ((r = 1; r <= R; r++)); do
	measure "cgmon.$r" "$TMP/cgmon" snapshot --interval 1s --iterations "$D" --format json
	sleep 2
	measure "floor.$r" "$TMP/floor" --interval 1s --duration "${D}s"
	cat "$TMP/floor.$r.out"
	[ $r = "$R" ] || sleep 2
done

# --- report -----------------------------------------------------------------
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
echo
echo "== N=$N, $D s each, $R run(s) of each, $(nproc) CPUs, kernel $(uname -r), cgroup $mode, cgmon $rev"
for ((r = 1; r <= R; r++)); do
	echo "$r cgmon $(cat "$TMP/cgmon.$r.m")"
	echo "$r floor $(cat "$TMP/floor.$r.m")"
done | awk -v n="$N" -v d="$D" '
{
	delete v
	for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	t = $2
	cpu[t] += v["cpu_s"]; wall[t] += v["wall_s"]; mark = v["mark_s"]
	if (v["mark_cpu_s"] == "na") nomark = 1
	else { scpu[t] += v["cpu_s"] - v["mark_cpu_s"]; swall[t] += v["wall_s"] - mark }
	if (v["maxrss_kb"] > rss[t]) rss[t] = v["maxrss_kb"]
	row[NR] = sprintf("%6d  %-6s %3d %8.2f %12s %9s %9.1f %9d %7.2f", n, t, $1,
		v["cpu_s"] / v["wall_s"] * 100,
		v["mark_cpu_s"] == "na" ? "-" : sprintf("%.2f", (v["cpu_s"] - v["mark_cpu_s"]) / (v["wall_s"] - mark) * 100),
		v["mark_cpu_s"] == "na" ? "-" : sprintf("%.1f", (v["cpu_s"] - v["mark_cpu_s"]) / d * 1000),
		v["maxrss_kb"] / 1024, v["fds_peak"], v["others_cores"])
}
END {
	printf "%6s  %-6s %3s %8s %12s %9s %9s %9s %7s\n", "N", "tool", "run", "cpu %", "cpu % >1st s", "ms/cycle", "RSS MB", "fds open", "others"
	for (i = 1; i <= NR; i++) print row[i]
	cp = cpu["cgmon"] / wall["cgmon"] * 100; fp = cpu["floor"] / wall["floor"] * 100
	ratio = (fp > 0) ? cp / fp : 0
	printf "cgmon/floor%s: cpu %.2fx", (NR > 2 ? " (all runs)" : ""), ratio
	if (!nomark && scpu["floor"] > 0)
		printf " (after the first %.1f s: %.2fx)", mark, (scpu["cgmon"] / swall["cgmon"]) / (scpu["floor"] / swall["floor"])
	printf ", peak RSS %.2fx\n", rss["cgmon"] / rss["floor"]
	print ""
	printf "targets (issue, at N=1000)%s:\n", (n == 1000) ? "" : " -- this run has N=" n
	printf "  cgmon cpu <= 1.0x the floor   %6.2fx    %s\n", ratio, (ratio <= 1.0) ? "ok" : "MISSED"
	printf "  cgmon cpu <= 10%% of one core  %6.2f%%    %s\n", cp, (cp <= 10) ? "ok" : "MISSED"
	printf "  cgmon RSS <= 40 MB            %6.1f MB  %s\n", rss["cgmon"] / 1024, (rss["cgmon"] / 1024 <= 40) ? "ok" : "MISSED"
}'
mark=$(sed -n 's/.* mark_s=\([^ ]*\).*/\1/p' "$TMP/cgmon.1.m")
cat <<EOF

How measured: each tool runs alone under bench/measure, which reaps it with
wait4; its rusage gives the CPU time of every thread (user+sys, which the
kernel scales to the scheduler's exact runtime, in microseconds) and the
peak RSS (ru_maxrss = VmHWM). cpu % = cpu seconds / wall seconds x 100,
100 = one core; it includes cgmon's start-up walk of every hierarchy and
its first cycle, which opens every file, and the floor's walk and opens.
"cpu % >1st s" leaves out the first $mark s (CPU at that mark from
/proc/PID/stat, 10 ms ticks); ms/cycle = CPU after the mark / $D cycles.
fds open = most descriptors held (/proc/PID/fd, sampled every 5 s), stdio
and inotify included. others = cores the rest of the machine kept busy
meanwhile (/proc/stat); more than ~0.2 makes the figures noisy.
The floor preads every plan file every cycle, limits included; cgmon reads
limits (cpu.cfs_*, memory.*limit*, pids.max) every 30-45 s, and on a host
with no swap device (/proc/swaps) reads no per-cgroup swap file (swap is 0).
Both keep at most the open-file limit less 256 handles open. Build time is
not measured.
EOF

# --- profile ----------------------------------------------------------------
if [ -n "$PROFILE_DIR" ]; then
	mkdir -p "$PROFILE_DIR"
	echo
	echo "profiling the engine into $PROFILE_DIR"
	measure profile "$TMP/profile" --interval 1s --duration "${D}s" \
		--cpuprofile "$PROFILE_DIR/cpu.pprof" --memprofile "$PROFILE_DIR/mem.pprof"
	cat "$TMP/profile.out"
	sed 's/^/  /' "$TMP/profile.m"
	cp "$TMP/profile" "$PROFILE_DIR/profile.bin"
	go tool pprof -top -cum -nodecount=25 "$PROFILE_DIR/profile.bin" "$PROFILE_DIR/cpu.pprof" >"$PROFILE_DIR/top-cum.txt" 2>&1
	go tool pprof -top -nodecount=25 "$PROFILE_DIR/profile.bin" "$PROFILE_DIR/cpu.pprof" >"$PROFILE_DIR/top-flat.txt" 2>&1
	go tool pprof -top -sample_index=inuse_space -nodecount=15 "$PROFILE_DIR/profile.bin" "$PROFILE_DIR/mem.pprof" >"$PROFILE_DIR/top-inuse.txt" 2>&1
	echo "--- by cumulative CPU"; head -22 "$PROFILE_DIR/top-cum.txt"
	echo "--- by flat CPU"; head -22 "$PROFILE_DIR/top-flat.txt"
fi
