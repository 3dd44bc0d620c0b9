package cgroupfs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/sample"
)

func TestParseIOStat(t *testing.T) {
	check := func(name string, in []byte, want []sample.DeviceIO) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			// dst holds stale entries: ParseIOStat must start from dst[:0].
			dst := make([]sample.DeviceIO, 3, 8)
			got, err := ParseIOStat(in, dst)
			checkErr(t, err, nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseIOStat (-want +got):\n%s", d)
			}
			if len(got) > 0 && &got[0] != &dst[:1][0] {
				t.Error("ParseIOStat did not reuse dst")
			}
		})
	}
	check("v2 root", testdata(t, "v2/cgroup/io.stat"), []sample.DeviceIO{
		{Major: 254, Minor: 0, ReadBytes: 16789504, WriteBytes: 16777216, ReadOps: 19, WriteOps: 16},
	})
	check("v2 libpod", testdata(t, "v2/cgroup/machine.slice/libpod-abc.scope/io.stat"), []sample.DeviceIO{
		{Major: 254, Minor: 0, ReadBytes: 16777216, WriteBytes: 16777216, ReadOps: 16, WriteOps: 16},
	})
	check("v2 demo.service no IO", testdata(t, "v2/cgroup/system.slice/demo.service/io.stat"), []sample.DeviceIO{})
	check("keys in any order, extra keys with odd values", []byte(
		"8:16 wios=4 dios=0 rios=3 depth=max avg_lat=1 cost.vrate=100.00 wbytes=2 rbytes=1\n"+
			"259:0 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=0 dios=0 use_delay=0 delay_nsec=0\n"), []sample.DeviceIO{
		{Major: 8, Minor: 16, ReadBytes: 1, WriteBytes: 2, ReadOps: 3, WriteOps: 4},
		{Major: 259, Minor: 0, ReadBytes: 5, WriteBytes: 6, ReadOps: 7, WriteOps: 8},
	})
	check("device without keys", []byte("8:0\n"), []sample.DeviceIO{{Major: 8, Minor: 0}})
	check("missing keys stay zero", []byte("8:0 rbytes=1\n"), []sample.DeviceIO{{Major: 8, ReadBytes: 1}})
	check("blank lines and double spaces", []byte("\n8:0  rbytes=1 \n\n"), []sample.DeviceIO{{Major: 8, ReadBytes: 1}})
	check("CRLF on an ignored key", []byte("8:0 rbytes=1 dios=0\r\n"), []sample.DeviceIO{{Major: 8, ReadBytes: 1}})

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseIOStat([]byte(in), make([]sample.DeviceIO, 0, 4))
			checkErr(t, err, want, msg...)
			if len(got) != 0 {
				t.Errorf("ParseIOStat returned %d entries with an error", len(got))
			}
		})
	}
	bad("garbage", "hello world\n", ErrSyntax, `line 1: device: malformed "hello"`)
	bad("no minor", "8 rbytes=1\n", ErrSyntax, "device")
	bad("negative major", "-8:0 rbytes=1\n", ErrSyntax, "device")
	bad("major too big", "4294967296:0 rbytes=1\n", ErrRange, "device")
	bad("token without =", "8:0 rbytes=1\n8:1 rbytes\n", ErrSyntax, `line 2: malformed "rbytes"`)
	bad("truncated value", "8:0 rbytes=1 wbytes=\n", ErrSyntax, `wbytes: malformed ""`)
	bad("negative value", "8:0 rios=-1\n", ErrSyntax, "rios")
	bad("huge value", "8:0 wios=18446744073709551616\n", ErrRange, "wios")
	bad("CRLF on a used key", "8:0 wios=1\r\n", ErrSyntax, "wios")
	bad("NUL", "8:0 rbytes=\x00\n", ErrSyntax, "rbytes")
}

