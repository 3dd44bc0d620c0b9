package model

import (
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// Host is the host-wide USE view (utilization, saturation, errors of CPU,
// memory, storage and network), built by BuildHost from two host samples.
// Percentages of CPU here are shares of all the host's CPUs (0–100), as
// mpstat and sar show them, not systemd-cgtop's 100-per-CPU. Checks, the
// status and anomaly flags of each figure, are added by internal/use before
// the snapshot is published.
type Host struct {
	CPU         HostCPU          `json:"cpu"`
	Memory      HostMemory       `json:"memory"`
	PSI         Pressure         `json:"psi,omitzero"`
	Disks       []HostDisk       `json:"disks,omitempty"`
	Filesystems []HostFilesystem `json:"filesystems,omitempty"`
	Network     HostNetwork      `json:"network"`
	Checks      []Check          `json:"checks,omitempty"`
}

// HostCPU is /proc/stat, /proc/loadavg and the MCE line of /proc/interrupts.
type HostCPU struct {
	Count Count `json:"count,omitzero"` // online CPUs (cpuN lines)
	CPUTimesPercent
	PerCPU       []HostCPUCore `json:"per_cpu,omitempty"`
	ProcsRunning Count         `json:"procs_running,omitzero"`
	ProcsBlocked Count         `json:"procs_blocked,omitzero"`
	// RunQueuePerCPU is (procs_running − 1) / CPUs: the reader itself is
	// running while it reads /proc/stat, so one is not counted. Above 1,
	// tasks wait for a CPU.
	RunQueuePerCPU Float `json:"run_queue_per_cpu,omitzero"`
	Load1          Float `json:"load1,omitzero"`
	Load5          Float `json:"load5,omitzero"`
	Load15         Float `json:"load15,omitzero"`
	// MachineChecksTotal is the machine check exceptions since boot;
	// MachineChecks those in this interval. Absent where the kernel has no
	// MCE line in /proc/interrupts.
	MachineChecksTotal Count `json:"machine_checks_total,omitzero"`
	MachineChecks      Count `json:"machine_checks,omitzero"`
}

// CPUTimesPercent splits the interval's CPU time, as mpstat does: each is
// Δfield / Δ(sum of all fields) × 100. Utilization is 100 − idle − iowait.
type CPUTimesPercent struct {
	UtilizationPercent Float `json:"utilization_percent,omitzero"`
	UserPercent        Float `json:"user_percent,omitzero"`
	NicePercent        Float `json:"nice_percent,omitzero"`
	SystemPercent      Float `json:"system_percent,omitzero"`
	IRQPercent         Float `json:"irq_percent,omitzero"`
	SoftIRQPercent     Float `json:"softirq_percent,omitzero"`
	IOWaitPercent      Float `json:"iowait_percent,omitzero"`
	StealPercent       Float `json:"steal_percent,omitzero"`
	IdlePercent        Float `json:"idle_percent,omitzero"`
}

// HostCPUCore is one CPU.
type HostCPUCore struct {
	CPU int `json:"cpu"`
	CPUTimesPercent
}

// HostMemory is /proc/meminfo and /proc/vmstat.
type HostMemory struct {
	TotalBytes     Count `json:"total_bytes,omitzero"`
	AvailableBytes Count `json:"available_bytes,omitzero"`
	// UsedBytes is total − available, as free(1) of procps ≥ 4 shows it.
	UsedBytes       Count `json:"used_bytes,omitzero"`
	UsedPercent     Float `json:"used_percent,omitzero"`
	SwapTotalBytes  Count `json:"swap_total_bytes,omitzero"`
	SwapUsedBytes   Count `json:"swap_used_bytes,omitzero"`
	SwapUsedPercent Float `json:"swap_used_percent,omitzero"`
	// Rates per second over the interval (pages are the kernel's pages).
	SwapInPagesPerSecond        Float `json:"swap_in_pages_per_second,omitzero"`
	SwapOutPagesPerSecond       Float `json:"swap_out_pages_per_second,omitzero"`
	MajorFaultsPerSecond        Float `json:"major_faults_per_second,omitzero"`
	DirectScanPagesPerSecond    Float `json:"direct_scan_pages_per_second,omitzero"`
	DirectReclaimPagesPerSecond Float `json:"direct_reclaim_pages_per_second,omitzero"`
	AllocStallsPerSecond        Float `json:"alloc_stalls_per_second,omitzero"`
	// OOMKillsTotal is vmstat oom_kill (kernel ≥ 4.13); OOMKills those in
	// this interval.
	OOMKillsTotal Count `json:"oom_kills_total,omitzero"`
	OOMKills      Count `json:"oom_kills,omitzero"`
	// ECC errors counted by the EDAC memory controllers since boot, and in
	// this interval; absent without EDAC.
	ECCCorrectedTotal   Count `json:"ecc_corrected_total,omitzero"`
	ECCUncorrectedTotal Count `json:"ecc_uncorrected_total,omitzero"`
	ECCCorrected        Count `json:"ecc_corrected,omitzero"`
	ECCUncorrected      Count `json:"ecc_uncorrected,omitzero"`
}

// HostDisk is one whole disk of /proc/diskstats, with iostat -x's figures.
type HostDisk struct {
	Device string `json:"device"`
	Major  uint32 `json:"major"`
	Minor  uint32 `json:"minor"`
	// UtilizationPercent is Δio_ticks / Δwall: the share of time with at
	// least one I/O in flight (iostat %util).
	UtilizationPercent Float `json:"utilization_percent,omitzero"`
	// QueueSize is Δweighted ticks / Δwall: the average number of I/Os in
	// flight (iostat aqu-sz).
	QueueSize Float `json:"queue_size,omitzero"`
	// AwaitMs is Δ(read+write+discard ticks) / Δ(read+write+discard I/Os):
	// the average time an I/O took, queueing included (iostat await).
	// Absent in an interval without I/O.
	AwaitMs             Float  `json:"await_ms,omitzero"`
	ReadOpsPerSecond    Float  `json:"read_ops_per_second,omitzero"`
	WriteOpsPerSecond   Float  `json:"write_ops_per_second,omitzero"`
	ReadBytesPerSecond  Float  `json:"read_bytes_per_second,omitzero"`
	WriteBytesPerSecond Float  `json:"write_bytes_per_second,omitzero"`
	InFlight            uint64 `json:"in_flight"`
	ReadOpsTotal        uint64 `json:"read_ops_total"`
	WriteOpsTotal       uint64 `json:"write_ops_total"`
	ReadBytesTotal      uint64 `json:"read_bytes_total"`
	WriteBytesTotal     uint64 `json:"write_bytes_total"`
	// IOErrorsTotal is the SCSI layer's count of commands that failed
	// (ioerr_cnt), IOErrors those in this interval; absent for disks that
	// are not SCSI.
	IOErrorsTotal Count `json:"io_errors_total,omitzero"`
	IOErrors      Count `json:"io_errors,omitzero"`
}

// HostFilesystem is one mounted filesystem, as df shows it.
type HostFilesystem struct {
	MountPoint     string `json:"mount_point"`
	Device         string `json:"device"`
	FSType         string `json:"fs_type"`
	SizeBytes      uint64 `json:"size_bytes"`
	UsedBytes      uint64 `json:"used_bytes"`
	AvailableBytes uint64 `json:"available_bytes"`
	// UsedPercent is used / (used + available) × 100, rounded up as df's
	// Use%: the blocks reserved for root count as unavailable.
	UsedPercent       Float `json:"used_percent,omitzero"`
	InodesTotal       Count `json:"inodes_total,omitzero"`
	InodesUsed        Count `json:"inodes_used,omitzero"`
	InodesUsedPercent Float `json:"inodes_used_percent,omitzero"`
}

// HostNetwork is /proc/net/dev, /sys/class/net/IF/speed and /proc/net/snmp.
type HostNetwork struct {
	Interfaces              []HostInterface `json:"interfaces,omitempty"`
	TCPOutSegmentsPerSecond Float           `json:"tcp_out_segments_per_second,omitzero"`
	TCPRetransmitsPerSecond Float           `json:"tcp_retransmits_per_second,omitzero"`
	TCPRetransmitPercent    Float           `json:"tcp_retransmit_percent,omitzero"`
	TCPInErrorsPerSecond    Float           `json:"tcp_in_errors_per_second,omitzero"`
	UDPErrorsPerSecond      Float           `json:"udp_errors_per_second,omitzero"`
}

// HostInterface is one network interface.
type HostInterface struct {
	Interface string `json:"interface"`
	// SpeedBitsPerSecond is the link speed; absent when the kernel does
	// not know it (virtual and down links), and then so is utilization.
	SpeedBitsPerSecond Count `json:"speed_bits_per_second,omitzero"`
	RxBytesPerSecond   Float `json:"rx_bytes_per_second,omitzero"`
	TxBytesPerSecond   Float `json:"tx_bytes_per_second,omitzero"`
	// UtilizationPercent is the busier direction's bits/s against the link
	// speed (links are full duplex).
	UtilizationPercent Float  `json:"utilization_percent,omitzero"`
	RxPacketsPerSecond Float  `json:"rx_packets_per_second,omitzero"`
	TxPacketsPerSecond Float  `json:"tx_packets_per_second,omitzero"`
	RxDropsPerSecond   Float  `json:"rx_drops_per_second,omitzero"`
	TxDropsPerSecond   Float  `json:"tx_drops_per_second,omitzero"`
	RxErrorsPerSecond  Float  `json:"rx_errors_per_second,omitzero"`
	TxErrorsPerSecond  Float  `json:"tx_errors_per_second,omitzero"`
	OverrunsPerSecond  Float  `json:"overruns_per_second,omitzero"`
	RxBytesTotal       uint64 `json:"rx_bytes_total"`
	TxBytesTotal       uint64 `json:"tx_bytes_total"`
	RxDropsTotal       uint64 `json:"rx_drops_total"`
	TxDropsTotal       uint64 `json:"tx_drops_total"`
	RxErrorsTotal      uint64 `json:"rx_errors_total"`
	TxErrorsTotal      uint64 `json:"tx_errors_total"`
}

// Check is one USE figure with its status and, when it stands far outside
// its recent baseline, an anomaly in words.
type Check struct {
	// Name is the figure's hierarchical name below <base>.<hostname>:
	// "resources.cpu.utilization", "resources.storage.vda.await".
	Name     string  `json:"name"`
	Resource string  `json:"resource"` // cpu, memory, storage, network, cgroup
	Kind     string  `json:"kind"`     // utilization, saturation or errors
	Subject  string  `json:"subject,omitempty"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Status   string  `json:"status"` // ok, warning or critical
	Reason   string  `json:"reason,omitempty"`
	Anomaly  string  `json:"anomaly,omitempty"`
}

// BuildHost turns a host sample into the host view, with rates against the
// previous sample (nil for none: only gauges and totals then). It does no
// I/O and keeps no reference to either sample.
func BuildHost(prev, cur *hostfs.Sample) *Host {
	h := &Host{}
	var sec float64
	if prev != nil {
		sec = cur.Time.Sub(prev.Time).Seconds()
		if sec <= 0 {
			prev = nil
		}
	}
	buildHostCPU(&h.CPU, prev, cur)
	buildHostMemory(&h.Memory, prev, cur, sec)
	h.PSI = Pressure{CPU: psiOf(&cur.Pressure.CPU), Memory: psiOf(&cur.Pressure.Memory), IO: psiOf(&cur.Pressure.IO)}
	if prev != nil {
		// The PSI rates are a cgroup's: reuse them on a cgroup-shaped value.
		c := Cgroup{PSI: h.PSI}
		Rates(&sample.Cgroup{Pressure: prev.Pressure}, &sample.Cgroup{Pressure: cur.Pressure}, cur.Time.Sub(prev.Time)).apply(&c)
		h.PSI = c.PSI
	}
	buildHostDisks(h, prev, cur, sec)
	for _, f := range cur.Filesystems {
		h.Filesystems = append(h.Filesystems, hostFilesystemOf(f))
	}
	buildHostNetwork(&h.Network, prev, cur, sec)
	return h
}

func buildHostCPU(c *HostCPU, prev, cur *hostfs.Sample) {
	if n := len(cur.Stat.CPUs); n > 0 {
		c.Count = Count{V: uint64(n), OK: true}
	}
	c.ProcsRunning = countOf(cur.Stat.ProcsRunning)
	c.ProcsBlocked = countOf(cur.Stat.ProcsBlocked)
	if c.ProcsRunning.OK && c.Count.OK {
		others := max(c.ProcsRunning.V, 1) - 1
		c.RunQueuePerCPU = floatOf(float64(others) / float64(c.Count.V))
	}
	if cur.HasLoadavg {
		c.Load1, c.Load5, c.Load15 = floatOf(cur.Loadavg.Load1), floatOf(cur.Loadavg.Load5), floatOf(cur.Loadavg.Load15)
	}
	c.MachineChecksTotal = countOf(cur.MachineChecks)
	if prev == nil {
		return
	}
	c.MachineChecks = countDelta(prev.MachineChecks, cur.MachineChecks)
	if prev.Stat.HasAll && cur.Stat.HasAll {
		c.CPUTimesPercent = cpuPercent(prev.Stat.All, cur.Stat.All)
	}
	for _, cc := range cur.Stat.CPUs {
		for _, pc := range prev.Stat.CPUs {
			if pc.ID == cc.ID {
				c.PerCPU = append(c.PerCPU, HostCPUCore{CPU: cc.ID, CPUTimesPercent: cpuPercent(pc.CPUTimes, cc.CPUTimes)})
				break
			}
		}
	}
}

// cpuPercent is mpstat's split of one CPU's interval. A counter that went
// back (a CPU taken offline and back) leaves everything absent.
func cpuPercent(p, c hostfs.CPUTimes) CPUTimesPercent {
	var out CPUTimesPercent
	pf := [...]uint64{p.User, p.Nice, p.System, p.IRQ, p.SoftIRQ, p.IOWait, p.Steal, p.Idle}
	cf := [...]uint64{c.User, c.Nice, c.System, c.IRQ, c.SoftIRQ, c.IOWait, c.Steal, c.Idle}
	var d [8]float64
	if !deltas(pf[:], cf[:], d[:]) {
		return out
	}
	var total float64
	for _, v := range d {
		total += v
	}
	if total == 0 {
		return out
	}
	pct := func(v float64) Float { return floatOf(v / total * 100) }
	out.UserPercent, out.NicePercent, out.SystemPercent = pct(d[0]), pct(d[1]), pct(d[2])
	out.IRQPercent, out.SoftIRQPercent, out.IOWaitPercent = pct(d[3]), pct(d[4]), pct(d[5])
	out.StealPercent, out.IdlePercent = pct(d[6]), pct(d[7])
	out.UtilizationPercent = pct(total - d[5] - d[7])
	return out
}

func buildHostMemory(m *HostMemory, prev, cur *hostfs.Sample, sec float64) {
	mi := &cur.Meminfo
	m.TotalBytes, m.AvailableBytes = countOf(mi.MemTotal), countOf(mi.MemAvailable)
	if mi.MemTotal.OK && mi.MemAvailable.OK && mi.MemTotal.V >= mi.MemAvailable.V {
		m.UsedBytes = Count{V: mi.MemTotal.V - mi.MemAvailable.V, OK: true}
		if mi.MemTotal.V > 0 {
			m.UsedPercent = floatOf(float64(m.UsedBytes.V) / float64(mi.MemTotal.V) * 100)
		}
	}
	m.SwapTotalBytes = countOf(mi.SwapTotal)
	if mi.SwapTotal.OK && mi.SwapFree.OK && mi.SwapTotal.V >= mi.SwapFree.V {
		m.SwapUsedBytes = Count{V: mi.SwapTotal.V - mi.SwapFree.V, OK: true}
		if mi.SwapTotal.V > 0 {
			m.SwapUsedPercent = floatOf(float64(m.SwapUsedBytes.V) / float64(mi.SwapTotal.V) * 100)
		}
	}
	m.OOMKillsTotal = countOf(cur.Vmstat.OOMKill)
	m.ECCCorrectedTotal, m.ECCUncorrectedTotal = countOf(cur.MemoryCorrected), countOf(cur.MemoryUncorrected)
	if prev == nil {
		return
	}
	m.ECCCorrected = countDelta(prev.MemoryCorrected, cur.MemoryCorrected)
	m.ECCUncorrected = countDelta(prev.MemoryUncorrected, cur.MemoryUncorrected)
	pv, cv := &prev.Vmstat, &cur.Vmstat
	rate := func(p, c sample.Value) Float { return perSecond(p, c, sec) }
	m.SwapInPagesPerSecond = rate(pv.PswpIn, cv.PswpIn)
	m.SwapOutPagesPerSecond = rate(pv.PswpOut, cv.PswpOut)
	m.MajorFaultsPerSecond = rate(pv.PgMajFault, cv.PgMajFault)
	m.DirectScanPagesPerSecond = rate(pv.PgScanDirect, cv.PgScanDirect)
	m.DirectReclaimPagesPerSecond = rate(pv.PgStealDirect, cv.PgStealDirect)
	m.AllocStallsPerSecond = rate(pv.AllocStall, cv.AllocStall)
	m.OOMKills = countDelta(pv.OOMKill, cv.OOMKill)
}

const sectorBytes = 512

func buildHostDisks(h *Host, prev, cur *hostfs.Sample, sec float64) {
	for i := range cur.Disks {
		c := &cur.Disks[i]
		d := HostDisk{Device: c.Name, Major: c.Major, Minor: c.Minor, InFlight: c.InFlight,
			ReadOpsTotal: c.ReadIOs, WriteOpsTotal: c.WriteIOs,
			ReadBytesTotal: c.ReadSectors * sectorBytes, WriteBytesTotal: c.WriteSectors * sectorBytes}
		if i < len(cur.DiskIOErrors) {
			d.IOErrorsTotal = countOf(cur.DiskIOErrors[i])
		}
		if p, pi := findDisk(prev, c); p != nil {
			diskRates(&d, p, c, sec)
			if i < len(cur.DiskIOErrors) && pi < len(prev.DiskIOErrors) {
				d.IOErrors = countDelta(prev.DiskIOErrors[pi], cur.DiskIOErrors[i])
			}
		}
		h.Disks = append(h.Disks, d)
	}
}

func findDisk(prev *hostfs.Sample, c *hostfs.Disk) (*hostfs.Disk, int) {
	if prev == nil {
		return nil, -1
	}
	for i := range prev.Disks {
		p := &prev.Disks[i]
		if p.Major == c.Major && p.Minor == c.Minor && p.Name == c.Name {
			return p, i
		}
	}
	return nil, -1
}

// diskRates computes iostat -x's figures (sysstat's compute_ext_disk_stats):
// %util = Δio_ticks / Δms × 100, aqu-sz = Δweighted ticks / Δms,
// await = Δ(rd+wr+dc ticks) / Δ(rd+wr+dc I/Os). A counter that went back
// (the device was replaced) leaves the rates absent.
func diskRates(d *HostDisk, p, c *hostfs.Disk, sec float64) {
	pf := [...]uint64{p.ReadIOs, p.WriteIOs, p.DiscardIOs, p.ReadSectors, p.WriteSectors, p.ReadTicks, p.WriteTicks, p.DiscardTicks, p.IOTicks, p.WeightedTicks}
	cf := [...]uint64{c.ReadIOs, c.WriteIOs, c.DiscardIOs, c.ReadSectors, c.WriteSectors, c.ReadTicks, c.WriteTicks, c.DiscardTicks, c.IOTicks, c.WeightedTicks}
	var dd [len(pf)]float64
	if !deltas(pf[:], cf[:], dd[:]) {
		return
	}
	ms := sec * 1000
	d.ReadOpsPerSecond, d.WriteOpsPerSecond = floatOf(dd[0]/sec), floatOf(dd[1]/sec)
	d.ReadBytesPerSecond, d.WriteBytesPerSecond = floatOf(dd[3]*sectorBytes/sec), floatOf(dd[4]*sectorBytes/sec)
	d.UtilizationPercent = floatOf(min(dd[8]/ms*100, 100))
	d.QueueSize = floatOf(dd[9] / ms)
	if ios := dd[0] + dd[1] + dd[2]; ios > 0 {
		d.AwaitMs = floatOf((dd[5] + dd[6] + dd[7]) / ios)
	}
}

func hostFilesystemOf(f hostfs.Filesystem) HostFilesystem {
	out := HostFilesystem{MountPoint: f.MountPoint, Device: f.Device, FSType: f.FSType, SizeBytes: f.SizeBytes, AvailableBytes: f.AvailBytes}
	if f.SizeBytes >= f.FreeBytes {
		out.UsedBytes = f.SizeBytes - f.FreeBytes
	}
	if denom := out.UsedBytes + f.AvailBytes; denom > 0 {
		out.UsedPercent = floatOf(float64(out.UsedBytes) / float64(denom) * 100)
	}
	if f.Inodes > 0 && f.Inodes >= f.InodesFree {
		used := f.Inodes - f.InodesFree
		out.InodesTotal, out.InodesUsed = Count{V: f.Inodes, OK: true}, Count{V: used, OK: true}
		out.InodesUsedPercent = floatOf(float64(used) / float64(f.Inodes) * 100)
	}
	return out
}

func buildHostNetwork(n *HostNetwork, prev, cur *hostfs.Sample, sec float64) {
	for i := range cur.Interfaces {
		c := &cur.Interfaces[i]
		iface := HostInterface{Interface: c.Name, RxBytesTotal: c.RxBytes, TxBytesTotal: c.TxBytes,
			RxDropsTotal: c.RxDrop, TxDropsTotal: c.TxDrop, RxErrorsTotal: c.RxErrs, TxErrorsTotal: c.TxErrs}
		if i < len(cur.Speeds) && cur.Speeds[i].Known {
			iface.SpeedBitsPerSecond = Count{V: cur.Speeds[i].Mbps * 1_000_000, OK: true}
		}
		if p := findInterface(prev, c.Name); p != nil {
			interfaceRates(&iface, p, c, sec)
		}
		n.Interfaces = append(n.Interfaces, iface)
	}
	if prev == nil {
		return
	}
	ps, cs := &prev.SNMP, &cur.SNMP
	rate := func(p, c sample.Value) Float { return perSecond(p, c, sec) }
	n.TCPOutSegmentsPerSecond = rate(ps.TCPOutSegs, cs.TCPOutSegs)
	n.TCPRetransmitsPerSecond = rate(ps.TCPRetransSegs, cs.TCPRetransSegs)
	n.TCPInErrorsPerSecond = rate(ps.TCPInErrs, cs.TCPInErrs)
	if o, r := n.TCPOutSegmentsPerSecond, n.TCPRetransmitsPerSecond; o.OK && r.OK && o.V > 0 {
		n.TCPRetransmitPercent = floatOf(r.V / o.V * 100)
	}
	var udp float64
	ok := true
	for _, pair := range [...][2]sample.Value{{ps.UDPInErrors, cs.UDPInErrors}, {ps.UDPRcvbufErrors, cs.UDPRcvbufErrors}, {ps.UDPSndbufErrors, cs.UDPSndbufErrors}} {
		d, dok := delta(pair[0], pair[1])
		ok = ok && dok
		udp += float64(d)
	}
	if ok {
		n.UDPErrorsPerSecond = floatOf(udp / sec)
	}
}

func findInterface(prev *hostfs.Sample, name string) *hostfs.NetDev {
	if prev == nil {
		return nil
	}
	for i := range prev.Interfaces {
		if prev.Interfaces[i].Name == name {
			return &prev.Interfaces[i]
		}
	}
	return nil
}

func interfaceRates(iface *HostInterface, p, c *hostfs.NetDev, sec float64) {
	pf := [...]uint64{p.RxBytes, p.TxBytes, p.RxPackets, p.TxPackets, p.RxDrop, p.TxDrop, p.RxErrs, p.TxErrs, p.RxFifo + p.TxFifo}
	cf := [...]uint64{c.RxBytes, c.TxBytes, c.RxPackets, c.TxPackets, c.RxDrop, c.TxDrop, c.RxErrs, c.TxErrs, c.RxFifo + c.TxFifo}
	var d [len(pf)]float64
	if !deltas(pf[:], cf[:], d[:]) {
		return // the interface was recreated under the same name
	}
	var r [len(pf)]Float
	for i, v := range d {
		r[i] = floatOf(v / sec)
	}
	iface.RxBytesPerSecond, iface.TxBytesPerSecond = r[0], r[1]
	iface.RxPacketsPerSecond, iface.TxPacketsPerSecond = r[2], r[3]
	iface.RxDropsPerSecond, iface.TxDropsPerSecond = r[4], r[5]
	iface.RxErrorsPerSecond, iface.TxErrorsPerSecond = r[6], r[7]
	iface.OverrunsPerSecond = r[8]
	if iface.SpeedBitsPerSecond.OK && iface.SpeedBitsPerSecond.V > 0 {
		iface.UtilizationPercent = floatOf(max(r[0].V, r[1].V) * 8 / float64(iface.SpeedBitsPerSecond.V) * 100)
	}
}

// perSecond is a counter's growth per second, absent when either reading
// is or it went back.
func perSecond(p, c sample.Value, sec float64) Float {
	if d, ok := delta(p, c); ok {
		return floatOf(float64(d) / sec)
	}
	return Float{}
}

// countDelta is the growth of a counter, absent when either reading is or
// it went back.
func countDelta(p, c sample.Value) Count {
	d, ok := delta(p, c)
	return Count{V: d, OK: ok}
}

// deltas writes cur[i] − prev[i] into out and reports whether no counter
// went backwards.
func deltas(prev, cur []uint64, out []float64) bool {
	for i := range prev {
		if cur[i] < prev[i] {
			return false
		}
		out[i] = float64(cur[i] - prev[i])
	}
	return true
}
