package hostfs

import (
	"time"

	"github.com/cgmon/cgmon/internal/sample"
)

// Sample is one reading of the host-wide files: raw counters and gauges,
// no arithmetic across time (internal/model computes the rates). A file
// the host lacks leaves its part absent: Has* false, nil slices, absent
// sample.Values.
type Sample struct {
	Time time.Time // when the reading started, with a monotonic clock reading

	Stat       Stat
	Meminfo    Meminfo
	Vmstat     Vmstat
	Loadavg    Loadavg
	HasLoadavg bool
	Pressure   sample.Pressure // /proc/pressure/{cpu,memory,io}
	// MachineChecks is the MCE count of /proc/interrupts (absent when the
	// kernel has no such line).
	MachineChecks sample.Value

	// MemoryCorrected and MemoryUncorrected are the EDAC error counts
	// summed over the memory controllers (absent without EDAC).
	MemoryCorrected, MemoryUncorrected sample.Value

	Disks []Disk // whole disks, excluded prefixes left out
	// DiskIOErrors is the SCSI ioerr_cnt of each disk, same order as Disks
	// (absent for disks that are not SCSI).
	DiskIOErrors []sample.Value
	Interfaces   []NetDev // every interface but lo
	Speeds       []Speed  // link speed per interface, same order as Interfaces
	SNMP         SNMP
	Filesystems  []Filesystem
}

// Speed is an interface's link speed in Mbit/s; Known is false when the
// kernel does not know it.
type Speed struct {
	Mbps  uint64
	Known bool
}

// Filesystem is one mounted filesystem with its statfs(2) figures
// converted to bytes.
type Filesystem struct {
	MountPoint, Device, FSType string
	SizeBytes                  uint64 // f_blocks × f_frsize
	FreeBytes                  uint64 // f_bfree × f_frsize: free, counting the blocks reserved for root
	AvailBytes                 uint64 // f_bavail × f_frsize: free for unprivileged users (what df shows as Avail)
	Inodes, InodesFree         uint64 // f_files, f_ffree (0 on filesystems without a fixed inode table)
}
