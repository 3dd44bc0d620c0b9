package cgroupfs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/sample"
)

func TestParsePSI(t *testing.T) {
	check := func(name string, in []byte, want sample.PSI) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParsePSI(in)
			checkErr(t, err, nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParsePSI (-want +got):\n%s", d)
			}
		})
	}
	line := func(a10, a60, a300 float64, total uint64) sample.PSILine {
		return sample.PSILine{Avg10: a10, Avg60: a60, Avg300: a300, TotalUs: total}
	}
	both := func(some, full sample.PSILine) sample.PSI {
		return sample.PSI{Some: some, Full: full, HasSome: true, HasFull: true}
	}
	check("v1 hybrid unified cpu", testdata(t, "v1/host-root/unified/cpu.pressure"),
		both(line(22.83, 9.29, 3.49, 15789055), line(0, 0, 0, 0)))
	check("v1 hybrid unified io", testdata(t, "v1/host-root/unified/io.pressure"),
		both(line(5.66, 5.64, 1.73, 6827352), line(5.36, 5.33, 1.63, 6302949)))
	check("v1 hybrid unified memory", testdata(t, "v1/host-root/unified/memory.pressure"),
		both(line(0, 0.01, 0, 39423), line(0, 0.01, 0, 37483)))
	check("v2 demo.service cpu", testdata(t, "v2/cgroup/system.slice/demo.service/cpu.pressure"),
		both(line(14.79, 2.89, 0.61, 2080836), line(14.79, 2.89, 0.61, 2080836)))
	check("v2 libpod io", testdata(t, "v2/cgroup/machine.slice/libpod-abc.scope/io.pressure"),
		both(line(0, 0, 0, 20895), line(0, 0, 0, 20895)))
	check("cpu before 5.13: no full", []byte("some avg10=1.50 avg60=0.25 avg300=100.00 total=7\n"),
		sample.PSI{Some: line(1.5, 0.25, 100, 7), HasSome: true})
	check("keys in any order, unknown keys and lines", []byte("total=1 x\nsome total=9 avg300=0.03 foo=bar avg60=0.02 avg10=0.01\nnone avg10=x\n"),
		sample.PSI{Some: line(0.01, 0.02, 0.03, 9), HasSome: true})
	check("empty", nil, sample.PSI{})
	check("integer avg", []byte("some avg10=1 avg60=2 avg300=3 total=4"), sample.PSI{Some: line(1, 2, 3, 4), HasSome: true})

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParsePSI([]byte(in))
			checkErr(t, err, want, msg...)
			if got != (sample.PSI{}) {
				t.Errorf("ParsePSI returned %+v with an error", got)
			}
		})
	}
	bad("truncated some", "some avg10=0.00 avg60=0.00", ErrMissing, "line 1: some avg300: missing")
	bad("truncated full", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00", ErrMissing, "line 2: full total: missing")
	bad("some alone", "some\n", ErrMissing, "some avg10")
	bad("token without =", "some avg10 avg60=0 avg300=0 total=0\n", ErrSyntax, `some: malformed "avg10"`)
	bad("negative avg", "some avg10=-1.00 avg60=0 avg300=0 total=0\n", ErrSyntax, `some avg10: malformed "-1.00"`)
	bad("nan", "some avg10=NaN avg60=0 avg300=0 total=0\n", ErrSyntax, "avg10")
	bad("inf", "some avg10=inf avg60=0 avg300=0 total=0\n", ErrSyntax, "avg10")
	bad("exponent", "some avg10=1e3 avg60=0 avg300=0 total=0\n", ErrSyntax, "avg10")
	bad("trailing dot", "some avg10=1. avg60=0 avg300=0 total=0\n", ErrSyntax, "avg10")
	bad("leading dot", "some avg10=.5 avg60=0 avg300=0 total=0\n", ErrSyntax, "avg10")
	bad("float total", "some avg10=0 avg60=0 avg300=0 total=1.5\n", ErrSyntax, `some total: malformed "1.5"`)
	bad("huge total", "some avg10=0 avg60=0 avg300=0 total=18446744073709551616\n", ErrRange, "some total")
	bad("CRLF", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\r\n", ErrSyntax, "some total")
	bad("NUL", "some avg10=0.00 avg60=0.00 avg300=0.0\x00 total=0\n", ErrSyntax, "some avg300")
}

func TestAtof(t *testing.T) {
	for _, s := range []string{
		"0", "0.00", "12.34", "100.00", "0.01", "0.1", "99.99", "1234567.89",
		"123456789012345", "12345678901234.5", "0.000000000000001", "1.23456789012345",
		// Longer than 15 digits: strconv.ParseFloat's path.
		"1234567890123456", "0.1234567890123456789", "99999999999999999999999999.9",
		"00000000000000000000001.5",
	} {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := atof([]byte(s))
		if err != nil || got != want {
			t.Errorf("atof(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if v, err := atof([]byte(strings.Repeat("9", 400))); err != ErrRange {
		t.Errorf("atof(400 digits) = %v, %v; want ErrRange", v, err)
	}
}
