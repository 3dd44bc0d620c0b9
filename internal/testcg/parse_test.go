package testcg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHierarchiesFromMountinfo(t *testing.T) {
	f := func(mountinfo, procCgroups string, wantMode Mode, want []Hierarchy) {
		t.Helper()
		mounts, err := parseMountinfo(readFixture(t, mountinfo))
		if err != nil {
			t.Fatalf("%s: %v", mountinfo, err)
		}
		var pc []byte
		if procCgroups != "" {
			pc = readFixture(t, procCgroups)
		}
		known, err := parseProcCgroups(bytes.NewReader(pc))
		if err != nil {
			t.Fatalf("%s: %v", procCgroups, err)
		}
		got := hierarchies(mounts, known)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: hierarchies (-want +got):\n%s", mountinfo, diff)
		}
		if mode, err := modeOf(got); err != nil || mode != wantMode {
			t.Errorf("%s: mode = %v, %v; want %v", mountinfo, mode, err, wantMode)
		}
	}
	v1 := func(name, mount string, ctrls ...string) Hierarchy {
		return Hierarchy{Name: name, Mount: mount, Controllers: ctrls}
	}

	// Real: this project's test machine (Debian 12 userland, kernel 6.18).
	f("mountinfo-hybrid", "proc-cgroups-hybrid", ModeHybrid, []Hierarchy{
		v1("cpu", "/sys/fs/cgroup/cpu", "cpu"),
		v1("cpuacct", "/sys/fs/cgroup/cpuacct", "cpuacct"),
		v1("cpuset", "/sys/fs/cgroup/cpuset", "cpuset"),
		v1("memory", "/sys/fs/cgroup/memory", "memory"),
		v1("devices", "/sys/fs/cgroup/devices", "devices"),
		v1("freezer", "/sys/fs/cgroup/freezer", "freezer"),
		v1("blkio", "/sys/fs/cgroup/blkio", "blkio"),
		v1("pids", "/sys/fs/cgroup/pids", "pids"),
		v1("name=systemd", "/sys/fs/cgroup/systemd"),
		{Name: Unified, Mount: "/sys/fs/cgroup/unified", V2: true},
	})
	// Written after systemd's legacy layout (no such host at hand): co-mounted controllers, super options that
	// are not controllers, a bind mount of a sub-tree and a second mount of
	// the memory hierarchy (both skipped).
	f("mountinfo-v1", "proc-cgroups-v1", ModeV1, []Hierarchy{
		v1("name=systemd", "/sys/fs/cgroup/systemd"),
		v1("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "cpu", "cpuacct"),
		v1("net_cls,net_prio", "/sys/fs/cgroup/net_cls,net_prio", "net_cls", "net_prio"),
		v1("memory", "/sys/fs/cgroup/memory", "memory"),
		v1("blkio", "/sys/fs/cgroup/blkio", "blkio"),
		v1("pids", "/sys/fs/cgroup/pids", "pids"),
		v1("cpuset", "/sys/fs/cgroup/cpuset", "cpuset"),
		v1("freezer", "/sys/fs/cgroup/freezer", "freezer"),
		v1("devices", "/sys/fs/cgroup/devices", "devices"),
		v1("perf_event", "/sys/fs/cgroup/perf_event", "perf_event"),
		v1("hugetlb", "/sys/fs/cgroup/hugetlb", "hugetlb"),
	})
	// Real: the project's cgroup v2 test VM (Debian kernel 6.1, busybox).
	f("mountinfo-v2", "proc-cgroups-v2", ModeV2, []Hierarchy{
		{Name: Unified, Mount: "/sys/fs/cgroup", V2: true},
	})
	// /proc/cgroups is absent when v1 support is compiled out.
	f("mountinfo-v2", "", ModeV2, []Hierarchy{
		{Name: Unified, Mount: "/sys/fs/cgroup", V2: true},
	})
}

func TestParseMountinfo(t *testing.T) {
	mounts, err := parseMountinfo(readFixture(t, "mountinfo-v1"))
	if err != nil {
		t.Fatal(err)
	}
	want := mount{major: 0, minor: 27, root: "/", point: "/mnt/memory again", fsType: "cgroup",
		source: "cgroup", superOpts: []string{"rw", "memory"}}
	if diff := cmp.Diff(want, mounts[len(mounts)-1], cmp.AllowUnexported(mount{})); diff != "" {
		t.Errorf("last mount (-want +got):\n%s", diff)
	}

	if _, err := parseMountinfo(readFixture(t, "mountinfo-broken")); err == nil {
		t.Error("mountinfo-broken: no error")
	}
	if _, err := parseMountinfo([]byte("1 2 x / / rw - ext4 /dev/a rw\n")); err == nil {
		t.Error("bad device: no error")
	}
}

func TestParseCgtop(t *testing.T) {
	rows, err := parseCgtop(readFixture(t, "cgtop-hybrid.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The last of the two iterations (real output, systemd 252 on this
	// project's hybrid test machine; four /process_api/… lines dropped).
	want := map[string]CgtopRow{
		"/": {
			CPU:    Maybe[float64]{V: 100.7, OK: true},
			Memory: Maybe[uint64]{V: 876646400, OK: true},
		},
		"/cgmon-test-27149-a4af203d": {
			Tasks:  Maybe[uint64]{V: 4, OK: true},
			CPU:    Maybe[float64]{V: 99.6, OK: true},
			Memory: Maybe[uint64]{V: 1310720, OK: true},
		},
		"/cgmon-test-27149-a4af203d/busy": {
			Tasks:  Maybe[uint64]{V: 1, OK: true},
			CPU:    Maybe[float64]{V: 99.6, OK: true},
			Memory: Maybe[uint64]{V: 262144, OK: true},
		},
		"/cgmon-test-27149-a4af203d/with space": { // 3 sleepers: no CPU used, so none shown
			Tasks:  Maybe[uint64]{V: 3, OK: true},
			Memory: Maybe[uint64]{V: 786432, OK: true},
		},
		"/process_api": {
			Memory: Maybe[uint64]{V: 954130432, OK: true},
		},
		"/process_api/229b5a1b0deb15effb711b2e2db321f2": {
			Memory: Maybe[uint64]{V: 52457472, OK: true},
		},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	f := func(out string, wantErr bool, wantLen int) {
		t.Helper()
		rows, err := parseCgtop([]byte(out))
		if (err != nil) != wantErr || len(rows) != wantLen {
			t.Errorf("parseCgtop(%q) = %d rows, %v; want %d rows, error %v", out, len(rows), err, wantLen, wantErr)
		}
	}
	f("", false, 0)
	f("\n\n", false, 0)
	f("/a 1 - 2 - -\n", false, 1)
	f("/a 1 - 2 -\n", true, 0)    // four figures
	f("1 - 2 - -\n", true, 0)     // no path
	f("/a x - 2 - -\n", true, 0)  // not a number
	f("/a 1 - -2 - -\n", true, 0) // negative
	f("/a 1 - 2 - -\n\n/b 1 - 2 - -\n/c 1 - 2 - -\n", false, 2)
}
