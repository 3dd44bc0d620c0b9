#!/usr/bin/env bash
# Runs cgmon's whole test suite on a fresh Debian machine: installs what the
# tests need (Debian packages, the linter, the cgroup v2 test VM), then lint,
# unit and integration tests with the race detector, a short fuzz of every
# parser, and one pass of every benchmark. Integration tests need root; as
# another user they skip with a message.
#
# Usage: scripts/test.sh [--quick]   (--quick: no VM, no fuzzing, no benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
# A count, not a duration: a duration-bound -fuzztime races the fuzz
# coordinator's deadline in Go 1.26 and fails with "context deadline
# exceeded" on a loaded machine (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME=${FUZZTIME:-100000x}
export PATH="$PATH:$(go env GOPATH)/bin"

step() { printf '\n=== %s\n' "$*"; }

# --- packages -------------------------------------------------------------
# Everything the integration tests start for real: the cgroup v2 VM (qemu,
# busybox, cpio), the oracles (systemd-cgtop, sysstat, promtool), the servers
# (influxd, victoria-metrics, prometheus, collectd, sshd) and the container
# runtimes (lxc, podman with runc and netavark, dockerd). Installing them
# does not start them: the tests start what they need on loopback.
packages=(systemd qemu-system-x86 busybox-static cpio bc
	sysstat influxdb victoria-metrics prometheus collectd-core openssh-server
	lxc runc podman netavark aardvark-dns uidmap slirp4netns docker.io iproute2)
need=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		step "installing ${need[*]}"
		apt-get update -qq
		# A policy-rc.d that says no keeps the daemons these packages ship
		# (dockerd, sshd, influxd, ...) from starting at install time.
		made_policy=0
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
		if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
	else
		echo "missing packages (${need[*]}); not root, so tests that need them will skip"
	fi
fi
if [ "$(id -u)" = 0 ]; then
	# Each area's own set-up: packages it alone needs, lxcbr0, kernel modules.
	for s in influx prom containers use ssh; do
		step "scripts/setup-$s.sh"
		"scripts/setup-$s.sh"
	done
	# Everything is installed: a test that would skip for a missing program
	# or server fails instead (internal/testsvc).
	export CGMON_TEST_REQUIRE=1
fi
if ! command -v staticcheck >/dev/null; then
	step "installing staticcheck"
	go install honnef.co/go/tools/cmd/staticcheck@v0.6.1
fi

# --- lint -----------------------------------------------------------------
step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
step "go mod tidy is clean"
cp go.mod /tmp/cgmon-go.mod.$$; cp go.sum /tmp/cgmon-go.sum.$$
if go mod tidy; then
	# go.mod must not change, and no go.sum line may go. go.sum lines tidy
	# adds for the tests of dependencies (golang.org/x/term for x/crypto's)
	# are only reported: a session without network cannot fetch them.
	bad=0
	cmp -s go.mod /tmp/cgmon-go.mod.$$ || { echo "go mod tidy changes go.mod: run it and commit"; bad=1; }
	if comm -23 <(sort /tmp/cgmon-go.sum.$$) <(sort go.sum) | grep -q .; then
		echo "go mod tidy removes go.sum lines: run it and commit"; bad=1
	fi
	comm -13 <(sort /tmp/cgmon-go.sum.$$) <(sort go.sum) | sed 's/^/go.sum would gain: /'
	cp /tmp/cgmon-go.mod.$$ go.mod; cp /tmp/cgmon-go.sum.$$ go.sum
	rm -f /tmp/cgmon-go.mod.$$ /tmp/cgmon-go.sum.$$
	[ $bad = 0 ] || exit 1
else
	cp /tmp/cgmon-go.mod.$$ go.mod; cp /tmp/cgmon-go.sum.$$ go.sum
	rm -f /tmp/cgmon-go.mod.$$ /tmp/cgmon-go.sum.$$
	echo "go mod tidy failed (no network to the module proxy?): skipped"
fi
step "go vet"
go vet ./...
step "staticcheck"
staticcheck ./...
step "design rules"
# Readers and parsers never run programs, and nothing logs outside slog.
if grep -rln --include='*.go' '"os/exec"' internal/rootfs internal/cgroupfs internal/cgroup internal/model internal/sample internal/identity internal/proc internal/kerntext internal/hostfs internal/host internal/netdev internal/container internal/remote 2>/dev/null | grep -v _test.go; then
	echo "os/exec imported in a reader package"; exit 1
fi
if grep -rn --include='*.go' -E '^\s*"log"$' cmd internal | grep -v _test.go; then
	echo "package log imported: use log/slog"; exit 1
fi

# --- the cgroup v2 VM -----------------------------------------------------
if [ $QUICK = 0 ]; then
	step "cgroup v2 test VM image"
	if [ "$(id -u)" = 0 ]; then
		test/v2vm/build.sh --install-deps
		# Here the VM can run: a missing image is a failure, not a skip.
		export CGMON_V2VM_REQUIRE=1
	else
		test/v2vm/build.sh || echo "v2 VM image could not be built: the v2 guest tests will skip"
	fi
fi

# --- tests ----------------------------------------------------------------

if [ $QUICK = 0 ]; then
	step "fuzz every target for $FUZZTIME"
	for pkg in $(go list ./...); do
		dir=$(go list -f '{{.Dir}}' "$pkg")
		for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
			go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg" >/tmp/cgmon-fuzz.log 2>&1 || { cat /tmp/cgmon-fuzz.log; exit 1; }
			echo "fuzz $pkg $target ok"
		done
	done
	step "every benchmark once"
	go test -run='^$' -bench=. -benchtime=1x ./... >/tmp/cgmon-bench.log 2>&1 || { cat /tmp/cgmon-bench.log; exit 1; }
	grep -c '^Benchmark' /tmp/cgmon-bench.log | sed 's/^/benchmarks run: /'
fi

# Last, so that its summary closes the output.
step "go test -race"
SHORT=(); [ $QUICK = 1 ] && SHORT=(-short)
routes_before=$(ip -4 route show default 2>/dev/null || true)
go test -race -count=1 -timeout 20m "${SHORT[@]}" ./...
# The container tests run busybox inits, one of them in the host's network
# namespace; once one flushed the host's eth0. Fail loudly if a test left
# the host without the default route it had.
if [ "$(ip -4 route show default 2>/dev/null || true)" != "$routes_before" ]; then
	echo "test.sh: the tests changed the host's default route: was '$routes_before', now '$(ip -4 route show default)'" >&2
	exit 1
fi
