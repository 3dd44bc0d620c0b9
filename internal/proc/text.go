package proc

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// ErrOtherPIDNamespace is the error for a 0 in cgroup.procs. The kernel
// lists a process that has no PID in the reader's PID namespace as 0, so
// cgmon run in a container with a PID namespace of its own cannot name the
// host's processes from cgroup.procs: every one of them reads as 0. With
// the host's / at --rootfs, Lister scans the host's /proc instead and this
// does not happen; without it, the error says how to run cgmon instead of
// only "out of range".
var ErrOtherPIDNamespace = errors.New("a process outside cgmon's PID namespace is listed as 0: give cgmon the host's / (docker run --volume=/:/rootfs:ro … --rootfs /rootfs) or run it in the host's PID namespace (--pid=host)")

// errPID0 is ErrOtherPIDNamespace and, like every parse error, a sentinel
// of cgroupfs (a 0 is out of the range of PIDs).
var errPID0 = fmt.Errorf("%w; %w", ErrOtherPIDNamespace, cgroupfs.ErrRange)

// AppendPIDs appends the process IDs of a cgroup.procs file (one decimal ID
// a line; cgroup-v2.rst "cgroup.procs", cgroups(7)) to dst. Empty lines are
// skipped; a 0 is ErrOtherPIDNamespace; anything else that is not a
// positive ID is malformed. The kernel
// lists IDs in no particular order and, on v1, may list one twice; they are
// returned as listed. It does not allocate when dst has room.
func AppendPIDs(dst []int, b []byte) ([]int, error) {
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if len(line) == 0 {
			continue
		}
		n, err := atou(line)
		switch {
		case err == nil && n == 0:
			err = errPID0
		case err == nil && n > 1<<31-1:
			err = cgroupfs.ErrRange
		}
		if err != nil {
			return dst, newError(l.N, "pid", line, err)
		}
		dst = append(dst, int(n))
	}
	return dst, nil
}

// ParseMemTotal returns MemTotal of /proc/meminfo (proc(5);
// Documentation/filesystems/proc.rst, "meminfo") in bytes: the line
// "MemTotal:       16323412 kB". Other lines are not looked at.
func ParseMemTotal(b []byte) (uint64, error) {
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		v, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		num, rest := nextField(v)
		unit, rest := nextField(rest)
		if string(unit) != "kB" || len(trimSpace(rest)) != 0 {
			return 0, newError(l.N, "MemTotal", v, cgroupfs.ErrSyntax)
		}
		n, err := atou(num)
		if err == nil && n > (1<<64-1)/1024 {
			err = cgroupfs.ErrRange
		}
		if err != nil {
			return 0, newError(l.N, "MemTotal", v, err)
		}
		return n * 1024, nil
	}
	return 0, newError(0, "MemTotal", nil, cgroupfs.ErrMissing)
}
