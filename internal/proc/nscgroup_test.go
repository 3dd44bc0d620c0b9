package proc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// testdata/cgroupns/{private,host} were read inside a podman container run
// with --volume=/:/rootfs:ro and --cgroupns=private or host (runc,
// cgroupfs manager, so the container's cgroup is
// /libpod_parent/libpod-<cid> in every hierarchy) on this project's
// machine (cgroup v1 hybrid), while two host sleepers ran: one in
// /pidnsexp (pids, name=systemd and the unified hierarchy), one in the
// container's sibling /libpod_parent/pidnsexp-sib. See testdata/README.md.
const (
	nsSleeper = "/pidnsexp"
	nsSibling = "/libpod_parent/pidnsexp-sib"
	nsMemory  = "/process_api/fc81e79927a7c0e4e191a8c8e17f1a3a" // where the test harness put the sleepers' memory
)

// nsFixture returns a file of testdata/cgroupns/<ns>.
func nsFixture(t testing.TB, ns, name string) string {
	t.Helper()
	return string(testdata(t, "cgroupns/"+ns+"/"+name))
}

// writeTree writes files (names relative to dir) and makes dirs.
func writeTree(t testing.TB, dir string, files map[string]string, dirs ...string) *rootfs.Dir {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := rootfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// nsLayout is the host's layout as DetectLayout finds it from the
// fixture's /proc/1/mountinfo (whose cgroup mounts show "/../.." in the
// private namespace).
func nsLayout(t testing.TB, ns string) *cgroup.Layout {
	t.Helper()
	root := writeTree(t, t.TempDir(), map[string]string{"proc/1/mountinfo": nsFixture(t, ns, "1-mountinfo")})
	l, err := cgroup.DetectLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	if l.Mode != cgroup.ModeHybrid {
		t.Fatalf("fixture layout %s, want hybrid", l.Mode)
	}
	return l
}

// hierarchyIndex returns the index of the hierarchy mounted at mount.
func hierarchyIndex(t testing.TB, l *cgroup.Layout, mount string) int {
	t.Helper()
	i := slices.IndexFunc(l.Hierarchies, func(h cgroup.Hierarchy) bool { return h.MountPoint == mount })
	if i < 0 {
		t.Fatalf("no hierarchy at %s", mount)
	}
	return i
}

func TestNSRootResolve(t *testing.T) {
	known := NSRoot{Depth: 2, Path: "/libpod_parent/libpod-1"}
	unknown := NSRoot{Depth: 2}
	for _, c := range []struct {
		root NSRoot
		rel  string
		want string // "" for not resolved
	}{
		{HostNSRoot, "/system.slice/x.service", "/system.slice/x.service"},
		{HostNSRoot, "/", "/"},
		{known, "/../../system.slice/x", "/system.slice/x"},
		{known, "/../..", "/"},
		{known, "/../other", "/libpod_parent/other"},
		{known, "/", "/libpod_parent/libpod-1"},
		{known, "/sub", "/libpod_parent/libpod-1/sub"},
		{unknown, "/../../system.slice/x", "/system.slice/x"},
		{unknown, "/../..", "/"},
		{unknown, "/../other", ""}, // below an ancestor whose name is unknown
		{unknown, "/", ""},
		{unknown, "/..foo/x", ""}, // "..foo" is a name, not a climb
		{known, "/x (deleted)", ""},
		{known, "relative", ""},
		{known, "", ""},
	} {
		got, ok := c.root.Resolve(c.rel)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%+v.Resolve(%q) = %q, %v; want %q", c.root, c.rel, got, ok, c.want)
		}
	}
}

