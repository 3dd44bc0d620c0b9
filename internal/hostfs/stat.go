package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// CPUTimes are the cumulative times of one CPU line of /proc/stat, in
// USER_HZ ticks (1/100 s on every architecture Linux runs on). Guest time
// is already included in User and Nice, so it is not kept.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal uint64
}

// Total is the sum of every field: the ticks that passed on this CPU.
func (t CPUTimes) Total() uint64 {
	return t.User + t.Nice + t.System + t.Idle + t.IOWait + t.IRQ + t.SoftIRQ + t.Steal
}

// CPU is one "cpuN" line.
type CPU struct {
	ID int
	CPUTimes
}

// Stat is /proc/stat (proc(5), Documentation/filesystems/proc.rst "1.8
// Miscellaneous kernel statistics in /proc/stat").
type Stat struct {
	All    CPUTimes // the "cpu" line: every CPU summed
	HasAll bool
	CPUs   []CPU // the "cpuN" lines of the online CPUs, in file order
	// ProcsRunning is the number of runnable tasks (running or on a run
	// queue); ProcsBlocked those in uninterruptible sleep (mostly IO).
	ProcsRunning, ProcsBlocked sample.Value
}

// ParseStat parses /proc/stat into st, reusing st.CPUs. A cpu line needs at
// least the eight fields through steal (kernel ≥ 2.6.11); guest and
// guest_nice are ignored. On error st is left empty.
func ParseStat(b []byte, st *Stat) error {
	cpus := st.CPUs[:0]
	*st = Stat{}
	if err := parseStat(b, st, &cpus); err != nil {
		*st = Stat{CPUs: cpus[:0]}
		return err
	}
	st.CPUs = cpus
	return nil
}

func parseStat(b []byte, st *Stat, cpusp *[]CPU) error {
	cpus := *cpusp
	defer func() { *cpusp = cpus }()
	var f [maxFields][]byte
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		switch {
		case bytes.HasPrefix(line, []byte("cpu")):
			n := splitFields(line, &f)
			if n < 9 || n > 11 {
				return newError(l.N, string(f[0]), line, ErrSyntax)
			}
			var t CPUTimes
			for i, dst := range [...]*uint64{&t.User, &t.Nice, &t.System, &t.Idle, &t.IOWait, &t.IRQ, &t.SoftIRQ, &t.Steal} {
				v, err := atou(f[i+1])
				if err != nil {
					return newError(l.N, string(f[0]), f[i+1], err)
				}
				*dst = v
			}
			if len(f[0]) == 3 {
				st.All, st.HasAll = t, true
				continue
			}
			id, err := atou(f[0][3:])
			if err != nil || id > 1<<20 {
				return newError(l.N, "cpu", f[0], ErrSyntax)
			}
			cpus = append(cpus, CPU{ID: int(id), CPUTimes: t})
		case bytes.HasPrefix(line, []byte("procs_")):
			key, val := keyValue(line)
			var dst *sample.Value
			switch string(key) {
			case "procs_running":
				dst = &st.ProcsRunning
			case "procs_blocked":
				dst = &st.ProcsBlocked
			default:
				continue
			}
			v, err := atou(val)
			if err != nil {
				return newError(l.N, string(key), val, err)
			}
			*dst = some(v)
		}
	}
	return nil
}
