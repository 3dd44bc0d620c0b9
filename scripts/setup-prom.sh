#!/bin/sh
# Installs what the tests of internal/promexport, internal/sink/collectd and
# `cgmon collectd-exec` run against: Prometheus 2.42 (with promtool),
# collectd 5.12 (collectd-core: network, csv and exec plugins), podman 4.3
# with runc and netavark, and a static busybox for the test image.
# Idempotent; run as root.
set -eu
need=""
for p in prometheus collectd-core podman runc netavark aardvark-dns busybox-static; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends install $need
fi
