// Package sample holds raw per-cgroup readings: cumulative counters and
// gauges exactly as the kernel reports them, in the kernel's units converted
// only to bytes and nanoseconds. Absent, zero and unlimited are three
// different values here. No arithmetic across time happens in this package;
// rates are the model's job.
package sample

import (
	"time"

	"github.com/cgmon/cgmon/internal/identity"
)

// Value is a kernel number that may be absent (the file or key does not
// exist on this kernel or this cgroup).
type Value struct {
	V  uint64
	OK bool
}

// Some returns a present Value.
func Some(v uint64) Value { return Value{V: v, OK: true} }

// LimitState says whether a limit is absent, unlimited or set.
type LimitState uint8

const (
	LimitAbsent    LimitState = iota // no such file: the controller is not there
	LimitUnlimited                   // "max" (v2), -1 or the page-counter maximum (v1)
	LimitSet                         // a finite number in V
)

// Limit is a kernel limit.
type Limit struct {
	V     uint64
	State LimitState
}

// Unlimited is the Limit for "max".
var Unlimited = Limit{State: LimitUnlimited}

// LimitOf returns a set Limit.
func LimitOf(v uint64) Limit { return Limit{V: v, State: LimitSet} }

// CPU is read from cpuacct.* and cpu.* (v1) or cpu.stat and cpu.max (v2).
type CPU struct {
	UsageNs  Value // total CPU time, all CPUs
	UserNs   Value
	SystemNs Value

	Periods          Value // CFS enforcement periods elapsed
	ThrottledPeriods Value // periods in which the group was throttled
	ThrottledNs      Value // total time throttled

	QuotaUs  Limit // CFS quota per period; Unlimited when none
	PeriodUs Value // CFS period
}

// Memory is read from memory.* files. All values in bytes except the counts.
type Memory struct {
	Usage        Value // memory.current (v2) / memory.usage_in_bytes (v1)
	Peak         Value // memory.peak (v2, kernel ≥ 5.19) / memory.max_usage_in_bytes (v1)
	Anon         Value // memory.stat anon (v2) / total_rss (v1)
	File         Value // memory.stat file (v2) / total_cache (v1)
	Shmem        Value // memory.stat shmem (v2) / total_shmem (v1)
	InactiveFile Value // memory.stat inactive_file (v2) / total_inactive_file (v1)
	Swap         Value // memory.swap.current (v2) / memsw.usage − usage (v1)
	Failcnt      Value // memory.failcnt (v1) / memory.events max (v2)
	OOMEvents    Value // memory.events oom (v2); absent on v1
	OOMKills     Value // memory.events oom_kill (v2) / memory.oom_control oom_kill (v1)

	Limit     Limit // memory.max (v2) / memory.limit_in_bytes (v1)
	SwapLimit Limit // memory.swap.max (v2) / memory.memsw.limit_in_bytes − limit (v1)
}

// Pids is read from pids.current and pids.max, or counted from cgroup.procs
// when the pids controller is not there (then Counted is true).
type Pids struct {
	Current Value
	Limit   Limit
	Counted bool
}

// DeviceIO is one block device's cumulative IO for a cgroup.
type DeviceIO struct {
	Major, Minor uint32
	Name         string // kernel device name ("sda", "vda"), from /sys/dev/block
	ReadBytes    uint64
	WriteBytes   uint64
	ReadOps      uint64
	WriteOps     uint64
}

// PSILine is one line of a pressure file.
type PSILine struct {
	Avg10, Avg60, Avg300 float64 // percent of wall time stalled
	TotalUs              uint64  // cumulative stall time, microseconds
}

// PSI is one pressure file (cpu.pressure, memory.pressure, io.pressure).
type PSI struct {
	Some, Full       PSILine
	HasSome, HasFull bool
}

// Pressure groups the three pressure files of a cgroup.
type Pressure struct {
	CPU, Memory, IO PSI
}

// Cgroup is one cgroup's readings in one cycle.
type Cgroup struct {
	// Path is relative to the hierarchy root: "/" or "/system.slice/sshd.service".
	Path     string
	Identity identity.Identity
	// Generation changes when a cgroup is removed and created again under
	// the same path: its counters started again, so no rate spans the two.
	Generation uint64
	// ReadAt is when the CPU counters were read (monotonic, from Set.Start).
	ReadAt time.Duration

	CPU      CPU
	Memory   Memory
	Pids     Pids
	IO       []DeviceIO
	Pressure Pressure
	// Container is set by the container enrichment for a running
	// container's own cgroup; nil otherwise.
	Container *Container
}

// Set is the readings of every cgroup in one cycle.
type Set struct {
	Time     time.Time // wall clock at the start of the cycle, with monotonic reading
	Hostname string
	Mode     string // "v1", "hybrid" or "v2"
	Cgroups  []Cgroup
}
