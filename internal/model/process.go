package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/proc"
)

// UserHZ is the unit of the CPU times in /proc/PID/stat: clock ticks per
// second (sysconf(_SC_CLK_TCK), USER_HZ), 100 on every Linux architecture
// whatever the kernel's own HZ.
const UserHZ = 100

// ProcTimes are the raw CPU counters of one process, from /proc/PID/stat.
type ProcTimes struct {
	Ticks     uint64 // utime + stime, in clock ticks
	StartTime uint64 // starttime, clock ticks after boot: tells a reused PID apart
}

// ProcessCPU is a process's CPU % over elapsed, as systemd-cgtop counts it
// for a cgroup: Δ(utime + stime) / UserHZ / elapsed × 100, so 100 means one
// CPU fully used and a process with busy threads on two CPUs shows 200. It
// is absent when the PID now belongs to another process (a different
// starttime), when the counters went backwards, or when elapsed is not
// positive. The figure has the clock tick's granularity: ±1 over 1 s.
func ProcessCPU(prev, cur ProcTimes, elapsed time.Duration) Float {
	if elapsed <= 0 || prev.StartTime != cur.StartTime || cur.Ticks < prev.Ticks {
		return Float{}
	}
	return floatOf(float64(cur.Ticks-prev.Ticks) / UserHZ / elapsed.Seconds() * 100)
}

// Process is one process of a cgroup, as `cgmon ps` prints it. Its JSON form
// is a public contract (see the README).
type Process struct {
	PID  int `json:"pid"`
	PPID int `json:"ppid"`
	// UID is the effective user ID (status "Uid:", second field), as ps
	// shows it; absent when the kernel did not say.
	UID Count `json:"uid,omitzero"`
	// State is the one-letter state of /proc/PID/stat (R, S, D, Z, T, I…).
	State string `json:"state"`
	// Comm is the command name (without stat's parentheses).
	Comm string `json:"comm"`
	// Cmdline is the command line, arguments joined by spaces; empty for
	// kernel threads and zombies.
	Cmdline string `json:"cmdline"`
	// CPUPercent is CPU % over the interval (ProcessCPU); absent for a
	// process not seen in the previous sample.
	CPUPercent Float `json:"cpu_percent,omitzero"`
	// RSSBytes is the resident set: status VmRSS, the figure of ps(1) and
	// top(1). Without it (status not read), stat rss × the page size, which
	// kernels since 6.2 compute from per-CPU counters without summing them:
	// it can be tens of pages short.
	RSSBytes uint64 `json:"rss_bytes"`
	// MemPercent is RSSBytes against the memory the process's memory cgroup
	// may use (ProcessMemoryBase); absent when that is not known.
	MemPercent Float `json:"mem_percent,omitzero"`
	// Cgroup is the cgroup the process was listed in.
	Cgroup string `json:"cgroup"`
}

// ProcessOptions are what BuildProcesses needs beyond the two samples.
type ProcessOptions struct {
	// PageSize is the unit of stat rss (proc.PageSize()), used for a process
	// whose status has no VmRSS.
	PageSize uint64
	// MemTotal is the host's memory in bytes (/proc/meminfo); 0 if unknown.
	MemTotal uint64
	// Snapshot gives the cgroups' memory limits; nil for none.
	Snapshot *Snapshot
}

// BuildProcesses turns the current process sample into the model, with CPU %
// against the previous sample (nil: none). It is pure: no I/O, and neither
// sample is kept. The result is in the order of cur.
func BuildProcesses(prev, cur *proc.Sample, opts ProcessOptions) []Process {
	var elapsed time.Duration
	before := map[int]ProcTimes{}
	if prev != nil {
		elapsed = cur.Time.Sub(prev.Time)
		for i := range prev.Processes {
			p := &prev.Processes[i]
			t, st := p.Times()
			before[p.PID] = ProcTimes{Ticks: t, StartTime: st}
		}
	}
	bases := map[string]uint64{}
	out := make([]Process, len(cur.Processes))
	for i := range cur.Processes {
		p := &cur.Processes[i]
		r := &out[i]
		r.PID = p.PID
		r.PPID = int(p.Stat.Ppid)
		if ids, ok := p.Status.UIDs(); ok {
			r.UID = Count{V: ids[1], OK: true}
		}
		r.State = p.Stat.State
		r.Comm = p.Stat.Name()
		r.Cmdline = p.Cmdline
		r.Cgroup = p.Cgroup
		if pt, ok := before[p.PID]; ok {
			t, st := p.Times()
			r.CPUPercent = ProcessCPU(pt, ProcTimes{Ticks: t, StartTime: st}, elapsed)
		}
		if rss, ok := p.Status.Bytes("VmRSS"); ok {
			r.RSSBytes = rss
		} else if p.Stat.Rss > 0 {
			r.RSSBytes = uint64(p.Stat.Rss) * opts.PageSize
		}
		memCgroup := p.Cgroup
		if m := memoryCgroup(p); m != "" && opts.Snapshot != nil && opts.Snapshot.Find(m) != nil {
			memCgroup = m
		}
		base, ok := bases[memCgroup]
		if !ok {
			base = ProcessMemoryBase(opts.Snapshot, memCgroup, opts.MemTotal)
			bases[memCgroup] = base
		}
		if base > 0 {
			r.MemPercent = floatOf(float64(r.RSSBytes) / float64(base) * 100)
		}
	}
	return out
}

