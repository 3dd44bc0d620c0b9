package testcg

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const mib = 1 << 20

func readUint(t *testing.T, file string) uint64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v
}

// memoryUsage reads memory.current (v2) or memory.usage_in_bytes (v1).
func memoryUsage(t *testing.T, h *Host, g *Group) uint64 {
	t.Helper()
	hi, ok := h.Hierarchy("memory")
	if !ok {
		t.Skip("no memory controller")
	}
	if hi.V2 {
		return readUint(t, g.Dir("memory")+"/memory.current")
	}
	return readUint(t, g.Dir("memory")+"/memory.usage_in_bytes")
}

func procs(t *testing.T, dir string) []int {
	t.Helper()
	b, err := os.ReadFile(dir + "/cgroup.procs")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s/cgroup.procs: %v", dir, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// gone reports whether pid has exited (a zombie counts as gone).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after cleanup (stat: %v)", path, err)
	}
}

func TestGroupExistsInEveryHierarchyAndIsRemoved(t *testing.T) {
	h := Require(t)
	t.Logf("mode %v, hierarchies %v", h.Mode(), h.Hierarchies())
	var dirs []string
	t.Run("with sleepers", func(t *testing.T) {
		g := h.NewGroup(t, "a")
		g.Sleepers(t, 2)
		for _, hi := range h.Hierarchies() {
			d := g.Dir(hi.Name)
			if d != hi.Mount+g.Path() {
				t.Errorf("Dir(%q) = %q, want %q", hi.Name, d, hi.Mount+g.Path())
			}
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				t.Errorf("%s: %v", d, err)
			}
			if n := len(procs(t, d)); n != 2 {
				t.Errorf("%s/cgroup.procs has %d pids, want 2", d, n)
			}
			dirs = append(dirs, d, filepath.Dir(d))
			if !hi.V2 {
				continue
			}
			// As systemd does: the unified tree gets PSI files even on hybrid.
			if _, err := os.Stat(hi.Mount + "/cpu.pressure"); err == nil {
				if _, err := os.Stat(d + "/cpu.pressure"); err != nil {
					t.Errorf("no PSI in the group: %v", err)
				}
			}
			b, err := os.ReadFile(d + "/cgroup.controllers")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range v2Controllers {
				if slices.Contains(hi.Controllers, c) && !slices.Contains(strings.Fields(string(b)), c) {
					t.Errorf("%s/cgroup.controllers = %q, want %s enabled", d, b, c)
				}
			}
		}
		if g.Dir("no-such-controller") != "" {
			t.Error(`Dir("no-such-controller") != ""`)
		}
	})
	if len(dirs) == 0 {
		t.Fatal("the subtest created nothing")
	}
	for _, d := range dirs {
		mustNotExist(t, d)
	}
}

func TestStartedProcessIsInEveryHierarchy(t *testing.T) {
	h := Require(t)
	g := h.NewGroup(t, "busy")
	cmd := g.BusyLoop(t)
	pid := cmd.Process.Pid
	for _, hi := range h.Hierarchies() {
		if got := procs(t, g.Dir(hi.Name)); !slices.Equal(got, []int{pid}) {
			t.Errorf("%s/cgroup.procs = %v, want [%d]", g.Dir(hi.Name), got, pid)
		}
	}
	// /proc/PID/cgroup agrees for every mounted hierarchy (cgroups(7):
	// "ID:controllers:path", controllers empty for cgroup2).
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 {
			t.Fatalf("/proc/%d/cgroup: bad line %q", pid, sc.Text())
		}
		name := f[1]
		if name == "" {
			name = Unified
		}
		if _, ok := h.Hierarchy(name); !ok {
			continue // not mounted here
		}
		seen++
		if f[2] != g.Path() {
			t.Errorf("/proc/%d/cgroup: %q, want path %s", pid, sc.Text(), g.Path())
		}
	}
	if seen != len(h.Hierarchies()) {
		t.Errorf("/proc/%d/cgroup names %d of the %d hierarchies:\n%s", pid, seen, len(h.Hierarchies()), b)
	}
	// It is the loop itself (the join shell exec'd it), and it burns CPU.
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.Contains(string(comm), "while :; do :; done") {
		t.Errorf("pid %d runs %q", pid, comm)
	}
}

func TestHoldAnonChargesMemory(t *testing.T) {
	h := Require(t)
	g := h.NewGroup(t, "anon")
	before := memoryUsage(t, h, g)
	g.HoldAnon(t, 64)
	after := memoryUsage(t, h, g)
	t.Logf("memory usage %d -> %d (+%.1f MiB)", before, after, float64(after-before)/mib)
	if after < before+64*mib {
		t.Errorf("memory usage rose by %d bytes, want ≥ 64 MiB", after-before)
	}
}

