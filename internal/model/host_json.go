package model

// The host view's part of AppendJSON: byte for byte encoding/json's output
// for Host (json_test.go holds the two together).

import "strconv"

func (h *Host) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.key("cpu")
	f.dst = h.CPU.appendJSON(f.dst)
	f.key("memory")
	f.dst = h.Memory.appendJSON(f.dst)
	if h.PSI != (Pressure{}) {
		f.key("psi")
		f.dst = h.PSI.appendJSON(f.dst)
	}
	if len(h.Disks) > 0 {
		f.key("disks")
		f.dst = appendArray(f.dst, h.Disks, (*HostDisk).appendJSON)
	}
	if len(h.Filesystems) > 0 {
		f.key("filesystems")
		f.dst = appendArray(f.dst, h.Filesystems, (*HostFilesystem).appendJSON)
	}
	f.key("network")
	f.dst = h.Network.appendJSON(f.dst)
	if len(h.Checks) > 0 {
		f.key("checks")
		f.dst = appendArray(f.dst, h.Checks, (*Check).appendJSON)
	}
	return f.end()
}

func appendArray[T any](dst []byte, items []T, each func(*T, []byte) []byte) []byte {
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = each(&items[i], dst)
	}
	return append(dst, ']')
}

func (f *fields) str(name, v string) {
	f.key(name)
	f.dst = appendString(f.dst, v)
}

func (f *fields) strOmitEmpty(name, v string) {
	if v != "" {
		f.str(name, v)
	}
}

func (f *fields) plainInt(name string, v int) {
	f.key(name)
	f.dst = strconv.AppendInt(f.dst, int64(v), 10)
}

func (t *CPUTimesPercent) fields(f *fields) {
	f.float("utilization_percent", t.UtilizationPercent)
	f.float("user_percent", t.UserPercent)
	f.float("nice_percent", t.NicePercent)
	f.float("system_percent", t.SystemPercent)
	f.float("irq_percent", t.IRQPercent)
	f.float("softirq_percent", t.SoftIRQPercent)
	f.float("iowait_percent", t.IOWaitPercent)
	f.float("steal_percent", t.StealPercent)
	f.float("idle_percent", t.IdlePercent)
}

func (c *HostCPU) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.count("count", c.Count)
	c.CPUTimesPercent.fields(&f)
	if len(c.PerCPU) > 0 {
		f.key("per_cpu")
		f.dst = appendArray(f.dst, c.PerCPU, func(p *HostCPUCore, dst []byte) []byte {
			g := object(dst)
			g.plainInt("cpu", p.CPU)
			p.CPUTimesPercent.fields(&g)
			return g.end()
		})
	}
	f.count("procs_running", c.ProcsRunning)
	f.count("procs_blocked", c.ProcsBlocked)
	f.float("run_queue_per_cpu", c.RunQueuePerCPU)
	f.float("load1", c.Load1)
	f.float("load5", c.Load5)
	f.float("load15", c.Load15)
	f.count("machine_checks_total", c.MachineChecksTotal)
	f.count("machine_checks", c.MachineChecks)
	return f.end()
}

func (m *HostMemory) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.count("total_bytes", m.TotalBytes)
	f.count("available_bytes", m.AvailableBytes)
	f.count("used_bytes", m.UsedBytes)
	f.float("used_percent", m.UsedPercent)
	f.count("swap_total_bytes", m.SwapTotalBytes)
	f.count("swap_used_bytes", m.SwapUsedBytes)
	f.float("swap_used_percent", m.SwapUsedPercent)
	f.float("swap_in_pages_per_second", m.SwapInPagesPerSecond)
	f.float("swap_out_pages_per_second", m.SwapOutPagesPerSecond)
	f.float("major_faults_per_second", m.MajorFaultsPerSecond)
	f.float("direct_scan_pages_per_second", m.DirectScanPagesPerSecond)
	f.float("direct_reclaim_pages_per_second", m.DirectReclaimPagesPerSecond)
	f.float("alloc_stalls_per_second", m.AllocStallsPerSecond)
	f.count("oom_kills_total", m.OOMKillsTotal)
	f.count("oom_kills", m.OOMKills)
	f.count("ecc_corrected_total", m.ECCCorrectedTotal)
	f.count("ecc_uncorrected_total", m.ECCUncorrectedTotal)
	f.count("ecc_corrected", m.ECCCorrected)
	f.count("ecc_uncorrected", m.ECCUncorrected)
	return f.end()
}