// memoryCgroup is the cgroup whose memory limits apply to a process, from
// /proc/PID/cgroup: its v1 memory hierarchy's line, else its cgroup2 line. It
// may differ from the cgroup the process was listed in: on a hybrid host the
// unified hierarchy may keep a process at "/" while the v1 memory hierarchy
// has it in a limited group.
func memoryCgroup(p *proc.Process) string {
	v2 := ""
	for _, c := range p.Cgroups {
		if slices.Contains(c.Controllers, "memory") {
			return c.Path
		}
		if c.ID == 0 && len(c.Controllers) == 0 {
			v2 = c.Path
		}
	}
	return v2
}

// ProcessMemoryBase is the memory the processes of a cgroup may use, the
// base of their %MEM: the smallest memory limit set on the cgroup or any
// ancestor (the kernel charges every page to each of them), or the host's
// memory when no limit is set or the host has less. 0 when neither is known.
func ProcessMemoryBase(s *Snapshot, path string, memTotal uint64) uint64 {
	base := memTotal
	if s == nil || path == "" {
		return base
	}
	for p := path; ; {
		if c := s.Find(p); c != nil && c.Memory.LimitBytes.Set() && c.Memory.LimitBytes.V > 0 {
			if l := uint64(c.Memory.LimitBytes.V); base == 0 || l < base {
				base = l
			}
		}
		if p == "/" {
			return base
		}
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			p = "/"
		} else {
			p = p[:i]
		}
	}
}

// Process sort orders, largest first.
const (
	SortProcessesCPU = "cpu" // CPU %, then RSS
	SortProcessesMem = "mem" // RSS, then CPU %
)

// SortProcesses orders processes by "cpu" or "mem", largest first; an
// absent CPU % sorts after every present one, and ties go by PID.
func SortProcesses(ps []Process, by string) error {
	cpu := func(a, b *Process) int {
		switch {
		case a.CPUPercent.OK != b.CPUPercent.OK:
			if a.CPUPercent.OK {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.CPUPercent.V, a.CPUPercent.V)
	}
	mem := func(a, b *Process) int { return cmp.Compare(b.RSSBytes, a.RSSBytes) }
	var first, second func(a, b *Process) int
	switch by {
	case SortProcessesCPU:
		first, second = cpu, mem
	case SortProcessesMem:
		first, second = mem, cpu
	default:
		return fmt.Errorf("sort %q: want %s or %s", by, SortProcessesCPU, SortProcessesMem)
	}
	slices.SortStableFunc(ps, func(a, b Process) int {
		if c := first(&a, &b); c != 0 {
			return c
		}
		if c := second(&a, &b); c != 0 {
			return c
		}
		return cmp.Compare(a.PID, b.PID)
	})
	return nil
}

// ResolveCgroup finds the cgroup a user names, among the snapshot's: the
// path itself when it exists ("/system.slice/sshd.service"; the leading "/"
// may be left out), else the cgroup of the same container under another
// runtime layout, as cAdvisor names containers: "/docker/ID" finds
// "/system.slice/docker-ID.scope" (docker's systemd driver) and the other
// way round. The container is recognized with identity.Classify and matched
// on runtime and ID among the snapshot's containers' own cgroups. "/docker/"
// with 12 to 63 hex digits, a short docker ID, matches the one container
// whose ID starts with them. The error wraps proc.ErrNoCgroup.
func (s *Snapshot) ResolveCgroup(name string) (string, error) {
	p := proc.CleanPath(name)
	if s.Find(p) != nil {
		return p, nil
	}
	id := identity.Classify(p)
	prefix := false
	if id.ID == "" && id.Kind == identity.KindDocker {
		// "/docker/2c4dee605d22": a short ID, as `docker ps` prints it.
		if rest, ok := strings.CutPrefix(p, "/docker/"); ok && len(rest) >= 12 && len(rest) < 64 && isLowerHex(rest) {
			id.ID, prefix = rest, true
		}
	}
	if id.ID == "" || id.Runtime == "" {
		return "", fmt.Errorf("cgroup %s: %w", p, proc.ErrNoCgroup)
	}
	var found []string
	for i := range s.Cgroups {
		c := s.Cgroups[i].Container
		if c == nil || c.Role != string(identity.RoleContainer) || c.Runtime != id.Runtime {
			continue
		}
		if c.ID == id.ID || prefix && strings.HasPrefix(c.ID, id.ID) {
			found = append(found, s.Cgroups[i].Path)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("cgroup %s: %w", p, proc.ErrNoCgroup)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("cgroup %s: %w: %d containers match (%s)", p, proc.ErrNoCgroup, len(found), strings.Join(found, ", "))
}

// Subtree returns the path of a cgroup and of every cgroup below it, in
// path order.
func (s *Snapshot) Subtree(path string) []string {
	var out []string
	for i := range s.Cgroups {
		c := s.Cgroups[i].Path
		if c == path || path == "/" || strings.HasPrefix(c, path) && len(c) > len(path) && c[len(path)] == '/' {
			out = append(out, c)
		}
	}
	return out
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
