package cgroupfs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/sample"
)

// marked is a CPU whose every field is set, to see which fields a parser
// touches.
var marked = sample.CPU{
	UsageNs: sample.Some(11), UserNs: sample.Some(12), SystemNs: sample.Some(13),
	Periods: sample.Some(14), ThrottledPeriods: sample.Some(15), ThrottledNs: sample.Some(16),
	QuotaUs: sample.LimitOf(17), PeriodUs: sample.Some(18),
}

func TestParseCPUStat(t *testing.T) {
	check := func(name string, in []byte, start, want sample.CPU) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := start
			checkErr(t, ParseCPUStat(in, &got), nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseCPUStat (-want +got):\n%s", d)
			}
		})
	}
	check("v1 parsetest throttled", testdata(t, "v1/parsetest/cpu/cpu.stat"), sample.CPU{}, sample.CPU{
		Periods: sample.Some(20), ThrottledPeriods: sample.Some(16), ThrottledNs: sample.Some(1205267175),
	})
	check("v1 leaves usage alone", testdata(t, "v1/host-root/cpu/cpu.stat"), marked, sample.CPU{
		UsageNs: sample.Some(11), UserNs: sample.Some(12), SystemNs: sample.Some(13),
		Periods: sample.Some(0), ThrottledPeriods: sample.Some(0), ThrottledNs: sample.Some(0),
		QuotaUs: sample.LimitOf(17), PeriodUs: sample.Some(18),
	})
	// The hybrid layout's cgroup2 root has no cpu controller: usage only.
	check("v1 hybrid unified root", testdata(t, "v1/host-root/unified/cpu.stat"), sample.CPU{}, sample.CPU{
		UsageNs: sample.Some(94143977000), UserNs: sample.Some(69231975000), SystemNs: sample.Some(24912001000),
	})
	check("v2 demo.service throttled", testdata(t, "v2/cgroup/system.slice/demo.service/cpu.stat"), sample.CPU{}, sample.CPU{
		UsageNs: sample.Some(2307592000), UserNs: sample.Some(2279352000), SystemNs: sample.Some(28239000),
		Periods: sample.Some(46), ThrottledPeriods: sample.Some(45), ThrottledNs: sample.Some(2098391000),
	})
	check("v2 root", testdata(t, "v2/cgroup/cpu.stat"), sample.CPU{}, sample.CPU{
		UsageNs: sample.Some(8436000000), UserNs: sample.Some(2364000000), SystemNs: sample.Some(6072000000),
		Periods: sample.Some(0), ThrottledPeriods: sample.Some(0), ThrottledNs: sample.Some(0),
	})
	check("empty file sets nothing", nil, marked, marked)
	check("unknown keys and garbage lines ignored", []byte("nice_usec 5\ngarbage\n\x00\xff\nnr_bursts x y z\nnr_periods 3"), sample.CPU{}, sample.CPU{Periods: sample.Some(3)})
	check("max usec", []byte("usage_usec 18446744073709551\n"), sample.CPU{}, sample.CPU{UsageNs: sample.Some(18446744073709551000)})

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := marked
			checkErr(t, ParseCPUStat([]byte(in), &got), want, msg...)
			if got != marked {
				t.Errorf("cpu changed on error: %+v", got)
			}
		})
	}
	bad("truncated key only", "nr_periods 1\nnr_throttled", ErrSyntax, `line 2: nr_throttled: malformed ""`)
	bad("negative", "nr_periods -1\n", ErrSyntax, `nr_periods: malformed "-1"`)
	bad("CRLF", "usage_usec 1\r\nuser_usec 2\r\n", ErrSyntax, `line 1: usage_usec: malformed "1\r"`)
	bad("NUL", "throttled_time 1\x00\n", ErrSyntax, "throttled_time")
	bad("two values", "nr_throttled 1 2\n", ErrSyntax, `"1 2"`)
	bad("overflow", "throttled_time 18446744073709551616\n", ErrRange, "throttled_time")
	bad("usec overflows ns", "throttled_usec 18446744073709552\n", ErrRange, "throttled_usec")
}

