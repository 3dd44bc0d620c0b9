package cgroupfs

import (
	"testing"

	"github.com/cgmon/cgmon/internal/sample"
)

// TestZeroAllocs checks that the per-cycle parsers do not allocate on real
// files when dst has room.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	var (
		cpu sample.CPU
		mem sample.Memory
		dev = make([]sample.DeviceIO, 0, 8)
	)
	check := func(name string, f func() error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if err := f(); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(100, func() { _ = f() }); n != 0 {
				t.Errorf("%v allocations per call, want 0", n)
			}
		})
	}
	in := func(name string) []byte { return testdata(t, name) }

	b := in("v2/cgroup/machine.slice/libpod-abc.scope/memory.current")
	check("ParseUint", func() error { _, err := ParseUint(b); return err })
	lim := in("v1/host-root/memory/memory.limit_in_bytes")
	check("ParseLimit v1", func() error { _, err := ParseLimit(lim); return err })
	max := in("v2/cgroup/machine.slice/libpod-abc.scope/memory.swap.max")
	check("ParseLimit max", func() error { _, err := ParseLimit(max); return err })
	cpuMax := in("v2/cgroup/system.slice/demo.service/cpu.max")
	check("ParseCPUMax", func() error { _, _, err := ParseCPUMax(cpuMax); return err })
	quota := in("v1/host-root/cpu/cpu.cfs_quota_us")
	check("ParseCFSQuota", func() error { _, err := ParseCFSQuota(quota); return err })
	cpuStat1 := in("v1/parsetest/cpu/cpu.stat")
	check("ParseCPUStat v1", func() error { return ParseCPUStat(cpuStat1, &cpu) })
	cpuStat2 := in("v2/cgroup/system.slice/demo.service/cpu.stat")
	check("ParseCPUStat v2", func() error { return ParseCPUStat(cpuStat2, &cpu) })
	usageAll := in("v1/host-root/cpuacct/cpuacct.usage_all")
	check("ParseCpuacctUsageAll", func() error { return ParseCpuacctUsageAll(usageAll, &cpu) })
	acctStat := in("v1/parsetest/cpuacct/cpuacct.stat")
	check("ParseCpuacctStat", func() error { return ParseCpuacctStat(acctStat, &cpu) })
	memStat1 := in("v1/host-root/memory/memory.stat")
	check("ParseMemoryStat v1", func() error { return ParseMemoryStat(memStat1, false, &mem) })
	memStat2 := in("v2/cgroup/machine.slice/libpod-abc.scope/memory.stat")
	check("ParseMemoryStat v2", func() error { return ParseMemoryStat(memStat2, true, &mem) })
	events := in("v2/cgroup/machine.slice/libpod-abc.scope/memory.events")
	check("ParseMemoryEvents", func() error { return ParseMemoryEvents(events, &mem) })
	oom := in("v1/parsetest/memory/memory.oom_control")
	check("ParseOOMControl", func() error { return ParseOOMControl(oom, &mem) })
	ioStat := in("v2/cgroup/io.stat")
	check("ParseIOStat", func() error { _, err := ParseIOStat(ioStat, dev); return err })
	blkBytes := in("v1/parsetest/blkio/blkio.throttle.io_service_bytes_recursive")
	blkOps := in("v1/parsetest/blkio/blkio.throttle.io_serviced_recursive")
	check("ParseBlkio", func() error {
		d, err := ParseBlkio(blkBytes, dev[:0], false)
		if err != nil {
			return err
		}
		_, err = ParseBlkio(blkOps, d, true)
		return err
	})
	psi := in("v1/host-root/unified/io.pressure")
	check("ParsePSI", func() error { _, err := ParsePSI(psi); return err })
	procs := in("v2/cgroup/cgroup.procs")
	check("CountLines", func() error { CountLines(procs); return nil })
}