func TestWriteTmpfsChargesMemory(t *testing.T) {
	h := Require(t)
	g := h.NewGroup(t, "shmem")
	before := memoryUsage(t, h, g)
	file := g.WriteTmpfs(t, 32)
	after := memoryUsage(t, h, g)
	t.Logf("memory usage %d -> %d (+%.1f MiB)", before, after, float64(after-before)/mib)
	if after < before+32*mib {
		t.Errorf("memory usage rose by %d bytes, want ≥ 32 MiB", after-before)
	}
	if st, err := os.Stat(file); err != nil || st.Size() != 32*mib {
		t.Errorf("%s: %v, %v", file, st, err)
	}
}

// writtenBytes reads the bytes written to maj:min from io.stat (v2) or
// blkio.throttle.io_service_bytes (v1).
func writtenBytes(t *testing.T, h *Host, g *Group, maj, min uint32) uint64 {
	t.Helper()
	dev := fmt.Sprintf("%d:%d", maj, min)
	if hi, ok := h.Hierarchy("io"); ok && hi.V2 {
		b, err := os.ReadFile(g.Dir("io") + "/io.stat")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != dev {
				continue
			}
			for _, kv := range f[1:] {
				if v, ok := strings.CutPrefix(kv, "wbytes="); ok {
					n, err := strconv.ParseUint(v, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					return n
				}
			}
		}
		return 0
	}
	b, err := os.ReadFile(g.Dir("blkio") + "/blkio.throttle.io_service_bytes")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == dev && f[1] == "Write" {
			n, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

func TestDirectIOWriteIsCountedForTheGroup(t *testing.T) {
	h := Require(t)
	dir := t.TempDir()
	if _, _, name, err := BlockDevice(dir); err != nil {
		t.Skipf("no block device under the temporary directory: %v", err)
	} else {
		t.Logf("%s is on %s", dir, name)
	}
	g := h.NewGroup(t, "dio")
	maj, min := g.DirectIOWrite(t, dir, 16)
	got := writtenBytes(t, h, g, maj, min)
	t.Logf("%d:%d: %d bytes written", maj, min, got)
	if got < 16*mib || got >= 17*mib {
		t.Errorf("%d:%d: %d bytes written, want 16 MiB (+ < 1 MiB)", maj, min, got)
	}
}

func TestSettingsAreWritten(t *testing.T) {
	h := Require(t)
	g := h.NewGroup(t, "limits")
	read := func(ctrl, file string) string {
		t.Helper()
		b, err := os.ReadFile(g.Dir(ctrl) + "/" + file)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	check := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	g.SetCPUQuota(t, 50000, 100000)
	g.SetMemoryLimit(t, 256*mib)
	g.SetPidsMax(t, 10)
	g.SetCPUWeight(t, 200)
	if hi, _ := h.Hierarchy("cpu"); hi.V2 {
		check(read("cpu", "cpu.weight"), "200")
		check(read("cpu", "../cpu.weight"), "200")
		check(read("cpu", "cpu.max"), "50000 100000")
		check(read("memory", "memory.max"), strconv.Itoa(256*mib))
	} else {
		check(read("cpu", "cpu.shares"), "2048")
		check(read("cpu", "../cpu.shares"), "2048")
		check(read("cpu", "cpu.cfs_quota_us")+" "+read("cpu", "cpu.cfs_period_us"), "50000 100000")
		check(read("memory", "memory.limit_in_bytes"), strconv.Itoa(256*mib))
	}
	check(read("pids", "pids.max"), "10")

	g.SetCPUQuota(t, -1, 100000)
	g.SetMemoryLimit(t, -1)
	g.SetPidsMax(t, -1)
	if hi, _ := h.Hierarchy("cpu"); hi.V2 {
		check(read("cpu", "cpu.max"), "max 100000")
		check(read("memory", "memory.max"), "max")
	} else {
		check(read("cpu", "cpu.cfs_quota_us"), "-1")
	}
	check(read("pids", "pids.max"), "max")
}

func TestBlockDevice(t *testing.T) {
	for _, p := range []string{"/proc", "/sys"} {
		if _, _, _, err := BlockDevice(p); !errors.Is(err, ErrNoBlockDevice) {
			t.Errorf("BlockDevice(%q): %v, want ErrNoBlockDevice", p, err)
		}
	}
	maj, min, name, err := BlockDevice("/")
	if err != nil {
		t.Skipf("/ is not on a block device here: %v", err)
	}
	dmaj, dmin, disk, err := WholeDisk(maj, min)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("/ is on %s (%d:%d), disk %s (%d:%d)", name, maj, min, disk, dmaj, dmin)
	if _, err := os.Stat(fmt.Sprintf("/sys/block/%s", disk)); err != nil {
		t.Errorf("disk %s is not in /sys/block: %v", disk, err)
	}
}

// TestCleanupAfterFailure runs a test that fails (t.FailNow, or a panic) in
// a child process and checks that it left no cgroup and no process behind.
func TestCleanupAfterFailure(t *testing.T) {
	if mode := os.Getenv("TESTCG_FAILING_CHILD"); mode != "" {
		failingChild(t, mode)
		return
	}
	Require(t)
	for _, mode := range []string{"failnow", "panic"} {
		t.Run(mode, func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupAfterFailure$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "TESTCG_FAILING_CHILD="+mode, "TESTCG_REPORT="+report)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the failing child passed:\n%s", out)
			}
			if strings.Contains(string(out), "testcg: cleanup") {
				t.Errorf("cleanup reported errors:\n%s", out)
			}
			b, rerr := os.ReadFile(report)
			if rerr != nil {
				t.Fatalf("%v; child (%v):\n%s", rerr, err, out)
			}
			lines := strings.Fields(string(b))
			if len(lines) < 3 {
				t.Fatalf("report %q", b)
			}
			pid, _ := strconv.Atoi(lines[0])
			if !gone(pid) {
				t.Errorf("busy loop %d survived its failed test", pid)
			}
			for _, d := range lines[1:] {
				mustNotExist(t, d)
			}
		})
	}
}

