// Package model is what every output of cgmon renders: an immutable,
// time-stamped snapshot of every cgroup with its counters, gauges and rates.
// Build, the one place where rates are computed, is a pure function of two
// raw samples. The JSON form of Snapshot is a public contract, documented in
// the README field by field.
package model

import (
	"time"
)

// Snapshot is every cgroup at one instant. It is never changed after Build
// returns it.
type Snapshot struct {
	Timestamp time.Time `json:"timestamp"`
	Hostname  string    `json:"hostname"`
	// CgroupMode is "v1", "hybrid" or "v2".
	CgroupMode string `json:"cgroup_mode"`
	// IntervalSeconds is the time since the previous sample: the window of
	// every rate. Absent in the first snapshot, which has no rates.
	IntervalSeconds Float    `json:"interval_seconds,omitzero"`
	Cgroups         []Cgroup `json:"cgroups"`
	// Host is the host-wide USE view, when the engine reads the host.
	Host *Host `json:"host,omitempty"`
}

// Cgroup is one cgroup.
type Cgroup struct {
	// Path relative to the hierarchy root: "/system.slice/sshd.service".
	Path string `json:"path"`
	// Name is the last element of Path ("sshd.service"; "/" for the root).
	Name string `json:"name"`
	// Prefix is the rest of Path ("/system.slice"; empty for top level).
	Prefix string `json:"prefix"`
	// Kind is what manages the cgroup: systemd, lxc, podman, docker,
	// nspawn, kubernetes, libvirt or raw.
	Kind      string     `json:"kind"`
	Unit      string     `json:"unit,omitempty"`
	UnitType  string     `json:"unit_type,omitempty"`
	Container *Container `json:"container,omitempty"`

	CPU        CPU      `json:"cpu,omitzero"`
	Memory     Memory   `json:"memory,omitzero"`
	Tasks      Count    `json:"tasks,omitzero"`
	TasksLimit Limit    `json:"tasks_limit,omitzero"`
	IO         IO       `json:"io,omitzero"`
	PSI        Pressure `json:"psi,omitzero"`

	// Processes, Network and Filesystem are read through a running
	// container's process, for its own cgroup only (container.role
	// "container"), when the container figures are on.
	// Processes counts processes, not threads, in the container.
	Processes  Count       `json:"processes,omitzero"`
	Network    *Network    `json:"network,omitempty"`
	Filesystem *Filesystem `json:"filesystem,omitempty"`
}

