package jsonexport

import (
	"math"
	"time"

	"github.com/cgmon/cgmon/internal/model"
)

// Entry is one container at one time, in LXC Monitor's export shape: its
// field names and JSON types are the seed's (seeds/lxc_monitor.md).
type Entry struct {
	// ContainerID is the LXC name (Proxmox: the VMID), or a Podman or
	// Docker container's name (its 12-digit short ID while the name is not
	// known yet).
	ContainerID string `json:"container_id"`
	// Timestamp is the snapshot's time, RFC 3339 in UTC to the second.
	Timestamp string `json:"timestamp"`
	// CPUUsage is percent over the last interval, 100 = one CPU fully
	// used (cgmon's cpu.percent).
	CPUUsage float64 `json:"cpu_usage"`
	// MemoryUsage and SwapUsage are MiB (2^20 bytes), to 0.01: LXC
	// Monitor's memory_usage_mb and swap_usage_mb. Memory is the working
	// set (usage − inactive_file), what MemTotal − MemAvailable shows in the
	// container; swap is memory.swap_bytes.
	MemoryUsage float64 `json:"memory_usage"`
	SwapUsage   float64 `json:"swap_usage"`
	// IO and network figures are cumulative bytes (counters).
	IOReadBytes             uint64 `json:"io_read_bytes"`
	IOWriteBytes            uint64 `json:"io_write_bytes"`
	NetworkReceivedBytes    uint64 `json:"network_received_bytes"`
	NetworkTransmittedBytes uint64 `json:"network_transmitted_bytes"`
	FilesystemUsage         Usage  `json:"filesystem_usage"`
	// ProcessCount is the processes in the container (`ps -e` inside).
	ProcessCount uint64 `json:"process_count"`
}

// Usage is the container's root filesystem in bytes, as df shows it
// inside: total size, used, and available to unprivileged users.
type Usage struct {
	Total uint64 `json:"total"`
	Used  uint64 `json:"used"`
	Free  uint64 `json:"free"`
}

const mib = 1 << 20

// Entries turns a snapshot into one Entry per running container. A
// container appears once the container figures (model.Cgroup.Processes)
// and a CPU rate are known for it, so from its second snapshot on. A
// figure the snapshot does not have (swap without swap accounting,
// network of a container in the host's network namespace, a toggle that
// is off) is written as 0, as LXC Monitor wrote it: the shape has no room
// for absence.
func Entries(s *model.Snapshot) []Entry {
	var out []Entry
	ts := s.Timestamp.UTC().Truncate(time.Second).Format(time.RFC3339)
	for i := range s.Cgroups {
		c := &s.Cgroups[i]
		k := c.Container
		if k == nil || k.Role != "container" || !c.Processes.OK || !c.CPU.Percent.OK {
			continue
		}
		e := Entry{
			ContainerID:  containerID(k),
			Timestamp:    ts,
			CPUUsage:     round(c.CPU.Percent.V, 100),
			IOReadBytes:  c.IO.ReadBytesTotal.V,
			IOWriteBytes: c.IO.WriteBytesTotal.V,
			ProcessCount: c.Processes.V,
		}
		mem := c.Memory.WorkingSetBytes
		if !mem.OK {
			mem = c.Memory.UsageBytes
		}
		e.MemoryUsage = round(float64(mem.V)/mib, 100)
		e.SwapUsage = round(float64(c.Memory.SwapBytes.V)/mib, 100)
		if n := c.Network; n != nil {
			e.NetworkReceivedBytes = n.RxBytesTotal.V
			e.NetworkTransmittedBytes = n.TxBytesTotal.V
		}
		if f := c.Filesystem; f != nil {
			e.FilesystemUsage = Usage{Total: f.TotalBytes, Used: f.UsedBytes, Free: f.FreeBytes}
		}
		out = append(out, e)
	}
	return out
}

func containerID(k *model.Container) string {
	if k.Runtime == "lxc" {
		return k.ID // the name, or a Proxmox VMID
	}
	if k.Name != "" {
		return k.Name
	}
	if len(k.ID) > 12 {
		return k.ID[:12]
	}
	return k.ID
}

func round(v, scale float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*scale) / scale
}
