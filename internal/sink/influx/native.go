package influx

import (
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/cgmon/cgmon/internal/model"
)

// fields adds the native schema's fields to one line and notes whether
// any was added (a line needs one).
type fields struct {
	enc *lineprotocol.Encoder
	n   int
}

func (f *fields) float(key string, v model.Float) {
	if v.OK {
		if fv, ok := lineprotocol.FloatValue(v.V); ok {
			f.enc.AddField(key, fv)
			f.n++
		}
	}
}

func (f *fields) count(key string, v model.Count) {
	if v.OK && v.V <= 1<<63-1 {
		f.enc.AddField(key, lineprotocol.IntValue(int64(v.V)))
		f.n++
	}
}

// limit writes a finite limit; "max" (unlimited) and absent are left out.
func (f *fields) limit(key string, v model.Limit, integer bool) {
	if !v.Set() {
		return
	}
	if integer {
		f.enc.AddField(key, lineprotocol.IntValue(int64(v.V)))
		f.n++
		return
	}
	f.float(key, model.Float{V: v.V, OK: true})
}

// psiKeys are the field keys of one pressure line, built once so that
// encoding allocates nothing for them.
type psiKeys struct{ avg10, avg60, avg300, total, percent string }

func newPSIKeys(prefix string) psiKeys {
	return psiKeys{prefix + "_avg10", prefix + "_avg60", prefix + "_avg300", prefix + "_total_seconds", prefix + "_percent"}
}

var (
	psiCPUSome, psiCPUFull       = newPSIKeys("psi_cpu_some"), newPSIKeys("psi_cpu_full")
	psiMemorySome, psiMemoryFull = newPSIKeys("psi_memory_some"), newPSIKeys("psi_memory_full")
	psiIOSome, psiIOFull         = newPSIKeys("psi_io_some"), newPSIKeys("psi_io_full")
)

func (f *fields) psi(k psiKeys, l model.PSILine) {
	if !l.OK {
		return
	}
	f.float(k.avg10, model.Float{V: l.Avg10, OK: true})
	f.float(k.avg60, model.Float{V: l.Avg60, OK: true})
	f.float(k.avg300, model.Float{V: l.Avg300, OK: true})
	f.float(k.total, model.Float{V: l.TotalSeconds, OK: true})
	f.float(k.percent, l.Percent)
}

// encodeNative writes every figure of c: the snapshot's JSON fields with
// dots as underscores (cpu.percent → cpu_percent), in the JSON's units.
// Tags: container_name, host, kind, name, path, prefix, runtime (those
// that are not empty, in the lexical order line protocol wants).
func encodeNative(enc *lineprotocol.Encoder, m, host string, c *model.Cgroup) bool {
	enc.StartLine(m)
	var runtime, cname string
	if c.Container != nil {
		runtime, cname = c.Container.Runtime, c.Container.Name
	}
	tag(enc, "container_name", cname)
	tag(enc, "host", host)
	tag(enc, "kind", c.Kind)
	tag(enc, "name", c.Name)
	tag(enc, "path", c.Path)
	tag(enc, "prefix", c.Prefix)
	tag(enc, "runtime", runtime)

	f := fields{enc: enc}
	cpu := &c.CPU
	f.float("cpu_usage_seconds_total", cpu.UsageSecondsTotal)
	f.float("cpu_user_seconds_total", cpu.UserSecondsTotal)
	f.float("cpu_system_seconds_total", cpu.SystemSecondsTotal)
	f.float("cpu_percent", cpu.Percent)
	f.float("cpu_user_percent", cpu.UserPercent)
	f.float("cpu_system_percent", cpu.SystemPercent)
	f.count("cpu_periods_total", cpu.PeriodsTotal)
	f.count("cpu_throttled_periods_total", cpu.ThrottledPeriodsTotal)
	f.float("cpu_throttled_seconds_total", cpu.ThrottledSecondsTotal)
	f.float("cpu_throttled_percent", cpu.ThrottledPercent)
	f.limit("cpu_limit_cores", cpu.LimitCores, false)

	mem := &c.Memory
	f.count("memory_usage_bytes", mem.UsageBytes)
	f.count("memory_working_set_bytes", mem.WorkingSetBytes)
	f.limit("memory_limit_bytes", mem.LimitBytes, true)
	f.float("memory_usage_percent", mem.UsagePercent)
	f.count("memory_peak_bytes", mem.PeakBytes)
	f.count("memory_anon_bytes", mem.AnonBytes)
	f.count("memory_file_bytes", mem.FileBytes)
	f.count("memory_shmem_bytes", mem.ShmemBytes)
	f.count("memory_inactive_file_bytes", mem.InactiveFileBytes)
	f.count("memory_swap_bytes", mem.SwapBytes)
	f.limit("memory_swap_limit_bytes", mem.SwapLimitBytes, true)
	f.count("memory_failcnt_total", mem.FailcntTotal)
	f.count("memory_oom_events_total", mem.OOMEventsTotal)
	f.count("memory_oom_kills_total", mem.OOMKillsTotal)

	f.count("tasks", c.Tasks)
	f.limit("tasks_limit", c.TasksLimit, true)

	io := &c.IO
	f.count("io_read_bytes_total", io.ReadBytesTotal)
	f.count("io_write_bytes_total", io.WriteBytesTotal)
	f.count("io_read_ops_total", io.ReadOpsTotal)
	f.count("io_write_ops_total", io.WriteOpsTotal)
	f.float("io_read_bytes_per_second", io.ReadBytesPerSecond)
	f.float("io_write_bytes_per_second", io.WriteBytesPerSecond)
	f.float("io_read_ops_per_second", io.ReadOpsPerSecond)
	f.float("io_write_ops_per_second", io.WriteOpsPerSecond)

	psi := &c.PSI
	f.psi(psiCPUSome, psi.CPU.Some)
	f.psi(psiCPUFull, psi.CPU.Full)
	f.psi(psiMemorySome, psi.Memory.Some)
	f.psi(psiMemoryFull, psi.Memory.Full)
	f.psi(psiIOSome, psi.IO.Some)
	f.psi(psiIOFull, psi.IO.Full)
	return f.n > 0
}

func tag(enc *lineprotocol.Encoder, key, value string) {
	if value != "" {
		enc.AddTag(key, value)
	}
}
