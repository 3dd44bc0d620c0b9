#!/bin/sh
# setup-use.sh — what the USE tests need: sysstat (mpstat and iostat -x,
# the oracle of internal/host's integration tests), procps (free -b) and jq
# (scripts/use-fp-rate.sh). Idempotent; run as root.
set -eu
missing=
for p in sysstat procps jq; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
