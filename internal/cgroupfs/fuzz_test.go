package cgroupfs

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
	"github.com/cgmon/cgmon/internal/sample"
)

// brokenSeeds are hand-made broken inputs added to every fuzz corpus next to
// the real files.
var brokenSeeds = []string{
	"", "\n", "\r\n", "\x00", "max", "max\n", "-1\n", "-2", "18446744073709551616\n",
	"nr_periods\n", "nr_periods 1\r\n", "usage_usec 99999999999999999999\n",
	"cpu user system\n0 1\n", "cpu\n", "8:0 rbytes=\n", "8:0 Read\nTotal", "Total 1 2",
	"some avg10=1.00 avg60=", "full total=1", "1 2 3:4 / / rw - a", "0::/a:b\n", "DEVNAME=",
	"\\0", "22 27 0:21 \\ \\04 rw - t  \\777",
}

// seed adds every testdata file (except the fuzz corpus) and brokenSeeds to
// f through add.
func seed(f *testing.F, add func(b []byte)) {
	f.Helper()
	kerntexttest.Seed(f, add, brokenSeeds...)
}

func seedBytes(f *testing.F) { seed(f, func(b []byte) { f.Add(b) }) }

func seedBytesBool(f *testing.F) {
	seed(f, func(b []byte) { f.Add(b, false); f.Add(b, true) })
}

// maxLines is the most lines any reading of b can have.
func maxLines(b []byte) int { return bytes.Count(b, []byte{'\n'}) + 1 }

func FuzzParseUint(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseUint(b)
		checkParseError(t, err)
		want, serr := strconv.ParseUint(string(trimNL(b)), 10, 64)
		if (err == nil) != (serr == nil) || err == nil && got != want {
			t.Fatalf("ParseUint(%q) = %d, %v; strconv says %d, %v", b, got, err, want, serr)
		}
		// strconv reports an overflow it meets before a bad byte
		// ("18700000000000000000A") as out of range; ParseUint calls any
		// input with a non-digit malformed. They agree on all-digit input.
		allDigits := len(trimNL(b)) > 0 && bytes.IndexFunc(trimNL(b), func(r rune) bool { return r < '0' || r > '9' }) < 0
		if err != nil && allDigits && errors.Is(err, ErrRange) != errors.Is(serr, strconv.ErrRange) {
			t.Fatalf("ParseUint(%q): error %v, strconv: %v", b, err, serr)
		}
		if err == nil {
			if again, err := ParseUint([]byte(strconv.FormatUint(got, 10) + "\n")); err != nil || again != got {
				t.Fatalf("round trip of %d: %d, %v", got, again, err)
			}
		}
	})
}

func FuzzParseLimit(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLimit(b)
		checkParseError(t, err)
		if err != nil {
			if l != (sample.Limit{}) {
				t.Fatalf("ParseLimit(%q) = %+v with error %v", b, l, err)
			}
			return
		}
		v := string(trimNL(b))
		switch l.State {
		case sample.LimitSet:
			if l.V >= unlimitedFrom {
				t.Fatalf("ParseLimit(%q) = %+v, want unlimited", b, l)
			}
			if again, err := ParseLimit([]byte(strconv.FormatUint(l.V, 10))); err != nil || again != l {
				t.Fatalf("round trip of %+v: %+v, %v", l, again, err)
			}
		case sample.LimitUnlimited:
			if l.V != 0 {
				t.Fatalf("unlimited with a value: %+v", l)
			}
			if v != "max" && v != "-1" {
				if n, err := strconv.ParseUint(v, 10, 64); err != nil || n < unlimitedFrom {
					t.Fatalf("ParseLimit(%q) = unlimited", b)
				}
			}
		default:
			t.Fatalf("ParseLimit(%q) = %+v without error", b, l)
		}
	})
}

func FuzzParseCPUMax(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, p, err := ParseCPUMax(b)
		checkParseError(t, err)
		if err != nil {
			return
		}
		s := "max"
		if q.State == sample.LimitSet {
			s = strconv.FormatUint(q.V, 10)
		}
		s += " " + strconv.FormatUint(p, 10) + "\n"
		q2, p2, err := ParseCPUMax([]byte(s))
		if err != nil || q2 != q || p2 != p {
			t.Fatalf("round trip of %+v %d: %+v %d %v", q, p, q2, p2, err)
		}
	})
}

func FuzzParseCFSQuota(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseCFSQuota(b)
		checkParseError(t, err)
		if err != nil {
			return
		}
		s := "-1"
		if q.State == sample.LimitSet {
			s = strconv.FormatUint(q.V, 10)
		}
		if q2, err := ParseCFSQuota([]byte(s)); err != nil || q2 != q {
			t.Fatalf("round trip of %+v: %+v %v", q, q2, err)
		}
	})
}

