#!/bin/bash
# Build the cgroup-v2 test VM image: Debian's stock kernel (downloaded, never
# installed) + a busybox initramfs with this directory's `init`.
#
# Usage: test/v2vm/build.sh [--install-deps] [--force]
#   --install-deps  apt-get install qemu-system-x86 busybox-static cpio
#   --force         rebuild everything (re-download the kernel package)
# Env:
#   CGMON_V2VM_DIR  output/cache dir (default /var/cache/cgmon/v2vm)
#   KERNEL_PKG      kernel package to use (default: what linux-image-amd64
#                   points at today, e.g. linux-image-6.1.0-56-amd64)
#
# Outputs in $CGMON_V2VM_DIR (only what is missing is built):
#   vmlinuz, vmlinux (uncompressed PVH ELF, boots ~5 s faster under TCG),
#   kconfig, kernel-package, kernel-release, modules/*.ko, base.cpio.gz,
#   base.manifest (a copy of the image's /etc/v2vm-image, see below)
# base.cpio.gz is rebuilt whenever init, busybox, the modules, the host's
# systemd-cgtop or its libraries change, or IMAGE_VERSION does.
#
# The image carries the host's systemd-cgtop (tests compare with it) and the
# shared libraries ldd lists for it, at the same paths. /etc/v2vm-image says
# what the image holds, one key=value a line:
#   version=<IMAGE_VERSION>
#   inputs=<the hash of the inputs, also in base.inputs>
#   systemd-cgtop=<path in the image, empty if the host has none>
#   systemd-cgtop-version=<its first --version line>
# v2vm.go rebuilds when base.manifest's version is not the one it expects, or
# its inputs line is not base.inputs (another build.sh rebuilt base.cpio.gz).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${CGMON_V2VM_DIR:-/var/cache/cgmon/v2vm}
INIT=${V2VM_INIT:-$HERE/init}   # the Go driver passes its embedded copy here
INSTALL=0 FORCE=0
IMAGE_VERSION=2   # bump with v2vm.go's imageVersion when the image's contents change
for a in "$@"; do case $a in
	--install-deps) INSTALL=1;;
	--force) FORCE=1;;
	*) echo "usage: $0 [--install-deps] [--force]" >&2; exit 2;;
esac; done

