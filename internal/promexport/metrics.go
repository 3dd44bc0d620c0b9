package promexport

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
)

// Labels of every per-cgroup metric, as cAdvisor's: id is the cgroup path,
// name the container's name (only on a container's own cgroup, so that
// cAdvisor queries with name!="" select containers), runtime the container
// runtime (on every cgroup of a container). cAdvisor's image label is left
// out: cgmon does not know images.
var cgroupLabels = []string{"id", "name", "runtime"}

// cgroupMetric is one figure of a cgroup, rendered with cgroupLabels.
type cgroupMetric struct {
	name, help string
	typ        prometheus.ValueType
	// value returns the figure, and false when the snapshot lacks it.
	value func(c *model.Cgroup) (float64, bool)
}

func count(c model.Count) (float64, bool) { return float64(c.V), c.OK }
func float(f model.Float) (float64, bool) { return f.V, f.OK }

// cadvisorLimit is a limit as cAdvisor exports it: 0 when unlimited.
func cadvisorLimit(l model.Limit) (float64, bool) {
	switch {
	case l.Set():
		return l.V, true
	case l.Unlimited():
		return 0, true
	}
	return 0, false
}

// infLimit is a limit as cgmon exports it: +Inf when unlimited.
func infLimit(l model.Limit) (float64, bool) {
	switch {
	case l.Set():
		return l.V, true
	case l.Unlimited():
		return math.Inf(1), true
	}
	return 0, false
}

func ratio(f model.Float) (float64, bool) { return f.V / 100, f.OK }

const (
	counter = prometheus.CounterValue
	gauge   = prometheus.GaugeValue
)

// cgroupMetrics are rendered for every cgroup that has the figure.
var cgroupMetrics = []cgroupMetric{
	// cAdvisor's names.
	{"container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.", counter,
		func(c *model.Cgroup) (float64, bool) { return float(c.CPU.UserSecondsTotal) }},
	{"container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.", counter,
		func(c *model.Cgroup) (float64, bool) { return float(c.CPU.SystemSecondsTotal) }},
	{"container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", counter,
		func(c *model.Cgroup) (float64, bool) { return count(c.CPU.PeriodsTotal) }},
	{"container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", counter,
		func(c *model.Cgroup) (float64, bool) { return count(c.CPU.ThrottledPeriodsTotal) }},
	{"container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled.", counter,
		func(c *model.Cgroup) (float64, bool) { return float(c.CPU.ThrottledSecondsTotal) }},
	{"container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed (memory.current, memory.usage_in_bytes).", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.UsageBytes) }},
	{"container_memory_working_set_bytes", "Current working set in bytes: usage minus inactive_file, floored at 0.", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.WorkingSetBytes) }},
	{"container_memory_rss", "Size of RSS in bytes (anon, total_rss).", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.AnonBytes) }},
	{"container_memory_cache", "Number of bytes of page cache memory (file, total_cache).", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.FileBytes) }},
	{"container_memory_swap", "Container swap usage in bytes.", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.SwapBytes) }},
	// A counter, but cAdvisor's name lacks _total: untyped keeps the name
	// and passes promtool's lint (PromQL's rate works on either).
	{"container_memory_failcnt", "Number of memory usage hits limits.", prometheus.UntypedValue,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.FailcntTotal) }},
	{"container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes.", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.PeakBytes) }},
	{"container_spec_memory_limit_bytes", "Memory limit for the container in bytes; 0 when unlimited, as cAdvisor.", gauge,
		func(c *model.Cgroup) (float64, bool) { return cadvisorLimit(c.Memory.LimitBytes) }},
	{"container_threads_max", "Maximum number of tasks allowed in the cgroup (pids.max); 0 when unlimited, as cAdvisor.", gauge,
		func(c *model.Cgroup) (float64, bool) { return cadvisorLimit(c.TasksLimit) }},
	{"container_oom_events_total", "Count of processes killed by the OOM killer in the container (memory.events oom_kill, memory.oom_control oom_kill).", counter,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.OOMKillsTotal) }},

	// Read through a running container's process, on its own cgroup
	// (container.go has its network and filesystem figures).
	{"container_processes", "Number of processes (not threads) running inside the container.", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Processes) }},
	{"container_start_time_seconds", "Start time of the container (of its init process) since unix epoch in seconds.", gauge,
		func(c *model.Cgroup) (float64, bool) {
			if c.Container == nil || c.Container.StartedAt.IsZero() {
				return 0, false
			}
			return float64(c.Container.StartedAt.UnixNano()) / 1e9, true
		}},

	// cgmon's own.
	{"cgmon_container_paused", "1 when the container is paused (its cgroup frozen), 0 when it runs.", gauge,
		func(c *model.Cgroup) (float64, bool) {
			if c.Container == nil || c.Container.State == "" {
				return 0, false
			}
			return b2f(c.Container.State == "paused"), true
		}},
	{"cgmon_container_host_network", "1 when the container shares the host's network namespace (it then has no container_network_* series: they would be the host's), 0 when it has its own.", gauge,
		func(c *model.Cgroup) (float64, bool) {
			if c.Network == nil {
				return 0, false
			}
			return b2f(c.Network.HostNetwork), true
		}},
	{"cgmon_cpu_limit_cores", "CFS quota as a number of CPUs (quota / period); +Inf when unlimited.", gauge,
		func(c *model.Cgroup) (float64, bool) { return infLimit(c.CPU.LimitCores) }},
	{"cgmon_cpu_throttled_ratio", "Share of the CFS periods of the agent's last interval in which the cgroup was throttled (0 to 1).", gauge,
		func(c *model.Cgroup) (float64, bool) { return ratio(c.CPU.ThrottledPercent) }},
	{"cgmon_memory_oom_events_total", "Times the OOM killer was invoked for the cgroup (memory.events oom; cgroup v2 only).", counter,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.OOMEventsTotal) }},
	{"cgmon_memory_shmem_bytes", "Shared memory and tmpfs in bytes (shmem, total_shmem).", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.ShmemBytes) }},
	{"cgmon_memory_inactive_file_bytes", "Inactive page cache in bytes (inactive_file, total_inactive_file).", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Memory.InactiveFileBytes) }},
	{"cgmon_memory_swap_limit_bytes", "Swap limit in bytes (memory.swap.max; v1 memsw limit minus memory limit); +Inf when unlimited.", gauge,
		func(c *model.Cgroup) (float64, bool) { return infLimit(c.Memory.SwapLimitBytes) }},
	{"cgmon_tasks", "Tasks (threads included) in the cgroup and its descendants (pids.current).", gauge,
		func(c *model.Cgroup) (float64, bool) { return count(c.Tasks) }},
}

