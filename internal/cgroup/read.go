package cgroup

import (
	"strconv"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// slot is one file of one cgroup.
type slot struct {
	h       rootfs.Handle // kept open between cycles; nil when not open
	missing bool          // the file does not exist: the metric is absent until the next walk
}

// limits are the values re-read only every few cycles.
type limits struct {
	due       time.Time // when they are read again; zero: at the next read
	cpuQuota  sample.Limit
	cpuPeriod sample.Value
	mem       sample.Limit
	memsw     sample.Limit // v1 memory+swap limit; v2 swap limit
	pids      sample.Limit
}

func (st *cgState) closeSlots(c *Collector) {
	for i := range st.slots {
		if h := st.slots[i].h; h != nil {
			h.Close()
			c.open--
		}
		st.slots[i] = slot{}
	}
	st.lim = limits{}
}

// dir returns the cgroup's directory in hierarchy h.
func (st *cgState) dir(c *Collector, h int) string {
	if st.dirs == nil {
		st.dirs = make([]string, len(c.layout.Hierarchies))
	}
	if st.dirs[h] == "" {
		st.dirs[h] = c.layout.Hierarchies[h].Dir(st.path)
	}
	return st.dirs[h]
}

// retryMissing forgets which files were missing, so the next read tries them
// again (a v2 controller may have been enabled since).
func (st *cgState) retryMissing() {
	for i := range st.slots {
		st.slots[i].missing = false
	}
}

// readFile reads one plan file of a cgroup into c.buf. ok is false when the
// file is absent; gone is true when the cgroup itself has disappeared.
func (c *Collector) readFile(st *cgState, i int) (b []byte, ok, gone bool) {
	s := &st.slots[i]
	if s.missing {
		return nil, false, false
	}
	spec := &c.plan.files[i]
	if s.h == nil {
		h, err := c.root.Open(st.dir(c, spec.hierarchy) + "/" + spec.name)
		if err != nil {
			if rootfs.IsGone(err) {
				// Either the file does not exist here or the cgroup is gone;
				// the walk and inotify tell the two apart, not this read.
				s.missing = true
				return nil, false, false
			}
			c.stats.ReadErrors++
			return nil, false, false
		}
		// Limits are read every LimitRefresh: a handle kept for them
		// would cost a descriptor for little gain.
		if spec.limit || c.open >= c.budget {
			if !spec.limit {
				c.noteBudget()
			}
			b, err := h.ReadAll(c.buf)
			h.Close()
			return c.afterRead(s, b, err)
		}
		s.h = h
		c.open++
	}
	b, err := s.h.ReadAll(c.buf)
	return c.afterRead(s, b, err)
}

func (c *Collector) afterRead(s *slot, b []byte, err error) ([]byte, bool, bool) {
	if cap(b) > cap(c.buf) {
		c.buf = b[:0] // keep the grown buffer
	}
	if err != nil {
		if rootfs.IsGone(err) {
			return nil, false, true
		}
		c.stats.ReadErrors++
		return nil, false, false
	}
	return b, true, false
}

// read fills out with one cgroup's sample. It returns false when the cgroup
// has disappeared; the caller leaves it out of this cycle.
func (c *Collector) read(st *cgState, out *sample.Cgroup, refreshLimits bool) bool {
	io := out.IO[:0]
	*out = sample.Cgroup{
		Path:       st.path,
		Identity:   st.ident,
		Generation: st.gen,
	}
	if c.resolver != nil && st.ident.ID != "" && st.ident.Name == "" {
		out.Identity.Name = c.resolver.Name(st.ident)
	}
	var memswUsage sample.Value
	blkio := false
	for i := range c.plan.files {
		spec := &c.plan.files[i]
		if st.in&(1<<spec.hierarchy) == 0 {
			continue
		}
		if spec.limit && !refreshLimits {
			continue
		}
		if spec.kind == fileMemSwap && c.noSwap && st.slots[i].h != nil {
			// No swap device, so nothing is swapped; the file exists here
			// (it was opened before), so the figure is 0, not absent. The
			// first time it is opened to learn that, and then not read.
			out.Memory.Swap = sample.Some(0)
			continue
		}
		if spec.kind == fileCFSPeriod && st.lim.cpuQuota.State != sample.LimitSet {
			// The period matters only with a quota (read just before).
			st.lim.cpuPeriod = sample.Value{}
			continue
		}
		b, ok, gone := c.readFile(st, i)
		if gone {
			out.IO = io
			c.drop(st.path, st)
			return false
		}
		if !ok {
			continue
		}
		var err error
		switch spec.kind {
		case fileCpuacctUsage:
			var v uint64
			v, err = cgroupfs.ParseUint(b)
			if err == nil {
				out.CPU.UsageNs = sample.Some(v)
			}
			out.ReadAt = c.sinceStart()
		case fileCpuacctStat:
			err = cgroupfs.ParseCpuacctStat(b, &out.CPU)
		case fileCPUStat:
			err = cgroupfs.ParseCPUStat(b, &out.CPU)
			if out.ReadAt == 0 {
				out.ReadAt = c.sinceStart()
			}
		case fileCFSQuota:
			st.lim.cpuQuota, err = cgroupfs.ParseCFSQuota(b)
		case fileCFSPeriod:
			var v uint64
			v, err = cgroupfs.ParseUint(b)
			st.lim.cpuPeriod = sample.Value{V: v, OK: err == nil}
		case fileCPUMax:
			var period uint64
			st.lim.cpuQuota, period, err = cgroupfs.ParseCPUMax(b)
			st.lim.cpuPeriod = sample.Value{V: period, OK: err == nil}
		case fileMemUsage:
			out.Memory.Usage, err = parseValue(b)
		case fileMemStat:
			err = cgroupfs.ParseMemoryStat(b, c.plan.v2mem, &out.Memory)
		case fileMemPeak:
			out.Memory.Peak, err = parseValue(b)
		case fileMemSwap:
			if c.noSwap {
				out.Memory.Swap = sample.Some(0) // see above: the file exists
				break
			}
			if c.plan.v2mem {
				out.Memory.Swap, err = parseValue(b)
			} else {
				memswUsage, err = parseValue(b)
			}
		case fileMemFailcnt:
			out.Memory.Failcnt, err = parseValue(b)
		case fileMemEvents:
			err = cgroupfs.ParseMemoryEvents(b, &out.Memory)
		case fileOOMControl:
			err = cgroupfs.ParseOOMControl(b, &out.Memory)
		case fileMemLimit:
			st.lim.mem, err = cgroupfs.ParseLimit(b)
		case fileMemSwapLimit:
			st.lim.memsw, err = cgroupfs.ParseLimit(b)
		case fileIOStat:
			io, err = cgroupfs.ParseIOStat(b, io)
		case fileBlkioBytes:
			if !blkio {
				io, blkio = io[:0], true
			}
			io, err = cgroupfs.ParseBlkio(b, io, false)
		case fileBlkioOps:
			if !blkio {
				io, blkio = io[:0], true
			}
			io, err = cgroupfs.ParseBlkio(b, io, true)
		case filePidsCurrent:
			out.Pids.Current, err = parseValue(b)
		case filePidsMax:
			st.lim.pids, err = cgroupfs.ParseLimit(b)
		case fileProcs:
			out.Pids.Current = sample.Some(cgroupfs.CountLines(b))
			out.Pids.Counted = true
		case filePSICPU:
			out.Pressure.CPU, err = cgroupfs.ParsePSI(b)
		case filePSIMemory:
			out.Pressure.Memory, err = cgroupfs.ParsePSI(b)
		case filePSIIO:
			out.Pressure.IO, err = cgroupfs.ParsePSI(b)
		}
		if err != nil {
			// A file we cannot parse leaves its metric absent this cycle.
			c.stats.ParseErrors++
		}
	}
	c.applyLimits(st, out, memswUsage)
	out.IO = c.nameDevices(io)
	return true
}

func parseValue(b []byte) (sample.Value, error) {
	v, err := cgroupfs.ParseUint(b)
	if err != nil {
		return sample.Value{}, err
	}
	return sample.Some(v), nil
}

// applyLimits copies the cached limits into the sample and derives the v1
// swap figures, which the kernel gives as memory+swap.
func (c *Collector) applyLimits(st *cgState, out *sample.Cgroup, memswUsage sample.Value) {
	out.CPU.QuotaUs = st.lim.cpuQuota
	out.CPU.PeriodUs = st.lim.cpuPeriod
	out.Memory.Limit = st.lim.mem
	out.Pids.Limit = st.lim.pids
	if c.plan.v2mem {
		out.Memory.SwapLimit = st.lim.memsw
		return
	}
	if memswUsage.OK && out.Memory.Usage.OK && !c.noSwap {
		var swap uint64
		if memswUsage.V > out.Memory.Usage.V {
			swap = memswUsage.V - out.Memory.Usage.V
		}
		out.Memory.Swap = sample.Some(swap)
	}
	switch {
	case st.lim.memsw.State == sample.LimitUnlimited:
		out.Memory.SwapLimit = sample.Unlimited
	case st.lim.memsw.State == sample.LimitSet && st.lim.mem.State == sample.LimitSet:
		var v uint64
		if st.lim.memsw.V > st.lim.mem.V {
			v = st.lim.memsw.V - st.lim.mem.V
		}
		out.Memory.SwapLimit = sample.LimitOf(v)
	}
}

// nameDevices fills device names and removes excluded devices, in place.
func (c *Collector) nameDevices(io []sample.DeviceIO) []sample.DeviceIO {
	k := 0
	for _, d := range io {
		dev := c.device(d.Major, d.Minor)
		if dev.excluded {
			continue
		}
		d.Name = dev.name
		io[k] = d
		k++
	}
	return io[:k]
}

// device resolves MAJ:MIN through /sys/dev/block once per device.
func (c *Collector) device(major, minor uint32) device {
	key := uint64(major)<<32 | uint64(minor)
	if d, ok := c.devices[key]; ok {
		return d
	}
	num := strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
	name := ""
	if b, err := c.root.ReadFile("/sys/dev/block/" + num + "/uevent"); err == nil {
		name = cgroupfs.ParseUeventDevname(b)
	}
	if name == "" {
		name = num
	}
	d := device{name: name}
	for _, p := range c.excluded {
		if p != "" && strings.HasPrefix(name, p) {
			d.excluded = true
			break
		}
	}
	c.devices[key] = d
	return d
}
