package use

import (
	"strconv"

	"github.com/cgmon/cgmon/internal/model"
)

// The figures and their thresholds. docs/readme-use.md lists them; keep the
// two together.
var (
	cpuUtil      = spec{"cpu.utilization", "cpu", Utilization, "%", 90, 98, 10, "CPU utilization"}
	cpuCoreUtil  = spec{"cpu.%s.utilization", "cpu", Utilization, "%", 95, 0, -1, "CPU %s utilization"}
	cpuSteal     = spec{"cpu.steal", "cpu", Saturation, "%", 10, 30, 5, "CPU steal"}
	cpuRunQueue  = spec{"cpu.run_queue", "cpu", Saturation, "per CPU", 2, 4, 1, "run queue"}
	cpuLoad      = spec{"cpu.load1_per_cpu", "cpu", Saturation, "per CPU", 2, 4, 1, "load average"}
	cpuPSI       = spec{"cpu.pressure", "cpu", Saturation, "%", 25, 50, 10, "CPU pressure"}
	cpuMCE       = spec{"cpu.machine_checks", "cpu", Errors, "", anyPositive, anyPositive, -1, "machine checks"}
	memUtil      = spec{"memory.utilization", "memory", Utilization, "%", 90, 95, 10, "memory used"}
	swapUtil     = spec{"memory.swap_utilization", "memory", Utilization, "%", 80, 95, 10, "swap used"}
	memSwapIn    = spec{"memory.swap_in", "memory", Saturation, "pages/s", 10, 1000, 10, "swap-in"}
	memSwapOut   = spec{"memory.swap_out", "memory", Saturation, "pages/s", 10, 1000, 10, "swap-out"}
	memMajFault  = spec{"memory.major_faults", "memory", Saturation, "/s", 1000, 10000, 500, "major faults"}
	memScan      = spec{"memory.direct_scan", "memory", Saturation, "pages/s", anyPositive, 10000, 100, "direct reclaim scan"}
	memPSI       = spec{"memory.pressure", "memory", Saturation, "%", 10, 30, 5, "memory pressure"}
	memPSIFull   = spec{"memory.pressure_full", "memory", Saturation, "%", 5, 20, 5, "memory full pressure"}
	memOOM       = spec{"memory.oom_kills", "memory", Errors, "", anyPositive, anyPositive, -1, "OOM kills"}
	memECC       = spec{"memory.ecc_corrected", "memory", Errors, "", anyPositive, 0, -1, "corrected memory errors"}
	memECCFatal  = spec{"memory.ecc_uncorrected", "memory", Errors, "", anyPositive, anyPositive, -1, "uncorrected memory errors"}
	diskErrors   = spec{"storage.%s.io_errors", "storage", Errors, "", anyPositive, anyPositive, -1, "disk %s I/O errors"}
	diskUtil     = spec{"storage.%s.utilization", "storage", Utilization, "%", 80, 95, 20, "disk %s utilization"}
	diskQueue    = spec{"storage.%s.queue_size", "storage", Saturation, "", 4, 16, 4, "disk %s queue size"}
	diskAwait    = spec{"storage.%s.await", "storage", Saturation, "ms", 50, 500, 5, "disk %s await"}
	ioPSI        = spec{"storage.pressure", "storage", Saturation, "%", 25, 50, 10, "IO pressure"}
	ioPSIFull    = spec{"storage.pressure_full", "storage", Saturation, "%", 10, 30, 10, "IO full pressure"}
	fsSpace      = spec{"storage.fs.%s.space", "storage", Utilization, "%", 85, 95, 5, "filesystem %s space used"}
	fsInodes     = spec{"storage.fs.%s.inodes", "storage", Utilization, "%", 85, 95, 5, "filesystem %s inodes used"}
	netUtil      = spec{"network.%s.utilization", "network", Utilization, "%", 80, 95, 20, "interface %s utilization"}
	netDrops     = spec{"network.%s.drops", "network", Saturation, "/s", 1, 100, 5, "interface %s drops"}
	netErrors    = spec{"network.%s.errors", "network", Errors, "/s", anyPositive, 10, -1, "interface %s errors"}
	tcpRetrans   = spec{"network.tcp.retransmits", "network", Saturation, "%", 2, 10, 2, "TCP retransmits"}
	udpErrors    = spec{"network.udp.errors", "network", Errors, "/s", anyPositive, 100, -1, "UDP errors"}
	cgCPUQuota   = spec{"cgroups.%s.cpu_quota_utilization", "cgroup", Utilization, "%", 80, 95, -1, ""}
	cgMemLimit   = spec{"cgroups.%s.memory_limit_utilization", "cgroup", Utilization, "%", 90, 98, -1, ""}
	cgThrottled  = spec{"cgroups.%s.throttled", "cgroup", Saturation, "%", 10, 50, -1, ""}
	cgCPUPSI     = spec{"cgroups.%s.cpu_pressure", "cgroup", Saturation, "%", 25, 50, -1, ""}
	cgMemPSI     = spec{"cgroups.%s.memory_pressure", "cgroup", Saturation, "%", 10, 30, -1, ""}
	cgIOPSI      = spec{"cgroups.%s.io_pressure", "cgroup", Saturation, "%", 25, 50, -1, ""}
	cgOOM        = spec{"cgroups.%s.oom_kills", "cgroup", Errors, "", anyPositive, anyPositive, -1, ""}
	minTCPSegsPS = 100.0 // below this many segments/s a retransmit share says nothing
)

