package testcg

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/test/v2vm"
)

// Maybe is a figure systemd-cgtop printed, or absent (OK false) where it
// printed "-".
type Maybe[T uint64 | float64] struct {
	V  T
	OK bool
}

// CgtopRow is one line of `systemd-cgtop --raw`.
type CgtopRow struct {
	Tasks     Maybe[uint64]  // pids.current; for "/" the host's task count
	CPU       Maybe[float64] // percent, 100 = one CPU; needs two iterations
	Memory    Maybe[uint64]  // bytes; see CgtopRaw for which figure
	InputBps  Maybe[uint64]  // bytes read per second; needs two iterations
	OutputBps Maybe[uint64]  // bytes written per second; needs two iterations
}

// CgtopRaw runs `systemd-cgtop -b --raw -n iterations -d delay` and returns
// the last iteration's rows keyed by cgroup path ("/", "/cgmon-test-…/x").
// It skips the test when systemd-cgtop is not installed, except in the v2 VM
// (test/v2vm), whose image carries the host's systemd-cgtop: there a missing
// one fails the test, unless the image's manifest says the host that built it
// had none.
//
// What systemd-cgtop shows (systemd 252, read in its src/cgtop/cgtop.c and
// checked on a v1 hybrid host whose PID 1 is not systemd):
//   - It walks the hierarchies of name=systemd (or cgroup2), cpu, cpuacct,
//     memory, io, blkio and pids down to --depth=3 (the default), and prints a
//     cgroup only when it has at least one figure. Our test groups are at depth
//     2 and need no flags; PID 1 being something else does not matter, as
//     cgtop reads cgroupfs only. -P/-k are not used: they would count
//     processes in name=systemd instead of reading pids.current.
//   - Tasks is pids.current (threads included); absent when 0.
//   - CPU is cpuacct.usage (v1) or cpu.stat usage_usec (v2) over the delay;
//     absent in the first iteration.
//   - Memory is memory.usage_in_bytes (v1) or memory.current (v2), as is:
//     page cache, inactive_file included; absent when 0. For "/" it is the
//     host's used memory from /proc/meminfo.
//   - Input/s and Output/s come from io.stat rbytes/wbytes on v2, but on v1
//     from blkio.io_service_bytes, a CFQ file that kernels ≥ 5.0 no longer
//     have: on v1 they are always absent.
func CgtopRaw(t testing.TB, iterations int, delay time.Duration) map[string]CgtopRow {
	t.Helper()
	bin, err := exec.LookPath("systemd-cgtop")
	if err != nil {
		if v2vm.IsGuest() {
			m, merr := v2vm.Manifest()
			switch {
			case merr != nil:
				t.Fatalf("testcg: systemd-cgtop is not in the v2 VM, whose image has no manifest (%v): an image from before cgtop was added, which the driver should have rebuilt", merr)
			case m["systemd-cgtop"] != "":
				t.Fatalf("testcg: the v2 VM image should hold systemd-cgtop at %s (its manifest says so), but %v (PATH=%s)", m["systemd-cgtop"], err, os.Getenv("PATH"))
			}
			t.Skip("testcg: the v2 VM image was built on a host without systemd-cgtop")
		}
		t.Skip("testcg: systemd-cgtop is not installed")
	}
	if iterations < 1 || delay <= 0 {
		t.Fatalf("testcg: CgtopRaw(%d, %v): need at least one iteration and a positive delay", iterations, delay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(iterations)*delay+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-b", "--raw",
		"-n", strconv.Itoa(iterations), "-d", strconv.FormatInt(delay.Microseconds(), 10)+"us")
	cmd.Env = append(os.Environ(), "TERM=dumb", "SYSTEMD_COLORS=0") // no escape sequences
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testcg: %s: %v: %s", cmd, err, stderr.Bytes())
	}
	rows, err := parseCgtop(out)
	if err != nil {
		t.Fatalf("testcg: %s: %v", cmd, err)
	}
	return rows
}

// parseCgtop parses the output of `systemd-cgtop -b --raw` (no header when
// not on a terminal; iterations separated by an empty line) and returns the
// last iteration. A line is the path, left-aligned and padded, then Tasks,
// %CPU, Memory, Input/s and Output/s, each a number or "-". A path may hold
// spaces, so the five figures are taken from the right.
func parseCgtop(out []byte) (map[string]CgtopRow, error) {
	var last []string
	var cur []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				last, cur = cur, nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		last = cur
	}
	rows := make(map[string]CgtopRow, len(last))
	for _, line := range last {
		rest := strings.TrimRight(line, " \t")
		var f [5]string
		for i := 4; i >= 0; i-- {
			j := strings.LastIndexAny(rest, " \t")
			if j < 0 {
				return nil, fmt.Errorf("line %q: want a path and 5 figures", line)
			}
			f[i], rest = rest[j+1:], strings.TrimRight(rest[:j], " \t")
		}
		if rest == "" {
			return nil, fmt.Errorf("line %q: no path", line)
		}
		var r CgtopRow
		var errs [5]error
		r.Tasks, errs[0] = maybeUint(f[0])
		r.CPU, errs[1] = maybeFloat(f[1])
		r.Memory, errs[2] = maybeUint(f[2])
		r.InputBps, errs[3] = maybeUint(f[3])
		r.OutputBps, errs[4] = maybeUint(f[4])
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("line %q: %w", line, err)
			}
		}
		rows[rest] = r
	}
	return rows, nil
}

func maybeUint(s string) (Maybe[uint64], error) {
	if s == "-" {
		return Maybe[uint64]{}, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return Maybe[uint64]{V: v, OK: err == nil}, err
}

func maybeFloat(s string) (Maybe[float64], error) {
	if s == "-" {
		return Maybe[float64]{}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	return Maybe[float64]{V: v, OK: err == nil}, err
}