// TestStaleGroupsAreSwept lets a child test binary die of -test.timeout,
// which runs no cleanup, and checks that Require's sweep removes what it
// left: its groups and its busy loop.
func TestStaleGroupsAreSwept(t *testing.T) {
	h := Require(t)
	report := filepath.Join(t.TempDir(), "report")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupAfterFailure$", "-test.count=1", "-test.timeout=3s")
	cmd.Env = append(os.Environ(), "TESTCG_FAILING_CHILD=timeout", "TESTCG_REPORT="+report)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "test timed out") {
		t.Fatalf("the child did not time out (%v):\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	pid, _ := strconv.Atoi(lines[0])
	if gone(pid) {
		t.Fatalf("the busy loop %d should have outlived its test binary", pid)
	}
	h.sweepStale(t)
	if !gone(pid) {
		t.Errorf("busy loop %d survived the sweep", pid)
	}
	for _, d := range lines[1:] {
		mustNotExist(t, d)
	}
}

func failingChild(t *testing.T, mode string) {
	h := Require(t)
	t.Run("doomed", func(t *testing.T) {
		g := h.NewGroup(t, "doomed")
		cmd := g.BusyLoop(t)
		report := []string{strconv.Itoa(cmd.Process.Pid)}
		for _, hi := range h.Hierarchies() {
			report = append(report, g.Dir(hi.Name), filepath.Dir(g.Dir(hi.Name)))
		}
		if err := os.WriteFile(os.Getenv("TESTCG_REPORT"), []byte(strings.Join(report, "\n")), 0o644); err != nil {
			t.Error(err)
		}
		switch mode {
		case "panic":
			panic("deliberate panic in a test with a group")
		case "timeout": // killed by -test.timeout: no cleanup runs
			time.Sleep(time.Hour)
		}
		t.FailNow()
	})
}

func TestCgtopRawSeesGroup(t *testing.T) {
	h := Require(t)
	g := h.NewGroup(t, "cgtop")
	g.Sleepers(t, 3)
	rows := CgtopRaw(t, 1, 100*time.Millisecond)
	row, ok := rows[g.Path()]
	if !ok {
		t.Fatalf("systemd-cgtop does not show %s; it shows %v", g.Path(), rows)
	}
	t.Logf("%s: %+v", g.Path(), row)
	if row.Tasks != (Maybe[uint64]{V: 3, OK: true}) {
		t.Errorf("Tasks = %+v, want 3", row.Tasks)
	}
	if !row.Memory.OK {
		t.Errorf("Memory absent")
	}
	if row.CPU.OK {
		t.Errorf("CPU = %+v after one iteration, want absent", row.CPU)
	}
	if _, ok := rows[filepath.Dir(g.Path())]; !ok {
		t.Errorf("no row for the parent %s", filepath.Dir(g.Path()))
	}
}