func (d *HostDisk) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.str("device", d.Device)
	f.plainUint("major", uint64(d.Major))
	f.plainUint("minor", uint64(d.Minor))
	f.float("utilization_percent", d.UtilizationPercent)
	f.float("queue_size", d.QueueSize)
	f.float("await_ms", d.AwaitMs)
	f.float("read_ops_per_second", d.ReadOpsPerSecond)
	f.float("write_ops_per_second", d.WriteOpsPerSecond)
	f.float("read_bytes_per_second", d.ReadBytesPerSecond)
	f.float("write_bytes_per_second", d.WriteBytesPerSecond)
	f.plainUint("in_flight", d.InFlight)
	f.plainUint("read_ops_total", d.ReadOpsTotal)
	f.plainUint("write_ops_total", d.WriteOpsTotal)
	f.plainUint("read_bytes_total", d.ReadBytesTotal)
	f.plainUint("write_bytes_total", d.WriteBytesTotal)
	f.count("io_errors_total", d.IOErrorsTotal)
	f.count("io_errors", d.IOErrors)
	return f.end()
}

func (fs *HostFilesystem) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.str("mount_point", fs.MountPoint)
	f.str("device", fs.Device)
	f.str("fs_type", fs.FSType)
	f.plainUint("size_bytes", fs.SizeBytes)
	f.plainUint("used_bytes", fs.UsedBytes)
	f.plainUint("available_bytes", fs.AvailableBytes)
	f.float("used_percent", fs.UsedPercent)
	f.count("inodes_total", fs.InodesTotal)
	f.count("inodes_used", fs.InodesUsed)
	f.float("inodes_used_percent", fs.InodesUsedPercent)
	return f.end()
}

func (n *HostNetwork) appendJSON(dst []byte) []byte {
	f := object(dst)
	if len(n.Interfaces) > 0 {
		f.key("interfaces")
		f.dst = appendArray(f.dst, n.Interfaces, (*HostInterface).appendJSON)
	}
	f.float("tcp_out_segments_per_second", n.TCPOutSegmentsPerSecond)
	f.float("tcp_retransmits_per_second", n.TCPRetransmitsPerSecond)
	f.float("tcp_retransmit_percent", n.TCPRetransmitPercent)
	f.float("tcp_in_errors_per_second", n.TCPInErrorsPerSecond)
	f.float("udp_errors_per_second", n.UDPErrorsPerSecond)
	return f.end()
}

func (i *HostInterface) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.str("interface", i.Interface)
	f.count("speed_bits_per_second", i.SpeedBitsPerSecond)
	f.float("rx_bytes_per_second", i.RxBytesPerSecond)
	f.float("tx_bytes_per_second", i.TxBytesPerSecond)
	f.float("utilization_percent", i.UtilizationPercent)
	f.float("rx_packets_per_second", i.RxPacketsPerSecond)
	f.float("tx_packets_per_second", i.TxPacketsPerSecond)
	f.float("rx_drops_per_second", i.RxDropsPerSecond)
	f.float("tx_drops_per_second", i.TxDropsPerSecond)
	f.float("rx_errors_per_second", i.RxErrorsPerSecond)
	f.float("tx_errors_per_second", i.TxErrorsPerSecond)
	f.float("overruns_per_second", i.OverrunsPerSecond)
	f.plainUint("rx_bytes_total", i.RxBytesTotal)
	f.plainUint("tx_bytes_total", i.TxBytesTotal)
	f.plainUint("rx_drops_total", i.RxDropsTotal)
	f.plainUint("tx_drops_total", i.TxDropsTotal)
	f.plainUint("rx_errors_total", i.RxErrorsTotal)
	f.plainUint("tx_errors_total", i.TxErrorsTotal)
	return f.end()
}

func (c *Check) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.str("name", c.Name)
	f.str("resource", c.Resource)
	f.str("kind", c.Kind)
	f.strOmitEmpty("subject", c.Subject)
	f.plainFloat("value", c.Value)
	f.str("unit", c.Unit)
	f.str("status", c.Status)
	f.strOmitEmpty("reason", c.Reason)
	f.strOmitEmpty("anomaly", c.Anomaly)
	return f.end()
}
