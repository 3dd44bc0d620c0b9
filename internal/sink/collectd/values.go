package collectd

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/model"
)

// Names of collectd-libpod-stats (types.db.libpodstats): plugin libpodstats,
// plugin instance the container's name, types pod_cpu (percent, time) and
// pod_memory (value), no type instance.
const (
	Plugin     = "libpodstats"
	TypeCPU    = "pod_cpu"
	TypeMemory = "pod_memory"
)

// Memory says which figure pod_memory carries.
type Memory string

const (
	// MemoryCurrent is usage − inactive_file, floored at 0 (the model's
	// working_set_bytes): podman's "mem usage" since containers/common#2455.
	MemoryCurrent Memory = "current"
	// MemoryRaw is memory.current / memory.usage_in_bytes (the model's
	// usage_bytes): podman 4.x on cgroup v1, and collectd-libpod-stats.
	MemoryRaw Memory = "raw"
)

// ParseMemory checks a memory setting; "" is MemoryCurrent.
func ParseMemory(s string) (Memory, error) {
	switch Memory(s) {
	case "", MemoryCurrent:
		return MemoryCurrent, nil
	case MemoryRaw:
		return MemoryRaw, nil
	}
	return "", fmt.Errorf("collectd memory %q: want current or raw", s)
}

// unnamedGrace is how many snapshots a container may go without a name
// before its ID stands in: podman's and docker's names are looked up in the
// background and normally arrive one snapshot later.
const unnamedGrace = 3

// maxName is collectd's DATA_MAX_NAME_LEN less its terminating NUL.
const maxName = 127

// Values turns snapshots into value lists. It remembers, from one snapshot
// to the next, which containers still wait for a name. Not safe for
// concurrent use.
type Values struct {
	// Host is the collectd host name; "" takes the snapshot's.
	Host     string
	Memory   Memory
	Interval time.Duration

	unnamed map[string]int // container cgroup path → snapshots seen without a name
	seen    map[string]bool
}

// Append appends the value lists of snap's containers to dst: for each
// container's own cgroup, pod_cpu (cpu percent as systemd-cgtop, 100 = one
// CPU, NaN before the first rate; cpu time in ns) and pod_memory (bytes).
func (v *Values) Append(dst []ValueList, snap *model.Snapshot) []ValueList {
	if v.unnamed == nil {
		v.unnamed, v.seen = map[string]int{}, map[string]bool{}
	}
	clear(v.seen)
	host := v.Host
	if host == "" {
		host = snap.Hostname
	}
	host = sanitize(host)
	for i := range snap.Cgroups {
		c := &snap.Cgroups[i]
		if c.Container == nil || c.Container.Role != "container" {
			continue
		}
		inst := v.instance(c)
		if inst == "" {
			continue
		}
		vl := ValueList{Host: host, Plugin: Plugin, PluginInstance: inst, Time: snap.Timestamp, Interval: v.Interval}
		if c.CPU.UsageSecondsTotal.OK {
			pct := math.NaN()
			if c.CPU.Percent.OK {
				pct = c.CPU.Percent.V
			}
			vl.Type = TypeCPU
			vl.Values = []Value{{Type: Gauge, F: pct}, {Type: Derive, I: int64(math.Round(c.CPU.UsageSecondsTotal.V * 1e9))}}
			dst = append(dst, vl)
		}
		mem := c.Memory.WorkingSetBytes
		if v.Memory == MemoryRaw {
			mem = c.Memory.UsageBytes
		}
		if mem.OK {
			vl.Type = TypeMemory
			vl.Values = []Value{{Type: Gauge, F: float64(mem.V)}}
			dst = append(dst, vl)
		}
	}
	for p := range v.unnamed {
		if !v.seen[p] {
			delete(v.unnamed, p)
		}
	}
	return dst
}

// instance is the plugin instance of a container's cgroup: its name, or
// its ID once it has gone unnamedGrace snapshots without one; "" to skip it
// this time.
func (v *Values) instance(c *model.Cgroup) string {
	if c.Container.Name != "" {
		delete(v.unnamed, c.Path)
		return sanitize(c.Container.Name)
	}
	v.seen[c.Path] = true
	v.unnamed[c.Path]++
	if v.unnamed[c.Path] < unnamedGrace {
		return ""
	}
	return sanitize(c.Container.ID)
}

// sanitize makes s a collectd identifier part: no "/" (it separates the
// parts of an identifier and of the csv and rrd plugins' paths), no
// control characters or quotes, at most maxName bytes.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '"' || r == '\\' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
	if len(s) > maxName {
		s = strings.ToValidUTF8(s[:maxName], "")
	}
	return s
}