// pressureResources are PSI's resources, in the order of psiOf and
// descs.psiTotal.
var pressureResources = [3]string{"cpu", "memory", "io"}

func psiOf(p *model.Pressure, i int) *model.PSI {
	switch i {
	case 0:
		return &p.CPU
	case 1:
		return &p.Memory
	}
	return &p.IO
}

// descs are every descriptor, built once.
type descs struct {
	cgroup []*prometheus.Desc // parallel to cgroupMetrics

	cpuUsage *prometheus.Desc // with cpu="total", as cAdvisor without per-CPU figures

	fsReadBytes, fsWriteBytes, fsReads, fsWrites *prometheus.Desc

	psiTotal [3][2]*prometheus.Desc // [resource][some (cAdvisor's waiting), full (stalled)]

	container containerDescs

	snapTime, snapCgroups, snapInterval               *prometheus.Desc
	cycles, cycleErrors, cycleOverruns, cycleDuration *prometheus.Desc

	sinkSent, sinkErrors, sinkDropped           *prometheus.Desc
	sinkQueued, sinkDegraded, sinkOutageSeconds *prometheus.Desc
}

func newDescs() *descs {
	d := &descs{cgroup: make([]*prometheus.Desc, len(cgroupMetrics))}
	for i, m := range cgroupMetrics {
		d.cgroup[i] = prometheus.NewDesc(m.name, m.help, cgroupLabels, nil)
	}
	with := func(extra ...string) []string {
		return append(append([]string(nil), cgroupLabels...), extra...)
	}
	d.cpuUsage = prometheus.NewDesc("container_cpu_usage_seconds_total",
		"Cumulative cpu time consumed in seconds, all CPUs (cpu=\"total\").", with("cpu"), nil)
	dev := with("device")
	d.fsReadBytes = prometheus.NewDesc("container_fs_reads_bytes_total", "Cumulative count of bytes read from a block device.", dev, nil)
	d.fsWriteBytes = prometheus.NewDesc("container_fs_writes_bytes_total", "Cumulative count of bytes written to a block device.", dev, nil)
	d.fsReads = prometheus.NewDesc("container_fs_reads_total", "Cumulative count of read requests to a block device.", dev, nil)
	d.fsWrites = prometheus.NewDesc("container_fs_writes_total", "Cumulative count of write requests to a block device.", dev, nil)
	d.container = newContainerDescs(with)
	for i, r := range pressureResources {
		d.psiTotal[i][0] = prometheus.NewDesc("container_pressure_"+r+"_waiting_seconds_total",
			"Total time some tasks in the cgroup waited for "+r+" (PSI some total).", cgroupLabels, nil)
		d.psiTotal[i][1] = prometheus.NewDesc("container_pressure_"+r+"_stalled_seconds_total",
			"Total time no task in the cgroup could make progress for lack of "+r+" (PSI full total).", cgroupLabels, nil)
	}

	d.snapTime = prometheus.NewDesc("cgmon_snapshot_timestamp_seconds", "Unix time of the latest published snapshot.", nil, nil)
	d.snapCgroups = prometheus.NewDesc("cgmon_snapshot_cgroups", "Cgroups in the latest published snapshot.", nil, nil)
	d.snapInterval = prometheus.NewDesc("cgmon_snapshot_interval_seconds", "Window of the latest snapshot's rates.", nil, nil)
	d.cycles = prometheus.NewDesc("cgmon_cycles_total", "Snapshots the agent published.", nil, nil)
	d.cycleErrors = prometheus.NewDesc("cgmon_cycle_errors_total", "Agent cycles that failed.", nil, nil)
	d.cycleOverruns = prometheus.NewDesc("cgmon_cycle_overruns_total", "Agent cycles that took longer than the interval.", nil, nil)
	d.cycleDuration = prometheus.NewDesc("cgmon_cycle_duration_seconds", "Duration of the agent's last cycle.", nil, nil)
	sink := []string{"sink"}
	d.sinkSent = prometheus.NewDesc("cgmon_sink_sent_total", "Values a push sink handed to its destination.", sink, nil)
	d.sinkErrors = prometheus.NewDesc("cgmon_sink_errors_total", "Failed sends of a push sink.", sink, nil)
	d.sinkDropped = prometheus.NewDesc("cgmon_sink_dropped_total", "Values a push sink gave up on.", sink, nil)
	d.sinkQueued = prometheus.NewDesc("cgmon_sink_queued", "Values a push sink holds, in memory or spooled, waiting to be sent.", sink, nil)
	d.sinkDegraded = prometheus.NewDesc("cgmon_sink_degraded", "1 while a push sink's destination is failing (from a failed send to the next good one).", sink, nil)
	d.sinkOutageSeconds = prometheus.NewDesc("cgmon_sink_outage_seconds_total", "Time a push sink's destination has been failing, over every outage since cgmon started.", sink, nil)
	return d
}