func TestParseCpuacctUsageAll(t *testing.T) {
	check := func(name string, in []byte, want sample.CPU) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := marked
			checkErr(t, ParseCpuacctUsageAll(in, &got), nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseCpuacctUsageAll (-want +got):\n%s", d)
			}
		})
	}
	withUsage := func(user, sys uint64) sample.CPU {
		c := marked
		c.UserNs, c.SystemNs, c.UsageNs = sample.Some(user), sample.Some(sys), sample.Some(user+sys)
		return c
	}
	check("v1 host root", testdata(t, "v1/host-root/cpuacct/cpuacct.usage_all"),
		withUsage(30344661169+38795321836, 12931676926+11968324852))
	check("v1 parsetest", testdata(t, "v1/parsetest/cpuacct/cpuacct.usage_all"),
		withUsage(83956677+130436792, 31981152+99266068))
	check("header only", []byte("cpu user system\n"), withUsage(0, 0))
	check("columns found by name", []byte("cpu system user\n0 1 2\n1 10 20\n"), withUsage(22, 11))
	check("no final newline", []byte("cpu user system\n0 1 2"), withUsage(1, 2))

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := marked
			checkErr(t, ParseCpuacctUsageAll([]byte(in), &got), want, msg...)
			if got != marked {
				t.Errorf("cpu changed on error: %+v", got)
			}
		})
	}
	bad("empty", "", ErrMissing, "header")
	bad("no header", "0 1 2\n", ErrSyntax, "line 1: header")
	bad("header without system", "cpu user\n0 1\n", ErrSyntax, "header")
	bad("truncated row", "cpu user system\n0 1 2\n1 3\n", ErrSyntax, `line 3: row: malformed "1 3"`)
	bad("extra column", "cpu user system\n0 1 2 3\n", ErrSyntax, "row")
	bad("negative", "cpu user system\n0 -1 2\n", ErrSyntax, `user: malformed "-1"`)
	bad("bad cpu number", "cpu user system\nx 1 2\n", ErrSyntax, "cpu")
	bad("CRLF", "cpu user system\r\n0 1 2\r\n", ErrSyntax)
	bad("overflowing number", "cpu user system\n0 1 99999999999999999999\n", ErrRange, "system")
	bad("overflowing sum", "cpu user system\n0 18446744073709551615 0\n1 1 0\n", ErrRange, "user")
	bad("overflowing user+system", "cpu user system\n0 18446744073709551615 1\n", ErrRange, "user+system")
}

func TestParseCpuacctStat(t *testing.T) {
	check := func(name string, in []byte, want sample.CPU) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := marked
			checkErr(t, ParseCpuacctStat(in, &got), nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseCpuacctStat (-want +got):\n%s", d)
			}
		})
	}
	with := func(user, sys sample.Value) sample.CPU {
		c := marked
		c.UserNs, c.SystemNs = user, sys
		return c
	}
	check("v1 host root", testdata(t, "v1/host-root/cpuacct/cpuacct.stat"), with(sample.Some(70880000000), sample.Some(25520000000)))
	check("v1 parsetest", testdata(t, "v1/parsetest/cpuacct/cpuacct.stat"), with(sample.Some(200000000), sample.Some(120000000)))
	check("user only", []byte("user 1\n"), with(sample.Some(10000000), marked.SystemNs))
	check("empty", nil, marked)

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := marked
			checkErr(t, ParseCpuacctStat([]byte(in), &got), want, msg...)
			if got != marked {
				t.Errorf("cpu changed on error: %+v", got)
			}
		})
	}
	bad("truncated", "user 1\nsystem", ErrSyntax, "line 2: system")
	bad("negative", "user -5\n", ErrSyntax, "user")
	bad("ticks overflow ns", "user 1844674407371\n", ErrRange, "user")
}