func cpuChecks(c *collector, h *model.Host) {
	cpu := &h.CPU
	c.add(cpuUtil, "", cpu.UtilizationPercent)
	for _, core := range cpu.PerCPU {
		c.add(cpuCoreUtil, "cpu"+strconv.Itoa(core.CPU), core.UtilizationPercent)
	}
	c.add(cpuSteal, "", cpu.StealPercent)
	c.add(cpuRunQueue, "", cpu.RunQueuePerCPU)
	if cpu.Load1.OK && cpu.Count.OK && cpu.Count.V > 0 {
		c.add(cpuLoad, "", model.Float{V: cpu.Load1.V / float64(cpu.Count.V), OK: true})
	}
	c.add(cpuPSI, "", psiPercent(h.PSI.CPU.Some))
	c.add(cpuMCE, "", countFloat(cpu.MachineChecks))
}

func memoryChecks(c *collector, h *model.Host) {
	m := &h.Memory
	c.add(memUtil, "", m.UsedPercent)
	c.add(swapUtil, "", m.SwapUsedPercent)
	c.add(memSwapIn, "", m.SwapInPagesPerSecond)
	c.add(memSwapOut, "", m.SwapOutPagesPerSecond)
	c.add(memMajFault, "", m.MajorFaultsPerSecond)
	c.add(memScan, "", m.DirectScanPagesPerSecond)
	c.add(memPSI, "", psiPercent(h.PSI.Memory.Some))
	c.add(memPSIFull, "", psiPercent(h.PSI.Memory.Full))
	c.add(memOOM, "", countFloat(m.OOMKills))
	c.add(memECC, "", countFloat(m.ECCCorrected))
	c.add(memECCFatal, "", countFloat(m.ECCUncorrected))
}

func storageChecks(c *collector, h *model.Host) {
	for i := range h.Disks {
		d := &h.Disks[i]
		c.add(diskUtil, d.Device, d.UtilizationPercent)
		c.add(diskQueue, d.Device, d.QueueSize)
		c.add(diskAwait, d.Device, d.AwaitMs)
		c.add(diskErrors, d.Device, countFloat(d.IOErrors))
	}
	c.add(ioPSI, "", psiPercent(h.PSI.IO.Some))
	c.add(ioPSIFull, "", psiPercent(h.PSI.IO.Full))
	for i := range h.Filesystems {
		f := &h.Filesystems[i]
		c.add(fsSpace, f.MountPoint, f.UsedPercent)
		c.add(fsInodes, f.MountPoint, f.InodesUsedPercent)
	}
}

