package proc

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

func TestParseCmdline(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"odd name", procFile(t, pidOdd, "cmdline"), "/tmp/a b)c 1000"},
		{"argument with a space", procFile(t, pidThreads, "cmdline"), "/tmp/mt/gothreads --flag two words"},
		{"plain", procFile(t, pidSleep, "cmdline"), "sleep 1000"},
		{"kernel thread", procFile(t, pidKthread, "cmdline"), ""},
		{"zombie", procFile(t, pidZombie, "cmdline"), ""},
		{"empty argument", []byte("a\x00\x00b\x00"), "a  b"},
		{"setproctitle without NUL", []byte("nginx: worker process"), "nginx: worker process"},
		{"setproctitle padded with NULs", []byte("postgres: writer\x00\x00\x00\x00"), "postgres: writer"},
		{"only NULs", []byte("\x00\x00"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseCmdline(tt.in); got != tt.want {
				t.Errorf("ParseCmdline(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := AppendCmdline([]byte("x"), tt.in); string(got) != "x"+tt.want {
				t.Errorf("AppendCmdline = %q", got)
			}
		})
	}
}

func TestParseIO(t *testing.T) {
	var io IO
	if err := ParseIO(procFile(t, pidSleep, "io"), &io); err != nil {
		t.Fatal(err)
	}
	want := IO{Rchar: 10956, Syscr: 18, ReadBytes: 57344}
	if io != want {
		t.Errorf("ParseIO = %+v, want %+v", io, want)
	}
	for _, pid := range fixturePIDs {
		if err := ParseIO(procFile(t, pid, "io"), &io); err != nil {
			t.Errorf("%d: %v", pid, err)
		}
	}

	full := "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n"
	check := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			io := IO{Rchar: 99}
			err := ParseIO([]byte(in), &io)
			checkErr(t, err, want, msg...)
			if err != nil && io != (IO{}) {
				t.Errorf("IO %+v after an error", io)
			}
		})
	}
	check("all keys", full, nil)
	check("new key skipped", full+"future_bytes: 8\n", nil)
	check("missing key", "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\n", cgroupfs.ErrMissing, "cancelled_write_bytes")
	check("empty", "", cgroupfs.ErrMissing, "rchar")
	check("no colon", "rchar 1\n", cgroupfs.ErrSyntax, "line 1")
	check("no space", "rchar:1\n", cgroupfs.ErrSyntax, "rchar")
	check("bad value", "rchar: -1\n", cgroupfs.ErrSyntax, "rchar")
	check("overflow", "wchar: 18446744073709551616\n", cgroupfs.ErrRange, "wchar")
}

func TestAppendPIDs(t *testing.T) {
	got, err := AppendPIDs([]int{9}, []byte("12\n3\n\n12\n"))
	if err != nil || !cmp.Equal(got, []int{9, 12, 3, 12}) {
		t.Errorf("AppendPIDs = %v, %v", got, err)
	}
	if got, err := AppendPIDs(nil, nil); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"1\n0\n", ErrOtherPIDNamespace},
		{"2147483648\n", cgroupfs.ErrRange},
		{"1 2\n", cgroupfs.ErrSyntax},
		{"-1\n", cgroupfs.ErrSyntax},
		{"x\n", cgroupfs.ErrSyntax},
	} {
		_, err := AppendPIDs(nil, []byte(tt.in))
		checkErr(t, err, tt.want, "pid")
	}
}

func TestParseMemTotal(t *testing.T) {
	got, err := ParseMemTotal(testdata(t, "root/proc/meminfo"))
	if err != nil || got != 24684096*1024 {
		t.Errorf("ParseMemTotal = %d, %v", got, err)
	}
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"MemFree: 1 kB\n", cgroupfs.ErrMissing},
		{"MemTotal: 1\n", cgroupfs.ErrSyntax},
		{"MemTotal: 1 MB\n", cgroupfs.ErrSyntax},
		{"MemTotal: 1 kB x\n", cgroupfs.ErrSyntax},
		{"MemTotal: x kB\n", cgroupfs.ErrSyntax},
		{"MemTotal: " + strconv.FormatUint(1<<60, 10) + " kB\n", cgroupfs.ErrRange},
	} {
		_, err := ParseMemTotal([]byte(tt.in))
		checkErr(t, err, tt.want, "MemTotal")
	}
}