func TestMountRootDepth(t *testing.T) {
	for root, want := range map[string]int{
		"/": 0, "/../..": 2, "/..": 1, "/../../": 2, "/docker/abc": 0, "/../x": 0, "/...": 0, "/..a": 0,
	} {
		if got := MountRootDepth(root); got != want {
			t.Errorf("MountRootDepth(%q) = %d, want %d", root, got, want)
		}
	}
	// What the kernel really shows: the fixtures' cgroup mounts.
	for ns, want := range map[string]int{"private": 2, "host": 0} {
		n := 0
		for _, line := range strings.Split(nsFixture(t, ns, "1-mountinfo"), "\n") {
			f := strings.Fields(line)
			if len(f) > 8 && strings.HasPrefix(f[len(f)-3], "cgroup") {
				n++
				if got := MountRootDepth(f[3]); got != want {
					t.Errorf("%s: %q: depth %d, want %d", ns, line, got, want)
				}
			}
		}
		if n != 10 {
			t.Errorf("%s: %d cgroup mounts, want 10", ns, n)
		}
	}
}

func TestResolveProcCgroupFixtures(t *testing.T) {
	all := func(int) bool { return true }
	for _, c := range []struct {
		ns   string
		root NSRoot
		file string
		// want by mount point; the other hierarchies are "/"
		want map[string]string
	}{
		{"private", NSRoot{Depth: 2, Path: "/libpod_parent/libpod-" + strings.TrimSpace(nsFixture(t, "private", "cid"))}, "sleeper-cgroup",
			map[string]string{"/sys/fs/cgroup/unified": nsSleeper, "/sys/fs/cgroup/pids": nsSleeper, "/sys/fs/cgroup/memory": nsMemory}},
		{"private", NSRoot{Depth: 2, Path: "/libpod_parent/libpod-1"}, "sibling-cgroup",
			map[string]string{"/sys/fs/cgroup/unified": nsSibling, "/sys/fs/cgroup/pids": nsSibling, "/sys/fs/cgroup/memory": nsMemory}},
		{"private", NSRoot{Depth: 2}, "sibling-cgroup", // the namespace root's names unknown
			map[string]string{"/sys/fs/cgroup/unified": "", "/sys/fs/cgroup/pids": "", "/sys/fs/cgroup/memory": nsMemory}},
		{"private", NSRoot{Depth: 2}, "1-cgroup", nil},
		{"host", HostNSRoot, "sleeper-cgroup",
			map[string]string{"/sys/fs/cgroup/unified": nsSleeper, "/sys/fs/cgroup/pids": nsSleeper, "/sys/fs/cgroup/memory": nsMemory}},
		{"host", HostNSRoot, "sibling-cgroup",
			map[string]string{"/sys/fs/cgroup/unified": nsSibling, "/sys/fs/cgroup/pids": nsSibling, "/sys/fs/cgroup/memory": nsMemory}},
	} {
		l := nsLayout(t, c.ns)
		roots := make([]NSRoot, len(l.Hierarchies))
		for i := range roots {
			roots[i] = c.root
		}
		dst := make([]string, len(l.Hierarchies))
		if err := ResolveProcCgroup([]byte(nsFixture(t, c.ns, c.file)), l.Hierarchies, roots, all, dst); err != nil {
			t.Fatalf("%s/%s: %v", c.ns, c.file, err)
		}
		for i, h := range l.Hierarchies {
			want, ok := c.want[h.MountPoint]
			if !ok {
				want = "/"
			}
			if _, moved := c.want["/sys/fs/cgroup/pids"]; moved && h.MountPoint == "/sys/fs/cgroup/systemd" {
				want = c.want["/sys/fs/cgroup/pids"] // moved with pids
			}
			if dst[i] != want {
				t.Errorf("%s/%s with %+v: %s = %q, want %q", c.ns, c.file, c.root, h.MountPoint, dst[i], want)
			}
		}
	}
}