// Container names the container a cgroup belongs to.
type Container struct {
	Runtime string `json:"runtime"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	// Role is "container" for the container's own cgroup, "monitor" for the
	// runtime's helper (lxc.monitor, conmon), "pod" for a pod, and empty for
	// a cgroup nested inside a container.
	Role string `json:"role,omitempty"`
	// State is "running" or "paused" (frozen), and StartedAt when its
	// init process started: known for a running container's own cgroup
	// when the container figures are on.
	State     string    `json:"state,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// CPU figures. Percent is systemd-cgtop's: 100 = one CPU fully used.
type CPU struct {
	UsageSecondsTotal     Float `json:"usage_seconds_total,omitzero"`
	UserSecondsTotal      Float `json:"user_seconds_total,omitzero"`
	SystemSecondsTotal    Float `json:"system_seconds_total,omitzero"`
	Percent               Float `json:"percent,omitzero"`
	UserPercent           Float `json:"user_percent,omitzero"`
	SystemPercent         Float `json:"system_percent,omitzero"`
	PeriodsTotal          Count `json:"periods_total,omitzero"`
	ThrottledPeriodsTotal Count `json:"throttled_periods_total,omitzero"`
	ThrottledSecondsTotal Float `json:"throttled_seconds_total,omitzero"`
	// ThrottledPercent is the share of enforcement periods in the interval
	// in which the group was throttled.
	ThrottledPercent Float `json:"throttled_percent,omitzero"`
	// LimitCores is the CFS quota as a number of CPUs (quota / period).
	LimitCores Limit `json:"limit_cores,omitzero"`
}

// Memory figures in bytes, and event counts.
type Memory struct {
	UsageBytes        Count `json:"usage_bytes,omitzero"`
	WorkingSetBytes   Count `json:"working_set_bytes,omitzero"`
	LimitBytes        Limit `json:"limit_bytes,omitzero"`
	UsagePercent      Float `json:"usage_percent,omitzero"`
	PeakBytes         Count `json:"peak_bytes,omitzero"`
	AnonBytes         Count `json:"anon_bytes,omitzero"`
	FileBytes         Count `json:"file_bytes,omitzero"`
	ShmemBytes        Count `json:"shmem_bytes,omitzero"`
	InactiveFileBytes Count `json:"inactive_file_bytes,omitzero"`
	SwapBytes         Count `json:"swap_bytes,omitzero"`
	SwapLimitBytes    Limit `json:"swap_limit_bytes,omitzero"`
	FailcntTotal      Count `json:"failcnt_total,omitzero"`
	OOMEventsTotal    Count `json:"oom_events_total,omitzero"`
	OOMKillsTotal     Count `json:"oom_kills_total,omitzero"`
}

// IO figures summed over the devices not excluded, and per device.
type IO struct {
	ReadBytesTotal      Count      `json:"read_bytes_total,omitzero"`
	WriteBytesTotal     Count      `json:"write_bytes_total,omitzero"`
	ReadOpsTotal        Count      `json:"read_ops_total,omitzero"`
	WriteOpsTotal       Count      `json:"write_ops_total,omitzero"`
	ReadBytesPerSecond  Float      `json:"read_bytes_per_second,omitzero"`
	WriteBytesPerSecond Float      `json:"write_bytes_per_second,omitzero"`
	ReadOpsPerSecond    Float      `json:"read_ops_per_second,omitzero"`
	WriteOpsPerSecond   Float      `json:"write_ops_per_second,omitzero"`
	Devices             []DeviceIO `json:"devices,omitempty"`
}

// DeviceIO is one block device's IO.
type DeviceIO struct {
	Device              string `json:"device"`
	Major               uint32 `json:"major"`
	Minor               uint32 `json:"minor"`
	ReadBytesTotal      uint64 `json:"read_bytes_total"`
	WriteBytesTotal     uint64 `json:"write_bytes_total"`
	ReadOpsTotal        uint64 `json:"read_ops_total"`
	WriteOpsTotal       uint64 `json:"write_ops_total"`
	ReadBytesPerSecond  Float  `json:"read_bytes_per_second,omitzero"`
	WriteBytesPerSecond Float  `json:"write_bytes_per_second,omitzero"`
}

// Pressure is the PSI of a cgroup.
type Pressure struct {
	CPU    PSI `json:"cpu,omitzero"`
	Memory PSI `json:"memory,omitzero"`
	IO     PSI `json:"io,omitzero"`
}

// PSI is one pressure file: "some" tasks stalled, and "full" (all stalled).
type PSI struct {
	Some PSILine `json:"some,omitzero"`
	Full PSILine `json:"full,omitzero"`
}

// PSILine is one line of a pressure file. Averages are percent of wall time
// over 10 s, 60 s and 300 s; TotalSeconds is the cumulative stall time;
// Percent is the stall share over this snapshot's interval.
type PSILine struct {
	Avg10        float64 `json:"avg10"`
	Avg60        float64 `json:"avg60"`
	Avg300       float64 `json:"avg300"`
	TotalSeconds float64 `json:"total_seconds"`
	Percent      Float   `json:"percent,omitzero"`
	// OK is false when the kernel has no such line.
	OK bool `json:"-"`
}

// IsZero reports absence, for the omitzero JSON option.
func (l PSILine) IsZero() bool { return !l.OK }

// Find returns the cgroup with a path, or nil.
func (s *Snapshot) Find(path string) *Cgroup {
	lo, hi := 0, len(s.Cgroups)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.Cgroups[m].Path < path {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s.Cgroups) && s.Cgroups[lo].Path == path {
		return &s.Cgroups[lo]
	}
	return nil
}
