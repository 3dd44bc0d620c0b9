package cgroupfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// ParseIOStat parses the cgroup v2 io.stat file (cgroup-v2.rst, "IO Interface
// Files"), one line per device:
//
//	254:0 rbytes=16789504 wbytes=16777216 rios=19 wios=16 dbytes=0 dios=0
//
// Keys may come in any order; rbytes, wbytes, rios and wios are used, others
// (dbytes, dios, and the cost.* / depth= / use_delay= keys that iocost,
// iolatency and blkcg_debug_stats add) are ignored without parsing their
// values. It returns dst[:0] with one entry per device line appended, in file
// order; on error it returns dst[:0].
func ParseIOStat(b []byte, dst []sample.DeviceIO) ([]sample.DeviceIO, error) {
	dst = dst[:0]
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		dev, kvs := nextField(line)
		if len(dev) == 0 {
			continue
		}
		major, minor, err := parseDevice(dev)
		if err != nil {
			return dst[:0], newError(l.N, "device", dev, err)
		}
		d := sample.DeviceIO{Major: major, Minor: minor}
		for f, rest := nextField(kvs); len(f) > 0; f, rest = nextField(rest) {
			i := bytes.IndexByte(f, '=')
			if i < 0 {
				return dst[:0], newError(l.N, "", f, ErrSyntax)
			}
			key, val := f[:i], f[i+1:]
			var p *uint64
			switch string(key) {
			case "rbytes":
				p = &d.ReadBytes
			case "wbytes":
				p = &d.WriteBytes
			case "rios":
				p = &d.ReadOps
			case "wios":
				p = &d.WriteOps
			default:
				continue
			}
			if *p, err = atou(val); err != nil {
				return dst[:0], newError(l.N, string(key), val, err)
			}
		}
		dst = append(dst, d)
	}
	return dst, nil
}

// ParseBlkio parses a cgroup v1 blkio "recursive wide stat" file
// (Documentation/admin-guide/cgroup-v1/blkio-controller.rst): rows
// "MAJ:MIN OP N" with OP one of Read, Write, Sync, Async, Discard, Total, and
// a last line "Total N" summing all devices. Those are
// blkio.throttle.io_service_bytes[_recursive] and blkio.io_service_bytes
// (bytes; ops false: ReadBytes, WriteBytes) and
// blkio.throttle.io_serviced[_recursive] and blkio.io_serviced (requests;
// ops true: ReadOps, WriteOps), and the same files under blkio.bfq.*.
//
// It merges into dst by (major, minor) and never resets dst, so the caller
// can parse the bytes file and then the ops file into the same slice; the
// caller resets it between cycles. A device not in dst yet is appended, so
// devices stay in the order the files list them. On error dst holds the rows
// merged before the bad line.
//
// Recent kernels (seen on 6.18) count blkio.throttle.* only on devices where
// some cgroup has a throttle rule; elsewhere these files hold just "Total 0".
func ParseBlkio(b []byte, dst []sample.DeviceIO, ops bool) ([]sample.DeviceIO, error) {
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		first, rest := nextField(line)
		if len(first) == 0 {
			continue
		}
		second, rest := nextField(rest)
		third, rest := nextField(rest)
		if !isBlank(rest) {
			return dst, newError(l.N, "", line, ErrSyntax)
		}
		if string(first) == "Total" {
			if len(second) == 0 || len(third) > 0 {
				return dst, newError(l.N, "Total", line, ErrSyntax)
			}
			continue
		}
		major, minor, err := parseDevice(first)
		if err != nil {
			return dst, newError(l.N, "device", first, err)
		}
		if len(second) == 0 || len(third) == 0 {
			return dst, newError(l.N, "", line, ErrSyntax)
		}
		d := -1
		for i := range dst {
			if dst[i].Major == major && dst[i].Minor == minor {
				d = i
				break
			}
		}
		if d < 0 {
			dst = append(dst, sample.DeviceIO{Major: major, Minor: minor})
			d = len(dst) - 1
		}
		var p *uint64
		switch string(second) {
		case "Read":
			p = &dst[d].ReadBytes
			if ops {
				p = &dst[d].ReadOps
			}
		case "Write":
			p = &dst[d].WriteBytes
			if ops {
				p = &dst[d].WriteOps
			}
		default: // Sync, Async, Discard, Total
			continue
		}
		n, err := atou(third)
		if err != nil {
			return dst, newError(l.N, string(second), third, err)
		}
		*p = n
	}
	return dst, nil
}