if [ $INSTALL = 1 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		qemu-system-x86 busybox-static cpio
fi

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9                          # concurrent builds (parallel go test packages) wait here
WORK=$(mktemp -d "$DIR/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ $FORCE = 1 ]; then rm -rf "$DIR/vmlinuz" "$DIR/vmlinux" "$DIR/vmlinux.none" "$DIR/modules" "$DIR/base.cpio.gz" "$DIR/base.manifest"; fi

for t in busybox cpio gzip xz dpkg-deb apt-get; do
	command -v $t >/dev/null || { echo "v2vm build: missing $t (run $0 --install-deps)" >&2; exit 1; }
done
BUSYBOX=$(command -v busybox)
if command -v readelf >/dev/null && readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP; then
	echo "v2vm build: $BUSYBOX is dynamically linked; install busybox-static" >&2; exit 1
fi

# 1. kernel: download (never install) the package, keep vmlinuz, config and the virtio modules
if [ -n "${KERNEL_PKG:-}" ] && [ -f "$DIR/kernel-package" ] && [ "$(cat "$DIR/kernel-package")" != "$KERNEL_PKG" ]; then
	rm -rf "$DIR/vmlinuz" "$DIR/vmlinux" "$DIR/vmlinux.none" "$DIR/modules"
fi
if [ ! -f "$DIR/vmlinuz" ] || [ ! -d "$DIR/modules" ]; then
	PKG=${KERNEL_PKG:-}
	if [ -z "$PKG" ]; then
		pick() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
		PKG=$(pick)
		[ -n "$PKG" ] || { apt-get update -qq; PKG=$(pick); }
		[ -n "$PKG" ] || { echo "v2vm build: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 1; }
	fi
	echo "v2vm build: downloading $PKG" >&2
	(cd "$WORK" && chmod 777 . && apt-get download -qq "$PKG")
	DEB=$(ls "$WORK"/"${PKG}"_*.deb | head -1)
	mkdir -p "$WORK/kx"
	# virtio-blk & co. are =m in Debian's kernel; missing members (built-in) are fine
	dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/kx" --wildcards --no-anchored \
		'boot/vmlinuz-*' 'boot/config-*' \
		'kernel/drivers/virtio/virtio.ko*' 'kernel/drivers/virtio/virtio_ring.ko*' \
		'kernel/drivers/virtio/virtio_pci*.ko*' 'kernel/drivers/block/virtio_blk.ko*' 2>/dev/null || true
	ls "$WORK"/kx/boot/vmlinuz-* >/dev/null || { echo "v2vm build: no vmlinuz in $DEB" >&2; exit 1; }
	rm -rf "$DIR/modules" "$DIR/vmlinux" "$DIR/vmlinux.none"; mkdir -p "$DIR/modules"
	find "$WORK/kx/lib/modules" -name '*.ko*' -exec cp {} "$DIR/modules/" \; 2>/dev/null || true
	for z in "$DIR"/modules/*.ko.xz; do if [ -f "$z" ]; then xz -d "$z"; fi; done
	for z in "$DIR"/modules/*.ko.zst; do if [ -f "$z" ]; then zstd -qd --rm "$z" || { echo "v2vm build: need zstd" >&2; exit 1; }; fi; done
	cp "$WORK"/kx/boot/config-* "$DIR/kconfig"
	basename "$(ls -d "$WORK"/kx/boot/vmlinuz-*)" | sed 's/^vmlinuz-//' > "$DIR/kernel-release"
	echo "$PKG" > "$DIR/kernel-package"
	cp "$WORK"/kx/boot/vmlinuz-* "$DIR/vmlinuz.tmp" && mv "$DIR/vmlinuz.tmp" "$DIR/vmlinuz"
fi

# Uncompressed ELF vmlinux (has a PVH entry note): qemu boots it directly and skips the
# in-guest XZ decompression, which costs ~5 s under TCG. Optional: run.sh falls back to vmlinuz.
if [ ! -f "$DIR/vmlinux" ] && [ ! -f "$DIR/vmlinux.none" ]; then
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$DIR/vmlinuz" | head -1 | cut -d: -f1 || true)
	if [ -n "$off" ]; then
		tail -c +$((off+1)) "$DIR/vmlinuz" | xz -dc 2>/dev/null > "$WORK/vmlinux" || true  # trailing data -> rc!=0
	fi
	if [ -s "$WORK/vmlinux" ] && readelf -n "$WORK/vmlinux" 2>/dev/null | grep -q Xen; then
		mv "$WORK/vmlinux" "$DIR/vmlinux"
	else
		echo "v2vm build: no PVH vmlinux (readelf missing or not XZ); booting vmlinuz" >&2
		touch "$DIR/vmlinux.none"
	fi
fi

# 2. systemd-cgtop and the shared objects it loads (ldd: the dynamic loader,
# libsystemd-shared-*.so from its RUNPATH, libc, ...), each at its host path.
# It needs no systemd in the guest: it reads /proc/1/cgroup, /proc/meminfo and
# the cgroupfs, nothing else (no bus, no /run, no machine-id).
CGTOP=$(command -v systemd-cgtop || true)
CGTOP_FILES=()
if [ -n "$CGTOP" ]; then
	CGTOP=$(readlink -f "$CGTOP")
	command -v ldd >/dev/null || { echo "v2vm build: ldd missing (libc-bin), needed to pack $CGTOP" >&2; exit 1; }
	mapfile -t CGTOP_FILES < <(ldd "$CGTOP" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
	[ ${#CGTOP_FILES[@]} -gt 0 ] || { echo "v2vm build: ldd $CGTOP lists no libraries" >&2; exit 1; }
	CGTOP_FILES=("$CGTOP" "${CGTOP_FILES[@]}")
else
	echo "v2vm build: no systemd-cgtop on this host; the image has none and the guest's cgtop comparison skips" >&2
fi

# 3. base initramfs: busybox + modules + init + cgtop; rebuilt when any input changes
SUM=$( { sha256sum "$INIT" "$BUSYBOX" "$DIR"/modules/* 2>/dev/null | awk '{print $1}'
	for f in "${CGTOP_FILES[@]}"; do echo "$f $(sha256sum < "$f")"; done
	echo "v$IMAGE_VERSION"; } | sha256sum | cut -c1-64)
if [ ! -f "$DIR/base.cpio.gz" ] || [ ! -f "$DIR/base.manifest" ] || [ "$(cat "$DIR/base.inputs" 2>/dev/null)" != "$SUM" ]; then
	R=$WORK/root; mkdir -p "$R"/{bin,etc,lib/modules,proc,sys,dev,tmp,root,tests,run}
	cp "$BUSYBOX" "$R/bin/busybox"
	for f in "${CGTOP_FILES[@]}"; do                # the ldd paths; /lib, /lib64 are real dirs in the image
		mkdir -p "$R$(dirname "$f")" && cp -L "$f" "$R$f"
	done
	{
		echo "version=$IMAGE_VERSION"
		echo "inputs=$SUM"
		echo "systemd-cgtop=$CGTOP"
		if [ -n "$CGTOP" ]; then echo "systemd-cgtop-version=$("$CGTOP" --version | head -1)"; else echo "systemd-cgtop-version="; fi
	} > "$R/etc/v2vm-image"
	cp "$DIR"/modules/*.ko "$R/lib/modules/" 2>/dev/null || true
	install -m 0755 "$INIT" "$R/init"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
	printf 'root:x:0:\n' > "$R/etc/group"
	echo v2vm > "$R/etc/hostname"
	(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 > "$DIR/base.cpio.gz.tmp"
	mv "$DIR/base.cpio.gz.tmp" "$DIR/base.cpio.gz"
	cp "$R/etc/v2vm-image" "$DIR/base.manifest.tmp" && mv "$DIR/base.manifest.tmp" "$DIR/base.manifest"
	echo "$SUM" > "$DIR/base.inputs"
fi
ls -l "$DIR"/vmlinu[xz] "$DIR/base.cpio.gz" >&2
echo "v2vm build: kernel $(cat "$DIR/kernel-release") ($(cat "$DIR/kernel-package")) in $DIR" >&2