// cpuFields names each sample.CPU Value with the keys that may set it.
func cpuFields(c *sample.CPU) []struct {
	v    *sample.Value
	keys []string
} {
	return []struct {
		v    *sample.Value
		keys []string
	}{
		{&c.UsageNs, []string{"usage_usec"}},
		{&c.UserNs, []string{"user_usec"}},
		{&c.SystemNs, []string{"system_usec"}},
		{&c.Periods, []string{"nr_periods"}},
		{&c.ThrottledPeriods, []string{"nr_throttled"}},
		{&c.ThrottledNs, []string{"throttled_time", "throttled_usec"}},
	}
}

func FuzzParseCPUStat(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := marked
		err := ParseCPUStat(b, &got)
		checkParseError(t, err)
		if err != nil {
			if got != marked {
				t.Fatalf("cpu changed on error: %+v", got)
			}
			return
		}
		if got.QuotaUs != marked.QuotaUs || got.PeriodUs != marked.PeriodUs {
			t.Fatalf("quota or period changed: %+v", got)
		}
		for _, fld := range cpuFields(&got) {
			if !fld.v.OK {
				t.Fatalf("a field became absent: %+v", got)
			}
		}
		// A field that changed must have its key in the input.
		orig := marked
		of := cpuFields(&orig)
		for i, fld := range cpuFields(&got) {
			if *fld.v == *of[i].v {
				continue
			}
			found := false
			for _, k := range fld.keys {
				found = found || bytes.Contains(b, []byte(k))
			}
			if !found {
				t.Fatalf("field %v set without its key %v in the input", i, fld.keys)
			}
		}
	})
}

func FuzzParseCpuacctUsageAll(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := marked
		err := ParseCpuacctUsageAll(b, &got)
		checkParseError(t, err)
		if err != nil {
			if got != marked {
				t.Fatalf("cpu changed on error: %+v", got)
			}
			return
		}
		if got.UsageNs.V != got.UserNs.V+got.SystemNs.V || got.UsageNs.V < got.UserNs.V {
			t.Fatalf("usage %d != user %d + system %d", got.UsageNs.V, got.UserNs.V, got.SystemNs.V)
		}
	})
}

func FuzzParseCpuacctStat(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := marked
		err := ParseCpuacctStat(b, &got)
		checkParseError(t, err)
		if err != nil && got != marked {
			t.Fatalf("cpu changed on error: %+v", got)
		}
		want := marked
		want.UserNs, want.SystemNs = got.UserNs, got.SystemNs
		if got != want {
			t.Fatalf("fields other than user and system changed: %+v", got)
		}
		if got.UserNs != marked.UserNs && got.UserNs.V%1e7 != 0 || got.SystemNs != marked.SystemNs && got.SystemNs.V%1e7 != 0 {
			t.Fatalf("not whole ticks: %+v", got)
		}
	})
}

func FuzzParseMemoryStat(f *testing.F) {
	seedBytesBool(f)
	f.Fuzz(func(t *testing.T, b []byte, v2 bool) {
		got := markedMem
		err := ParseMemoryStat(b, v2, &got)
		checkParseError(t, err)
		if err != nil && got != markedMem {
			t.Fatalf("memory changed on error: %+v", got)
		}
		want := markedMem
		want.Anon, want.File, want.Shmem, want.InactiveFile = got.Anon, got.File, got.Shmem, got.InactiveFile
		if got != want {
			t.Fatalf("fields outside memory.stat changed: %+v", got)
		}
	})
}

func FuzzParseMemoryEvents(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := markedMem
		err := ParseMemoryEvents(b, &got)
		checkParseError(t, err)
		if err != nil && got != markedMem {
			t.Fatalf("memory changed on error: %+v", got)
		}
		want := markedMem
		want.Failcnt, want.OOMEvents, want.OOMKills = got.Failcnt, got.OOMEvents, got.OOMKills
		if got != want {
			t.Fatalf("fields outside memory.events changed: %+v", got)
		}
	})
}

func FuzzParseOOMControl(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := markedMem
		got.OOMKills = sample.Value{}
		err := ParseOOMControl(b, &got)
		checkParseError(t, err)
		if got.OOMKills.OK && (err != nil || !bytes.Contains(b, []byte("oom_kill "))) {
			t.Fatalf("OOMKills set from %q (err %v)", b, err)
		}
		want := markedMem
		want.OOMKills = got.OOMKills
		if got != want {
			t.Fatalf("fields other than OOMKills changed: %+v", got)
		}
	})
}

