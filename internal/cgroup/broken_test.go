package cgroup

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/test/v2vm"
)

// fixtureCopy copies a fixture to a temporary directory the test may break.
func fixtureCopy(t *testing.T, name string) (string, *rootfs.Dir) {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixtures, name), dir)
	root, err := rootfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func TestBrokenFilesLeaveMetricsAbsent(t *testing.T) {
	dir, root := fixtureCopy(t, "hybrid")
	cg := filepath.Join(dir, "sys/fs/cgroup")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(cg, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("memory"+podV1+"/memory.stat", "total_rss 12x\ntotal_cache\n")              // garbage
	write("cpuacct"+demo+"/cpuacct.usage", "")                                        // truncated to nothing
	write("blkio"+podV1+"/blkio.throttle.io_service_bytes_recursive", "254:0 Read\n") // cut mid-line
	write("unified"+demo+"/cpu.pressure", "some avg10=abc\n")                         // garbage
	write("memory"+lxcWeb+"/memory.limit_in_bytes", "\x00\x00\x00")                   // NUL bytes
	if err := os.Remove(filepath.Join(cg, "memory"+lxcWeb+"/memory.usage_in_bytes")); err != nil {
		t.Fatal(err)
	}

	set, c := collectOnce(t, root, Options{})
	pod := find(t, set, podV1)
	if pod.Memory.Anon.OK || pod.Memory.File.OK {
		t.Errorf("garbage memory.stat gave %+v", pod.Memory)
	}
	if !pod.Memory.Usage.OK || !pod.CPU.UsageNs.OK {
		t.Error("a broken file took other figures with it")
	}
	for _, d := range pod.IO {
		if d.ReadBytes != 0 {
			t.Errorf("a cut blkio line gave read bytes: %+v", pod.IO)
		}
	}
	d := find(t, set, demo)
	if d.CPU.UsageNs.OK || d.Pressure.CPU.HasSome {
		t.Errorf("empty cpuacct.usage or garbage PSI read as %+v / %+v", d.CPU.UsageNs, d.Pressure.CPU)
	}
	if !d.CPU.UserNs.OK || !d.Memory.Usage.OK {
		t.Error("demo lost figures whose files are intact")
	}
	web := find(t, set, lxcWeb)
	if web.Memory.Usage.OK || web.Memory.Limit.State != sample.LimitAbsent {
		t.Errorf("missing usage / NUL limit read as %+v / %+v", web.Memory.Usage, web.Memory.Limit)
	}
	if st := c.Stats(); st.ParseErrors < 5 {
		t.Errorf("parse errors %d, want ≥ 5", st.ParseErrors)
	}
}

func TestCgroupsAppearAndVanishBetweenCycles(t *testing.T) {
	dir, root := fixtureCopy(t, "v2")
	cg := filepath.Join(dir, "sys/fs/cgroup")
	c, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var set sample.Set
	collect := func() {
		t.Helper()
		if err := c.Collect(&set); err != nil {
			t.Fatal(err)
		}
	}
	has := func(p string) bool {
		for i := range set.Cgroups {
			if set.Cgroups[i].Path == p {
				return true
			}
		}
		return false
	}
	collect()
	if !has(demo) || has("/new.slice") {
		t.Fatal("unexpected start")
	}
	if err := os.RemoveAll(filepath.Join(cg, demo)); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(cg, podV2), filepath.Join(cg, "new.slice"))
	copyTree(t, filepath.Join(cg, podV2), filepath.Join(cg, "new.slice/child"))
	collect()
	if has(demo) {
		t.Error("a removed cgroup is still listed")
	}
	if !has("/new.slice") || !has("/new.slice/child") {
		t.Error("a new cgroup (and its child) did not appear")
	}
	if st := c.Stats(); st.Walks != 1 || !st.WatchEnabled {
		t.Errorf("stats %+v: changes should come from inotify, not from walks", st)
	}
	// Without inotify the same happens by walking every cycle.
	nw, err := New(Options{Root: root, NoWatch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	var s2 sample.Set
	if err := nw.Collect(&s2); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cg, "new.slice/child")); err != nil {
		t.Fatal(err)
	}
	if err := nw.Collect(&s2); err != nil {
		t.Fatal(err)
	}
	for _, g := range s2.Cgroups {
		if g.Path == "/new.slice/child" {
			t.Error("NoWatch: removed cgroup still listed")
		}
	}
	if st := nw.Stats(); st.Walks != 2 || st.WatchEnabled {
		t.Errorf("NoWatch stats %+v", st)
	}
}

