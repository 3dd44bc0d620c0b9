package cgroupfs

import (
	"errors"
	"testing"

	"github.com/cgmon/cgmon/internal/kerntext"
	"github.com/cgmon/cgmon/internal/sample"
)

func TestParseUint(t *testing.T) {
	file := func(name string, want uint64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseUint(testdata(t, name))
			checkErr(t, err, nil)
			if got != want {
				t.Errorf("ParseUint = %d, want %d", got, want)
			}
		})
	}
	file("v1/host-root/cpu/cpu.cfs_period_us", 100000)
	file("v1/host-root/cpuacct/cpuacct.usage", 96425669965)
	file("v1/parsetest/memory/memory.failcnt", 104)
	file("v1/parsetest/memory/memory.usage_in_bytes", 17518592)
	file("v1/parsetest/memory/memory.max_usage_in_bytes", 64<<20)
	file("v1/parsetest/pids/pids.current", 1)
	file("v2/cgroup/machine.slice/libpod-abc.scope/memory.current", 101433344)
	file("v2/cgroup/machine.slice/libpod-abc.scope/memory.peak", 101675008)
	file("v2/cgroup/system.slice/demo.service/pids.current", 1)

	good := func(name, in string, want uint64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseUint([]byte(in))
			checkErr(t, err, nil)
			if got != want {
				t.Errorf("ParseUint(%q) = %d, want %d", in, got, want)
			}
		})
	}
	good("no newline", "42", 42)
	good("zero", "0\n", 0)
	good("max uint64", "18446744073709551615\n", 1<<64-1)
	good("leading zeros", "007\n", 7)

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := ParseUint([]byte(in))
			checkErr(t, err, want, msg...)
		})
	}
	bad("empty", "", ErrSyntax, `malformed ""`)
	bad("only newline", "\n", ErrSyntax)
	bad("two newlines", "1\n\n", ErrSyntax)
	bad("CRLF", "1\r\n", ErrSyntax, `"1\r"`)
	bad("negative", "-1\n", ErrSyntax, `"-1"`)
	bad("plus sign", "+1\n", ErrSyntax)
	bad("max", "max\n", ErrSyntax, `"max"`)
	bad("space", " 1\n", ErrSyntax)
	bad("NUL", "1\x00\n", ErrSyntax)
	bad("two numbers", "1 2\n", ErrSyntax)
	bad("float", "1.5\n", ErrSyntax)
	bad("overflow", "18446744073709551616\n", ErrRange, "out of range", "18446744073709551616")
	bad("huge", "99999999999999999999999999999999\n", ErrRange)
	bad("overflow then garbage", "99999999999999999999999x", ErrSyntax)
}

func TestParseLimit(t *testing.T) {
	file := func(name string, want sample.Limit) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseLimit(testdata(t, name))
			checkErr(t, err, nil)
			if got != want {
				t.Errorf("ParseLimit = %+v, want %+v", got, want)
			}
		})
	}
	file("v1/host-root/memory/memory.limit_in_bytes", sample.Unlimited)
	file("v1/host-root/memory/memory.memsw.limit_in_bytes", sample.Unlimited)
	file("v1/parsetest/memory/memory.limit_in_bytes", sample.LimitOf(64<<20))
	file("v1/parsetest/memory/memory.memsw.limit_in_bytes", sample.Unlimited)
	file("v1/parsetest/pids/pids.max", sample.LimitOf(64))
	file("v2/cgroup/machine.slice/libpod-abc.scope/memory.max", sample.LimitOf(256<<20))
	file("v2/cgroup/machine.slice/libpod-abc.scope/memory.swap.max", sample.Unlimited)
	file("v2/cgroup/machine.slice/libpod-abc.scope/pids.max", sample.Unlimited)

	check := func(name, in string, want sample.Limit, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseLimit([]byte(in))
			checkErr(t, err, wantErr)
			if got != want {
				t.Errorf("ParseLimit(%q) = %+v, want %+v", in, got, want)
			}
		})
	}
	check("max no newline", "max", sample.Unlimited, nil)
	check("v1 -1", "-1\n", sample.Unlimited, nil)
	check("zero is a limit", "0\n", sample.LimitOf(0), nil)
	check("V1Unlimited", "9223372036854771712\n", sample.Unlimited, nil)
	check("64K pages maximum", "9223372036854710272\n", sample.Unlimited, nil) // 2^63 - 65536
	check("16K pages maximum", "9223372036854759424\n", sample.Unlimited, nil) // 2^63 - 16384
	check("just below", "9223372036854710271\n", sample.LimitOf(9223372036854710271), nil)
	check("max uint64", "18446744073709551615", sample.Unlimited, nil)
	check("empty", "", sample.Limit{}, ErrSyntax)
	check("MAX", "MAX\n", sample.Limit{}, ErrSyntax)
	check("max CRLF", "max\r\n", sample.Limit{}, ErrSyntax)
	check("-2", "-2\n", sample.Limit{}, ErrSyntax)
	check("max with junk", "max 1\n", sample.Limit{}, ErrSyntax)
	check("overflow", "18446744073709551616\n", sample.Limit{}, ErrRange)
}

