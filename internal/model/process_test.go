package model

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/proc"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

func TestProcessCPU(t *testing.T) {
	sec := time.Second
	for _, tt := range []struct {
		name      string
		prev, cur ProcTimes
		elapsed   time.Duration
		want      Float
	}{
		{"one CPU for one second", ProcTimes{100, 5}, ProcTimes{200, 5}, sec, floatOf(100)},
		{"two CPUs", ProcTimes{0, 5}, ProcTimes{400, 5}, 2 * sec, floatOf(200)},
		{"13 ticks over half a second", ProcTimes{10, 5}, ProcTimes{23, 5}, sec / 2, floatOf(26)},
		{"idle", ProcTimes{7, 5}, ProcTimes{7, 5}, sec, floatOf(0)},
		{"pid reused: another starttime", ProcTimes{100, 5}, ProcTimes{150, 6}, sec, Float{}},
		{"counter went back", ProcTimes{100, 5}, ProcTimes{99, 5}, sec, Float{}},
		{"no time", ProcTimes{100, 5}, ProcTimes{200, 5}, 0, Float{}},
		{"negative time", ProcTimes{100, 5}, ProcTimes{200, 5}, -sec, Float{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ProcessCPU(tt.prev, tt.cur, tt.elapsed)
			if got.OK != tt.want.OK || math.Abs(got.V-tt.want.V) > 1e-9 {
				t.Errorf("ProcessCPU = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// limited is a snapshot cgroup with a memory limit (negative: unlimited).
func limited(path string, limit int64) Cgroup {
	c := Cgroup{Path: path}
	if limit < 0 {
		c.Memory.LimitBytes = Limit{State: sample.LimitUnlimited}
	} else {
		c.Memory.LimitBytes = Limit{V: float64(limit), State: sample.LimitSet}
	}
	return c
}

func TestProcessMemoryBase(t *testing.T) {
	const gib = 1 << 30
	s := &Snapshot{Cgroups: []Cgroup{
		limited("/", -1),
		{Path: "/a"}, // no memory controller here
		limited("/a/b", 2*gib),
		limited("/a/b/c", -1),
		limited("/a/b/c/d", 4*gib),
		limited("/big", 64*gib),
	}}
	for _, tt := range []struct {
		path     string
		memTotal uint64
		want     uint64
	}{
		{"/", 8 * gib, 8 * gib},
		{"/a", 8 * gib, 8 * gib},
		{"/a/b", 8 * gib, 2 * gib},
		{"/a/b/c", 8 * gib, 2 * gib},   // unlimited itself, limited above
		{"/a/b/c/d", 8 * gib, 2 * gib}, // its own limit is larger than its parent's
		{"/a/b/c/d/gone", 8 * gib, 2 * gib},
		{"/big", 8 * gib, 8 * gib}, // a limit above the host's memory
		{"/big", 0, 64 * gib},      // host memory unknown
		{"/", 0, 0},
		{"", 8 * gib, 8 * gib},
	} {
		if got := ProcessMemoryBase(s, tt.path, tt.memTotal); got != tt.want {
			t.Errorf("ProcessMemoryBase(%q, %d) = %d, want %d", tt.path, tt.memTotal, got, tt.want)
		}
	}
	if got := ProcessMemoryBase(nil, "/a/b", 5); got != 5 {
		t.Errorf("without a snapshot: %d", got)
	}
}

// procOf builds a raw process from its kernel files' text.
func procOf(t *testing.T, cgroupPath, stat, status, cgroupFile string) proc.Process {
	t.Helper()
	p := proc.Process{Cgroup: cgroupPath}
	if err := proc.ParseStat([]byte(stat), &p.Stat); err != nil {
		t.Fatal(err)
	}
	if err := proc.ParseStatus([]byte(status), &p.Status); err != nil {
		t.Fatal(err)
	}
	if cgroupFile != "" {
		cgs, err := cgroupfsParse(cgroupFile)
		if err != nil {
			t.Fatal(err)
		}
		p.Cgroups = cgs
	}
	p.PID = int(p.Stat.Pid)
	return p
}

// stat is a /proc/PID/stat line with the fields BuildProcesses uses.
func stat(pid int, comm, state string, ppid int, ticks uint64, start uint64, rss int64) string {
	f := make([]string, 52)
	for i := range f {
		f[i] = "0"
	}
	f[0], f[1], f[2], f[3] = itoa(pid), "("+comm+")", state, itoa(ppid)
	f[13], f[21], f[23] = utoa(ticks), utoa(start), itoa(int(rss))
	return strings.Join(f, " ") + "\n"
}

func TestBuildProcesses(t *testing.T) {
	const mib = 1 << 20
	snap := &Snapshot{Cgroups: []Cgroup{limited("/", -1), limited("/app", 100*mib), limited("/mem/x", 50*mib)}}
	uid := "Uid:\t1000\t1001\t1000\t1000\n"
	t0 := time.Unix(1000, 0)
	prev := &proc.Sample{Time: t0, Processes: []proc.Process{
		procOf(t, "/app", stat(10, "busy", "R", 1, 1000, 50, 256), uid, ""),
		procOf(t, "/app", stat(11, "reused", "S", 1, 500, 60, 256), uid, ""),
		procOf(t, "/app", stat(12, "gone", "S", 1, 0, 70, 256), uid, ""),
	}}
	cur := &proc.Sample{Time: t0.Add(2 * time.Second), Processes: []proc.Process{
		// VmRSS wins over stat's approximate rss.
		procOf(t, "/app", stat(10, "busy", "R", 1, 1200, 50, 2500), uid+"VmRSS:\t   10240 kB\n", ""),
		procOf(t, "/app", stat(11, "reused", "S", 1, 510, 61, 256), uid, ""),
		procOf(t, "/app", stat(13, "new", "S", 10, 0, 80, 0), "Name:\tnew\n", ""),
		// Listed at "/" (the unified hierarchy) but limited in the v1
		// memory hierarchy.
		procOf(t, "/", stat(14, "v1mem", "S", 1, 0, 90, 1280), uid, "4:memory:/mem/x\n0::/\n"),
	}}
	cur.Processes[0].Cmdline = "busy --loop"
	got := BuildProcesses(prev, cur, ProcessOptions{PageSize: 4096, MemTotal: 1 << 30, Snapshot: snap})
	want := []Process{
		{PID: 10, PPID: 1, UID: Count{1001, true}, State: "R", Comm: "busy", Cmdline: "busy --loop",
			CPUPercent: floatOf(100), RSSBytes: 10 * mib, MemPercent: floatOf(10), Cgroup: "/app"},
		{PID: 11, PPID: 1, UID: Count{1001, true}, State: "S", Comm: "reused",
			RSSBytes: mib, MemPercent: floatOf(1), Cgroup: "/app"},
		{PID: 13, PPID: 10, State: "S", Comm: "new", MemPercent: floatOf(0), Cgroup: "/app"},
		{PID: 14, PPID: 1, UID: Count{1001, true}, State: "S", Comm: "v1mem",
			RSSBytes: 5 * mib, MemPercent: floatOf(10), Cgroup: "/"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}

	// No previous sample: no CPU. No snapshot and no host memory: no %MEM.
	got = BuildProcesses(nil, cur, ProcessOptions{PageSize: 4096})
	if got[0].CPUPercent.OK || got[0].MemPercent.OK || got[0].RSSBytes != 10*mib || got[3].RSSBytes != 5*mib {
		t.Errorf("without prev and limits: %+v", got[0])
	}
}

func TestProcessJSON(t *testing.T) {
	ps := []Process{
		{PID: 10, PPID: 1, UID: Count{0, true}, State: "R", Comm: "sh", Cmdline: "sh -c x",
			CPUPercent: floatOf(99.5), RSSBytes: 4096, MemPercent: floatOf(0.25), Cgroup: "/a"},
		{PID: 2, State: "S", Comm: "kthreadd", Cgroup: "/"},
	}
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"pid":10,"ppid":1,"uid":0,"state":"R","comm":"sh","cmdline":"sh -c x","cpu_percent":99.5,"rss_bytes":4096,"mem_percent":0.25,"cgroup":"/a"},` +
		`{"pid":2,"ppid":0,"state":"S","comm":"kthreadd","cmdline":"","rss_bytes":0,"cgroup":"/"}]`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestSortProcesses(t *testing.T) {
	f := floatOf
	ps := []Process{
		{PID: 1, CPUPercent: f(5), RSSBytes: 100},
		{PID: 2, RSSBytes: 900},
		{PID: 3, CPUPercent: f(50), RSSBytes: 10},
		{PID: 4, CPUPercent: f(5), RSSBytes: 300},
		{PID: 5, CPUPercent: f(0), RSSBytes: 900},
		{PID: 6, CPUPercent: f(5), RSSBytes: 300},
	}
	order := func(ps []Process) []int {
		var o []int
		for _, p := range ps {
			o = append(o, p.PID)
		}
		return o
	}
	if err := SortProcesses(ps, "cpu"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{3, 4, 6, 1, 5, 2}, order(ps)); d != "" {
		t.Errorf("by cpu (-want +got)\n%s", d)
	}
	if err := SortProcesses(ps, "mem"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{5, 2, 4, 6, 1, 3}, order(ps)); d != "" {
		t.Errorf("by mem (-want +got)\n%s", d)
	}
	if err := SortProcesses(ps, "disk"); err == nil {
		t.Error("sort by disk: no error")
	}
}

const dockerID = "a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7"

// fixtureSnapshot reads a fixture tree as the engine does.
func fixtureSnapshot(t *testing.T, name string) *Snapshot {
	t.Helper()
	root, err := rootfs.New("../../testdata/roots/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	col, err := cgroup.New(cgroup.Options{Root: root, NoWatch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	var set sample.Set
	if err := col.Collect(&set); err != nil {
		t.Fatal(err)
	}
	return Build(nil, &set)
}

func TestResolveCgroupFixtures(t *testing.T) {
	v2 := fixtureSnapshot(t, "v2")
	hybrid := fixtureSnapshot(t, "hybrid")
	scope := "/system.slice/docker-" + dockerID + ".scope"
	for _, tt := range []struct {
		name string
		snap *Snapshot
		in   string
		want string
	}{
		{"v2: docker name finds the systemd scope", v2, "/docker/" + dockerID, scope},
		{"v2: without the leading slash", v2, "docker/" + dockerID + "/", scope},
		{"v2: short id", v2, "/docker/" + dockerID[:12], scope},
		{"v2: the scope itself", v2, scope, scope},
		{"v2: a path without leading slash", v2, "system.slice/sshd.service", "/system.slice/sshd.service"},
		{"v2: root", v2, "/", "/"},
		{"hybrid: cgroupfs driver, the path exists", hybrid, "/docker/" + dockerID, "/docker/" + dockerID},
		{"hybrid: the scope name finds the cgroupfs path", hybrid, scope, "/docker/" + dockerID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.snap.ResolveCgroup(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ResolveCgroup(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	for _, in := range []string{
		"/nope",
		"/docker/" + strings.Repeat("0", 64),
		"/docker/" + dockerID[:11], // too short to be a docker short ID
		"/docker/" + strings.ToUpper(dockerID[:12]),
		"/system.slice/sshd.service/x",
	} {
		if got, err := v2.ResolveCgroup(in); !errors.Is(err, proc.ErrNoCgroup) {
			t.Errorf("ResolveCgroup(%q) = %q, %v; want ErrNoCgroup", in, got, err)
		}
	}
}

func TestResolveCgroupAmbiguous(t *testing.T) {
	id1, id2 := strings.Repeat("ab", 32), "abababababab"+strings.Repeat("cd", 26)
	s := &Snapshot{Cgroups: []Cgroup{
		{Path: "/system.slice/docker-" + id1 + ".scope", Container: &Container{Runtime: "docker", ID: id1, Role: "container"}},
		{Path: "/system.slice/docker-" + id2 + ".scope", Container: &Container{Runtime: "docker", ID: id2, Role: "container"}},
	}}
	if _, err := s.ResolveCgroup("/docker/abababababab"); !errors.Is(err, proc.ErrNoCgroup) || !strings.Contains(err.Error(), "2 containers") {
		t.Errorf("ambiguous short ID: %v", err)
	}
	if got, err := s.ResolveCgroup("/docker/abababababab" + "cd"); err != nil || !strings.Contains(got, id2) {
		t.Errorf("longer prefix: %q, %v", got, err)
	}
	if got, err := s.ResolveCgroup("/docker/" + id1); err != nil || !strings.Contains(got, id1) {
		t.Errorf("full ID: %q, %v", got, err)
	}
}

func TestSubtree(t *testing.T) {
	s := &Snapshot{Cgroups: []Cgroup{{Path: "/"}, {Path: "/a"}, {Path: "/a/b"}, {Path: "/a/b/c"}, {Path: "/ab"}, {Path: "/b"}}}
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"/a", []string{"/a", "/a/b", "/a/b/c"}},
		{"/a/b/c", []string{"/a/b/c"}},
		{"/", []string{"/", "/a", "/a/b", "/a/b/c", "/ab", "/b"}},
	} {
		if d := cmp.Diff(tt.want, s.Subtree(tt.in)); d != "" {
			t.Errorf("Subtree(%q) (-want +got)\n%s", tt.in, d)
		}
	}
}

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
func cgroupfsParse(s string) ([]cgroupfs.ProcCgroup, error) {
	return cgroupfs.ParseProcCgroup([]byte(s))
}
