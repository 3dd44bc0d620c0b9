package proc

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedExample is the process of the example response in
// seeds/cadvisor_companion.md, with its "..." elisions left out (and its two
// typos, a trailing comma and an unterminated string, fixed).
const seedExample = `{
    "status": {
        "Name": "python",
        "State": "S (sleeping)",
        "Tgid": 18709,
        "Pid": 18709,
        "PPid": 32241,
        "CapBnd": 2818844155,
        "Seccomp": 0,
        "CpusAllowed": [
            65535
        ],
        "MemsAllowed": [
            0,
            2
        ],
        "VoluntaryCtxtSwitches": 1141403,
        "NonvoluntaryCtxtSwitches": 69023
    },
    "stat": {
        "pid": 18709,
        "comm": "(python)",
        "state": "S",
        "ppid": 32241,
        "pgrp": 18709,
        "utime": 34616,
        "stime": 4012,
        "cutime": 0,
        "cstime": 0,
        "num_threads": 1,
        "itrealvalue": 0,
        "starttime": 1253207962,
        "vsize": 371187712,
        "rss": 40225
    },
    "cmdline": "python /opt/someprog.py"
}`

// TestSeedExample renders the kernel files such a process has (its figures
// put in by hand where the seed shows them) and checks that every value the
// seed's example shows comes out with the same key, JSON type and value.
func TestSeedExample(t *testing.T) {
	status := "Name:\tpython\nState:\tS (sleeping)\nTgid:\t18709\nNgid:\t0\nPid:\t18709\nPPid:\t32241\n" +
		"TracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\nGroups:\t\n" +
		"VmPeak:\t  371188 kB\nVmSize:\t  362488 kB\nVmRSS:\t  160900 kB\nThreads:\t1\nSigQ:\t0/15424\n" +
		"CapBnd:\t00000000a80425fb\nSeccomp:\t0\nCpus_allowed:\tffff\nCpus_allowed_list:\t0-15\n" +
		"Mems_allowed:\t00000000,00000002\nMems_allowed_list:\t1\n" +
		"voluntary_ctxt_switches:\t1141403\nnonvoluntary_ctxt_switches:\t69023\n"
	stat := "18709 (python) S 32241 18709 18709 0 -1 4202752 100 0 0 0 34616 4012 0 0 20 0 1 0 1253207962 " +
		"371187712 40225 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	cmdline := "python\x00/opt/someprog.py\x00"

	var st Status
	if err := ParseStatus([]byte(status), &st); err != nil {
		t.Fatal(err)
	}
	cs, err := st.Companion()
	if err != nil {
		t.Fatal(err)
	}
	var s Stat
	if err := ParseStat([]byte(stat), &s); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(map[string]any{"status": cs, "stat": s, "cmdline": ParseCmdline([]byte(cmdline))})
	if err != nil {
		t.Fatal(err)
	}

	var want, have map[string]any
	if err := json.Unmarshal([]byte(seedExample), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &have); err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"status", "stat"} {
		w, h := want[part].(map[string]any), have[part].(map[string]any)
		for k, v := range w {
			if d := cmp.Diff(v, h[k]); d != "" {
				t.Errorf("%s.%s (-seed +cgmon)\n%s", part, k, d)
			}
		}
	}
	if want["cmdline"] != have["cmdline"] {
		t.Errorf("cmdline %q, seed %q", have["cmdline"], want["cmdline"])
	}
}
