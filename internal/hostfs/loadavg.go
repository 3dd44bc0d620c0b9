package hostfs

import "strconv"

// Loadavg is /proc/loadavg: "0.06 0.73 0.61 1/154 9375".
type Loadavg struct {
	Load1, Load5, Load15 float64
	Runnable, Threads    uint64 // runnable scheduling entities / all of them
}

// ParseLoadavg parses /proc/loadavg (proc(5)).
func ParseLoadavg(b []byte) (Loadavg, error) {
	var la Loadavg
	var f [maxFields][]byte
	l := lines{Rest: b}
	line, _ := l.Next()
	if n := splitFields(line, &f); n != 5 {
		return la, newError(1, "", line, ErrSyntax)
	}
	for i, dst := range [...]*float64{&la.Load1, &la.Load5, &la.Load15} {
		v, err := parseDecimal(f[i])
		if err != nil {
			return Loadavg{}, newError(1, [...]string{"load1", "load5", "load15"}[i], f[i], err)
		}
		*dst = v
	}
	run, all, ok := cutByte(f[3], '/')
	if !ok {
		return Loadavg{}, newError(1, "tasks", f[3], ErrSyntax)
	}
	var err error
	if la.Runnable, err = atou(run); err != nil {
		return Loadavg{}, newError(1, "tasks", f[3], err)
	}
	if la.Threads, err = atou(all); err != nil {
		return Loadavg{}, newError(1, "tasks", f[3], err)
	}
	return la, nil
}

func cutByte(b []byte, sep byte) (before, after []byte, ok bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// parseDecimal parses "DIGITS[.DIGITS]", as the kernel prints averages.
func parseDecimal(b []byte) (float64, error) {
	dot := false
	digits := 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && i > 0 && i < len(b)-1:
			dot = true
		default:
			return 0, ErrSyntax
		}
	}
	if digits == 0 {
		return 0, ErrSyntax
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, ErrRange
	}
	return v, nil
}
