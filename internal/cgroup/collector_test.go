package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// fixtures is where the real-kernel trees live (see testdata/roots/README.md).
const fixtures = "../../testdata/roots"

const (
	podID  = "ddf9ae9b9f6846c640b12473c3e3530289a8120953197bea1dbe6f7345a4e644"
	podV2  = "/machine.slice/libpod-" + podID + ".scope"
	podV1  = podV2 // the hybrid capture uses the same systemd names for podman
	demo   = "/system.slice/demo.service"
	lxcWeb = "/lxc.payload.web1"
)

func openFixture(t testing.TB, name string) *rootfs.Dir {
	t.Helper()
	root, err := rootfs.New(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func collectOnce(t testing.TB, root rootfs.Root, opts Options) (*sample.Set, *Collector) {
	t.Helper()
	opts.Root = root
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var set sample.Set
	if err := c.Collect(&set); err != nil {
		t.Fatal(err)
	}
	return &set, c
}

func find(t testing.TB, set *sample.Set, path string) *sample.Cgroup {
	t.Helper()
	for i := range set.Cgroups {
		if set.Cgroups[i].Path == path {
			return &set.Cgroups[i]
		}
	}
	t.Fatalf("cgroup %s not in the sample (%d cgroups)", path, len(set.Cgroups))
	return nil
}

// fileUint reads a number from a fixture file: the ground truth a figure is
// compared with.
func fileUint(t testing.TB, fixture, name string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, fixture, name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fileKey(t testing.TB, fixture, name, key string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, fixture, name))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s: no key %s", name, key)
	return 0
}

func TestDetectLayout(t *testing.T) {
	tests := []struct {
		fixture string
		mode    Mode
		mounts  map[string]string // mount point -> controllers
	}{
		{"v2", ModeV2, map[string]string{"/sys/fs/cgroup": "cpuset cpu io memory hugetlb pids rdma misc"}},
		{"hybrid", ModeHybrid, map[string]string{
			"/sys/fs/cgroup/cpu": "cpu", "/sys/fs/cgroup/cpuacct": "cpuacct", "/sys/fs/cgroup/cpuset": "cpuset",
			"/sys/fs/cgroup/memory": "memory", "/sys/fs/cgroup/devices": "devices", "/sys/fs/cgroup/freezer": "freezer",
			"/sys/fs/cgroup/blkio": "blkio", "/sys/fs/cgroup/pids": "pids", "/sys/fs/cgroup/systemd": "name=systemd",
			"/sys/fs/cgroup/unified": "hugetlb",
		}},
		{"v1", ModeV1, map[string]string{
			"/sys/fs/cgroup/cpu": "cpu", "/sys/fs/cgroup/cpuacct": "cpuacct", "/sys/fs/cgroup/cpuset": "cpuset",
			"/sys/fs/cgroup/memory": "memory", "/sys/fs/cgroup/devices": "devices", "/sys/fs/cgroup/freezer": "freezer",
			"/sys/fs/cgroup/blkio": "blkio", "/sys/fs/cgroup/pids": "pids", "/sys/fs/cgroup/systemd": "name=systemd",
		}},
		{"v1-comounted", ModeV1, map[string]string{
			"/sys/fs/cgroup/cpu,cpuacct": "cpu cpuacct", "/sys/fs/cgroup/cpuset": "cpuset",
			"/sys/fs/cgroup/memory": "memory", "/sys/fs/cgroup/devices": "devices", "/sys/fs/cgroup/freezer": "freezer",
			"/sys/fs/cgroup/blkio": "blkio", "/sys/fs/cgroup/pids": "pids", "/sys/fs/cgroup/systemd": "name=systemd",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			l, err := DetectLayout(openFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if l.Mode != tt.mode {
				t.Errorf("mode = %s, want %s", l.Mode, tt.mode)
			}
			got := map[string]string{}
			for _, h := range l.Hierarchies {
				got[h.MountPoint] = strings.Join(h.Controllers, " ")
				if h.Base != "/" {
					t.Errorf("%s: base %q, want /", h.MountPoint, h.Base)
				}
			}
			if d := cmp.Diff(tt.mounts, got); d != "" {
				t.Errorf("hierarchies (-want +got):\n%s", d)
			}
		})
	}
}

func TestLayoutFromMountsInContainer(t *testing.T) {
	// What a container without a cgroup namespace sees: the host's
	// hierarchies, mounted from its own subtree, and a second bind mount of
	// one of them that shows more.
	info := strings.Join([]string{
		"600 500 0:29 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory",
		"601 500 0:29 / /host/memory ro,nosuid - cgroup cgroup rw,memory",
		"602 500 0:30 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct",
		"603 500 0:31 / /sys/fs/cgroup/misc rw - cgroup cgroup rw,name=other",
		"604 500 0:26 / /proc rw - proc proc rw",
	}, "\n") + "\n"
	mounts, err := cgroupfs.ParseMountinfo([]byte(info))
	if err != nil {
		t.Fatal(err)
	}
	l, err := layoutFromMounts(mounts)
	if err != nil {
		t.Fatal(err)
	}
	want := []Hierarchy{
		{Controllers: []string{"memory"}, MountPoint: "/host/memory", Base: "/"},
		{Controllers: []string{"cpu", "cpuacct"}, MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Base: "/docker/abc"},
	}
	if d := cmp.Diff(want, l.Hierarchies); d != "" {
		t.Errorf("hierarchies (-want +got):\n%s", d)
	}
	if l.Mode != ModeV1 {
		t.Errorf("mode %s", l.Mode)
	}
	h := l.Hierarchies[1]
	for p, dir := range map[string]string{
		"/docker/abc":     "/sys/fs/cgroup/cpu,cpuacct",
		"/docker/abc/sub": "/sys/fs/cgroup/cpu,cpuacct/sub",
		"/docker/other":   "",
	} {
		if got := h.Dir(p); got != dir {
			t.Errorf("Dir(%s) = %q, want %q", p, got, dir)
		}
	}
	if _, err := layoutFromMounts(nil); err == nil {
		t.Error("no mounts: want ErrNoCgroups")
	}
}

func TestCollectV2Fixture(t *testing.T) {
	set, c := collectOnce(t, openFixture(t, "v2"), Options{})
	if set.Mode != "v2" || set.Hostname != "v2vm" {
		t.Errorf("mode %q hostname %q", set.Mode, set.Hostname)
	}
	cg := "sys/fs/cgroup"
	pod := find(t, set, podV2)
	want := sample.Memory{
		Usage:        sample.Some(fileUint(t, "v2", cg+podV2+"/memory.current")),
		Peak:         sample.Some(fileUint(t, "v2", cg+podV2+"/memory.peak")),
		Anon:         sample.Some(fileKey(t, "v2", cg+podV2+"/memory.stat", "anon")),
		File:         sample.Some(fileKey(t, "v2", cg+podV2+"/memory.stat", "file")),
		Shmem:        sample.Some(fileKey(t, "v2", cg+podV2+"/memory.stat", "shmem")),
		InactiveFile: sample.Some(fileKey(t, "v2", cg+podV2+"/memory.stat", "inactive_file")),
		Swap:         sample.Some(fileUint(t, "v2", cg+podV2+"/memory.swap.current")),
		Failcnt:      sample.Some(fileKey(t, "v2", cg+podV2+"/memory.events", "max")),
		OOMEvents:    sample.Some(fileKey(t, "v2", cg+podV2+"/memory.events", "oom")),
		OOMKills:     sample.Some(fileKey(t, "v2", cg+podV2+"/memory.events", "oom_kill")),
		Limit:        sample.LimitOf(256 << 20),
		SwapLimit:    sample.Unlimited,
	}
	if d := cmp.Diff(want, pod.Memory); d != "" {
		t.Errorf("libpod memory (-want +got):\n%s", d)
	}
	if pod.Memory.Shmem.V < 64<<20 {
		t.Errorf("shmem %d, the workload put 64 MiB on tmpfs", pod.Memory.Shmem.V)
	}
	if len(pod.IO) != 1 || pod.IO[0].Name != "vda" || pod.IO[0].WriteBytes != 16<<20 || pod.IO[0].ReadBytes != 16<<20 {
		t.Errorf("libpod io = %+v, want vda with 16 MiB read and written", pod.IO)
	}
	if pod.Pids.Current != sample.Some(3) || pod.Pids.Limit != sample.LimitOf(100) || pod.Pids.Counted {
		t.Errorf("libpod pids = %+v", pod.Pids)
	}
	if pod.Identity.Kind != identity.KindPodman || pod.Identity.ID != podID {
		t.Errorf("libpod identity = %+v", pod.Identity)
	}

	d := find(t, set, demo)
	wantCPU := sample.CPU{
		UsageNs:          sample.Some(1000 * fileKey(t, "v2", cg+demo+"/cpu.stat", "usage_usec")),
		UserNs:           sample.Some(1000 * fileKey(t, "v2", cg+demo+"/cpu.stat", "user_usec")),
		SystemNs:         sample.Some(1000 * fileKey(t, "v2", cg+demo+"/cpu.stat", "system_usec")),
		Periods:          sample.Some(fileKey(t, "v2", cg+demo+"/cpu.stat", "nr_periods")),
		ThrottledPeriods: sample.Some(fileKey(t, "v2", cg+demo+"/cpu.stat", "nr_throttled")),
		ThrottledNs:      sample.Some(1000 * fileKey(t, "v2", cg+demo+"/cpu.stat", "throttled_usec")),
		QuotaUs:          sample.LimitOf(50000),
		PeriodUs:         sample.Some(100000),
	}
	if diff := cmp.Diff(wantCPU, d.CPU); diff != "" {
		t.Errorf("demo cpu (-want +got):\n%s", diff)
	}
	if !d.Pressure.CPU.HasSome || !d.Pressure.Memory.HasFull || !d.Pressure.IO.HasSome {
		t.Errorf("demo pressure missing: %+v", d.Pressure)
	}

	root := find(t, set, "/")
	if root.Memory.Usage.OK || root.Memory.Limit.State != sample.LimitAbsent {
		t.Errorf("v2 root has no memory.current or memory.max, got %+v", root.Memory)
	}
	if st := c.Stats(); st.ParseErrors != 0 || st.ReadErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestCollectV1Fixtures(t *testing.T) {
	for _, fixture := range []string{"hybrid", "v1", "v1-comounted"} {
		t.Run(fixture, func(t *testing.T) {
			set, c := collectOnce(t, openFixture(t, fixture), Options{})
			mem := "sys/fs/cgroup/memory"
			cpuacct, cpu := "sys/fs/cgroup/cpuacct", "sys/fs/cgroup/cpu"
			if fixture == "v1-comounted" {
				cpuacct, cpu = "sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu,cpuacct"
			}
			pod := find(t, set, podV1)
			usage := fileUint(t, fixture, mem+podV1+"/memory.usage_in_bytes")
			memsw := fileUint(t, fixture, mem+podV1+"/memory.memsw.usage_in_bytes")
			want := sample.Memory{
				Usage:        sample.Some(usage),
				Peak:         sample.Some(fileUint(t, fixture, mem+podV1+"/memory.max_usage_in_bytes")),
				Anon:         sample.Some(fileKey(t, fixture, mem+podV1+"/memory.stat", "total_rss")),
				File:         sample.Some(fileKey(t, fixture, mem+podV1+"/memory.stat", "total_cache")),
				Shmem:        sample.Some(fileKey(t, fixture, mem+podV1+"/memory.stat", "total_shmem")),
				InactiveFile: sample.Some(fileKey(t, fixture, mem+podV1+"/memory.stat", "total_inactive_file")),
				Swap:         sample.Some(memsw - usage),
				Failcnt:      sample.Some(fileUint(t, fixture, mem+podV1+"/memory.failcnt")),
				OOMKills:     sample.Some(fileKey(t, fixture, mem+podV1+"/memory.oom_control", "oom_kill")),
				Limit:        sample.LimitOf(256 << 20),
				SwapLimit:    sample.Unlimited,
			}
			if d := cmp.Diff(want, pod.Memory); d != "" {
				t.Errorf("libpod memory (-want +got):\n%s", d)
			}
			if len(pod.IO) != 1 || pod.IO[0].WriteBytes != 16<<20 || pod.IO[0].ReadBytes != 16<<20 || pod.IO[0].WriteOps == 0 {
				t.Errorf("libpod io = %+v, want one disk with 16 MiB each way", pod.IO)
			}
			if pod.Pids.Current != sample.Some(fileUint(t, fixture, "sys/fs/cgroup/pids"+podV1+"/pids.current")) || pod.Pids.Limit != sample.LimitOf(100) {
				t.Errorf("libpod pids = %+v", pod.Pids)
			}

			d := find(t, set, demo)
			if d.CPU.UsageNs != sample.Some(fileUint(t, fixture, cpuacct+demo+"/cpuacct.usage")) {
				t.Errorf("demo usage %+v, want cpuacct.usage", d.CPU.UsageNs)
			}
			// cpuacct.stat is in USER_HZ ticks (100 a second).
			if d.CPU.UserNs != sample.Some(fileKey(t, fixture, cpuacct+demo+"/cpuacct.stat", "user")*10_000_000) {
				t.Errorf("demo user %+v, want cpuacct.stat user in ns", d.CPU.UserNs)
			}
			if d.CPU.QuotaUs != sample.LimitOf(50000) || d.CPU.PeriodUs != sample.Some(100000) {
				t.Errorf("demo quota %+v period %+v", d.CPU.QuotaUs, d.CPU.PeriodUs)
			}
			if d.CPU.ThrottledPeriods != sample.Some(fileKey(t, fixture, cpu+demo+"/cpu.stat", "nr_throttled")) {
				t.Errorf("demo throttled %+v", d.CPU.ThrottledPeriods)
			}
			if web := find(t, set, lxcWeb); web.Memory.Limit != sample.LimitOf(128<<20) || web.Identity.Kind != identity.KindLXC {
				t.Errorf("lxc web1 limit %+v identity %+v", web.Memory.Limit, web.Identity)
			}
			hasPSI := fixture == "hybrid"
			if d.Pressure.CPU.HasSome != hasPSI {
				t.Errorf("pressure present = %v, want %v", d.Pressure.CPU.HasSome, hasPSI)
			}
			root := find(t, set, "/")
			if root.Memory.Limit.State != sample.LimitUnlimited {
				t.Errorf("v1 root limit %+v, want unlimited", root.Memory.Limit)
			}
			if st := c.Stats(); st.ParseErrors != 0 || st.ReadErrors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestProcsDirs(t *testing.T) {
	l, err := DetectLayout(openFixture(t, "hybrid"))
	if err != nil {
		t.Fatal(err)
	}
	got := l.ProcsDirs(demo)
	if len(got) != 10 || got[0] != "/sys/fs/cgroup/unified"+demo || got[1] != "/sys/fs/cgroup/systemd"+demo {
		t.Errorf("ProcsDirs = %q", got)
	}
	l2, err := DetectLayout(openFixture(t, "v2"))
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.ProcsDirs("/"); len(got) != 1 || got[0] != "/sys/fs/cgroup" {
		t.Errorf("v2 ProcsDirs(/) = %q", got)
	}
}
