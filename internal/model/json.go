package model

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cgmon/cgmon/internal/sample"
)

// AppendJSON appends the snapshot's JSON to dst and returns it. The output
// is byte for byte what encoding/json gives for the same Snapshot (a test
// holds the two together); it exists because reflection-based encoding was
// 11 % of cgmon's CPU at 1000 cgroups in scripts/bench.sh, half of what
// cgmon spent beyond a bare reader of the same files, and it allocated more
// than the whole collector.
func (s *Snapshot) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"timestamp":"`...)
	dst = s.Timestamp.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","hostname":`...)
	dst = appendString(dst, s.Hostname)
	dst = append(dst, `,"cgroup_mode":`...)
	dst = appendString(dst, s.CgroupMode)
	if s.IntervalSeconds.OK {
		dst = append(dst, `,"interval_seconds":`...)
		dst = s.IntervalSeconds.appendJSON(dst)
	}
	dst = append(dst, `,"cgroups":`...)
	if s.Cgroups == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range s.Cgroups {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = s.Cgroups[i].AppendJSON(dst)
		}
		dst = append(dst, ']')
	}
	if s.Host != nil {
		dst = append(dst, `,"host":`...)
		dst = s.Host.appendJSON(dst)
	}
	return append(dst, '}')
}

// AppendJSON appends one cgroup's JSON, exactly as it stands in the
// snapshot's "cgroups" array.
func (c *Cgroup) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"path":`...)
	dst = appendString(dst, c.Path)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, c.Name)
	dst = append(dst, `,"prefix":`...)
	dst = appendString(dst, c.Prefix)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, c.Kind)
	if c.Unit != "" {
		dst = append(dst, `,"unit":`...)
		dst = appendString(dst, c.Unit)
	}
	if c.UnitType != "" {
		dst = append(dst, `,"unit_type":`...)
		dst = appendString(dst, c.UnitType)
	}
	if k := c.Container; k != nil {
		dst = append(dst, `,"container":{"runtime":`...)
		dst = appendString(dst, k.Runtime)
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, k.ID)
		if k.Name != "" {
			dst = append(dst, `,"name":`...)
			dst = appendString(dst, k.Name)
		}
		if k.Role != "" {
			dst = append(dst, `,"role":`...)
			dst = appendString(dst, k.Role)
		}
		if k.State != "" {
			dst = append(dst, `,"state":`...)
			dst = appendString(dst, k.State)
		}
		if !k.StartedAt.IsZero() {
			dst = append(dst, `,"started_at":"`...)
			dst = k.StartedAt.AppendFormat(dst, time.RFC3339Nano)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	}
	if c.CPU != (CPU{}) {
		dst = append(dst, `,"cpu":`...)
		dst = c.CPU.appendJSON(dst)
	}
	if c.Memory != (Memory{}) {
		dst = append(dst, `,"memory":`...)
		dst = c.Memory.appendJSON(dst)
	}
	if c.Tasks.OK {
		dst = append(dst, `,"tasks":`...)
		dst = c.Tasks.appendJSON(dst)
	}
	if !c.TasksLimit.IsZero() {
		dst = append(dst, `,"tasks_limit":`...)
		dst = c.TasksLimit.appendJSON(dst)
	}
	if !c.IO.isZero() {
		dst = append(dst, `,"io":`...)
		dst = c.IO.appendJSON(dst)
	}
	if c.PSI != (Pressure{}) {
		dst = append(dst, `,"psi":`...)
		dst = c.PSI.appendJSON(dst)
	}
	return c.appendContainerJSON(dst)
}

// fields writes `,"name":value` members, opening the object with the first.
type fields struct {
	dst   []byte
	first bool
}

func object(dst []byte) fields { return fields{dst: append(dst, '{'), first: true} }

func (f *fields) key(name string) {
	if !f.first {
		f.dst = append(f.dst, ',')
	}
	f.first = false
	f.dst = append(f.dst, '"')
	f.dst = append(f.dst, name...)
	f.dst = append(f.dst, '"', ':')
}

func (f *fields) float(name string, v Float) {
	if v.OK {
		f.key(name)
		f.dst = v.appendJSON(f.dst)
	}
}

func (f *fields) count(name string, v Count) {
	if v.OK {
		f.key(name)
		f.dst = v.appendJSON(f.dst)
	}
}

func (f *fields) limit(name string, v Limit) {
	if !v.IsZero() {
		f.key(name)
		f.dst = v.appendJSON(f.dst)
	}
}

func (f *fields) plainFloat(name string, v float64) {
	f.key(name)
	f.dst = appendPlainFloat(f.dst, v)
}

func (f *fields) plainUint(name string, v uint64) {
	f.key(name)
	f.dst = strconv.AppendUint(f.dst, v, 10)
}

func (f *fields) end() []byte { return append(f.dst, '}') }