// Lines of a v1-only and a v2-only host, written after the kernel's format
// (cgroups(7)), against layouts of those modes.
func TestResolveProcCgroupModes(t *testing.T) {
	v1 := []cgroup.Hierarchy{
		{Controllers: []string{"cpu", "cpuacct"}, MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Base: "/"},
		{Controllers: []string{"name=systemd"}, MountPoint: "/sys/fs/cgroup/systemd", Base: "/"},
		{Controllers: []string{"memory"}, MountPoint: "/sys/fs/cgroup/memory", Base: "/"},
	}
	v2 := []cgroup.Hierarchy{{V2: true, Controllers: []string{"cpu", "memory"}, MountPoint: "/sys/fs/cgroup", Base: "/"}}
	deep := NSRoot{Depth: 2, Path: "/system.slice/docker-a.scope"}
	for _, c := range []struct {
		hs   []cgroup.Hierarchy
		root NSRoot
		file string
		want []string
	}{
		{v1, HostNSRoot, "12:cpuacct,cpu:/docker/a\n1:name=systemd:/docker/a\n5:memory:/\n", []string{"/docker/a", "/docker/a", "/"}},
		{v1, NSRoot{Depth: 1, Path: "/docker/a"}, "12:cpu,cpuacct:/../b\n1:name=systemd:/\n9:net_cls:/x\n", []string{"/docker/b", "/docker/a", ""}},
		{v1, HostNSRoot, "12:cpu:/x\n", []string{"", "", ""}}, // a cpu-only mount is another hierarchy
		{v2, HostNSRoot, "0::/system.slice/x.service\n", []string{"/system.slice/x.service"}},
		{v2, deep, "0::/../docker-b.scope\n", []string{"/system.slice/docker-b.scope"}},
		{v2, deep, "0::/../../user.slice/u.scope\n", []string{"/user.slice/u.scope"}},
		{v2, deep, "0::/\n", []string{"/system.slice/docker-a.scope"}},
		{v2, deep, "0::/../docker-c.scope (deleted)\n", []string{""}},
		{v2, HostNSRoot, "1:name=systemd:/a\n", []string{""}}, // v1 lines on a v2 layout
		{v2, HostNSRoot, "0::/a:b\n", []string{"/a:b"}},       // the path is all after the second ":"
	} {
		roots := slices.Repeat([]NSRoot{c.root}, len(c.hs))
		dst := make([]string, len(c.hs))
		if err := ResolveProcCgroup([]byte(c.file), c.hs, roots, func(int) bool { return true }, dst); err != nil {
			t.Errorf("%q: %v", c.file, err)
			continue
		}
		if !slices.Equal(dst, c.want) {
			t.Errorf("%q with %+v: %q, want %q", c.file, c.root, dst, c.want)
		}
	}
	// Only the wanted hierarchies are resolved.
	dst := make([]string, len(v1))
	if err := ResolveProcCgroup([]byte("12:cpu,cpuacct:/a\n5:memory:/b\n"), v1, slices.Repeat([]NSRoot{HostNSRoot}, 3), func(i int) bool { return i == 2 }, dst); err != nil || !slices.Equal(dst, []string{"", "", "/b"}) {
		t.Errorf("want memory only: %q %v", dst, err)
	}
	for _, bad := range []string{"0\n", "0:cpu\n", "x:cpu:/\n", "-1::/\n"} {
		err := ResolveProcCgroup([]byte(bad), v2, []NSRoot{HostNSRoot}, func(int) bool { return true }, make([]string, 1))
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
		checkParseError(t, err)
	}
}

func TestLastNSpid(t *testing.T) {
	pid, levels := lastNSpid([]byte(nsFixture(t, "private", "self-status")))
	if pid != 11 || levels != 2 {
		t.Errorf("container's process read through the host's /proc: %d, %d levels; want 11, 2", pid, levels)
	}
	pid, levels = lastNSpid(procFile(t, pidSleep, "status"))
	if pid != pidSleep || levels != 1 {
		t.Errorf("host process: %d, %d levels; want %d, 1", pid, levels, pidSleep)
	}
	for _, b := range []string{"", "Name:\tx\n", "NSpid:\n", "NSpid:\tx\n", "NSpid:\t0\n"} {
		if pid, levels := lastNSpid([]byte(b)); pid != 0 || levels != 0 {
			t.Errorf("%q: %d, %d", b, pid, levels)
		}
	}
}

