package model_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// hostSamples reads the hostfs fixture tree as a host and returns it with a
// second sample 2 s later whose counters moved by known amounts.
func hostSamples(t testing.TB) (prev, cur *hostfs.Sample) {
	t.Helper()
	root, err := rootfs.New("../hostfs/testdata")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	r, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	prev, cur = &hostfs.Sample{}, &hostfs.Sample{}
	if err := r.Read(prev); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(cur); err != nil {
		t.Fatal(err)
	}
	cur.Time = prev.Time.Add(2 * time.Second)
	// CPU: 200 ticks on all CPUs: 60 user, 20 system, 20 iowait, 100 idle.
	cur.Stat.All.User += 60
	cur.Stat.All.System += 20
	cur.Stat.All.IOWait += 20
	cur.Stat.All.Idle += 100
	cur.Stat.CPUs[0].User += 100 // cpu0 fully busy
	cur.Stat.CPUs[1].Idle += 100 // cpu1 idle
	// vda: busy 1000 of 2000 ms, 3000 ms of queue time, 20 I/Os taking 200 ms.
	for i := range cur.Disks {
		if d := &cur.Disks[i]; d.Name == "vda" {
			d.IOTicks += 1000
			d.WeightedTicks += 3000
			d.ReadIOs, d.WriteIOs = d.ReadIOs+10, d.WriteIOs+10
			d.ReadTicks, d.WriteTicks = d.ReadTicks+50, d.WriteTicks+150
			d.ReadSectors += 2048 // 1 MiB
		}
	}
	// lxcbr0 (10 Gbit/s): 250 MB received in 2 s = 1 Gbit/s = 10 %.
	for i := range cur.Interfaces {
		if n := &cur.Interfaces[i]; n.Name == "lxcbr0" {
			n.RxBytes += 250_000_000
			n.RxErrs += 4
		}
	}
	cur.SNMP.TCPOutSegs.V += 1000
	cur.SNMP.TCPRetransSegs.V += 10
	cur.Vmstat.PgMajFault.V += 50
	cur.Vmstat.OOMKill.V++
	cur.Pressure.CPU.Some.TotalUs += 500_000 // 0.5 s of 2 s stalled
	prev.MemoryCorrected, cur.MemoryCorrected = sample.Some(5), sample.Some(7)
	prev.DiskIOErrors = make([]sample.Value, len(prev.Disks))
	cur.DiskIOErrors = make([]sample.Value, len(cur.Disks))
	prev.DiskIOErrors[0], cur.DiskIOErrors[0] = sample.Some(1), sample.Some(4)
	return prev, cur
}

func TestBuildHost(t *testing.T) {
	prev, cur := hostSamples(t)
	h := model.BuildHost(prev, cur)
	f := func(v float64) model.Float { return model.Float{V: v, OK: true} }
	approx := cmp.Comparer(func(a, b model.Float) bool { return a.OK == b.OK && math.Abs(a.V-b.V) < 1e-9 })
	want := model.CPUTimesPercent{UtilizationPercent: f(40), UserPercent: f(30), NicePercent: f(0), SystemPercent: f(10),
		IRQPercent: f(0), SoftIRQPercent: f(0), IOWaitPercent: f(10), StealPercent: f(0), IdlePercent: f(50)}
	if d := cmp.Diff(want, h.CPU.CPUTimesPercent, approx); d != "" {
		t.Errorf("cpu (-want +got):\n%s", d)
	}
	if len(h.CPU.PerCPU) != 2 || h.CPU.PerCPU[0].UtilizationPercent != f(100) || h.CPU.PerCPU[1].UtilizationPercent != f(0) {
		t.Errorf("per cpu: %+v", h.CPU.PerCPU)
	}
	if h.CPU.RunQueuePerCPU != f(0) || h.CPU.Load1 != f(0.04) || h.CPU.MachineChecksTotal.OK {
		t.Errorf("cpu saturation: %+v", h.CPU)
	}
	m := h.Memory
	if m.UsedBytes.V != (24684096-24162884)*1024 || m.MajorFaultsPerSecond != f(25) || m.OOMKills != (model.Count{V: 1, OK: true}) || m.OOMKillsTotal.V != 3 {
		t.Errorf("memory: %+v", m)
	}
	if p := h.PSI.CPU.Some.Percent; !p.OK || math.Abs(p.V-25) > 1e-9 {
		t.Errorf("cpu psi percent = %+v, want 25", h.PSI.CPU.Some.Percent)
	}
	if m.ECCCorrected != (model.Count{V: 2, OK: true}) || m.ECCCorrectedTotal.V != 7 || m.ECCUncorrected.OK {
		t.Errorf("ecc: %+v", m)
	}
	if d := h.Disks[0]; d.IOErrors != (model.Count{V: 3, OK: true}) || d.IOErrorsTotal.V != 4 || h.Disks[1].IOErrors.OK {
		t.Errorf("io errors: %+v %+v", d, h.Disks[1])
	}
	var vda *model.HostDisk
	for i := range h.Disks {
		if h.Disks[i].Device == "vda" {
			vda = &h.Disks[i]
		}
	}
	if vda == nil {
		t.Fatalf("no vda in %+v", h.Disks)
	}
	if vda.UtilizationPercent != f(50) || vda.QueueSize != f(1.5) || vda.AwaitMs != f(10) || vda.ReadOpsPerSecond != f(5) || vda.ReadBytesPerSecond != f(524288) {
		t.Errorf("vda: %+v", vda)
	}
	for _, i := range h.Network.Interfaces {
		switch i.Interface {
		case "lxcbr0":
			if i.SpeedBitsPerSecond.V != 10e9 || i.RxBytesPerSecond != f(125e6) || i.UtilizationPercent != f(10) || i.RxErrorsPerSecond != f(2) {
				t.Errorf("lxcbr0: %+v", i)
			}
		case "eth0":
			if i.SpeedBitsPerSecond.OK || i.UtilizationPercent.OK || !i.RxBytesPerSecond.OK {
				t.Errorf("eth0 has an unknown speed: %+v", i)
			}
		}
	}
	if h.Network.TCPRetransmitsPerSecond != f(5) || h.Network.TCPRetransmitPercent != f(1) {
		t.Errorf("tcp: %+v", h.Network)
	}
}

