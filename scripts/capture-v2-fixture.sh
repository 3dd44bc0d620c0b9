#!/bin/bash
# Capture testdata/roots/v2 from a real cgroup v2 kernel: boots the test VM
# (test/v2vm, Debian's stock kernel under qemu) with its demo workload running,
# receives the guest's root tree (proc/self/mountinfo, proc/sys/kernel/hostname,
# sys/fs/cgroup/..., sys/dev/block/*/uevent) and replaces testdata/roots/v2.
# Usage: scripts/capture-v2-fixture.sh      (needs test/v2vm/build.sh --install-deps once)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DEST=$REPO/testdata/roots/v2
DIR=${CGMON_V2VM_DIR:-/var/cache/cgmon/v2vm}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$REPO/test/v2vm/build.sh"
"$REPO/test/v2vm/run.sh" -f "$T/fx.tgz" -l "$T/console.log" >/dev/null ||
	{ tail -30 "$T/console.log" >&2; echo "capture-v2: VM run failed" >&2; exit 1; }
mkdir "$T/root"
tar -xzf "$T/fx.tgz" -C "$T/root"

# sanity: what the tests rely on must be there
R=$T/root/sys/fs/cgroup
check() { if ! eval "$1"; then echo "capture-v2: check failed: $1" >&2; exit 1; fi; }
check 'grep -q " /sys/fs/cgroup .* - cgroup2 " "$T/root/proc/self/mountinfo"'
check 'grep -qw io "$R/cgroup.subtree_control" && grep -qw pids "$R/cgroup.subtree_control"'
check '[ "$(awk "/^nr_throttled/{print \$2}" "$R/system.slice/demo.service/cpu.stat")" -gt 0 ]'
POD=$(ls -d "$R"/machine.slice/libpod-*.scope | grep -v conmon)
check 'grep -q "wbytes=16777216" "$POD/io.stat"'
check '[ "$(awk "/^shmem /{print \$2}" "$POD/memory.stat")" -ge 67108864 ]'
check '[ -s "$T/root/sys/dev/block/254:0/uevent" ]'
chmod -R u+rwX,go+rX "$T/root"

rm -rf "$DEST"
mkdir -p "$DEST"
cp -a "$T/root/." "$DEST/"
{
	echo "tree: v2"
	echo "kernel: $(grep -ao "kernel=[^ ]*" "$T/console.log" | head -1 | cut -d= -f2) $(grep -ao "version=.*" "$T/console.log" | head -1 | cut -d= -f2- | tr -d "\r") ($(cat "$DIR/kernel-package"))"
	echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') -M pc TCG, 2 vCPUs, 512 MiB"
	echo "command: scripts/capture-v2-fixture.sh"
} > "$REPO/testdata/roots/v2.capture"
echo "capture-v2: $(find "$DEST" -type f | wc -l) files, $(find "$DEST" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}") bytes in $DEST" >&2
cat "$REPO/testdata/roots/v2.capture" >&2