// nsTree is a root as cgmon sees the host from a container with the host's
// / at /rootfs and a PID namespace of its own: the fixture's /proc/self
// (cgmon, host PID 14075, 11 in its namespace), /proc/1/mountinfo and the
// sleepers' /proc/PID/cgroup, and cgroup directories whose cgroup.procs
// are what the kernel shows there: 0 for a process of another namespace.
// ownProcs is the cgroup.procs of cgmon's own container.
const (
	hostSleeper = 5001
	hostSibling = 5002
	hostSelf    = 14075
	hostGone    = 5003 // listed in /proc but without files: it exited
)

func nsTree(t testing.TB, ns, ownProcs string) (*rootfs.Dir, *cgroup.Layout, string) {
	t.Helper()
	own := "/libpod_parent/libpod-" + strings.TrimSpace(nsFixture(t, ns, "cid"))
	files := map[string]string{
		"proc/self/status": nsFixture(t, ns, "self-status"),
		"proc/self/cgroup": nsFixture(t, ns, "self-cgroup"),
		"proc/1/mountinfo": nsFixture(t, ns, "1-mountinfo"),
		"proc/1/cgroup":    nsFixture(t, ns, "1-cgroup"),
		"proc/" + strconv.Itoa(hostSleeper) + "/cgroup": nsFixture(t, ns, "sleeper-cgroup"),
		"proc/" + strconv.Itoa(hostSibling) + "/cgroup": nsFixture(t, ns, "sibling-cgroup"),
		"proc/" + strconv.Itoa(hostSelf) + "/cgroup":    nsFixture(t, ns, "self-cgroup"),
		"proc/meminfo":                                        "MemTotal: 1 kB\n",
		"sys/fs/cgroup/unified/cgroup.procs":                  "0\n",
		"sys/fs/cgroup/unified" + nsSleeper + "/cgroup.procs": nsFixture(t, ns, "sleeper-unified-procs"),
		"sys/fs/cgroup/unified" + nsSibling + "/cgroup.procs": "0\n",
		"sys/fs/cgroup/unified" + own + "/cgroup.procs":       ownProcs,
		"sys/fs/cgroup/unified/empty/cgroup.procs":            "",
		"sys/fs/cgroup/pids" + own + "/cgroup.procs":          ownProcs,
		"sys/fs/cgroup/systemd" + own + "/cgroup.procs":       ownProcs,
	}
	var dirs []string
	for _, h := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"} {
		dirs = append(dirs, "sys/fs/cgroup/"+h+"/libpod_parent/x", "sys/fs/cgroup/"+h+"/system.slice/y")
	}
	dirs = append(dirs, "proc/"+strconv.Itoa(hostGone), "proc/sys")
	root := writeTree(t, t.TempDir(), files, dirs...)
	l, err := cgroup.DetectLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, l, own
}

