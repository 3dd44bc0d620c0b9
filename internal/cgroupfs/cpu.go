package cgroupfs

import (
	"github.com/cgmon/cgmon/internal/sample"
)

// userHZ is the unit of cpuacct.stat: USER_HZ ticks per second, 100 on every
// architecture cgmon runs on.
const userHZ = 100

// ParseCPUStat parses cpu.stat of either hierarchy into cpu.
//
// cgroup v1 (cpu controller, Documentation/scheduler/sched-bwc.rst):
// nr_periods, nr_throttled, throttled_time (nanoseconds).
//
// cgroup v2 (cgroup-v2.rst, "CPU Interface Files"): usage_usec, user_usec,
// system_usec (always there, even without the cpu controller), and with it
// nr_periods, nr_throttled, throttled_usec. Microseconds are converted to
// the *Ns fields (×1000).
//
// Only keys present set their field; others stay as they were. Unknown keys
// (nr_bursts, burst_usec, nice_usec, ...) are ignored. On error cpu is not
// changed.
func ParseCPUStat(b []byte, cpu *sample.CPU) error {
	c := *cpu
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		key, val := keyValue(line)
		var dst *sample.Value
		var mul uint64 = 1
		switch string(key) {
		case "usage_usec":
			dst, mul = &c.UsageNs, 1000
		case "user_usec":
			dst, mul = &c.UserNs, 1000
		case "system_usec":
			dst, mul = &c.SystemNs, 1000
		case "nr_periods":
			dst = &c.Periods
		case "nr_throttled":
			dst = &c.ThrottledPeriods
		case "throttled_time":
			dst = &c.ThrottledNs
		case "throttled_usec":
			dst, mul = &c.ThrottledNs, 1000
		default:
			continue
		}
		n, err := atou(val)
		if err == nil {
			n, err = mulCheck(n, mul)
		}
		if err != nil {
			return newError(l.N, string(key), val, err)
		}
		*dst = sample.Some(n)
	}
	*cpu = c
	return nil
}

// ParseCpuacctUsageAll parses the cgroup v1 cpuacct.usage_all file
// (Documentation/admin-guide/cgroup-v1/cpuacct.rst; kernel ≥ 4.7): a header
// "cpu user system" and one row "N USER SYSTEM" per possible CPU, in
// nanoseconds. It sets cpu.UserNs and cpu.SystemNs to the sums over all CPUs
// and cpu.UsageNs to user+system. The columns are found by their header
// names; every row must have as many fields as the header. On error cpu is
// not changed.
func ParseCpuacctUsageAll(b []byte, cpu *sample.CPU) error {
	l := lines{Rest: b}
	header, ok := l.Next()
	if !ok {
		return newError(1, "header", nil, ErrMissing)
	}
	ncol, userCol, sysCol := 0, -1, -1
	for f, rest := nextField(header); len(f) > 0; f, rest = nextField(rest) {
		switch {
		case ncol == 0 && string(f) != "cpu":
			return newError(1, "header", header, ErrSyntax)
		case string(f) == "user":
			userCol = ncol
		case string(f) == "system":
			sysCol = ncol
		}
		ncol++
	}
	if userCol < 0 || sysCol < 0 {
		return newError(1, "header", header, ErrSyntax)
	}
	var user, sys uint64
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if isBlank(line) {
			continue
		}
		col := 0
		for f, rest := nextField(line); len(f) > 0; f, rest = nextField(rest) {
			if col >= ncol {
				return newError(l.N, "row", line, ErrSyntax)
			}
			var sum *uint64
			key := ""
			switch col {
			case 0:
				if _, err := atou(f); err != nil {
					return newError(l.N, "cpu", f, err)
				}
			case userCol:
				sum, key = &user, "user"
			case sysCol:
				sum, key = &sys, "system"
			}
			if sum != nil {
				n, err := atou(f)
				if err == nil && *sum+n < n {
					err = ErrRange
				}
				if err != nil {
					return newError(l.N, key, f, err)
				}
				*sum += n
			}
			col++
		}
		if col != ncol {
			return newError(l.N, "row", line, ErrSyntax)
		}
	}
	if user+sys < user {
		return newError(0, "user+system", nil, ErrRange)
	}
	cpu.UserNs = sample.Some(user)
	cpu.SystemNs = sample.Some(sys)
	cpu.UsageNs = sample.Some(user + sys)
	return nil
}

// ParseCpuacctStat parses the cgroup v1 cpuacct.stat file
// (Documentation/admin-guide/cgroup-v1/cpuacct.rst): "user T" and "system T"
// in USER_HZ ticks, taken as 100 per second. It sets cpu.UserNs and
// cpu.SystemNs of the keys present and does not touch cpu.UsageNs (read that
// from cpuacct.usage, which is exact). On error cpu is not changed.
func ParseCpuacctStat(b []byte, cpu *sample.CPU) error {
	user, sys := cpu.UserNs, cpu.SystemNs
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		key, val := keyValue(line)
		var dst *sample.Value
		switch string(key) {
		case "user":
			dst = &user
		case "system":
			dst = &sys
		default:
			continue
		}
		n, err := atou(val)
		if err == nil {
			n, err = mulCheck(n, 1e9/userHZ)
		}
		if err != nil {
			return newError(l.N, string(key), val, err)
		}
		*dst = sample.Some(n)
	}
	cpu.UserNs, cpu.SystemNs = user, sys
	return nil
}