func FuzzParseIOStat(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		dst := make([]sample.DeviceIO, 2, 4)
		got, err := ParseIOStat(b, dst)
		checkParseError(t, err)
		if err != nil && len(got) != 0 {
			t.Fatalf("%d entries with error %v", len(got), err)
		}
		if len(got) > maxLines(b) {
			t.Fatalf("%d entries from %d lines", len(got), maxLines(b))
		}
	})
}

func FuzzParseBlkio(f *testing.F) {
	seedBytesBool(f)
	f.Fuzz(func(t *testing.T, b []byte, ops bool) {
		first := sample.DeviceIO{Major: 8, Minor: 0, ReadBytes: 1, WriteBytes: 2, ReadOps: 3, WriteOps: 4}
		got, err := ParseBlkio(b, []sample.DeviceIO{first}, ops)
		checkParseError(t, err)
		if len(got) < 1 || len(got) > 1+maxLines(b) {
			t.Fatalf("%d entries from 1 + %d lines", len(got), maxLines(b))
		}
		if got[0].Major != 8 || got[0].Minor != 0 {
			t.Fatalf("first entry replaced: %+v", got[0])
		}
		if ops && (got[0].ReadBytes != 1 || got[0].WriteBytes != 2) || !ops && (got[0].ReadOps != 3 || got[0].WriteOps != 4) {
			t.Fatalf("the other pair of fields changed: %+v (ops %v)", got[0], ops)
		}
		seen := map[[2]uint32]bool{}
		for _, d := range got {
			k := [2]uint32{d.Major, d.Minor}
			if seen[k] {
				t.Fatalf("device %d:%d twice", d.Major, d.Minor)
			}
			seen[k] = true
		}
	})
}

func FuzzParsePSI(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePSI(b)
		checkParseError(t, err)
		if err != nil && p != (sample.PSI{}) {
			t.Fatalf("%+v with error %v", p, err)
		}
		for _, l := range []sample.PSILine{p.Some, p.Full} {
			for _, v := range []float64{l.Avg10, l.Avg60, l.Avg300} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("bad average %v in %+v", v, p)
				}
			}
		}
		if !p.HasSome && p.Some != (sample.PSILine{}) || !p.HasFull && p.Full != (sample.PSILine{}) {
			t.Fatalf("values on an absent line: %+v", p)
		}
	})
}

func FuzzAtof(f *testing.F) {
	for _, s := range []string{"0", "0.00", "12.34", "100.00", "1.5", "123456789012345.6", "0.1234567890123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := atof([]byte(s))
		if err != nil {
			return
		}
		want, serr := strconv.ParseFloat(s, 64)
		if serr != nil || got != want {
			t.Fatalf("atof(%q) = %v; strconv.ParseFloat = %v, %v", s, got, want, serr)
		}
	})
}

func FuzzCountLines(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		want := uint64(0)
		for _, l := range bytes.Split(b, []byte{'\n'}) {
			if len(l) > 0 {
				want++
			}
		}
		if got := CountLines(b); got != want {
			t.Fatalf("CountLines(%q) = %d, want %d", b, got, want)
		}
	})
}

func FuzzParseMountinfo(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMountinfo(b)
		checkParseError(t, err)
		if err != nil && ms != nil {
			t.Fatalf("%d mounts with error %v", len(ms), err)
		}
		if len(ms) > maxLines(b) {
			t.Fatalf("%d mounts from %d lines", len(ms), maxLines(b))
		}
		for _, m := range ms {
			if m.ID < 0 || m.Parent < 0 {
				t.Fatalf("negative ID: %+v", m)
			}
			if strings.Contains(m.Options, " ") || strings.Contains(m.Options, "\n") {
				t.Fatalf("options with a separator: %+v", m)
			}
		}
	})
}

func FuzzParseProcCgroup(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		cgs, err := ParseProcCgroup(b)
		checkParseError(t, err)
		if err != nil && cgs != nil {
			t.Fatalf("%d entries with error %v", len(cgs), err)
		}
		if len(cgs) > maxLines(b) {
			t.Fatalf("%d entries from %d lines", len(cgs), maxLines(b))
		}
		if err != nil {
			return
		}
		// Each entry is a line again, after its ID.
		var i int
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" {
				continue
			}
			cg := cgs[i]
			i++
			_, rest, _ := strings.Cut(line, ":")
			if again := strings.Join(cg.Controllers, ",") + ":" + cg.Path; again != rest {
				t.Fatalf("line %q came back as %q", line, again)
			}
		}
	})
}

func FuzzParseUeventDevname(f *testing.F) {
	seedBytes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		name := ParseUeventDevname(b)
		if strings.Contains(name, "\n") {
			t.Fatalf("DEVNAME %q holds a newline", name)
		}
		if name != "" && !bytes.Contains(b, []byte("DEVNAME="+name)) {
			t.Fatalf("DEVNAME %q not in the input", name)
		}
	})
}
