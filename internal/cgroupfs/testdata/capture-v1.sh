#!/bin/bash
# capture-v1.sh OUTDIR — copies real cgroup v1 files with non-zero values.
#
# Run as root on a host with the v1 controllers mounted under
# /sys/fs/cgroup/{cpu,cpuacct,memory,blkio,pids}. It creates a temporary
# cgroup cgmon-parsetest-PID in each, runs a CPU-throttled busy loop, direct
# IO to two loop devices, a shmem file and one allocation that the memcg
# OOM-kills, copies the files into OUTDIR/v1/, and removes everything again
# (also on failure).
#
# blkio.throttle.* counts bios only on queues where some cgroup has a
# throttle rule, so the script sets a generous (1 GiB/s) rule on each loop
# device it uses; the loop devices are detached again afterwards.
set -u
out=${1:?usage: capture-v1.sh OUTDIR}
name=cgmon-parsetest-$$
root=/sys/fs/cgroup
ctrls="cpu cpuacct memory blkio pids"
scratch=$(mktemp -d /tmp/$name.XXXX)
shm=/dev/shm/$name
worker=
loops=

cleanup() {
	[ -n "$worker" ] && kill "$worker" 2>/dev/null && wait "$worker" 2>/dev/null
	for c in $ctrls; do
		d=$root/$c/$name
		[ -d "$d" ] || continue
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	sleep 0.2
	rm -f "$shm"
	for l in $loops; do losetup -d "$l"; done
	rm -rf "$scratch"
	for c in $ctrls; do [ -d "$root/$c/$name" ] && rmdir "$root/$c/$name"; done
}
trap cleanup EXIT INT TERM

for c in $ctrls; do mkdir "$root/$c/$name" || exit 1; done
echo 100000 >"$root/cpu/$name/cpu.cfs_period_us"
echo 20000 >"$root/cpu/$name/cpu.cfs_quota_us"
echo $((64 << 20)) >"$root/memory/$name/memory.limit_in_bytes"
echo 64 >"$root/pids/$name/pids.max"
for i in 1 2; do
	truncate -s 16M "$scratch/loop$i"
	l=$(losetup -f --show "$scratch/loop$i") || exit 1
	loops="$loops $l"
	mm=$(lsblk -dno MAJ:MIN "$l" | tr -d ' ')
	echo "$mm $((1 << 30))" >"$root/blkio/$name/blkio.throttle.read_bps_device"
	echo "$mm $((1 << 30))" >"$root/blkio/$name/blkio.throttle.write_bps_device"
done
set -- $loops

join() { for c in $ctrls; do echo "$1" >"$root/$c/$name/cgroup.procs"; done; }

(
	join "$BASHPID"
	cat /proc/self/cgroup >"$scratch/proc-cgroup"
	dd if=/dev/zero of="$shm" bs=1M count=16 status=none
	dd if=/dev/zero of="$1" bs=1M count=8 oflag=direct status=none
	dd if="$1" of=/dev/null bs=64k count=32 iflag=direct status=none
	dd if=/dev/zero of="$2" bs=4k count=100 oflag=direct,dsync status=none
	dd if=/dev/zero of=/dev/null bs=100M count=1 status=none # OOM-killed
	end=$((SECONDS + 2))
	while [ $SECONDS -lt $end ]; do :; done
	sleep 60
) &
worker=$!
sleep 3.5

mkdir -p "$out/v1/cpu" "$out/v1/cpuacct" "$out/v1/memory" "$out/v1/blkio" "$out/v1/pids" "$out/v1/proc"
for c in $ctrls; do
	for f in "$root/$c/$name"/*; do
		case $f in */cgroup.event_control|*/memory.force_empty|*/blkio.reset_stats|*/memory.kmem.slabinfo) continue ;; esac
		[ -r "$f" ] && cat "$f" >"$out/v1/$c/$(basename "$f")" 2>/dev/null
	done
done
cp "$scratch/proc-cgroup" "$out/v1/proc/cgroup"
cat /proc/$worker/mountinfo >"$out/v1/proc/mountinfo"