func (d *descs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range d.cgroup {
		ch <- x
	}
	for _, x := range []*prometheus.Desc{
		d.cpuUsage, d.fsReadBytes, d.fsWriteBytes, d.fsReads, d.fsWrites,
		d.snapTime, d.snapCgroups, d.snapInterval, d.cycles, d.cycleErrors, d.cycleOverruns, d.cycleDuration,
		d.sinkSent, d.sinkErrors, d.sinkDropped, d.sinkQueued, d.sinkDegraded, d.sinkOutageSeconds,
	} {
		ch <- x
	}
	for i := range d.psiTotal {
		ch <- d.psiTotal[i][0]
		ch <- d.psiTotal[i][1]
	}
	d.container.describe(ch)
}

func (d *descs) collectAgent(ch chan<- prometheus.Metric, st agent.Stats) {
	ch <- prometheus.MustNewConstMetric(d.cycles, counter, float64(st.Cycles))
	ch <- prometheus.MustNewConstMetric(d.cycleErrors, counter, float64(st.Errors))
	ch <- prometheus.MustNewConstMetric(d.cycleOverruns, counter, float64(st.Overruns))
	if st.Cycles+st.Errors > 0 {
		ch <- prometheus.MustNewConstMetric(d.cycleDuration, gauge, st.LastDuration.Seconds())
	}
}

