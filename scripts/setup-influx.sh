#!/bin/sh
# Installs what the InfluxDB output's tests need: influxd 1.x and
# VictoriaMetrics. Idempotent; run as root. The tests start the servers
# themselves (on loopback, state in temp dirs); no service is enabled.
set -eu
missing=""
command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ] || missing="$missing influxdb"
command -v victoria-metrics >/dev/null 2>&1 || [ -x /usr/bin/victoria-metrics ] || missing="$missing victoria-metrics"
if [ -n "$missing" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
fi
