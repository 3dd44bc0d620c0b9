package proc

import "testing"

// TestZeroAllocs checks that the parsers do not allocate on real files once
// their destination has room (the state a reader reaches after its first
// cycle).
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
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
	var (
		st   Stat
		sts  Status
		io   IO
		cmd  = make([]byte, 0, 256)
		pids = make([]int, 0, 16)
	)
	stat := procFile(t, pidOdd, "stat")
	check("ParseStat", func() error { return ParseStat(stat, &st) })
	status := procFile(t, pidThreads, "status")
	check("ParseStatus", func() error { return ParseStatus(status, &sts) })
	check("Status.Lookup", func() error { _, _ = sts.Lookup("nonvoluntary_ctxt_switches"); return nil })
	check("Status.Bytes", func() error { _, _ = sts.Bytes("VmRSS"); return nil })
	check("Status.UIDs", func() error { _, _ = sts.UIDs(); return nil })
	ioFile := procFile(t, pidThreads, "io")
	check("ParseIO", func() error { return ParseIO(ioFile, &io) })
	cmdline := procFile(t, pidThreads, "cmdline")
	check("AppendCmdline", func() error { cmd = AppendCmdline(cmd[:0], cmdline); return nil })
	procs := []byte("1\n22\n333\n4444\n")
	check("AppendPIDs", func() error { var err error; pids, err = AppendPIDs(pids[:0], procs); return err })
	meminfo := testdata(t, "root/proc/meminfo")
	check("ParseMemTotal", func() error { _, err := ParseMemTotal(meminfo); return err })
}
