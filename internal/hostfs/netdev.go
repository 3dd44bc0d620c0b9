package hostfs

import (
	"bytes"
)

// NetDev is one interface of /proc/net/dev (cumulative since the interface
// was created).
type NetDev struct {
	Name                                       string
	RxBytes, RxPackets, RxErrs, RxDrop, RxFifo uint64
	RxFrame, RxCompressed, RxMulticast         uint64
	TxBytes, TxPackets, TxErrs, TxDrop, TxFifo uint64
	TxColls, TxCarrier, TxCompressed           uint64
}

// ParseNetDev parses /proc/net/dev into dst, reusing it and its names:
//
//	Inter-|   Receive                            ...
//	 face |bytes    packets errs drop fifo frame ...
//	  eth0: 478870204   12160    0    0    0     0 ...
//
// The two header lines are skipped; each interface line has the name, a
// colon and 16 counters.
func ParseNetDev(b []byte, dst []NetDev) ([]NetDev, error) {
	out := dst[:0]
	var f [maxFields][]byte
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		i := bytes.IndexByte(line, ':')
		if i < 0 || bytes.IndexByte(line[:i], '|') >= 0 {
			if bytes.IndexByte(line, '|') >= 0 || len(bytes.TrimSpace(line)) == 0 {
				continue // a header line
			}
			return dst[:0], newError(l.N, "", line, ErrSyntax)
		}
		name := bytes.TrimLeft(line[:i], " ")
		if len(name) == 0 {
			return dst[:0], newError(l.N, "interface", line, ErrSyntax)
		}
		if n := splitFields(line[i+1:], &f); n != 16 {
			return dst[:0], newError(l.N, string(name), line[i+1:], ErrSyntax)
		}
		var d NetDev
		counters := [...]*uint64{&d.RxBytes, &d.RxPackets, &d.RxErrs, &d.RxDrop, &d.RxFifo, &d.RxFrame, &d.RxCompressed, &d.RxMulticast,
			&d.TxBytes, &d.TxPackets, &d.TxErrs, &d.TxDrop, &d.TxFifo, &d.TxColls, &d.TxCarrier, &d.TxCompressed}
		for j, p := range counters {
			v, err := atou(f[j])
			if err != nil {
				return dst[:0], newError(l.N, string(name), f[j], err)
			}
			*p = v
		}
		if k := len(out); k < cap(out) && out[:k+1][k].Name == string(name) {
			d.Name = out[:k+1][k].Name
		} else {
			d.Name = string(name)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseSpeed parses /sys/class/net/IF/speed, the link speed in Mbit/s. The
// kernel writes -1 (SPEED_UNKNOWN) when the driver does not know it, and
// the read itself fails (EINVAL) for interfaces without a link (lo, a
// bridge without ports, a link that is down): known is false then, and the
// caller treats a failed read the same way.
func ParseSpeed(b []byte) (mbps uint64, known bool, err error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) > 0 && b[0] == '-' {
		if _, err := atou(b[1:]); err != nil {
			return 0, false, newError(0, "speed", b, ErrSyntax)
		}
		return 0, false, nil // -1 and any other negative: unknown
	}
	v, err := atou(b)
	if err != nil {
		return 0, false, newError(0, "speed", b, err)
	}
	if v == 0 || v == 1<<32-1 { // 0 and (u32)-1 are what some drivers print for "unknown"
		return 0, false, nil
	}
	return v, true, nil
}