func TestListerScansTheHostsProc(t *testing.T) {
	for _, ns := range []string{"private", "host"} {
		t.Run(ns, func(t *testing.T) {
			// cgroup.procs of cgmon's container lists cgmon by its PID in
			// its own namespace, 11, as the kernel does.
			root, layout, own := nsTree(t, ns, "1\n11\n")
			l := NewLister(root, layout, time.Hour)
			if !l.UsesScan() {
				t.Fatal("the root's /proc is an ancestor namespace's: want the scan")
			}
			for p, want := range map[string][]int{
				nsSleeper: {hostSleeper},
				nsSibling: {hostSibling},
				own:       {hostSelf},
				"/":       {1},
				"/empty":  {},
			} {
				got, err := l.PIDs(p)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("PIDs(%s) = %v, %v; want %v", p, got, err, want)
				}
			}
			if _, err := l.PIDs("/nosuch"); !errors.Is(err, ErrNoCgroup) {
				t.Errorf("PIDs(/nosuch): %v, want ErrNoCgroup", err)
			}
			if n := l.Scans(); n != 1 {
				t.Errorf("%d scans, want 1 while the first is fresh", n)
			}
			// A cgroup only in v1 pids is looked up there; v1 leaves other
			// namespaces' processes out of cgroup.procs, so an empty one
			// is no proof: a new scan, covering pids too.
			if err := os.WriteFile(filepath.Join(root.String(), "sys/fs/cgroup/pids/libpod_parent/x/cgroup.procs"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if got, err := l.PIDs("/libpod_parent/x"); err != nil || len(got) != 0 || l.Scans() != 2 {
				t.Errorf("PIDs(/libpod_parent/x) = %v, %v after %d scans; want none after 2", got, err, l.Scans())
			}
			if got, err := l.PIDs(nsSleeper); err != nil || !slices.Equal(got, []int{hostSleeper}) || l.Scans() != 2 {
				t.Errorf("PIDs(sleeper) = %v, %v after %d scans; want the sleeper from the fresh scan", got, err, l.Scans())
			}

			// One scan per PIDsRecursive without a TTL.
			once := NewLister(root, layout, 0)
			ms, err := once.PIDsRecursive([]string{"/libpod_parent", nsSibling, own, nsSleeper})
			if err != nil {
				t.Fatal(err)
			}
			want := []Member{{hostSibling, nsSibling}, {hostSelf, own}, {hostSleeper, nsSleeper}}
			if !slices.Equal(ms, want) || once.Scans() != 1 {
				t.Errorf("PIDsRecursive: %v after %d scans, want %v after 1", ms, once.Scans(), want)
			}
			if _, err := once.PIDs(nsSleeper); err != nil || once.Scans() != 2 {
				t.Errorf("a later call with TTL 0: %v, %d scans, want a new one", err, once.Scans())
			}

			// The processes read through the same root, by host PID.
			if p, err := PIDs(root, layout, nsSleeper); err != nil || !slices.Equal(p, []int{hostSleeper}) {
				t.Errorf("package PIDs: %v %v", p, err)
			}
		})
	}
}

// Without cgmon's own PID in its cgroup.procs the namespace root's names
// stay unknown: processes the kernel shows relative to an ancestor of it
// (the sibling, "/../pidnsexp-sib") are left out, the others are found.
func TestListerUnknownNSRoot(t *testing.T) {
	root, layout, _ := nsTree(t, "private", "1\n")
	l := NewLister(root, layout, time.Hour)
	if got, err := l.PIDs(nsSleeper); err != nil || !slices.Equal(got, []int{hostSleeper}) {
		t.Errorf("PIDs(sleeper) = %v, %v", got, err)
	}
	if got, err := l.PIDs(nsSibling); err != nil || len(got) != 0 {
		t.Errorf("PIDs(sibling) = %v, %v; want none", got, err)
	}
	u := hierarchyIndex(t, layout, "/sys/fs/cgroup/unified")
	if r := l.roots[u]; r != (NSRoot{Depth: 2}) {
		t.Errorf("unified namespace root %+v, want depth 2, path unknown", r)
	}
}

// In cgmon's own PID namespace (the fixture root's /proc/self has one
// NSpid) the Lister reads cgroup.procs and never scans.
func TestListerFastPath(t *testing.T) {
	root, layout, own := nsTree(t, "private", "1\n11\n")
	status := strings.Replace(nsFixture(t, "private", "self-status"), "NSpid:\t14075\t11", "NSpid:\t14075", 1)
	if err := os.WriteFile(filepath.Join(root.String(), "proc/self/status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLister(root, layout, time.Hour)
	if l.UsesScan() {
		t.Fatal("one NSpid level: want cgroup.procs")
	}
	if got, err := l.PIDs(own); err != nil || !slices.Equal(got, []int{1, 11}) {
		t.Errorf("PIDs(own) = %v, %v", got, err)
	}
	if _, err := l.PIDs(nsSleeper); !errors.Is(err, ErrOtherPIDNamespace) {
		t.Errorf("a 0 on the fast path: %v, want ErrOtherPIDNamespace", err)
	}
	if l.Scans() != 0 {
		t.Errorf("%d scans on the fast path", l.Scans())
	}
}