func (d *descs) collectSink(ch chan<- prometheus.Metric, name string, sent, errs, dropped uint64) {
	ch <- prometheus.MustNewConstMetric(d.sinkSent, counter, float64(sent), name)
	ch <- prometheus.MustNewConstMetric(d.sinkErrors, counter, float64(errs), name)
	ch <- prometheus.MustNewConstMetric(d.sinkDropped, counter, float64(dropped), name)
}

func (d *descs) collectBacklog(ch chan<- prometheus.Metric, name string, queued int, degraded bool, outage float64) {
	ch <- prometheus.MustNewConstMetric(d.sinkQueued, gauge, float64(queued), name)
	deg := 0.0
	if degraded {
		deg = 1
	}
	ch <- prometheus.MustNewConstMetric(d.sinkDegraded, gauge, deg, name)
	ch <- prometheus.MustNewConstMetric(d.sinkOutageSeconds, counter, outage, name)
}

func (d *descs) collectSnapshot(ch chan<- prometheus.Metric, snap *model.Snapshot) {
	ch <- prometheus.MustNewConstMetric(d.snapTime, gauge, float64(snap.Timestamp.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(d.snapCgroups, gauge, float64(len(snap.Cgroups)))
	if snap.IntervalSeconds.OK {
		ch <- prometheus.MustNewConstMetric(d.snapInterval, gauge, snap.IntervalSeconds.V)
	}
	var r renderer
	for i := range snap.Cgroups {
		d.collectCgroup(ch, &r, &snap.Cgroups[i])
	}
}

// collectCgroup renders one cgroup. Its metrics share one set of label
// pairs (see renderer), which keeps a scrape of a thousand cgroups within
// its budget.
func (d *descs) collectCgroup(ch chan<- prometheus.Metric, r *renderer, c *model.Cgroup) {
	id, name, runtime := validUTF8(c.Path), "", ""
	if ct := c.Container; ct != nil {
		runtime = validUTF8(ct.Runtime)
		if ct.Role == "container" {
			name = validUTF8(ct.Name)
		}
	}
	base := r.labels(pair{&labelID, id}, pair{&labelName, name}, pair{&labelRuntime, runtime})
	for j := range cgroupMetrics {
		m := &cgroupMetrics[j]
		if v, ok := m.value(c); ok {
			ch <- r.metric(d.cgroup[j], m.typ, v, base)
		}
	}
	if c.CPU.UsageSecondsTotal.OK {
		lp := r.labels(pair{&labelCPU, "total"}, pair{&labelID, id}, pair{&labelName, name}, pair{&labelRuntime, runtime})
		ch <- r.metric(d.cpuUsage, counter, c.CPU.UsageSecondsTotal.V, lp)
	}
	for k := range c.IO.Devices {
		io := &c.IO.Devices[k]
		lp := r.labels(pair{&labelDevice, deviceLabel(io)}, pair{&labelID, id}, pair{&labelName, name}, pair{&labelRuntime, runtime})
		ch <- r.metric(d.fsReadBytes, counter, float64(io.ReadBytesTotal), lp)
		ch <- r.metric(d.fsWriteBytes, counter, float64(io.WriteBytesTotal), lp)
		ch <- r.metric(d.fsReads, counter, float64(io.ReadOpsTotal), lp)
		ch <- r.metric(d.fsWrites, counter, float64(io.WriteOpsTotal), lp)
	}
	for ri := range pressureResources {
		p := psiOf(&c.PSI, ri)
		for k, line := range [2]*model.PSILine{&p.Some, &p.Full} {
			if !line.OK {
				continue
			}
			ch <- r.metric(d.psiTotal[ri][k], counter, line.TotalSeconds, base)
		}
	}
	d.container.collect(ch, r, c, id, name, runtime)
}

// deviceLabel is cAdvisor's device label: the device node's path.
func deviceLabel(io *model.DeviceIO) string {
	if io.Device != "" {
		return "/dev/" + io.Device
	}
	return strconv.FormatUint(uint64(io.Major), 10) + ":" + strconv.FormatUint(uint64(io.Minor), 10)
}
