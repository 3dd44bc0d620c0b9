package model

import (
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/sample"
)

const nsPerSecond = 1e9

// Build turns the current sample set into a snapshot, with rates against the
// previous set (nil for the first snapshot, which has no rates). Both sets
// are in path order, as the collector returns them. Build does no I/O and
// keeps no reference to either set, so the caller may reuse them.
func Build(prev, cur *sample.Set) *Snapshot {
	s := &Snapshot{
		Timestamp:  cur.Time.Round(0).UTC(),
		Hostname:   cur.Hostname,
		CgroupMode: cur.Mode,
		Cgroups:    make([]Cgroup, len(cur.Cgroups)),
	}
	var setElapsed time.Duration
	if prev != nil {
		setElapsed = cur.Time.Sub(prev.Time)
		if setElapsed > 0 {
			s.IntervalSeconds = floatOf(setElapsed.Seconds())
		}
	}
	j := 0
	counted := false
	for i := range cur.Cgroups {
		c := &cur.Cgroups[i]
		convert(&s.Cgroups[i], c)
		counted = counted || c.Pids.Counted
		if prev == nil {
			continue
		}
		for j < len(prev.Cgroups) && prev.Cgroups[j].Path < c.Path {
			j++
		}
		if j == len(prev.Cgroups) || prev.Cgroups[j].Path != c.Path {
			continue
		}
		p := &prev.Cgroups[j]
		if p.Generation != c.Generation {
			continue // removed and created again: its counters restarted
		}
		elapsed := setElapsed
		if p.ReadAt > 0 && c.ReadAt > 0 && c.ReadAt > p.ReadAt {
			elapsed = c.ReadAt - p.ReadAt
		}
		Rates(p, c, elapsed).apply(&s.Cgroups[i])
	}
	if counted {
		sumCountedTasks(s.Cgroups, cur.Cgroups)
	}
	return s
}

// convert fills the non-rate figures of one cgroup.
func convert(dst *Cgroup, c *sample.Cgroup) {
	dst.Path = c.Path
	dst.Name, dst.Prefix = SplitPath(c.Path)
	id := c.Identity
	dst.Kind = string(id.Kind)
	dst.Unit, dst.UnitType = id.Unit, id.UnitType
	if id.Runtime != "" || id.ID != "" {
		runtime := id.Runtime
		if runtime == "" {
			runtime = string(id.Kind) // a pod, or a container under cgroupfs naming
		}
		dst.Container = &Container{Runtime: runtime, ID: id.ID, Name: id.Name, Role: string(id.Role)}
	}

	cpu := &c.CPU
	dst.CPU.UsageSecondsTotal = seconds(cpu.UsageNs)
	dst.CPU.UserSecondsTotal = seconds(cpu.UserNs)
	dst.CPU.SystemSecondsTotal = seconds(cpu.SystemNs)
	dst.CPU.PeriodsTotal = countOf(cpu.Periods)
	dst.CPU.ThrottledPeriodsTotal = countOf(cpu.ThrottledPeriods)
	dst.CPU.ThrottledSecondsTotal = seconds(cpu.ThrottledNs)
	switch cpu.QuotaUs.State {
	case sample.LimitUnlimited:
		dst.CPU.LimitCores = Limit{State: sample.LimitUnlimited}
	case sample.LimitSet:
		if cpu.PeriodUs.OK && cpu.PeriodUs.V > 0 {
			dst.CPU.LimitCores = Limit{V: float64(cpu.QuotaUs.V) / float64(cpu.PeriodUs.V), State: sample.LimitSet}
		}
	}

	m := &c.Memory
	dst.Memory = Memory{
		UsageBytes:        countOf(m.Usage),
		LimitBytes:        limitOf(m.Limit),
		PeakBytes:         countOf(m.Peak),
		AnonBytes:         countOf(m.Anon),
		FileBytes:         countOf(m.File),
		ShmemBytes:        countOf(m.Shmem),
		InactiveFileBytes: countOf(m.InactiveFile),
		SwapBytes:         countOf(m.Swap),
		SwapLimitBytes:    limitOf(m.SwapLimit),
		FailcntTotal:      countOf(m.Failcnt),
		OOMEventsTotal:    countOf(m.OOMEvents),
		OOMKillsTotal:     countOf(m.OOMKills),
	}
	if m.Usage.OK && m.InactiveFile.OK {
		ws := uint64(0)
		if m.Usage.V > m.InactiveFile.V {
			ws = m.Usage.V - m.InactiveFile.V
		}
		dst.Memory.WorkingSetBytes = Count{V: ws, OK: true}
	}
	if m.Usage.OK && m.Limit.State == sample.LimitSet && m.Limit.V > 0 {
		dst.Memory.UsagePercent = floatOf(float64(m.Usage.V) / float64(m.Limit.V) * 100)
	}

	dst.Tasks = countOf(c.Pids.Current)
	dst.TasksLimit = limitOf(c.Pids.Limit)

	if len(c.IO) > 0 {
		dst.IO.Devices = make([]DeviceIO, len(c.IO))
		var rb, wb, ro, wo uint64
		for i, d := range c.IO {
			dst.IO.Devices[i] = DeviceIO{
				Device: d.Name, Major: d.Major, Minor: d.Minor,
				ReadBytesTotal: d.ReadBytes, WriteBytesTotal: d.WriteBytes,
				ReadOpsTotal: d.ReadOps, WriteOpsTotal: d.WriteOps,
			}
			rb += d.ReadBytes
			wb += d.WriteBytes
			ro += d.ReadOps
			wo += d.WriteOps
		}
		dst.IO.ReadBytesTotal = Count{V: rb, OK: true}
		dst.IO.WriteBytesTotal = Count{V: wb, OK: true}
		dst.IO.ReadOpsTotal = Count{V: ro, OK: true}
		dst.IO.WriteOpsTotal = Count{V: wo, OK: true}
	}

	dst.PSI.CPU = psiOf(&c.Pressure.CPU)
	dst.PSI.Memory = psiOf(&c.Pressure.Memory)
	dst.PSI.IO = psiOf(&c.Pressure.IO)
	convertContainer(dst, c.Container)
}

