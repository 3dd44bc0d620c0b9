package cgroupfs

import (
	"errors"
	"testing"

	"github.com/cgmon/cgmon/internal/sample"
)

func BenchmarkParseUint(b *testing.B) {
	bench(b, "v2/cgroup/machine.slice/libpod-abc.scope/memory.current", func(in []byte) error {
		_, err := ParseUint(in)
		return err
	})
}

func BenchmarkParseLimit(b *testing.B) {
	bench(b, "v1/host-root/memory/memory.limit_in_bytes", func(in []byte) error {
		_, err := ParseLimit(in)
		return err
	})
}

func BenchmarkParseCPUMax(b *testing.B) {
	bench(b, "v2/cgroup/system.slice/demo.service/cpu.max", func(in []byte) error {
		_, _, err := ParseCPUMax(in)
		return err
	})
}

func BenchmarkParseCFSQuota(b *testing.B) {
	bench(b, "v1/parsetest/cpu/cpu.cfs_quota_us", func(in []byte) error {
		_, err := ParseCFSQuota(in)
		return err
	})
}

func BenchmarkParseCPUStat(b *testing.B) {
	var cpu sample.CPU
	b.Run("v1", func(b *testing.B) {
		bench(b, "v1/parsetest/cpu/cpu.stat", func(in []byte) error { return ParseCPUStat(in, &cpu) })
	})
	b.Run("v2", func(b *testing.B) {
		bench(b, "v2/cgroup/system.slice/demo.service/cpu.stat", func(in []byte) error { return ParseCPUStat(in, &cpu) })
	})
}

func BenchmarkParseCpuacctUsageAll(b *testing.B) {
	var cpu sample.CPU
	bench(b, "v1/host-root/cpuacct/cpuacct.usage_all", func(in []byte) error { return ParseCpuacctUsageAll(in, &cpu) })
}

func BenchmarkParseCpuacctStat(b *testing.B) {
	var cpu sample.CPU
	bench(b, "v1/host-root/cpuacct/cpuacct.stat", func(in []byte) error { return ParseCpuacctStat(in, &cpu) })
}

func BenchmarkParseMemoryStat(b *testing.B) {
	var m sample.Memory
	b.Run("v1", func(b *testing.B) {
		bench(b, "v1/parsetest/memory/memory.stat", func(in []byte) error { return ParseMemoryStat(in, false, &m) })
	})
	b.Run("v2", func(b *testing.B) {
		bench(b, "v2/cgroup/machine.slice/libpod-abc.scope/memory.stat", func(in []byte) error { return ParseMemoryStat(in, true, &m) })
	})
}

func BenchmarkParseMemoryEvents(b *testing.B) {
	var m sample.Memory
	bench(b, "v2/cgroup/machine.slice/libpod-abc.scope/memory.events", func(in []byte) error { return ParseMemoryEvents(in, &m) })
}

func BenchmarkParseOOMControl(b *testing.B) {
	var m sample.Memory
	bench(b, "v1/parsetest/memory/memory.oom_control", func(in []byte) error { return ParseOOMControl(in, &m) })
}

func BenchmarkParseIOStat(b *testing.B) {
	dst := make([]sample.DeviceIO, 0, 8)
	bench(b, "v2/cgroup/machine.slice/libpod-abc.scope/io.stat", func(in []byte) error {
		_, err := ParseIOStat(in, dst)
		return err
	})
}

func BenchmarkParseBlkio(b *testing.B) {
	dst := make([]sample.DeviceIO, 0, 8)
	ops := testdata(b, "v1/host-root/blkio/blkio.throttle.io_serviced_recursive")
	// One cycle's pair: bytes, then ops merged into the same slice.
	bench(b, "v1/host-root/blkio/blkio.throttle.io_service_bytes_recursive", func(in []byte) error {
		d, err := ParseBlkio(in, dst[:0], false)
		if err != nil {
			return err
		}
		_, err = ParseBlkio(ops, d, true)
		return err
	})
}

func BenchmarkParsePSI(b *testing.B) {
	bench(b, "v1/host-root/unified/io.pressure", func(in []byte) error {
		_, err := ParsePSI(in)
		return err
	})
}

func BenchmarkCountLines(b *testing.B) {
	bench(b, "v1/host-root/pids/cgroup.procs", func(in []byte) error {
		CountLines(in)
		return nil
	})
}

func BenchmarkParseMountinfo(b *testing.B) {
	bench(b, "proc/mountinfo-hybrid", func(in []byte) error {
		_, err := ParseMountinfo(in)
		return err
	})
}

func BenchmarkParseProcCgroup(b *testing.B) {
	bench(b, "proc/cgroup-hybrid", func(in []byte) error {
		_, err := ParseProcCgroup(in)
		return err
	})
}

// BenchmarkParseUeventDevname: the uevent file is read once per block device
// (names are cached), not every cycle, so this parser alone may allocate (the
// name it returns); benchmarked so that every parser is.
func BenchmarkParseUeventDevname(b *testing.B) {
	bench(b, "sys/uevent-vda", func(in []byte) error {
		if ParseUeventDevname(in) != "vda" {
			return errors.New("not vda")
		}
		return nil
	})
}
