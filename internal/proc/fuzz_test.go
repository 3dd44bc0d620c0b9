package proc

import (
	"bytes"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
)

// brokenSeeds are hand-made broken inputs added to every fuzz corpus next to
// the real files.
var brokenSeeds = []string{
	"", "\n", "\x00", "1 (", "1 ()", ") (", "1 (x) R", "1 (x) R -", "1 (x) R 1  2",
	"1 (a)b) R 18446744073709551616", "Name:", ":", "a:b\nc", "Uid:\t1 2 3 4 5",
	"Cpus_allowed:\t,", "Mems_allowed:\tfffffffff", "SigQ:\t1/2/3", "VmRSS:\t kB",
	"rchar: 1\nrchar: x", "0\n", "-1\n", "MemTotal: 1 kB", "MemTotal: kB",
	"a\x00\x00b\x00\x00", "2147483648\n",
}

// seed adds every testdata file (except the fuzz corpus) and brokenSeeds.
func seed(f *testing.F) {
	f.Helper()
	kerntexttest.Seed(f, func(b []byte) { f.Add(b) }, brokenSeeds...)
}

func FuzzParseStat(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Stat
		err := ParseStat(b, &s)
		checkParseError(t, err)
		if err != nil {
			return
		}
		// The pid and the command name are where the line says.
		if !bytes.HasPrefix(b, []byte(strconv.FormatUint(s.Pid, 10)+" "+s.Comm)) && !bytes.HasPrefix(b, []byte("0")) {
			t.Fatalf("pid %d comm %q do not start %q", s.Pid, s.Comm, b)
		}
		if len(s.State) != 1 || strings.IndexByte(s.Comm, '(') != 0 || strings.LastIndexByte(s.Comm, ')') != len(s.Comm)-1 {
			t.Fatalf("state %q comm %q", s.State, s.Comm)
		}
		// Parsing again into the same Stat, which holds the same name, gives
		// the same result; so does the reference parser on 52 fields.
		again := s
		if err := ParseStat(b, &again); err != nil || again != s {
			t.Fatalf("second parse: %+v, %v", again, err)
		}
		if n := strings.Count(string(bytes.TrimSuffix(b, []byte("\n"))[bytes.LastIndexByte(b, ')')+1:]), " "); n == statFields-2 {
			ref, err := refStat(string(b))
			if err == nil {
				if d := cmp.Diff(ref, s); d != "" {
					t.Fatalf("reference parser differs (-ref +got)\n%s", d)
				}
			}
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Status
		err := ParseStatus(b, &s)
		checkParseError(t, err)
		if err != nil {
			if s.Len() != 0 {
				t.Fatalf("%d fields after an error", s.Len())
			}
			return
		}
		if s.Len() > bytes.Count(b, []byte{'\n'})+1 {
			t.Fatalf("%d fields from %d lines", s.Len(), bytes.Count(b, []byte{'\n'})+1)
		}
		for k, v := range s.All() {
			if len(k) == 0 || bytes.IndexByte(k, ':') >= 0 || bytes.IndexByte(k, '\n') >= 0 || bytes.IndexByte(v, '\n') >= 0 {
				t.Fatalf("field %q: %q", k, v)
			}
			if len(v) > 0 && (isSpace(v[0]) || isSpace(v[len(v)-1])) {
				t.Fatalf("value %q not trimmed", v)
			}
		}
		fields := s.Fields()
		var again Status
		_ = ParseStatus([]byte("X: y\n"), &again)
		if err := ParseStatus(b, &again); err != nil || !cmp.Equal(fields, again.Fields()) {
			t.Fatalf("second parse differs: %v", err)
		}
		if _, err := s.Companion(); err != nil {
			checkParseError(t, err)
		}
		_, _ = s.UIDs()
	})
}

func FuzzAppendCmdline(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := AppendCmdline(nil, b)
		if bytes.IndexByte(got, 0) >= 0 {
			t.Fatalf("NUL in %q", got)
		}
		if want := len(bytes.TrimRight(b, "\x00")); len(got) != want {
			t.Fatalf("%d bytes from %q, want %d", len(got), b, want)
		}
		if ParseCmdline(b) != string(got) {
			t.Fatal("ParseCmdline differs from AppendCmdline")
		}
	})
}

func FuzzParseIO(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var io IO
		err := ParseIO(b, &io)
		checkParseError(t, err)
		if err != nil && io != (IO{}) {
			t.Fatalf("IO %+v after error %v", io, err)
		}
		if err == nil && !bytes.Contains(b, []byte("rchar: "+strconv.FormatUint(io.Rchar, 10))) {
			t.Fatalf("rchar %d not in %q", io.Rchar, b)
		}
	})
}

func FuzzAppendPIDs(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		pids, err := AppendPIDs(nil, b)
		checkParseError(t, err)
		if err != nil {
			return
		}
		var want []int
		for _, l := range strings.Split(string(b), "\n") {
			if l == "" {
				continue
			}
			n, err := strconv.Atoi(l)
			if err != nil || n <= 0 {
				t.Fatalf("accepted %q", l)
			}
			want = append(want, n)
		}
		if !cmp.Equal(want, pids, cmp.Comparer(func(a, b []int) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })) {
			t.Fatalf("AppendPIDs(%q) = %v, want %v", b, pids, want)
		}
	})
}

func FuzzParseMemTotal(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseMemTotal(b)
		checkParseError(t, err)
		if err == nil && (n%1024 != 0 || !bytes.Contains(b, []byte(strconv.FormatUint(n/1024, 10)))) {
			t.Fatalf("ParseMemTotal(%q) = %d", b, n)
		}
	})
}

func FuzzResolveProcCgroup(f *testing.F) {
	seed(f)
	for _, s := range []string{"0::/../..", "0::/../x", "1:cpu,cpuacct:/../../a/../b", "0::/x (deleted)", "0::", "::/", "1::/"} {
		f.Add([]byte(s))
	}
	hs := []cgroup.Hierarchy{
		{V2: true, MountPoint: "/sys/fs/cgroup/unified", Base: "/"},
		{Controllers: []string{"cpu", "cpuacct"}, MountPoint: "/sys/fs/cgroup/cpu", Base: "/"},
		{Controllers: []string{"name=systemd"}, MountPoint: "/sys/fs/cgroup/systemd", Base: "/"},
	}
	rootSets := [][]NSRoot{
		{HostNSRoot, HostNSRoot, HostNSRoot},
		{{Depth: 2, Path: "/a/b"}, {Depth: 1, Path: "/c"}, {Depth: 2}},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, roots := range rootSets {
			dst := make([]string, len(hs))
			err := ResolveProcCgroup(b, hs, roots, func(int) bool { return true }, dst)
			checkParseError(t, err)
			if err != nil {
				continue
			}
			for i, p := range dst {
				// Every resolved path is a clean absolute host path.
				if p != "" && (p != path.Clean(p) || !strings.HasPrefix(p, "/")) {
					t.Fatalf("%s: %q is not a clean absolute path", hs[i].MountPoint, p)
				}
			}
			// The same lines without the cgroup ones of cgmon's
			// cgroupfs.ParseProcCgroup parse too.
			if _, err := cgroupfs.ParseProcCgroup(b); err != nil {
				t.Fatalf("ParseProcCgroup fails where ResolveProcCgroup did not: %v", err)
			}
		}
		if pid, levels := lastNSpid(b); (levels == 0) != (pid == 0) || pid < 0 {
			t.Fatalf("lastNSpid: %d, %d levels", pid, levels)
		}
	})
}