func (c *CPU) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.float("usage_seconds_total", c.UsageSecondsTotal)
	f.float("user_seconds_total", c.UserSecondsTotal)
	f.float("system_seconds_total", c.SystemSecondsTotal)
	f.float("percent", c.Percent)
	f.float("user_percent", c.UserPercent)
	f.float("system_percent", c.SystemPercent)
	f.count("periods_total", c.PeriodsTotal)
	f.count("throttled_periods_total", c.ThrottledPeriodsTotal)
	f.float("throttled_seconds_total", c.ThrottledSecondsTotal)
	f.float("throttled_percent", c.ThrottledPercent)
	f.limit("limit_cores", c.LimitCores)
	return f.end()
}

func (m *Memory) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.count("usage_bytes", m.UsageBytes)
	f.count("working_set_bytes", m.WorkingSetBytes)
	f.limit("limit_bytes", m.LimitBytes)
	f.float("usage_percent", m.UsagePercent)
	f.count("peak_bytes", m.PeakBytes)
	f.count("anon_bytes", m.AnonBytes)
	f.count("file_bytes", m.FileBytes)
	f.count("shmem_bytes", m.ShmemBytes)
	f.count("inactive_file_bytes", m.InactiveFileBytes)
	f.count("swap_bytes", m.SwapBytes)
	f.limit("swap_limit_bytes", m.SwapLimitBytes)
	f.count("failcnt_total", m.FailcntTotal)
	f.count("oom_events_total", m.OOMEventsTotal)
	f.count("oom_kills_total", m.OOMKillsTotal)
	return f.end()
}

func (io *IO) isZero() bool {
	return io.Devices == nil && io.ReadBytesTotal == (Count{}) && io.WriteBytesTotal == (Count{}) &&
		io.ReadOpsTotal == (Count{}) && io.WriteOpsTotal == (Count{}) &&
		io.ReadBytesPerSecond == (Float{}) && io.WriteBytesPerSecond == (Float{}) &&
		io.ReadOpsPerSecond == (Float{}) && io.WriteOpsPerSecond == (Float{})
}

func (io *IO) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.count("read_bytes_total", io.ReadBytesTotal)
	f.count("write_bytes_total", io.WriteBytesTotal)
	f.count("read_ops_total", io.ReadOpsTotal)
	f.count("write_ops_total", io.WriteOpsTotal)
	f.float("read_bytes_per_second", io.ReadBytesPerSecond)
	f.float("write_bytes_per_second", io.WriteBytesPerSecond)
	f.float("read_ops_per_second", io.ReadOpsPerSecond)
	f.float("write_ops_per_second", io.WriteOpsPerSecond)
	if len(io.Devices) > 0 {
		f.key("devices")
		f.dst = append(f.dst, '[')
		for i := range io.Devices {
			if i > 0 {
				f.dst = append(f.dst, ',')
			}
			d := &io.Devices[i]
			g := object(f.dst)
			g.key("device")
			g.dst = appendString(g.dst, d.Device)
			g.plainUint("major", uint64(d.Major))
			g.plainUint("minor", uint64(d.Minor))
			g.plainUint("read_bytes_total", d.ReadBytesTotal)
			g.plainUint("write_bytes_total", d.WriteBytesTotal)
			g.plainUint("read_ops_total", d.ReadOpsTotal)
			g.plainUint("write_ops_total", d.WriteOpsTotal)
			g.float("read_bytes_per_second", d.ReadBytesPerSecond)
			g.float("write_bytes_per_second", d.WriteBytesPerSecond)
			f.dst = g.end()
		}
		f.dst = append(f.dst, ']')
	}
	return f.end()
}

func (p *Pressure) appendJSON(dst []byte) []byte {
	f := object(dst)
	for _, r := range [...]struct {
		name string
		psi  *PSI
	}{{"cpu", &p.CPU}, {"memory", &p.Memory}, {"io", &p.IO}} {
		if *r.psi == (PSI{}) {
			continue
		}
		f.key(r.name)
		g := object(f.dst)
		for _, l := range [...]struct {
			name string
			line *PSILine
		}{{"some", &r.psi.Some}, {"full", &r.psi.Full}} {
			if !l.line.OK {
				continue
			}
			g.key(l.name)
			h := object(g.dst)
			h.plainFloat("avg10", l.line.Avg10)
			h.plainFloat("avg60", l.line.Avg60)
			h.plainFloat("avg300", l.line.Avg300)
			h.plainFloat("total_seconds", l.line.TotalSeconds)
			h.float("percent", l.line.Percent)
			g.dst = h.end()
		}
		f.dst = g.end()
	}
	return f.end()
}

func (c Count) appendJSON(dst []byte) []byte { return strconv.AppendUint(dst, c.V, 10) }

func (f Float) appendJSON(dst []byte) []byte {
	if math.IsNaN(f.V) || math.IsInf(f.V, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f.V, 'g', 10, 64)
}

func (l Limit) appendJSON(dst []byte) []byte {
	switch l.State {
	case sample.LimitUnlimited:
		return append(dst, `"max"`...)
	case sample.LimitSet:
		return strconv.AppendFloat(dst, l.V, 'g', 10, 64)
	}
	return append(dst, "null"...)
}

// appendPlainFloat formats a float64 field as encoding/json does.
func appendPlainFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		// encoding/json fails on these; PSI averages are never either.
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, v, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hex = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping on (its
// default): <, > and & as \u003c..., U+2028 and U+2029 escaped, invalid
// UTF-8 as U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
