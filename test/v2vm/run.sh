#!/bin/bash
# Boot the cgroup-v2 test VM once (qemu -M pc, TCG). Usage:
#   test/v2vm/run.sh [-t pkg.test ...] [-a ARG ...] [-n] [-f fixture.tgz] [-l console.log] [-- extra qemu args]
#   -t BIN  Go test binary (CGO_ENABLED=0 go test -c) to run inside; repeatable
#   -a ARG  extra argument for every test binary (e.g. -a -test.run=TestX); repeatable
#   -n      no demo workload (v2vm.workload=0): tests start from a clean tree
#   -f TGZ  export the root fixture tree (tar.gz) with the workload running, via ttyS1
#   -l LOG  console log (default: a temp file, removed)
# The current ./init is always shipped in the appended cpio, so editing it needs no rebuild.
# Exit 0 only if the VM finished and every Go test had rc=0.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${CGMON_V2VM_DIR:-/var/cache/cgmon/v2vm}
TESTS=(); ARGS=(); FIXTURE=; LOG=; APPEND="console=ttyS0 quiet panic=-1"
while [ $# -gt 0 ]; do case $1 in
	-t) TESTS+=("$2"); shift 2;;
	-a) ARGS+=("$2"); shift 2;;
	-n) APPEND+=" v2vm.workload=0"; shift;;
	-f) FIXTURE=$2; APPEND+=" v2vm.export=1"; shift 2;;
	-l) LOG=$2; shift 2;;
	--) shift; break;;
	*) sed -n '2,10p' "$0" >&2; exit 2;;
esac; done

command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 missing: $HERE/build.sh --install-deps" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# build.sh builds only what is missing or stale (an older image version, other
# inputs such as a new systemd-cgtop); otherwise it takes ~0.2 s
if ! "$HERE/build.sh" 2>"$T/build.log"; then cat "$T/build.log" >&2; exit 1; fi
KERNEL=$DIR/vmlinux; [ -f "$KERNEL" ] || KERNEL=$DIR/vmlinuz
[ -n "$LOG" ] || LOG=$T/console.log

# overlay cpio (the kernel unpacks concatenated archives in order; later files win)
mkdir -p "$T/ov/tests"
install -m 0755 "$HERE/init" "$T/ov/init"
for b in "${TESTS[@]}"; do
	n=$(basename "$b" .test); mkdir -p "$T/ov/tests/$n"
	cp "$b" "$T/ov/tests/$n/$n.test"; chmod 0755 "$T/ov/tests/$n/$n.test"
	if [ ${#ARGS[@]} -gt 0 ]; then printf '%s\n' "${ARGS[@]}" > "$T/ov/tests/$n/args"; fi
done
(cd "$T/ov" && find . | cpio -o -H newc --owner=0:0 --quiet) | gzip -1 > "$T/ov.cpio.gz"
cat "$DIR/base.cpio.gz" "$T/ov.cpio.gz" > "$T/initrd.img"

truncate -s 64M "$T/scratch.img"             # virtio disk -> io.stat has entries
SER2=(); if [ -n "$FIXTURE" ]; then rm -f "$FIXTURE"; SER2=(-serial "file:$FIXTURE"); fi

start=$(date +%s.%N)
timeout 600 qemu-system-x86_64 -M pc -accel tcg,thread=multi -cpu max -smp 2 -m 512 \
	-nographic -no-reboot -nodefaults -serial stdio "${SER2[@]}" \
	-kernel "$KERNEL" -initrd "$T/initrd.img" \
	-drive file="$T/scratch.img",if=virtio,format=raw \
	-append "$APPEND" "$@" </dev/null | tee "$LOG"
echo "V2VM-HOST wall=$(echo "$(date +%s.%N) - $start" | bc) s kernel=$(cat "$DIR/kernel-release" 2>/dev/null)"

fail=0
grep -q V2VM-DONE "$LOG" || { echo "VM did not finish" >&2; fail=1; }
if grep -a 'V2VM-GOTEST-END' "$LOG" | tr -d '\r' | grep -qv 'rc=0$'; then fail=1; fi
if [ -n "$FIXTURE" ] && ! gzip -t "$FIXTURE" 2>/dev/null; then echo "fixture $FIXTURE is not a valid tar.gz" >&2; fail=1; fi
exit $fail
