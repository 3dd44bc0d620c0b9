package cgroupfs

import (
	"bytes"
	"strconv"

	"github.com/cgmon/cgmon/internal/sample"
)

// ParsePSI parses a pressure file: cpu.pressure, memory.pressure,
// io.pressure of a cgroup v2 group (cgroup-v2.rst) or /proc/pressure/*
// (Documentation/accounting/psi.rst):
//
//	some avg10=0.12 avg60=0.00 avg300=0.00 total=12345
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//
// The full line is absent from cpu.pressure before kernel 5.13; HasFull then
// stays false. A some or full line must have avg10, avg60, avg300 and total;
// other keys and other lines are ignored. An empty file gives a zero PSI.
func ParsePSI(b []byte) (sample.PSI, error) {
	var p sample.PSI
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		kind, kvs := nextField(line)
		var dst *sample.PSILine
		var has *bool
		switch string(kind) {
		case "some":
			dst, has = &p.Some, &p.HasSome
		case "full":
			dst, has = &p.Full, &p.HasFull
		default:
			continue
		}
		var seen uint8
		for f, rest := nextField(kvs); len(f) > 0; f, rest = nextField(rest) {
			i := bytes.IndexByte(f, '=')
			if i < 0 {
				return sample.PSI{}, newError(l.N, string(kind), f, ErrSyntax)
			}
			key, val := f[:i], f[i+1:]
			var avg *float64
			var bit uint8
			switch string(key) {
			case "avg10":
				avg, bit = &dst.Avg10, 1
			case "avg60":
				avg, bit = &dst.Avg60, 2
			case "avg300":
				avg, bit = &dst.Avg300, 4
			case "total":
				n, err := atou(val)
				if err != nil {
					return sample.PSI{}, newError(l.N, string(kind)+" total", val, err)
				}
				dst.TotalUs = n
				seen |= 8
				continue
			default:
				continue
			}
			v, err := atof(val)
			if err != nil {
				return sample.PSI{}, newError(l.N, string(kind)+" "+string(key), val, err)
			}
			*avg = v
			seen |= bit
		}
		for i, name := range [...]string{"avg10", "avg60", "avg300", "total"} {
			if seen&(1<<i) == 0 {
				return sample.PSI{}, newError(l.N, string(kind)+" "+name, nil, ErrMissing)
			}
		}
		*has = true
	}
	return p, nil
}

// pow10 holds the powers of ten that are exact in a float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// atof parses an unsigned decimal "DIGITS[.DIGITS]", the way the kernel
// prints PSI averages ("%lu.%02lu"), without allocating. It gives the same
// float64 as strconv.ParseFloat: with at most 15 digits the digits form an
// exact integer and dividing by an exact power of ten rounds once. Longer
// numbers go to strconv.ParseFloat.
func atof(b []byte) (float64, error) {
	var mant uint64
	i := 0
	for ; i < len(b) && b[i]-'0' <= 9; i++ {
		mant = mant*10 + uint64(b[i]-'0')
	}
	intDigits := i
	if intDigits == 0 {
		return 0, ErrSyntax
	}
	fracDigits := 0
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			mant = mant*10 + uint64(b[i]-'0')
			fracDigits++
		}
		if fracDigits == 0 {
			return 0, ErrSyntax
		}
	}
	if i != len(b) {
		return 0, ErrSyntax
	}
	if intDigits+fracDigits <= 15 {
		return float64(mant) / pow10[fracDigits], nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, ErrRange // the syntax was checked above
	}
	return v, nil
}
