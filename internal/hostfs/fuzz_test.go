package hostfs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
)

// seed adds every testdata file and a few broken inputs to f.
func seed(f *testing.F) {
	f.Helper()
	kerntexttest.Seed(f, func(b []byte) { f.Add(b) }, "", "\n", "cpu 1 2 3 4 5 6 7 8\n", "cpu0 1", "MemTotal:", "Tcp: a\nTcp: 1", "MCE: 1",
		"CPU0\nMCE: 99999999999999999999 1", "a: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "1 2 3 4 5 6 7 8 9 10 11 12 13 14")
}

var checkParseError = kerntexttest.CheckParseError

func FuzzParseStat(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var st Stat
		err := ParseStat(b, &st)
		checkParseError(t, err)
		if err == nil && len(st.CPUs) > strings.Count(string(b), "\n")+1 {
			t.Fatalf("%d CPUs from %d lines", len(st.CPUs), strings.Count(string(b), "\n")+1)
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMeminfo(b)
		checkParseError(t, err)
		if err == nil && m.MemTotal.OK && m.MemTotal.V%1024 != 0 {
			t.Fatalf("MemTotal %d is not whole kB", m.MemTotal.V)
		}
	})
}

func FuzzParseVmstat(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseVmstat(b)
		checkParseError(t, err)
	})
}

func FuzzParseLoadavg(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		la, err := ParseLoadavg(b)
		checkParseError(t, err)
		if err == nil && (la.Load1 < 0 || la.Load5 < 0 || la.Load15 < 0) {
			t.Fatalf("negative load %+v", la)
		}
	})
}

func FuzzParseDiskstats(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDiskstats(b, nil)
		checkParseError(t, err)
		if err != nil && len(d) != 0 {
			t.Fatalf("%d disks with an error", len(d))
		}
		// Parsing again into the result must give the same result.
		if err == nil {
			first := append([]Disk(nil), d...)
			again, err := ParseDiskstats(b, d)
			if err != nil || len(again) != len(first) {
				t.Fatalf("reparse: %d disks, %v", len(again), err)
			}
			for i := range again {
				if again[i] != first[i] {
					t.Fatalf("reparse differs at %d: %+v vs %+v", i, again[i], first[i])
				}
			}
		}
	})
}

func FuzzParseNetDev(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseNetDev(b, nil)
		checkParseError(t, err)
		for _, n := range d {
			if n.Name == "" || strings.ContainsAny(n.Name, ":\n") {
				t.Fatalf("bad name %q", n.Name)
			}
		}
	})
}

func FuzzParseSpeed(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		mbps, known, err := ParseSpeed(b)
		checkParseError(t, err)
		if !known && mbps != 0 {
			t.Fatalf("unknown speed with a value %d", mbps)
		}
	})
}

func FuzzParseSNMP(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseSNMP(b)
		checkParseError(t, err)
	})
}

func FuzzParseMachineChecks(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseMachineChecks(b)
		checkParseError(t, err)
	})
}

func FuzzParseIOErrorCount(f *testing.F) {
	seed(f)
	f.Add([]byte("0x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseIOErrorCount(b)
		checkParseError(t, err)
		if err == nil {
			if again, err := ParseIOErrorCount([]byte("0x" + strconv.FormatUint(n, 16) + "\n")); err != nil || again != n {
				t.Fatalf("round trip of %d: %d, %v", n, again, err)
			}
		}
	})
}