func networkChecks(c *collector, h *model.Host) {
	n := &h.Network
	for i := range n.Interfaces {
		f := &n.Interfaces[i]
		c.add(netUtil, f.Interface, f.UtilizationPercent)
		c.add(netDrops, f.Interface, sum(f.RxDropsPerSecond, f.TxDropsPerSecond, f.OverrunsPerSecond))
		c.add(netErrors, f.Interface, sum(f.RxErrorsPerSecond, f.TxErrorsPerSecond))
	}
	if n.TCPOutSegmentsPerSecond.OK && n.TCPOutSegmentsPerSecond.V >= minTCPSegsPS {
		c.add(tcpRetrans, "", n.TCPRetransmitPercent)
	}
	c.add(udpErrors, "", n.UDPErrorsPerSecond)
}

// cgroupChecks asks the USE questions of each cgroup that has a limit (CPU
// quota or memory limit) — the containers: how close it runs to its limit,
// how often it is throttled, its pressure; and of every cgroup whether the
// OOM killer struck in this interval. Cgroups get statuses, not baselines:
// thousands of short-lived cgroups would cost more than they tell.
func (a *Analyzer) cgroupChecks(c *collector, s *model.Snapshot) {
	oom := make(map[string]uint64, len(a.prevOOM))
	for i := range s.Cgroups {
		g := &s.Cgroups[i]
		cpuLimited, memLimited := g.CPU.LimitCores.Set() && g.CPU.LimitCores.V > 0, g.Memory.LimitBytes.Set() && g.Memory.LimitBytes.V > 0
		if g.Memory.OOMKillsTotal.OK {
			oom[g.Path] = g.Memory.OOMKillsTotal.V
			// A kill is reported for any cgroup; a quiet 0 only for the
			// limited ones, or thousands of rows would say nothing.
			if p, ok := a.prevOOM[g.Path]; ok && g.Memory.OOMKillsTotal.V >= p && (memLimited || g.Memory.OOMKillsTotal.V > p) {
				c.add(cgOOM, g.Path, model.Float{V: float64(g.Memory.OOMKillsTotal.V - p), OK: true})
			}
		}
		if !cpuLimited && !memLimited {
			continue
		}
		if cpuLimited && g.CPU.Percent.OK {
			c.add(cgCPUQuota, g.Path, model.Float{V: g.CPU.Percent.V / g.CPU.LimitCores.V, OK: true})
			c.add(cgThrottled, g.Path, g.CPU.ThrottledPercent)
		}
		if memLimited {
			// Against the working set when known: page cache fills any
			// limit and is reclaimed before the OOM killer runs.
			used := g.Memory.WorkingSetBytes
			if !used.OK {
				used = g.Memory.UsageBytes
			}
			if used.OK {
				c.add(cgMemLimit, g.Path, model.Float{V: float64(used.V) / g.Memory.LimitBytes.V * 100, OK: true})
			}
		}
		c.add(cgCPUPSI, g.Path, psiPercent(g.PSI.CPU.Some))
		c.add(cgMemPSI, g.Path, psiPercent(g.PSI.Memory.Some))
		c.add(cgIOPSI, g.Path, psiPercent(g.PSI.IO.Some))
	}
	a.prevOOM = oom
}

// psiPercent is the stall share over the snapshot's interval, or the
// kernel's 10-second average in the first snapshot.
func psiPercent(l model.PSILine) model.Float {
	if !l.OK {
		return model.Float{}
	}
	if l.Percent.OK {
		return l.Percent
	}
	return model.Float{V: l.Avg10, OK: true}
}

func countFloat(c model.Count) model.Float { return model.Float{V: float64(c.V), OK: c.OK} }

// sum adds the present values; absent when none is.
func sum(vs ...model.Float) model.Float {
	var out model.Float
	for _, v := range vs {
		if v.OK {
			out.V += v.V
			out.OK = true
		}
	}
	return out
}
