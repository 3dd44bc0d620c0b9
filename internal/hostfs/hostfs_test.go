package hostfs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
	"github.com/cgmon/cgmon/internal/sample"
)

var (
	testdata = kerntexttest.Testdata
	checkErr = kerntexttest.CheckErr
)

func TestParseStat(t *testing.T) {
	var st Stat
	if err := ParseStat(testdata(t, "proc/stat"), &st); err != nil {
		t.Fatal(err)
	}
	want := Stat{
		All:    CPUTimes{User: 388282, System: 137206, Idle: 1797857, IOWait: 14024, SoftIRQ: 1108, Steal: 697},
		HasAll: true,
		CPUs: []CPU{
			{ID: 0, CPUTimes: CPUTimes{User: 192118, System: 64283, Idle: 909828, IOWait: 2826, SoftIRQ: 169, Steal: 321}},
			{ID: 1, CPUTimes: CPUTimes{User: 196163, System: 72922, Idle: 888029, IOWait: 11197, SoftIRQ: 938, Steal: 376}},
		},
		ProcsRunning: sample.Some(1), ProcsBlocked: sample.Some(0),
	}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Reuse: a second parse into the same Stat gives the same result.
	cpus := &st.CPUs[0]
	if err := ParseStat(testdata(t, "proc/stat"), &st); err != nil || &st.CPUs[0] != cpus {
		t.Errorf("second parse: %v, CPUs reallocated: %v", err, &st.CPUs[0] != cpus)
	}

	for _, tc := range []struct {
		name, in string
		err      error
		msg      string
	}{
		{"short cpu line", "cpu  1 2 3 4 5 6 7\n", ErrSyntax, "line 1"},
		{"bad number", "cpu  1 2 3 4 5 6 7 x\n", ErrSyntax, `"x"`},
		{"bad cpu id", "cpuX 1 2 3 4 5 6 7 8\n", ErrSyntax, "cpuX"},
		{"overflow", "cpu0 1 2 3 4 5 6 7 99999999999999999999\n", ErrRange, "cpu0"},
		{"bad line after good ones", "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\ncpu1 x\n", ErrSyntax, "line 3"},
		{"bad procs_running", "procs_running -1\n", ErrSyntax, "procs_running"},
		{"no procs lines", "cpu  1 2 3 4 5 6 7 8 9 10\n", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st Stat
			err := ParseStat([]byte(tc.in), &st)
			checkErr(t, err, tc.err, tc.msg)
			if tc.err != nil && (st.HasAll || len(st.CPUs) > 0) {
				t.Errorf("a failed parse left figures: %+v", st)
			}
			if tc.err == nil && (st.ProcsRunning.OK || !st.HasAll) {
				t.Errorf("absent procs_running must stay absent: %+v", st)
			}
		})
	}
}

func TestParseMeminfo(t *testing.T) {
	m, err := ParseMeminfo(testdata(t, "proc/meminfo"))
	if err != nil {
		t.Fatal(err)
	}
	want := Meminfo{
		MemTotal: sample.Some(24684096 * 1024), MemFree: sample.Some(23689780 * 1024), MemAvailable: sample.Some(24162884 * 1024),
		Buffers: m.Buffers, Cached: m.Cached, SwapTotal: sample.Some(0), SwapFree: sample.Some(0),
	}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if !m.Buffers.OK || !m.Cached.OK {
		t.Errorf("Buffers/Cached absent: %+v", m)
	}
	// A kernel before 3.14 has no MemAvailable: absent, not 0.
	old, err := ParseMeminfo([]byte("MemTotal:  100 kB\nMemFree:  50 kB\nHugePages_Total:       0\n"))
	if err != nil || old.MemAvailable.OK || old.MemTotal != sample.Some(102400) {
		t.Errorf("old kernel: %+v, %v", old, err)
	}
	_, err = ParseMeminfo([]byte("MemTotal: 100 MB\n"))
	checkErr(t, err, ErrSyntax, "MemTotal")
	_, err = ParseMeminfo([]byte("MemFree: 18446744073709551615 kB\n"))
	checkErr(t, err, ErrRange, "MemFree")
}