func seconds(v sample.Value) Float {
	if !v.OK {
		return Float{}
	}
	return floatOf(float64(v.V) / nsPerSecond)
}

func psiOf(p *sample.PSI) PSI {
	var out PSI
	if p.HasSome {
		out.Some = psiLine(&p.Some)
	}
	if p.HasFull {
		out.Full = psiLine(&p.Full)
	}
	return out
}

func psiLine(l *sample.PSILine) PSILine {
	return PSILine{Avg10: l.Avg10, Avg60: l.Avg60, Avg300: l.Avg300, TotalSeconds: float64(l.TotalUs) / 1e6, OK: true}
}

// SplitPath splits a cgroup path into its last element and the rest, as
// cgtop_mon's name and prefix tags: "/system.slice/sshd.service" gives
// "sshd.service" and "/system.slice"; "/init.scope" gives "init.scope" and
// ""; "/" gives "/" and "".
func SplitPath(p string) (name, prefix string) {
	if p == "/" || p == "" {
		return "/", ""
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return p, ""
	}
	return p[i+1:], p[:i]
}

// sumCountedTasks makes tasks counted from cgroup.procs hierarchical, like
// pids.current: each cgroup's count includes its descendants'.
func sumCountedTasks(out []Cgroup, in []sample.Cgroup) {
	index := make(map[string]int, len(in))
	for i := range in {
		index[in[i].Path] = i
	}
	for i := range in {
		if !in[i].Pids.Counted || !in[i].Pids.Current.OK || in[i].Pids.Current.V == 0 {
			continue
		}
		n := in[i].Pids.Current.V
		p := in[i].Path
		for p != "/" && p != "" {
			_, p = SplitPath(p)
			if p == "" {
				p = "/"
			}
			if j, ok := index[p]; ok && in[j].Pids.Counted {
				out[j].Tasks.V += n
				out[j].Tasks.OK = true
			}
		}
	}
}