func TestParseBlkio(t *testing.T) {
	// Both files of a pair, merged the way the reader does it: bytes, then
	// ops, into one slice.
	pair := func(name, bytesFile, opsFile string, want []sample.DeviceIO) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseBlkio(testdata(t, bytesFile), nil, false)
			checkErr(t, err, nil)
			got, err = ParseBlkio(testdata(t, opsFile), got, true)
			checkErr(t, err, nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseBlkio (-want +got):\n%s", d)
			}
		})
	}
	// The kernel lists the most recently used device first: 7:1 before 7:0.
	// 7:1 got 100 4 KiB O_DSYNC writes, counted with their 100 flushes.
	pair("v1 parsetest", "v1/parsetest/blkio/blkio.throttle.io_service_bytes", "v1/parsetest/blkio/blkio.throttle.io_serviced", []sample.DeviceIO{
		{Major: 7, Minor: 1, ReadBytes: 0, WriteBytes: 409600, ReadOps: 0, WriteOps: 200},
		{Major: 7, Minor: 0, ReadBytes: 2097152, WriteBytes: 8388608, ReadOps: 32, WriteOps: 16},
	})
	pair("v1 parsetest recursive", "v1/parsetest/blkio/blkio.throttle.io_service_bytes_recursive", "v1/parsetest/blkio/blkio.throttle.io_serviced_recursive", []sample.DeviceIO{
		{Major: 7, Minor: 1, ReadBytes: 0, WriteBytes: 409600, ReadOps: 0, WriteOps: 200},
		{Major: 7, Minor: 0, ReadBytes: 2097152, WriteBytes: 8388608, ReadOps: 32, WriteOps: 16},
	})
	pair("v1 host root", "v1/host-root/blkio/blkio.throttle.io_service_bytes_recursive", "v1/host-root/blkio/blkio.throttle.io_serviced_recursive", []sample.DeviceIO{
		{Major: 254, Minor: 0, ReadBytes: 12288, WriteBytes: 67112960, ReadOps: 3, WriteOps: 65},
		{Major: 7, Minor: 1},
		{Major: 7, Minor: 0},
	})
	pair("v1 bfq idle: only Total", "v1/parsetest/blkio/blkio.bfq.io_service_bytes", "v1/parsetest/blkio/blkio.bfq.io_service_bytes", nil)

	check := func(name string, in string, dst []sample.DeviceIO, ops bool, want []sample.DeviceIO) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseBlkio([]byte(in), dst, ops)
			checkErr(t, err, nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseBlkio (-want +got):\n%s", d)
			}
		})
	}
	check("merges and appends new devices", "8:0 Read 5\n8:16 Write 6\nTotal 11\n",
		[]sample.DeviceIO{{Major: 8, Minor: 0, ReadBytes: 100}}, true, []sample.DeviceIO{
			{Major: 8, Minor: 0, ReadBytes: 100, ReadOps: 5},
			{Major: 8, Minor: 16, WriteOps: 6},
		})
	check("old kernel without Discard", "8:0 Read 1\n8:0 Write 2\n8:0 Sync 3\n8:0 Async 0\n8:0 Total 3\nTotal 3\n",
		nil, false, []sample.DeviceIO{{Major: 8, ReadBytes: 1, WriteBytes: 2}})
	check("empty", "", nil, false, nil)
	check("unknown op ignored, device kept", "8:0 Frob 1x\n", nil, false, []sample.DeviceIO{{Major: 8}})
	check("CRLF on an ignored op", "8:0 Total 1\r\n", nil, false, []sample.DeviceIO{{Major: 8}})
	check("no final Total", "8:0 Read 1", nil, false, []sample.DeviceIO{{Major: 8, ReadBytes: 1}})

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := ParseBlkio([]byte(in), nil, false)
			checkErr(t, err, want, msg...)
		})
	}
	bad("garbage", "hello world\n", ErrSyntax, "line 1")
	bad("truncated row", "8:0 Read 1\n8:0 Write\n", ErrSyntax, `line 2: malformed "8:0 Write"`)
	bad("device only", "8:0\n", ErrSyntax)
	bad("too many fields", "8:0 Read 1 2\n", ErrSyntax)
	bad("Total without value", "Total\n", ErrSyntax, "Total")
	bad("Total with two values", "Total 1 2\n", ErrSyntax, "Total")
	bad("bad device", "8:x Read 1\n", ErrSyntax, "device")
	bad("minor too big", "8:4294967296 Read 1\n", ErrRange, "device")
	bad("negative", "8:0 Write -1\n", ErrSyntax, `Write: malformed "-1"`)
	bad("huge", "8:0 Read 18446744073709551616\n", ErrRange, "Read")
	bad("CRLF", "8:0 Read 1\r\n", ErrSyntax, "Read")
	bad("NUL", "8:0 Read \x00\n", ErrSyntax, "Read")
}