func TestParseVmstat(t *testing.T) {
	v, err := ParseVmstat(testdata(t, "proc/vmstat"))
	if err != nil {
		t.Fatal(err)
	}
	want := Vmstat{PswpIn: sample.Some(0), PswpOut: sample.Some(0), PgMajFault: sample.Some(31880), PgScanDirect: sample.Some(0),
		PgStealDirect: sample.Some(0), AllocStall: sample.Some(0), OOMKill: sample.Some(2)}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	v, err = ParseVmstat([]byte("allocstall_dma32 3\nallocstall_normal 4\nallocstall_movable 5\n"))
	if err != nil || v.AllocStall != sample.Some(12) || v.OOMKill.OK {
		t.Errorf("per-zone allocstall: %+v, %v", v, err)
	}
	_, err = ParseVmstat([]byte("oom_kill x\n"))
	checkErr(t, err, ErrSyntax, "oom_kill")
}

func TestParseLoadavg(t *testing.T) {
	la, err := ParseLoadavg(testdata(t, "proc/loadavg"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Loadavg{Load1: 0.04, Load5: 0.66, Load15: 0.59, Runnable: 1, Threads: 154}, la); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, in := range []string{"", "0.1 0.2 0.3 1/2\n", "0.1 0.2 .3 1/2 9\n", "0.1 0.2 0.3 12 9\n", "0.1 0.2 0.3 1/x 9\n", "1e5 0 0 1/1 1"} {
		_, err := ParseLoadavg([]byte(in))
		checkErr(t, err, ErrSyntax)
	}
}

func TestParseDiskstats(t *testing.T) {
	disks, err := ParseDiskstats(testdata(t, "proc/diskstats"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(disks) != 10 {
		t.Fatalf("%d disks, want 10", len(disks))
	}
	want := Disk{Major: 254, Minor: 0, Name: "vda",
		ReadIOs: 470739, ReadMerges: 105344, ReadSectors: 18991026, ReadTicks: 1234448,
		WriteIOs: 80911, WriteMerges: 564166, WriteSectors: 17304312, WriteTicks: 200702,
		InFlight: 0, IOTicks: 182868, WeightedTicks: 1474451,
		DiscardIOs: 478327, DiscardMerges: 28, DiscardSectors: 24034952, DiscardTicks: 39114,
		FlushIOs: 4386, FlushTicks: 186, HasDiscard: true, HasFlush: true}
	if d := cmp.Diff(want, disks[8]); d != "" {
		t.Errorf("vda (-want +got):\n%s", d)
	}
	// Reuse keeps the names without allocating new ones.
	again, err := ParseDiskstats(testdata(t, "proc/diskstats"), disks)
	if err != nil || len(again) != 10 {
		t.Fatal(err)
	}
	// A 4.14 kernel: 14 fields, no discards or flushes.
	old, err := ParseDiskstats([]byte("   8       0 sda 33167 3812 1124805 428735 28338 77604 850432 3304811 0 384521 3733854\n   8    1 sda1 35713 1122730 106304 850432\n"), nil)
	if err != nil || len(old) != 1 || old[0].HasDiscard || old[0].WeightedTicks != 3733854 {
		t.Errorf("old kernel: %+v, %v", old, err)
	}
	for _, tc := range []struct{ in, msg string }{
		{"8 0 sda 1 2 3\n", "line 1"},
		{"8 x sda 1 2 3 4 5 6 7 8 9 10 11\n", "minor"},
		{"8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n", "sda"},
	} {
		_, err := ParseDiskstats([]byte(tc.in), nil)
		checkErr(t, err, ErrSyntax, tc.msg)
	}
}

func TestParseNetDev(t *testing.T) {
	devs, err := ParseNetDev(testdata(t, "proc/net/dev"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	if d := cmp.Diff([]string{"lo", "ifb0", "ifb1", "eth0", "lxcbr0", "vethLEb8Dy", "podman0", "veth0", "br-93c8522bbdfd", "vethc8d2421"}, names); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	if d := cmp.Diff(NetDev{Name: "lxcbr0", RxBytes: 1164, RxPackets: 6, RxMulticast: 2, TxBytes: 2170, TxPackets: 19, TxDrop: 1}, devs[4]); d != "" {
		t.Errorf("lxcbr0 (-want +got):\n%s", d)
	}
	for _, in := range []string{"eth0: 1 2 3\n", "eth0 1 2\n", ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n"} {
		_, err := ParseNetDev([]byte(in), nil)
		checkErr(t, err, ErrSyntax)
	}
}

func TestParseSpeed(t *testing.T) {
	for _, tc := range []struct {
		in    string
		mbps  uint64
		known bool
		err   error
	}{
		{"10000\n", 10000, true, nil},
		{string(testdata(t, "sys/class/net/eth0/speed")), 0, false, nil}, // -1: virtio does not know
		{"-1", 0, false, nil},
		{"0\n", 0, false, nil},
		{"4294967295\n", 0, false, nil},
		{"fast\n", 0, false, ErrSyntax},
		{"-\n", 0, false, ErrSyntax},
		{"", 0, false, ErrSyntax},
	} {
		mbps, known, err := ParseSpeed([]byte(tc.in))
		checkErr(t, err, tc.err)
		if mbps != tc.mbps || known != tc.known {
			t.Errorf("ParseSpeed(%q) = %d, %v", tc.in, mbps, known)
		}
	}
}

func TestParseSNMP(t *testing.T) {
	s, err := ParseSNMP(testdata(t, "proc/net/snmp"))
	if err != nil {
		t.Fatal(err)
	}
	want := SNMP{TCPOutSegs: sample.Some(147108), TCPRetransSegs: sample.Some(37), TCPInErrs: sample.Some(0),
		UDPInErrors: sample.Some(0), UDPRcvbufErrors: sample.Some(0), UDPSndbufErrors: sample.Some(0)}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		in  string
		err error
	}{
		{"Tcp: RetransSegs\n", ErrMissing},
		{"Tcp: RetransSegs\nUdp: 1\n", ErrSyntax},
		{"Tcp: RetransSegs OutSegs\nTcp: 1\n", ErrSyntax},
		{"Tcp: RetransSegs\nTcp: -1\n", ErrSyntax},
		{"Tcp RetransSegs\n", ErrSyntax},
	} {
		_, err := ParseSNMP([]byte(tc.in))
		checkErr(t, err, tc.err)
	}
}

func TestParseMachineChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want sample.Value
		err  error
	}{
		// This host's kernel (a VM) has no MCE line: absent, not 0.
		{"no MCE line", testdata(t, "proc/interrupts"), sample.Value{}, nil},
		{"MCE line of zeros", testdata(t, "proc/interrupts-mce"), sample.Some(0), nil},
		{"counts summed", []byte("     CPU0  CPU1\nMCE:   3   4   Machine check exceptions\n"), sample.Some(7), nil},
		{"short line", []byte("     CPU0  CPU1\nMCE:   3\n"), sample.Value{}, ErrSyntax},
		{"no CPUs", []byte("header\nMCE: 1\n"), sample.Value{}, ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMachineChecks(tc.in)
			checkErr(t, err, tc.err)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseHostPSI(t *testing.T) {
	// /proc/pressure files have the format cgroupfs.ParsePSI reads; this
	// checks the real host files with it so that a change there shows here.
	for _, name := range []string{"cpu", "memory", "io"} {
		if _, err := ParsePSI(testdata(t, "proc/pressure/"+name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseErrorCounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  error
	}{
		{"0x0\n", 0, nil},
		{"0x1a\n", 26, nil},
		{"0xffffffffffffffff", 1<<64 - 1, nil},
		{"0x1ffffffffffffffff", 0, ErrRange},
		{"26\n", 0, ErrSyntax},
		{"0x\n", 0, ErrSyntax},
		{"0xG\n", 0, ErrSyntax},
	} {
		got, err := ParseIOErrorCount([]byte(tc.in))
		checkErr(t, err, tc.err)
		if got != tc.want {
			t.Errorf("ParseIOErrorCount(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if n, err := ParseCount([]byte("3\n")); n != 3 || err != nil {
		t.Errorf("ParseCount = %d, %v", n, err)
	}
}