func TestV1Unlimited(t *testing.T) {
	if V1Unlimited != 1<<63-4096 {
		t.Errorf("V1Unlimited = %d, want 2^63-4096", uint64(V1Unlimited))
	}
	if V1Unlimited < unlimitedFrom {
		t.Error("V1Unlimited is below the unlimited threshold")
	}
}

func TestParseCPUMax(t *testing.T) {
	check := func(name string, in []byte, wantQuota sample.Limit, wantPeriod uint64, wantErr error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			q, p, err := ParseCPUMax(in)
			checkErr(t, err, wantErr, msg...)
			if q != wantQuota || p != wantPeriod {
				t.Errorf("ParseCPUMax(%q) = %+v, %d, want %+v, %d", in, q, p, wantQuota, wantPeriod)
			}
		})
	}
	check("v2 demo.service capped", testdata(t, "v2/cgroup/system.slice/demo.service/cpu.max"), sample.LimitOf(50000), 100000, nil)
	check("v2 libpod max", testdata(t, "v2/cgroup/machine.slice/libpod-abc.scope/cpu.max"), sample.Unlimited, 100000, nil)
	check("no newline", []byte("max 100000"), sample.Unlimited, 100000, nil)
	check("empty", nil, sample.Limit{}, 0, ErrMissing, "period: missing")
	check("quota only", []byte("max\n"), sample.Limit{}, 0, ErrMissing, "period")
	check("truncated", []byte("50000 "), sample.Limit{}, 0, ErrSyntax, "period")
	check("bad quota", []byte("-1 100000\n"), sample.Limit{}, 0, ErrSyntax, `quota: malformed "-1"`)
	check("bad period", []byte("max max\n"), sample.Limit{}, 0, ErrSyntax, `period: malformed "max"`)
	check("three fields", []byte("1 2 3\n"), sample.Limit{}, 0, ErrSyntax)
	check("CRLF", []byte("max 100000\r\n"), sample.Limit{}, 0, ErrSyntax)
	check("overflow", []byte("max 99999999999999999999\n"), sample.Limit{}, 0, ErrRange)
}

func TestParseCFSQuota(t *testing.T) {
	check := func(name string, in []byte, want sample.Limit, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseCFSQuota(in)
			checkErr(t, err, wantErr)
			if got != want {
				t.Errorf("ParseCFSQuota(%q) = %+v, want %+v", in, got, want)
			}
		})
	}
	check("v1 host root", testdata(t, "v1/host-root/cpu/cpu.cfs_quota_us"), sample.Unlimited, nil)
	check("v1 parsetest", testdata(t, "v1/parsetest/cpu/cpu.cfs_quota_us"), sample.LimitOf(20000), nil)
	check("empty", nil, sample.Limit{}, ErrSyntax)
	check("max is v2 only", []byte("max\n"), sample.Limit{}, ErrSyntax)
	check("-2", []byte("-2\n"), sample.Limit{}, ErrSyntax)
	check("overflow", []byte("18446744073709551616\n"), sample.Limit{}, ErrRange)
}

func TestCountLines(t *testing.T) {
	check := func(name string, in []byte, want uint64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if got := CountLines(in); got != want {
				t.Errorf("CountLines = %d, want %d", got, want)
			}
		})
	}
	check("v1 host root", testdata(t, "v1/host-root/pids/cgroup.procs"), 80)
	check("v1 parsetest", testdata(t, "v1/parsetest/pids/cgroup.procs"), 1)
	check("v2 root", testdata(t, "v2/cgroup/cgroup.procs"), 53)
	check("v2 libpod", testdata(t, "v2/cgroup/machine.slice/libpod-abc.scope/cgroup.procs"), 3)
	check("empty", nil, 0)
	check("only newlines", []byte("\n\n\n"), 0)
	check("no final newline", []byte("1\n2"), 2)
	check("blank lines between", []byte("1\n\n2\n"), 2)
	check("CRLF counts", []byte("1\r\n2\r\n"), 2)
}

func TestParseErrorMessage(t *testing.T) {
	check := func(e *ParseError, want string) {
		t.Helper()
		if got := e.Error(); got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		if !errors.Is(e, e.Err) {
			t.Errorf("errors.Is(%v, %v) = false", e, e.Err)
		}
	}
	check(&ParseError{Text: "x", Err: ErrSyntax}, `malformed "x"`)
	check(&ParseError{Line: 3, Key: "nr_periods", Text: "1x", Err: ErrSyntax}, `line 3: nr_periods: malformed "1x"`)
	check(&ParseError{Line: 1, Key: "some total", Err: ErrMissing}, `line 1: some total: missing`)
	check(&ParseError{Key: "user", Text: "99999999999999999999", Err: ErrRange}, `user: out of range "99999999999999999999"`)

	long := make([]byte, 1000)
	for i := range long {
		long[i] = '9'
	}
	_, err := ParseUint(long)
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Text) != kerntext.MaxErrText {
		t.Errorf("long text not cut to %d bytes: %v", kerntext.MaxErrText, err)
	}
}
