package cgroupfs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/sample"
)

// markedMem is a Memory whose every field is set, to see which fields a
// parser touches.
var markedMem = sample.Memory{
	Usage: sample.Some(1), Peak: sample.Some(2), Anon: sample.Some(3), File: sample.Some(4),
	Shmem: sample.Some(5), InactiveFile: sample.Some(6), Swap: sample.Some(7), Failcnt: sample.Some(8),
	OOMEvents: sample.Some(9), OOMKills: sample.Some(10),
	Limit: sample.LimitOf(11), SwapLimit: sample.Unlimited,
}

func TestParseMemoryStat(t *testing.T) {
	check := func(name string, in []byte, v2 bool, start, want sample.Memory) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := start
			checkErr(t, ParseMemoryStat(in, v2, &got), nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseMemoryStat (-want +got):\n%s", d)
			}
		})
	}
	stat := func(anon, file, shmem, inactiveFile uint64) sample.Memory {
		return sample.Memory{Anon: sample.Some(anon), File: sample.Some(file), Shmem: sample.Some(shmem), InactiveFile: sample.Some(inactiveFile)}
	}
	// On v1 the root's own rss/cache differ from the hierarchical totals,
	// which are the ones to take.
	check("v1 host root totals", testdata(t, "v1/host-root/memory/memory.stat"), false, sample.Memory{},
		stat(246497280, 838352896, 8998912, 529653760))
	check("v1 parsetest", testdata(t, "v1/parsetest/memory/memory.stat"), false, sample.Memory{},
		stat(114688, 16781312, 16777216, 4096))
	check("v1 without total_ falls back", []byte("cache 10\nrss 20\nshmem 30\ninactive_file 40\n"), false, sample.Memory{},
		stat(20, 10, 30, 40))
	check("v1 total_ wins over own, any order", []byte("total_rss 2\nrss 1\ncache 3\ntotal_cache 4\n"), false, sample.Memory{},
		sample.Memory{Anon: sample.Some(2), File: sample.Some(4)})
	// Shmem is counted in file (and on the anon LRU) in v2.
	check("v2 libpod", testdata(t, "v2/cgroup/machine.slice/libpod-abc.scope/memory.stat"), true, sample.Memory{},
		stat(33705984, 67108864, 67108864, 0))
	check("v2 demo.service", testdata(t, "v2/cgroup/system.slice/demo.service/memory.stat"), true, sample.Memory{},
		stat(61440, 0, 0, 0))
	check("v2 root", testdata(t, "v2/cgroup/memory.stat"), true, sample.Memory{},
		stat(33878016, 75624448, 75624448, 0))
	// shmem and inactive_file are the v1 fallback keys too.
	check("v2 file read as v1", testdata(t, "v2/cgroup/memory.stat"), false, markedMem, func() sample.Memory {
		m := markedMem
		m.Shmem, m.InactiveFile = sample.Some(75624448), sample.Some(0)
		return m
	}())
	check("v2 ignores total_ keys", []byte("total_rss 1\nanon 2\n"), true, sample.Memory{}, sample.Memory{Anon: sample.Some(2)})
	check("empty", nil, true, markedMem, markedMem)
	check("missing keys stay", []byte("anon 7\n"), true, markedMem, func() sample.Memory {
		m := markedMem
		m.Anon = sample.Some(7)
		return m
	}())

	bad := func(name, in string, v2 bool, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := markedMem
			checkErr(t, ParseMemoryStat([]byte(in), v2, &got), want, msg...)
			if got != markedMem {
				t.Errorf("memory changed on error: %+v", got)
			}
		})
	}
	bad("v2 truncated", "anon 1\nfile", true, ErrSyntax, "line 2: file")
	bad("v1 bad own key", "total_rss 1\nrss x\n", false, ErrSyntax, `rss: malformed "x"`)
	bad("v2 negative", "shmem -4096\n", true, ErrSyntax, "shmem")
	bad("v1 huge", "total_cache 184467440737095516150\n", false, ErrRange, "total_cache")
	bad("CRLF", "anon 1\r\n", true, ErrSyntax, "anon")
}

func TestParseMemoryEvents(t *testing.T) {
	check := func(name string, in []byte, start, want sample.Memory) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := start
			checkErr(t, ParseMemoryEvents(in, &got), nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseMemoryEvents (-want +got):\n%s", d)
			}
		})
	}
	events := sample.Memory{Failcnt: sample.Some(0), OOMEvents: sample.Some(0), OOMKills: sample.Some(0)}
	check("v2 libpod", testdata(t, "v2/cgroup/machine.slice/libpod-abc.scope/memory.events"), sample.Memory{}, events)
	check("v2 demo.service", testdata(t, "v2/cgroup/system.slice/demo.service/memory.events"), sample.Memory{}, events)
	check("counts", []byte("low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\nsock_throttled 7\n"), sample.Memory{},
		sample.Memory{Failcnt: sample.Some(3), OOMEvents: sample.Some(4), OOMKills: sample.Some(5)})
	check("old kernel without oom_kill", []byte("low 0\nhigh 0\nmax 9\noom 1\n"), sample.Memory{},
		sample.Memory{Failcnt: sample.Some(9), OOMEvents: sample.Some(1)})
	check("empty", nil, markedMem, markedMem)

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := markedMem
			checkErr(t, ParseMemoryEvents([]byte(in), &got), want, msg...)
			if got != markedMem {
				t.Errorf("memory changed on error: %+v", got)
			}
		})
	}
	bad("truncated", "max 1\noom", ErrSyntax, "line 2: oom")
	bad("bad oom_kill", "max 1\noom_kill 1x\n", ErrSyntax, `oom_kill: malformed "1x"`)
	bad("overflow", "max 18446744073709551616\n", ErrRange, "max")
}

func TestParseOOMControl(t *testing.T) {
	check := func(name string, in []byte, want sample.Value) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := markedMem
			got.OOMKills = sample.Value{}
			checkErr(t, ParseOOMControl(in, &got), nil)
			wantMem := markedMem
			wantMem.OOMKills = want
			if d := cmp.Diff(wantMem, got); d != "" {
				t.Errorf("ParseOOMControl (-want +got):\n%s", d)
			}
		})
	}
	check("v1 host root", testdata(t, "v1/host-root/memory/memory.oom_control"), sample.Some(0))
	check("v1 parsetest one kill", testdata(t, "v1/parsetest/memory/memory.oom_control"), sample.Some(1))
	check("before 4.13", []byte("oom_kill_disable 0\nunder_oom 0\n"), sample.Value{})
	check("empty", nil, sample.Value{})

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := markedMem
			checkErr(t, ParseOOMControl([]byte(in), &got), want, msg...)
			if got != markedMem {
				t.Errorf("memory changed on error: %+v", got)
			}
		})
	}
	bad("truncated", "oom_kill_disable 0\nunder_oom 0\noom_kill", ErrSyntax, "line 3: oom_kill")
	bad("negative", "oom_kill -1\n", ErrSyntax, "oom_kill")
	bad("NUL", "oom_kill \x00\n", ErrSyntax, "oom_kill")
}
