package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// Meminfo holds the /proc/meminfo figures cgmon uses, in bytes
// (Documentation/filesystems/proc.rst "meminfo").
type Meminfo struct {
	MemTotal, MemFree, MemAvailable sample.Value
	Buffers, Cached                 sample.Value
	SwapTotal, SwapFree             sample.Value
}

// ParseMeminfo parses /proc/meminfo ("MemTotal:       24684096 kB"). Values
// with a "kB" unit are turned into bytes; the keys used all have it.
func ParseMeminfo(b []byte) (Meminfo, error) {
	var m Meminfo
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		var dst *sample.Value
		switch string(line[:i]) {
		case "MemTotal":
			dst = &m.MemTotal
		case "MemFree":
			dst = &m.MemFree
		case "MemAvailable":
			dst = &m.MemAvailable
		case "Buffers":
			dst = &m.Buffers
		case "Cached":
			dst = &m.Cached
		case "SwapTotal":
			dst = &m.SwapTotal
		case "SwapFree":
			dst = &m.SwapFree
		default:
			continue
		}
		val := bytes.TrimLeft(line[i+1:], " \t")
		num, unit, _ := bytes.Cut(val, []byte(" "))
		if string(unit) != "kB" {
			return Meminfo{}, newError(l.N, string(line[:i]), val, ErrSyntax)
		}
		v, err := atou(num)
		if err == nil && v > (1<<64-1)/1024 {
			err = ErrRange
		}
		if err != nil {
			return Meminfo{}, newError(l.N, string(line[:i]), num, err)
		}
		*dst = some(v * 1024)
	}
	return m, nil
}
