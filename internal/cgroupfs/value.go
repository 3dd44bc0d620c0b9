package cgroupfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// V1Unlimited is how cgroup v1 shows "no limit" in memory.limit_in_bytes,
// memory.memsw.limit_in_bytes, memory.soft_limit_in_bytes and
// memory.kmem*.limit_in_bytes on a 64-bit kernel with 4 KiB pages:
// PAGE_COUNTER_MAX (LONG_MAX / PAGE_SIZE) pages times 4096 bytes, that is
// 2^63 − 4096 = 9223372036854771712. Any value >= V1Unlimited means no limit.
//
// With 16 KiB or 64 KiB pages (arm64, ppc64) the same maximum shows as
// 2^63 − PAGE_SIZE, a little below V1Unlimited, so ParseLimit treats every
// value >= 2^63 − 64 KiB as unlimited.
const V1Unlimited = 0x7FFFFFFFFFFFF000

// unlimitedFrom is the smallest value ParseLimit reads as unlimited: the v1
// page-counter maximum with the largest page size of a 64-bit kernel, 64 KiB.
const unlimitedFrom = 1<<63 - 64<<10

// ParseUint parses a file that holds one decimal number and an optional
// trailing "\n": the single-value files of cgroup-v2.rst (memory.current,
// memory.peak, memory.swap.current, pids.current) and of cgroup-v1
// (memory.usage_in_bytes, memory.max_usage_in_bytes, memory.failcnt,
// cpu.cfs_period_us, cpuacct.usage; Documentation/admin-guide/cgroup-v1/
// memory.rst, cpuacct.rst, Documentation/scheduler/sched-bwc.rst).
func ParseUint(b []byte) (uint64, error) {
	v := trimNL(b)
	n, err := atou(v)
	if err != nil {
		return 0, newError(0, "", v, err)
	}
	return n, nil
}

// ParseLimit parses a limit file: "max" or a number in cgroup v2
// (memory.max, memory.high, memory.swap.max, pids.max; cgroup-v2.rst), "-1"
// or a number in cgroup v1 (memory.limit_in_bytes,
// memory.memsw.limit_in_bytes; cgroup-v1/memory.rst; pids.max,
// cgroup-v1/pids.rst). "max", "-1" and numbers >= the v1 page-counter
// maximum (see V1Unlimited) are sample.Unlimited; other numbers are
// sample.LimitOf(n). An optional trailing "\n" is allowed.
func ParseLimit(b []byte) (sample.Limit, error) {
	v := trimNL(b)
	switch string(v) {
	case "max", "-1":
		return sample.Unlimited, nil
	}
	n, err := atou(v)
	if err != nil {
		return sample.Limit{}, newError(0, "", v, err)
	}
	if n >= unlimitedFrom {
		return sample.Unlimited, nil
	}
	return sample.LimitOf(n), nil
}

// ParseCPUMax parses the cgroup v2 cpu.max file, "$MAX $PERIOD" with $MAX
// "max" or a quota in microseconds (cgroup-v2.rst, "CPU Interface Files"):
// "max 100000" gives (sample.Unlimited, 100000), "50000 100000" gives
// (sample.LimitOf(50000), 100000).
func ParseCPUMax(b []byte) (quota sample.Limit, periodUs uint64, err error) {
	v := trimNL(b)
	i := bytes.IndexByte(v, ' ')
	if i < 0 {
		return sample.Limit{}, 0, newError(0, "period", nil, ErrMissing)
	}
	q, p := v[:i], v[i+1:]
	if string(q) == "max" {
		quota = sample.Unlimited
	} else {
		n, err := atou(q)
		if err != nil {
			return sample.Limit{}, 0, newError(0, "quota", q, err)
		}
		quota = sample.LimitOf(n)
	}
	periodUs, err = atou(p)
	if err != nil {
		return sample.Limit{}, 0, newError(0, "period", p, err)
	}
	return quota, periodUs, nil
}

// ParseCFSQuota parses the cgroup v1 cpu.cfs_quota_us file
// (Documentation/scheduler/sched-bwc.rst): "-1" is sample.Unlimited, a
// number is the quota in microseconds per period.
func ParseCFSQuota(b []byte) (sample.Limit, error) {
	v := trimNL(b)
	if string(v) == "-1" {
		return sample.Unlimited, nil
	}
	n, err := atou(v)
	if err != nil {
		return sample.Limit{}, newError(0, "", v, err)
	}
	return sample.LimitOf(n), nil
}

// CountLines counts the non-empty lines of b: the number of processes in
// cgroup.procs or of threads in tasks / cgroup.threads (cgroup-v2.rst, "Core
// Interface Files"; cgroup-v1/cgroups.rst) when the pids controller is not
// there.
func CountLines(b []byte) uint64 {
	var n uint64
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return n + 1
		}
		if i > 0 {
			n++
		}
		b = b[i+1:]
	}
	return n
}
