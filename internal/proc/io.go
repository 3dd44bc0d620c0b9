package proc

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// IO is /proc/PID/io: the process's I/O counters (proc(5);
// Documentation/filesystems/proc.rst, "3.3 /proc/<pid>/io"). Its JSON keys
// are the kernel's.
type IO struct {
	Rchar               uint64 `json:"rchar"`                 // bytes passed to read(2) and the like
	Wchar               uint64 `json:"wchar"`                 // bytes passed to write(2) and the like
	Syscr               uint64 `json:"syscr"`                 // read system calls
	Syscw               uint64 `json:"syscw"`                 // write system calls
	ReadBytes           uint64 `json:"read_bytes"`            // bytes fetched from the storage layer
	WriteBytes          uint64 `json:"write_bytes"`           // bytes sent to the storage layer
	CancelledWriteBytes uint64 `json:"cancelled_write_bytes"` // of those, bytes truncated away before writeback
}

// ParseIO parses /proc/PID/io ("rchar: 2267" lines). All seven keys are
// required (the kernel prints them all); keys added later are skipped. It
// does not allocate. On error io is left zero.
func ParseIO(b []byte, io *IO) error {
	*io = IO{}
	if err := parseIO(b, io); err != nil {
		*io = IO{}
		return err
	}
	return nil
}

func parseIO(b []byte, io *IO) error {
	var seen uint8
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return newError(l.N, "", line, cgroupfs.ErrSyntax)
		}
		var dst *uint64
		var bit uint8
		switch string(k) {
		case "rchar":
			dst, bit = &io.Rchar, 1<<0
		case "wchar":
			dst, bit = &io.Wchar, 1<<1
		case "syscr":
			dst, bit = &io.Syscr, 1<<2
		case "syscw":
			dst, bit = &io.Syscw, 1<<3
		case "read_bytes":
			dst, bit = &io.ReadBytes, 1<<4
		case "write_bytes":
			dst, bit = &io.WriteBytes, 1<<5
		case "cancelled_write_bytes":
			dst, bit = &io.CancelledWriteBytes, 1<<6
		default:
			continue
		}
		if len(v) == 0 || v[0] != ' ' {
			return newError(l.N, string(k), v, cgroupfs.ErrSyntax)
		}
		n, err := atou(v[1:])
		if err != nil {
			return newError(l.N, string(k), v, err)
		}
		*dst = n
		seen |= bit
	}
	if seen != 1<<7-1 {
		for i, k := range ioKeys {
			if seen&(1<<i) == 0 {
				return newError(0, k, nil, cgroupfs.ErrMissing)
			}
		}
	}
	return nil
}

var ioKeys = [...]string{"rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes"}
