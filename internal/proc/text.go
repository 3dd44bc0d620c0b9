package proc

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// AppendPIDs appends the process IDs of a cgroup.procs file (one decimal ID
// a line; cgroup-v2.rst "cgroup.procs", cgroups(7)) to dst. Empty lines are
// skipped; anything else that is not a positive ID is malformed. The kernel
// lists IDs in no particular order and, on v1, may list one twice; they are
// returned as listed. It does not allocate when dst has room.
func AppendPIDs(dst []int, b []byte) ([]int, error) {
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if len(line) == 0 {
			continue
		}
		n, err := atou(line)
		if err == nil && (n == 0 || n > 1<<31-1) {
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