func TestBuildHostFirstAndReset(t *testing.T) {
	prev, cur := hostSamples(t)
	first := model.BuildHost(nil, prev)
	if first.CPU.UtilizationPercent.OK || first.Memory.MajorFaultsPerSecond.OK || !first.Memory.UsedPercent.OK || first.Disks[0].UtilizationPercent.OK {
		t.Errorf("first sample must have gauges and no rates: %+v", first)
	}
	// Counters that went back (a disk replaced, an interface recreated)
	// give no rate rather than a huge or negative one.
	cur.Disks[0].IOTicks = 0
	cur.Interfaces[0].RxBytes = 0
	h := model.BuildHost(cur, prev)
	if h.Disks[0].UtilizationPercent.OK || h.Network.Interfaces[0].RxBytesPerSecond.OK {
		t.Errorf("reset counters gave rates: %+v %+v", h.Disks[0], h.Network.Interfaces[0])
	}
}

func TestHostJSONMatchesEncodingJSON(t *testing.T) {
	prev, cur := hostSamples(t)
	s := fixtureSnapshot(t, "v2")
	s.Host = model.BuildHost(prev, cur)
	s.Host.Checks = []model.Check{
		{Name: "resources.cpu.utilization", Resource: "cpu", Kind: "utilization", Value: 40, Unit: "%", Status: "ok"},
		{Name: "resources.storage.vda.await", Resource: "storage", Kind: "saturation", Subject: "vda", Value: 1e-7, Unit: "ms",
			Status: "warning", Reason: "over 20 ms", Anomaly: "disk vda await 48 ms, 9× its <1-hour> median"},
	}
	if d := cmp.Diff(stdJSON(t, s), string(s.AppendJSON(nil))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	s.Host = model.BuildHost(nil, prev)
	s.Host.CPU.PerCPU = []model.HostCPUCore{{CPU: 3}}
	s.Host.Filesystems = append(s.Host.Filesystems, model.HostFilesystem{MountPoint: "/a\"b"})
	s.Host.PSI = model.Pressure{}
	if d := cmp.Diff(stdJSON(t, s), string(s.AppendJSON(nil))); d != "" {
		t.Errorf("first sample (-want +got):\n%s", d)
	}
	s.Host = &model.Host{}
	if d := cmp.Diff(stdJSON(t, s), string(s.AppendJSON(nil))); d != "" {
		t.Errorf("empty host (-want +got):\n%s", d)
	}
}

func FuzzHostJSON(f *testing.F) {
	f.Add("vda", "/mnt/a b", 12.5, 1e-9, uint64(7), 3, true)
	f.Add("\xff<>&", "\u2028", math.Inf(1), 1e21, uint64(0), -1, false)
	f.Fuzz(func(t *testing.T, name, mount string, a, b float64, n uint64, cpu int, ok bool) {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return // encoding/json refuses these in plain float fields
		}
		fl := model.Float{V: a, OK: ok}
		h := &model.Host{
			CPU: model.HostCPU{Count: model.Count{V: n, OK: !ok}, CPUTimesPercent: model.CPUTimesPercent{UtilizationPercent: fl, IdlePercent: model.Float{V: b, OK: true}},
				PerCPU: []model.HostCPUCore{{CPU: cpu, CPUTimesPercent: model.CPUTimesPercent{StealPercent: fl}}}},
			Memory:      model.HostMemory{UsedBytes: model.Count{V: n, OK: ok}, OOMKills: model.Count{V: n, OK: true}, ECCUncorrected: model.Count{V: n, OK: !ok}},
			Disks:       []model.HostDisk{{Device: name, Major: uint32(n), AwaitMs: fl, InFlight: n, IOErrors: model.Count{V: n, OK: ok}}},
			Filesystems: []model.HostFilesystem{{MountPoint: mount, Device: name, UsedPercent: fl, SizeBytes: n}},
			Network:     model.HostNetwork{Interfaces: []model.HostInterface{{Interface: name, SpeedBitsPerSecond: model.Count{V: n, OK: ok}, TxErrorsPerSecond: fl}}, UDPErrorsPerSecond: fl},
			Checks:      []model.Check{{Name: name, Subject: mount, Value: b, Unit: name, Status: mount, Anomaly: name}},
		}
		if ok {
			h.PSI.IO.Full = model.PSILine{OK: true, Avg10: b, Percent: fl}
		}
		s := &model.Snapshot{Hostname: name, Host: h}
		if got, want := string(s.AppendJSON(nil)), stdJSON(t, s); got != want {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}
