package cgroup

import (
	"github.com/cgmon/cgmon/internal/rootfs"
)

// fileKind names one file cgmon reads per cgroup; the parser is chosen by it.
type fileKind uint8

const (
	fileCpuacctUsage fileKind = iota // v1 cpuacct.usage
	fileCpuacctStat                  // v1 cpuacct.stat
	fileCPUStat                      // cpu.stat: v1 throttling; v2 usage and throttling
	fileCFSQuota                     // v1 cpu.cfs_quota_us (limit)
	fileCFSPeriod                    // v1 cpu.cfs_period_us (limit)
	fileCPUMax                       // v2 cpu.max (limit)
	fileMemUsage                     // memory.usage_in_bytes / memory.current
	fileMemStat                      // memory.stat
	fileMemPeak                      // memory.max_usage_in_bytes / memory.peak
	fileMemSwap                      // v1 memory.memsw.usage_in_bytes / v2 memory.swap.current
	fileMemFailcnt                   // v1 memory.failcnt
	fileMemEvents                    // v2 memory.events
	fileOOMControl                   // v1 memory.oom_control
	fileMemLimit                     // memory.limit_in_bytes / memory.max (limit)
	fileMemSwapLimit                 // v1 memory.memsw.limit_in_bytes / v2 memory.swap.max (limit)
	fileIOStat                       // v2 io.stat
	fileBlkioBytes                   // v1 blkio.*io_service_bytes*
	fileBlkioOps                     // v1 blkio.*io_serviced*
	filePidsCurrent                  // pids.current
	filePidsMax                      // pids.max (limit)
	fileProcs                        // cgroup.procs, counted when there is no pids controller
	filePSICPU                       // cpu.pressure
	filePSIMemory                    // memory.pressure
	filePSIIO                        // io.pressure
)

// fileSpec is one file of the plan.
type fileSpec struct {
	kind      fileKind
	hierarchy int    // index into Layout.Hierarchies
	name      string // file name inside the cgroup directory
	limit     bool   // a limit: re-read every few cycles, not every cycle
}

// plan is the list of files read for every cgroup on this layout. It is
// fixed when the layout is detected, so the hot path never decides twice.
type plan struct {
	files []fileSpec
	v2mem bool // memory files are cgroup2's
}

// makePlan decides which files to read, where more than one would do.
func makePlan(root rootfs.Root, l *Layout) plan {
	var p plan
	add := func(kind fileKind, h int, name string, limit bool) {
		p.files = append(p.files, fileSpec{kind: kind, hierarchy: h, name: name, limit: limit})
	}
	has := func(h *Hierarchy, name string) bool {
		_, err := root.ReadFile(h.MountPoint + "/" + name)
		return err == nil
	}
	ui, unified := l.unified()

	// CPU usage. The total comes from cpuacct.usage, the scheduler's exact
	// runtime that systemd-cgtop reads too; the user/system split of
	// cpuacct.stat and cpuacct.usage_all is sampled at ticks, and on recent
	// kernels their sum is several percent away from the total.
	if i, h := l.controller("cpuacct"); h != nil && !h.V2 {
		add(fileCpuacctUsage, i, "cpuacct.usage", false)
		add(fileCpuacctStat, i, "cpuacct.stat", false)
	}
	// cpu.stat: throttling on v1; usage and throttling on v2, where it exists
	// in every cgroup even without the cpu controller.
	if i, h := l.controller("cpu"); h != nil && !h.V2 {
		add(fileCPUStat, i, "cpu.stat", false)
		add(fileCFSQuota, i, "cpu.cfs_quota_us", true)
		add(fileCFSPeriod, i, "cpu.cfs_period_us", true)
	} else if unified != nil {
		add(fileCPUStat, ui, "cpu.stat", false)
		if unified.Has("cpu") {
			add(fileCPUMax, ui, "cpu.max", true)
		}
	}

	// Memory.
	if i, h := l.controller("memory"); h != nil {
		if h.V2 {
			p.v2mem = true
			add(fileMemUsage, i, "memory.current", false)
			add(fileMemStat, i, "memory.stat", false)
			add(fileMemPeak, i, "memory.peak", false)
			add(fileMemSwap, i, "memory.swap.current", false)
			add(fileMemEvents, i, "memory.events", false)
			add(fileMemLimit, i, "memory.max", true)
			add(fileMemSwapLimit, i, "memory.swap.max", true)
		} else {
			add(fileMemUsage, i, "memory.usage_in_bytes", false)
			add(fileMemStat, i, "memory.stat", false)
			add(fileMemPeak, i, "memory.max_usage_in_bytes", false)
			if has(h, "memory.memsw.usage_in_bytes") {
				add(fileMemSwap, i, "memory.memsw.usage_in_bytes", false)
				add(fileMemSwapLimit, i, "memory.memsw.limit_in_bytes", true)
			}
			add(fileMemFailcnt, i, "memory.failcnt", false)
			add(fileOOMControl, i, "memory.oom_control", false)
			add(fileMemLimit, i, "memory.limit_in_bytes", true)
		}
	}

	// IO.
	if i, h := l.controller("io"); h != nil && h.V2 {
		add(fileIOStat, i, "io.stat", false)
	} else if i, h := l.controller("blkio"); h != nil {
		// The throttle layer counts every bio a cgroup submits, whatever the
		// scheduler; the io_service files exist only with CFQ or BFQ and
		// count only requests that scheduler saw.
		for _, pair := range [][2]string{
			{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
			{"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"},
			{"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"},
			{"blkio.io_service_bytes", "blkio.io_serviced"},
		} {
			if has(h, pair[0]) {
				add(fileBlkioBytes, i, pair[0], false)
				add(fileBlkioOps, i, pair[1], false)
				break
			}
		}
	}

	// Tasks.
	if i, h := l.controller("pids"); h != nil {
		add(filePidsCurrent, i, "pids.current", false)
		add(filePidsMax, i, "pids.max", true)
	} else if unified != nil {
		add(fileProcs, ui, "cgroup.procs", false)
	} else if i, h := l.controller("name=systemd"); h != nil {
		add(fileProcs, i, "cgroup.procs", false)
	} else if len(l.Hierarchies) > 0 {
		add(fileProcs, 0, "cgroup.procs", false)
	}

	// Pressure: cgroup2 only, in hybrid mode too.
	if unified != nil {
		add(filePSICPU, ui, "cpu.pressure", false)
		add(filePSIMemory, ui, "memory.pressure", false)
		add(filePSIIO, ui, "io.pressure", false)
	}
	return p
}

// hierarchiesUsed returns the indexes of the hierarchies the plan reads;
// only those are walked.
func (p *plan) hierarchiesUsed(n int) []int {
	used := make([]bool, n)
	for _, f := range p.files {
		used[f.hierarchy] = true
	}
	var out []int
	for i, u := range used {
		if u {
			out = append(out, i)
		}
	}
	return out
}