// TestV2VMGuest runs the TestLive* checks of this package inside a real
// cgroup v2 kernel under qemu.
func TestV2VMGuest(t *testing.T) {
	if v2vm.IsGuest() {
		t.Skip("already in the guest")
	}
	log := v2vm.RunGuestTests(t, ".", "-test.run=^TestLive")
	for _, want := range []string{"--- PASS: TestLiveCgroupRemovedBeforeRead", "--- PASS: TestLiveDiscoveryByInotify"} {
		if !strings.Contains(log, want) {
			t.Errorf("the guest did not report %q", want)
		}
	}
}

// TestLiveCgroupRemovedBeforeRead removes a real cgroup after the collector
// opened its files: the kept-open handles then fail with ENODEV, and the
// cgroup is dropped quietly, not reported and not counted as an error.
func TestLiveCgroupRemovedBeforeRead(t *testing.T) {
	h := testcg.Require(t)
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var path string
	c, err := New(Options{Root: root, NoWatch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var set sample.Set
	t.Run("create", func(t *testing.T) {
		g := h.NewGroup(t, "vanish")
		g.Sleepers(t, 1)
		path = g.Path()
		if err := c.Collect(&set); err != nil {
			t.Fatal(err)
		}
		if find(t, &set, path).Pids.Current.V != 1 {
			t.Fatal("the sleeper is not counted")
		}
	}) // the group is removed when the subtest ends
	st := c.byPath[path]
	if st == nil {
		t.Fatal("no state for the removed group")
	}
	var out sample.Cgroup
	if c.read(st, &out, false) {
		t.Fatal("read of a removed cgroup succeeded")
	}
	if c.byPath[path] != nil {
		t.Error("the removed cgroup's state was kept")
	}
	if s := c.Stats(); s.ReadErrors != 0 || s.ParseErrors != 0 {
		t.Errorf("a vanished cgroup counted as an error: %+v", s)
	}
}

// TestLiveDiscoveryByInotify creates and removes a real cgroup between two
// cycles: both show in the next cycle with no extra walk.
func TestLiveDiscoveryByInotify(t *testing.T) {
	h := testcg.Require(t)
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	c, err := New(Options{Root: root, RescanEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var set sample.Set
	if err := c.Collect(&set); err != nil {
		t.Fatal(err)
	}
	var path string
	t.Run("create", func(t *testing.T) {
		g := h.NewGroup(t, "appear")
		path = g.Path()
		if err := c.Collect(&set); err != nil {
			t.Fatal(err)
		}
		find(t, &set, path)
	})
	if err := c.Collect(&set); err != nil {
		t.Fatal(err)
	}
	for i := range set.Cgroups {
		if set.Cgroups[i].Path == path {
			t.Fatalf("%s still listed after removal", path)
		}
	}
	if s := c.Stats(); s.Walks != 1 || !s.WatchEnabled {
		t.Errorf("stats %+v: want one walk and inotify", s)
	}
}

func TestLimitsAreReadAgainAfterLimitRefresh(t *testing.T) {
	dir, root := fixtureCopy(t, "v2")
	file := filepath.Join(dir, "sys/fs/cgroup", lxcWeb, "memory.max")
	c, err := New(Options{Root: root, LimitRefresh: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var set sample.Set
	limit := func() sample.Limit {
		t.Helper()
		if err := c.Collect(&set); err != nil {
			t.Fatal(err)
		}
		return find(t, &set, lxcWeb).Memory.Limit
	}
	if got := limit(); got != sample.LimitOf(128<<20) {
		t.Fatalf("limit %+v", got)
	}
	if err := os.WriteFile(file, []byte("max\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := limit(); got != sample.LimitOf(128<<20) {
		t.Errorf("limit re-read before LimitRefresh: %+v", got)
	}
	time.Sleep(310 * time.Millisecond) // past 1.5 × LimitRefresh
	if got := limit(); got != sample.Unlimited {
		t.Errorf("limit after LimitRefresh %+v, want unlimited", got)
	}
}

func TestSwapWithAndWithoutSwapDevices(t *testing.T) {
	dir, root := fixtureCopy(t, "v2")
	cg := filepath.Join(dir, "sys/fs/cgroup")
	if err := os.WriteFile(filepath.Join(cg, podV2, "memory.swap.current"), []byte("8192\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	swaps := filepath.Join(dir, "proc/swaps")
	header := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	device := "/dev/vdb                                partition\t1048572\t\t8\t\t-2\n"
	tests := []struct {
		name, swaps string
		want        sample.Value
	}{
		{"no /proc/swaps: the file is read", "", sample.Some(8192)},
		{"a swap device: the file is read", header + device, sample.Some(8192)},
		{"no swap device: nothing can be swapped", header, sample.Some(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(swaps)
			if tt.swaps != "" {
				if err := os.WriteFile(swaps, []byte(tt.swaps), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c, err := New(Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var set sample.Set
			for range 2 { // the second cycle is the one that may skip
				if err := c.Collect(&set); err != nil {
					t.Fatal(err)
				}
				if got := find(t, &set, podV2).Memory.Swap; got != tt.want {
					t.Errorf("swap %+v, want %+v", got, tt.want)
				}
				if got := find(t, &set, "/").Memory.Swap; got.OK {
					t.Errorf("the v2 root has no swap file, got %+v", got)
				}
			}
		})
	}
}

// hookRoot is a Root that can fail one listing and run a hook after each.
type hookRoot struct {
	rootfs.Root
	afterList func(name string)
	denied    string // ReadDir of this name fails with EACCES
}

func (r *hookRoot) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == r.denied {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	e, err := r.Root.ReadDir(name)
	if r.afterList != nil {
		r.afterList(name)
	}
	return e, err
}

func TestCgroupRemovedMidWalk(t *testing.T) {
	dir, root := fixtureCopy(t, "v2")
	cg := filepath.Join(dir, "sys/fs/cgroup")
	removed := false
	hr := &hookRoot{Root: root, afterList: func(name string) {
		// The walk has just listed machine.slice and is about to descend.
		if name == "/sys/fs/cgroup/machine.slice" && !removed {
			removed = true
			if err := os.RemoveAll(filepath.Join(cg, podV2)); err != nil {
				t.Error(err)
			}
		}
	}}
	set, c := collectOnce(t, hr, Options{})
	if !removed {
		t.Fatal("the hook never ran")
	}
	for _, g := range set.Cgroups {
		if g.Path == podV2 {
			t.Errorf("%s was removed during the walk but is listed", podV2)
		}
	}
	find(t, set, "/machine.slice/libpod-conmon-"+podID+".scope")
	if st := c.Stats(); st.ReadErrors != 0 || st.ParseErrors != 0 {
		t.Errorf("a vanished cgroup counted as an error: %+v", st)
	}
}

func TestUnreadableDirectoryCostsOnlyItsSubtree(t *testing.T) {
	hr := &hookRoot{Root: openFixture(t, "v2"), denied: "/sys/fs/cgroup/system.slice"}
	set, c := collectOnce(t, hr, Options{})
	for _, g := range set.Cgroups {
		if strings.HasPrefix(g.Path, "/system.slice") {
			t.Errorf("%s listed from an unreadable directory", g.Path)
		}
	}
	find(t, set, podV2)
	if st := c.Stats(); st.ReadErrors != 1 {
		t.Errorf("read errors %d, want 1 (the listing)", st.ReadErrors)
	}
}
