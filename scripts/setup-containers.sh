#!/usr/bin/env bash
# Installs and prepares what the real container tests need (internal/container:
# LXC, Podman, Docker; internal/sink/jsonexport: tmpfs mounts). Idempotent; run
# as root. The tests start and remove everything else themselves: containers
# with unique names, a dockerd of their own on its own socket and data root, a
# containers.conf of their own (CONTAINERS_CONF), images imported from a
# busybox tarball they build — nothing is pulled from a registry.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "setup-containers.sh: must run as root" >&2
	exit 1
fi

pkgs=(lxc busybox-static podman runc netavark aardvark-dns uidmap slirp4netns docker.io util-linux dnsmasq-base iproute2)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	# A policy-rc.d that says no keeps dockerd from starting at install
	# time: the tests start their own.
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# LXC's bridge lxcbr0 (10.0.3.1/24) and its dnsmasq, which give the busybox
# containers an address. "already running" is success.
if ! ip link show lxcbr0 >/dev/null 2>&1; then
	/usr/libexec/lxc/lxc-net start || true
fi
ip link show lxcbr0 >/dev/null

# Containers' veth pairs and bridges need these; most kernels load them on
# demand, modprobe makes a missing one an early, clear failure.
for m in veth bridge overlay; do
	grep -qw "^$m" /proc/modules 2>/dev/null || modprobe "$m" 2>/dev/null || true
done

echo "setup-containers.sh: lxc $(lxc-create --version), podman $(podman --version | awk '{print $3}'), docker $(dockerd --version | awk '{print $3}' | tr -d ,)"
