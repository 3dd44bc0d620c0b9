#!/bin/sh
# Prerequisites of the remote-host tests (internal/remote, cmd/cgmon): a real
# OpenSSH server and client tools. Idempotent; run as root.
set -eu
need=""
[ -x /usr/sbin/sshd ] || need="$need openssh-server"
command -v ssh-agent >/dev/null 2>&1 && command -v ssh-add >/dev/null 2>&1 || need="$need openssh-client"
if [ -n "$need" ]; then
	apt-get -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends install $need
fi
# sshd's privilege separation directory (Debian's init script makes it; no
# init script runs here). The tests make it too.
mkdir -p /run/sshd
chmod 0755 /run/sshd
