package model

import (
	"time"

	"github.com/cgmon/cgmon/internal/sample"
)

// CgroupRates are the figures that need two samples. A rate whose counter
// went backwards (a reset) or is missing from either sample is absent, never
// negative and never zero by default.
type CgroupRates struct {
	CPUPercent, CPUUserPercent, CPUSystemPercent Float
	ThrottledPercent                             Float
	ReadBytes, WriteBytes, ReadOps, WriteOps     Float
	Devices                                      []deviceRate
	PSICPUSome, PSICPUFull                       Float
	PSIMemorySome, PSIMemoryFull                 Float
	PSIIOSome, PSIIOFull                         Float
	Network                                      NetRates
}

type deviceRate struct {
	index                 int // into the current sample's IO
	readBytes, writeBytes Float
}

// Rates is the sampler: one pure function from the previous and current
// sample of one cgroup and the time between them to its rates.
//
// CPU percent is systemd-cgtop's: Δusage / Δwall × 100, so 100 means one CPU
// fully used and a group on four busy CPUs shows 400.
func Rates(prev, cur *sample.Cgroup, elapsed time.Duration) CgroupRates {
	var r CgroupRates
	if elapsed <= 0 {
		return r
	}
	ns := float64(elapsed.Nanoseconds())
	sec := elapsed.Seconds()
	pct := func(p, c sample.Value) Float {
		d, ok := delta(p, c)
		if !ok {
			return Float{}
		}
		return floatOf(float64(d) / ns * 100)
	}
	perSec := func(p, c uint64) Float {
		if c < p {
			return Float{}
		}
		return floatOf(float64(c-p) / sec)
	}
	r.CPUPercent = pct(prev.CPU.UsageNs, cur.CPU.UsageNs)
	r.CPUUserPercent = pct(prev.CPU.UserNs, cur.CPU.UserNs)
	r.CPUSystemPercent = pct(prev.CPU.SystemNs, cur.CPU.SystemNs)
	if dp, ok := delta(prev.CPU.Periods, cur.CPU.Periods); ok && dp > 0 {
		if dt, ok := delta(prev.CPU.ThrottledPeriods, cur.CPU.ThrottledPeriods); ok && dt <= dp {
			r.ThrottledPercent = floatOf(float64(dt) / float64(dp) * 100)
		}
	} else if ok {
		r.ThrottledPercent = floatOf(0)
	}

	if len(cur.IO) > 0 && len(prev.IO) > 0 {
		var rb, wb, ro, wo float64
		ok := true
		r.Devices = make([]deviceRate, 0, len(cur.IO))
		var none sample.DeviceIO
		for i := range cur.IO {
			c := &cur.IO[i]
			p := findDevice(prev.IO, c.Major, c.Minor)
			if p == nil {
				p = &none // a device new to this cgroup started from zero
			}
			if c.ReadBytes < p.ReadBytes || c.WriteBytes < p.WriteBytes || c.ReadOps < p.ReadOps || c.WriteOps < p.WriteOps {
				ok = false
				continue
			}
			rb += float64(c.ReadBytes - p.ReadBytes)
			wb += float64(c.WriteBytes - p.WriteBytes)
			ro += float64(c.ReadOps - p.ReadOps)
			wo += float64(c.WriteOps - p.WriteOps)
			r.Devices = append(r.Devices, deviceRate{index: i, readBytes: perSec(p.ReadBytes, c.ReadBytes), writeBytes: perSec(p.WriteBytes, c.WriteBytes)})
		}
		if ok {
			r.ReadBytes, r.WriteBytes = floatOf(rb/sec), floatOf(wb/sec)
			r.ReadOps, r.WriteOps = floatOf(ro/sec), floatOf(wo/sec)
		}
	} else if len(cur.IO) > 0 {
		// io.stat lists a device after its first IO: the counters of devices
		// that appeared in this interval started from zero.
		var rb, wb, ro, wo uint64
		for _, d := range cur.IO {
			rb, wb, ro, wo = rb+d.ReadBytes, wb+d.WriteBytes, ro+d.ReadOps, wo+d.WriteOps
		}
		r.ReadBytes, r.WriteBytes = perSec(0, rb), perSec(0, wb)
		r.ReadOps, r.WriteOps = perSec(0, ro), perSec(0, wo)
	}

	us := float64(elapsed.Microseconds())
	psi := func(p, c *sample.PSI, full bool) Float {
		pl, cl, ok := &p.Some, &c.Some, p.HasSome && c.HasSome
		if full {
			pl, cl, ok = &p.Full, &c.Full, p.HasFull && c.HasFull
		}
		if !ok || cl.TotalUs < pl.TotalUs || us <= 0 {
			return Float{}
		}
		return floatOf(float64(cl.TotalUs-pl.TotalUs) / us * 100)
	}
	r.PSICPUSome, r.PSICPUFull = psi(&prev.Pressure.CPU, &cur.Pressure.CPU, false), psi(&prev.Pressure.CPU, &cur.Pressure.CPU, true)
	r.PSIMemorySome, r.PSIMemoryFull = psi(&prev.Pressure.Memory, &cur.Pressure.Memory, false), psi(&prev.Pressure.Memory, &cur.Pressure.Memory, true)
	r.PSIIOSome, r.PSIIOFull = psi(&prev.Pressure.IO, &cur.Pressure.IO, false), psi(&prev.Pressure.IO, &cur.Pressure.IO, true)
	r.Network = networkRates(prev.Container, cur.Container, elapsed)
	return r
}

// delta is c − p when both are present and the counter did not go back.
func delta(p, c sample.Value) (uint64, bool) {
	if !p.OK || !c.OK || c.V < p.V {
		return 0, false
	}
	return c.V - p.V, true
}

func findDevice(devs []sample.DeviceIO, major, minor uint32) *sample.DeviceIO {
	for i := range devs {
		if devs[i].Major == major && devs[i].Minor == minor {
			return &devs[i]
		}
	}
	return nil
}

// apply writes the rates into a converted cgroup.
func (r CgroupRates) apply(c *Cgroup) {
	c.CPU.Percent = r.CPUPercent
	c.CPU.UserPercent = r.CPUUserPercent
	c.CPU.SystemPercent = r.CPUSystemPercent
	c.CPU.ThrottledPercent = r.ThrottledPercent
	c.IO.ReadBytesPerSecond = r.ReadBytes
	c.IO.WriteBytesPerSecond = r.WriteBytes
	c.IO.ReadOpsPerSecond = r.ReadOps
	c.IO.WriteOpsPerSecond = r.WriteOps
	for _, d := range r.Devices {
		if d.index < len(c.IO.Devices) {
			c.IO.Devices[d.index].ReadBytesPerSecond = d.readBytes
			c.IO.Devices[d.index].WriteBytesPerSecond = d.writeBytes
		}
	}
	c.PSI.CPU.Some.Percent = psiPct(c.PSI.CPU.Some, r.PSICPUSome)
	c.PSI.CPU.Full.Percent = psiPct(c.PSI.CPU.Full, r.PSICPUFull)
	c.PSI.Memory.Some.Percent = psiPct(c.PSI.Memory.Some, r.PSIMemorySome)
	c.PSI.Memory.Full.Percent = psiPct(c.PSI.Memory.Full, r.PSIMemoryFull)
	c.PSI.IO.Some.Percent = psiPct(c.PSI.IO.Some, r.PSIIOSome)
	c.PSI.IO.Full.Percent = psiPct(c.PSI.IO.Full, r.PSIIOFull)
	r.Network.apply(c)
}

func psiPct(l PSILine, f Float) Float {
	if !l.OK {
		return Float{}
	}
	return f
}
