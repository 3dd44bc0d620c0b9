#!/bin/bash
# Capture testdata/roots/hybrid from THIS machine's cgroup v1 hybrid layout
# (v1 controllers under /sys/fs/cgroup/<ctrl>, name=systemd, cgroup2 at
# /sys/fs/cgroup/unified), then derive testdata/roots/v1 and
# testdata/roots/v1-comounted from it (rearrangements of the captured files).
#
# It creates, in every cgroup hierarchy, a set of cgroups with real processes
# (PIDs written to cgroup.procs of every hierarchy), lets them run ~2 s, copies
# the trees with cp -r, then kills its processes and removes its cgroups
# (leaves first, also on failure or ^C).
#
# Usage: sudo scripts/capture-hybrid-fixture.sh [--derive-only]
#   --derive-only  only re-derive v1 and v1-comounted from testdata/roots/hybrid
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOTS=$REPO/testdata/roots
CGROOT=/sys/fs/cgroup

# ---- derived fixtures --------------------------------------------------------
derive() {
	local H=$ROOTS/hybrid V1=$ROOTS/v1 CO=$ROOTS/v1-comounted
	[ -f "$H/proc/self/mountinfo" ] || { echo "no $H" >&2; exit 1; }
	# v1: hybrid without the cgroup2 mount
	rm -rf "$V1"; cp -a "$H" "$V1"
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break; if ($(i+1) != "cgroup2") print }' \
		"$H/proc/self/mountinfo" > "$V1/proc/self/mountinfo"
	rm -rf "$V1/sys/fs/cgroup/unified"
	# v1-comounted: v1 with cpu and cpuacct co-mounted at /sys/fs/cgroup/cpu,cpuacct
	rm -rf "$CO"; cp -a "$V1" "$CO"
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break }
		$5 == "/sys/fs/cgroup/cpuacct" && $(i+1) == "cgroup" { next }
		$5 == "/sys/fs/cgroup/cpu" && $(i+1) == "cgroup" { $5 = "/sys/fs/cgroup/cpu,cpuacct"; $(i+3) = "rw,cpu,cpuacct" }
		{ print }' "$V1/proc/self/mountinfo" > "$CO/proc/self/mountinfo"
	local C=$CO/sys/fs/cgroup
	mv "$C/cpu" "$C/cpu,cpuacct"
	(cd "$C/cpuacct" && find . -type d) | while read -r d; do mkdir -p "$C/cpu,cpuacct/$d"; done
	(cd "$C/cpuacct" && find . -type f -name 'cpuacct.*') | while read -r f; do cp -a "$C/cpuacct/$f" "$C/cpu,cpuacct/$f"; done
	rm -rf "$C/cpuacct"
	ln -s cpu,cpuacct "$C/cpu"
	ln -s cpu,cpuacct "$C/cpuacct"
	echo "capture-hybrid: derived $V1 and $CO" >&2
}
if [ "${1:-}" = --derive-only ]; then derive; exit 0; fi
[ $# -eq 0 ] || { sed -n '12,13p' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "capture-hybrid: must run as root" >&2; exit 1; }

# ---- hierarchies (mount points of cgroup/cgroup2 below /sys/fs/cgroup) -----
mapfile -t HIER < <(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break }
	($(i+1) == "cgroup" || $(i+1) == "cgroup2") && $5 ~ "^/sys/fs/cgroup/" { print $5 }' /proc/self/mountinfo)
[ ${#HIER[@]} -gt 1 ] || { echo "capture-hybrid: no cgroup v1 hierarchies under $CGROOT" >&2; exit 1; }
hier() { local h; for h in "${HIER[@]}"; do [ "${h##*/}" = "$1" ] && { echo "$h"; return 0; }; done; return 1; }

# ---- names (stable across captures unless they already exist here) ---------
TAG=cgmon
hex() { echo "$1" | sha256sum | cut -c1-64; }
names() {
	POD=$(hex "$TAG-libpod") DOCKER=$(hex "$TAG-docker") CTR=$(hex "$TAG-kube-ctr")
	local u; u=$(hex "$TAG-kube-pod")
	PODUID=${u:0:8}-${u:8:4}-${u:12:4}-${u:16:4}-${u:20:12}   # kubelet cgroupfs driver keeps the dashes
	SFX=${SFX:-}
	DEMO=system.slice/demo$SFX.service SSHD=system.slice/sshd$SFX.service
	LIBPOD=machine.slice/libpod-$POD.scope CONMON=machine.slice/libpod-conmon-$POD.scope
	LXCP=lxc.payload.web1$SFX LXCM=lxc.monitor.web1$SFX DOCK=docker/$DOCKER
	SESS=user.slice/user-1000.slice/session-1$SFX.scope KUBE=kubepods/burstable/pod$PODUID/$CTR
	LEAVES=("$DEMO" "$SSHD" "$LIBPOD" "$CONMON" "$LXCP" "$LXCM" "$DOCK" "$SESS" "$KUBE")
}
names
for h in "${HIER[@]}"; do for l in "${LEAVES[@]}"; do
	if [ -e "$h/$l" ]; then TAG=cgmon-$$; SFX=-$$; fi
done; done
names
TOPS=(system.slice machine.slice user.slice docker kubepods "$LXCP" "$LXCM")   # what gets copied

# ---- cleanup: kill our processes, rmdir what we created (leaves first) -----
CREATED=()
WORK=$(mktemp -d /var/tmp/cgmon-capture.XXXXXX)   # on the root disk: direct I/O target
SHM=/dev/shm/cgmon-capture-$$                     # tmpfs file (64 MiB shmem)
cleanup() {
	set +e
	local h l i pids
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pids=
		for h in "${HIER[@]}"; do for l in "${LEAVES[@]}"; do
			[ -f "$h/$l/cgroup.procs" ] && pids+=" $(cat "$h/$l/cgroup.procs" 2>/dev/null)"
		done; done
		pids=$(echo $pids)
		[ -z "$pids" ] && break
		kill -9 $pids 2>/dev/null
		sleep 0.2
	done
	for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
		rmdir "${CREATED[i]}" 2>/dev/null || { sleep 0.3; rmdir "${CREATED[i]}" || echo "capture-hybrid: could not remove ${CREATED[i]}" >&2; }
	done
	rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkcg() {   # mkcg PATH: create PATH (and parents) in every hierarchy, like systemd/runc do
	local h p d=
	for h in "${HIER[@]}"; do
		d=
		for p in ${1//\// }; do
			d=${d:+$d/}$p
			if [ ! -d "$h/$d" ]; then
				mkdir "$h/$d"
				CREATED+=("$h/$d")
				if [ -f "$h/$d/cpuset.cpus" ]; then   # v1 cpuset: empty cpus/mems refuse tasks
					cat "$(dirname "$h/$d")/cpuset.cpus" > "$h/$d/cpuset.cpus"
					cat "$(dirname "$h/$d")/cpuset.mems" > "$h/$d/cpuset.mems"
				fi
			fi
		done
	done
}
runin() {  # runin CGROUP CMD...: start CMD in the background, in CGROUP of every hierarchy
	local cg=$1 h files=(); shift
	for h in "${HIER[@]}"; do files+=("$h/$cg/cgroup.procs"); done
	sh -c 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 1; shift; n=$((n-1)); done; exec "$@"' \
		sh ${#files[@]} "${files[@]}" "$@" &
	disown $!   # no "Killed" job reports at cleanup; cleanup() finds the processes via cgroup.procs
}

for l in "${LEAVES[@]}"; do mkcg "$l"; done

CPU=$(hier cpu) MEM=$(hier memory) PIDS=$(hier pids) BLKIO=$(hier blkio)
echo 100000 > "$CPU/$DEMO/cpu.cfs_period_us"
echo 50000 > "$CPU/$DEMO/cpu.cfs_quota_us"                  # 0.5 CPU -> nr_throttled
echo 256M > "$MEM/$LIBPOD/memory.limit_in_bytes"
echo 128M > "$MEM/$LXCP/memory.limit_in_bytes"
echo 100 > "$PIDS/$LIBPOD/pids.max"

# v1 blkio.throttle.* counters stay 0 until throttling is switched on for the device
# once: set a huge limit (1 TiB/s), do the I/O, then remove the limit ("MAJ:MIN 0").
DEV=$(awk '$5 == "/" { print $3; exit }' /proc/self/mountinfo)
[ "$(stat -c %d "$WORK")" = "$(stat -c %d /)" ] || { echo "capture-hybrid: $WORK is not on the root fs" >&2; exit 1; }
if [ -f "/sys/dev/block/$DEV/partition" ]; then DEV=$(cat "/sys/dev/block/$DEV/../dev"); fi
for f in write_bps_device read_bps_device; do echo "$DEV 1099511627776" > "$BLKIO/$LIBPOD/blkio.throttle.$f"; done

runin "$DEMO" sh -c 'while :; do :; done'
for l in "$SSHD" "$CONMON" "$LXCP" "$LXCM" "$DOCK" "$SESS" "$KUBE"; do runin "$l" sleep 100000; done
runin "$LIBPOD" sh -c '
	dd if=/dev/zero of="$0/dio" bs=1M count=16 oflag=direct 2>/dev/null
	dd if="$0/dio" of=/dev/null bs=1M count=16 iflag=direct 2>/dev/null
	dd if=/dev/zero of="$1" bs=1M count=64 2>/dev/null
	dd if=/dev/zero bs=32M count=1 2>/dev/null | { head -c1 >/dev/null; touch "$0/ready"; exec sleep 100000; }
	' "$WORK" "$SHM"
i=0; while [ ! -e "$WORK/ready" ]; do
	sleep 0.1; i=$((i+1)); [ $i -lt 600 ] || { echo "capture-hybrid: workload not ready" >&2; exit 1; }
done
for f in write_bps_device read_bps_device; do echo "$DEV 0" > "$BLKIO/$LIBPOD/blkio.throttle.$f"; done
sleep 2

# ---- copy (tar cannot read cgroupfs: st_size is 0; cp -r reads to EOF) ----
OUT=$WORK/root
mkdir -p "$OUT/proc/self" "$OUT/proc/sys/kernel" "$OUT/sys/dev/block" "$OUT$CGROOT"
for h in "${HIER[@]}"; do
	mkdir -p "$OUT$h"
	for e in "$h"/*; do   # root files + our trees; other cgroups on this host are not ours
		if [ -f "$e" ]; then cp "$e" "$OUT$h/" 2>/dev/null || true; fi
	done
	for t in "${TOPS[@]}"; do
		if [ -d "$h/$t" ]; then cp -r "$h/$t" "$OUT$h/" 2>/dev/null || true; fi
	done
done
# mountinfo: /, the API filesystems and the cgroup mounts (other mounts are this sandbox's business)
awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break }
	$5 == "/" || $5 == "/proc" || $5 == "/sys" || $5 == "/dev" || $5 == "/sys/fs/cgroup" ||
	$(i+1) == "cgroup" || $(i+1) == "cgroup2"' /proc/self/mountinfo > "$OUT/proc/self/mountinfo"
cat /proc/sys/kernel/hostname > "$OUT/proc/sys/kernel/hostname"
for d in /sys/dev/block/*; do mkdir -p "$OUT$d"; cat "$d/uevent" > "$OUT$d/uevent"; done

# sanity
B=$OUT$CGROOT
grep -q '^nr_throttled [1-9]' "$B/cpu/$DEMO/cpu.stat" || { echo "capture-hybrid: demo not throttled" >&2; exit 1; }
grep -q "^$DEV Write [1-9]" "$B/blkio/$LIBPOD/blkio.throttle.io_service_bytes" || { echo "capture-hybrid: no blkio.throttle counters" >&2; exit 1; }
grep -q '^shmem [1-9]' "$B/memory/$LIBPOD/memory.stat" || { echo "capture-hybrid: no shmem" >&2; exit 1; }
chmod -R u+rwX,go+rX "$OUT"

rm -rf "$ROOTS/hybrid"; mkdir -p "$ROOTS/hybrid"
cp -a "$OUT/." "$ROOTS/hybrid/"
{
	echo "tree: hybrid (v1, v1-comounted derived from it)"
	echo "kernel: $(uname -r) $(uname -v)"
	echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(. /etc/os-release && echo "$PRETTY_NAME"), $(nproc) CPUs, root disk $DEV"
	echo "command: scripts/capture-hybrid-fixture.sh"
} > "$ROOTS/hybrid.capture"
echo "capture-hybrid: $(find "$ROOTS/hybrid" -type f | wc -l) files, $(find "$ROOTS/hybrid" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}") bytes" >&2
derive
