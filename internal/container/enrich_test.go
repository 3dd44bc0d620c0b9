package container

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// faulty is the live host's root with failures injected: a name that
// contains a key of fail fails with EIO that many more times (-1: always).
// It also counts the reads of each file name suffix.
type faulty struct {
	*rootfs.Dir
	mu    sync.Mutex
	fail  map[string]int
	reads map[string]int
}

func (f *faulty) inject(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, suffix := range []string{"/net/dev", "/ns/net", "/root", "/stat", "cgroup.procs"} {
		if strings.HasSuffix(name, suffix) {
			f.reads[suffix]++
		}
	}
	for k, n := range f.fail {
		if strings.Contains(name, k) && n != 0 {
			f.fail[k] = n - 1
			return fmt.Errorf("injected: %s: %w", name, unix.EIO)
		}
	}
	return nil
}

func (f *faulty) ReadFile(name string) ([]byte, error) {
	if err := f.inject(name); err != nil {
		return nil, err
	}
	return f.Dir.ReadFile(name)
}

func (f *faulty) Readlink(name string) (string, error) {
	if err := f.inject(name); err != nil {
		return "", err
	}
	return f.Dir.Readlink(name)
}

func (f *faulty) Statfs(name string) (unix.Statfs_t, error) {
	if err := f.inject(name); err != nil {
		return unix.Statfs_t{}, err
	}
	return f.Dir.Statfs(name)
}

// fixture is real cgroups on the live host, each with real processes,
// presented to the enricher as LXC containers.
type fixture struct {
	fs   *faulty
	en   *Enricher
	log  *bytes.Buffer
	set  *sample.Set
	pids map[string]int // a process of each container, by ID
}

// newFixture makes containers "a" (two processes in a network namespace
// of their own), "b" (one process in a's namespace), "c" (one process in
// the host's) and "empty" (no process: stopped).
func newFixture(t testing.TB) *fixture {
	t.Helper()
	testsvc.RequireRoot(t)
	unshare := testsvc.LookPath(t, "unshare", "util-linux")
	nsenter := testsvc.LookPath(t, "nsenter", "util-linux")
	h := testcg.Require(t)
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	layout, err := cgroup.DetectLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]*testcg.Group{}
	for _, id := range []string{"a", "b", "c", "empty"} {
		groups[id] = h.NewGroup(t, "ct-"+id)
	}
	fx := &fixture{fs: &faulty{Dir: root, fail: map[string]int{}, reads: map[string]int{}}, log: &bytes.Buffer{}, pids: map[string]int{}}
	a := groups["a"].Start(t, unshare, "--net", "sleep", "1000")
	fx.pids["a"] = a.Process.Pid
	groups["a"].Start(t, nsenter, "--net=/proc/"+strconv.Itoa(a.Process.Pid)+"/ns/net", "sleep", "1000")
	fx.pids["b"] = groups["b"].Start(t, nsenter, "--net=/proc/"+strconv.Itoa(a.Process.Pid)+"/ns/net", "sleep", "1000").Process.Pid
	fx.pids["c"] = groups["c"].Start(t, "sleep", "1000").Process.Pid
	time.Sleep(100 * time.Millisecond) // unshare and nsenter exec sleep
	fx.en = newEnricher(fx.fs, true, layout, Options{Network: true, Filesystem: true, Swap: true, Workers: 3, RetryDelay: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(fx.log, nil))})
	fx.set = &sample.Set{}
	for _, id := range []string{"a", "b", "c", "empty"} {
		fx.set.Cgroups = append(fx.set.Cgroups, sample.Cgroup{Path: groups[id].Path(),
			Identity: identity.Identity{Kind: identity.KindLXC, Role: identity.RoleContainer, Runtime: "lxc", ID: id}})
	}
	return fx
}

// enrich runs one cycle on a fresh copy of the set.
func (fx *fixture) enrich() map[string]*sample.Container {
	for i := range fx.set.Cgroups {
		fx.set.Cgroups[i].Container = nil
	}
	fx.en.Enrich(fx.set)
	out := map[string]*sample.Container{}
	for _, c := range fx.set.Cgroups {
		out[c.Identity.ID] = c.Container
	}
	return out
}

func TestEnrichRealProcesses(t *testing.T) {
	fx := newFixture(t)
	got := fx.enrich()
	if got["empty"] != nil {
		t.Errorf("a cgroup with no process got container figures: %+v", got["empty"])
	}
	for id, want := range map[string]uint64{"a": 2, "b": 1, "c": 1} {
		c := got[id]
		if c == nil {
			t.Fatalf("%s: no container figures; log:\n%s", id, fx.log)
		}
		if c.Processes != want || c.State != "running" || c.Filesystem == nil || c.Network == nil {
			t.Errorf("%s: %+v, want %d processes, running, network and filesystem", id, c, want)
		}
		if since := time.Since(c.StartedAt); since < 0 || since > time.Minute {
			t.Errorf("%s: started at %s", id, c.StartedAt)
		}
	}
	if got["a"].PID != fx.pids["a"] {
		t.Errorf("a's init is %d, want the oldest process %d", got["a"].PID, fx.pids["a"])
	}
	a, b, c := got["a"].Network, got["b"].Network, got["c"].Network
	if a.Netns != b.Netns || a.HostNetwork || len(a.Interfaces) != 1 || a.Interfaces[0].Name != "lo" {
		t.Errorf("a and b share a namespace with only lo: a %+v, b %+v", a, b)
	}
	if !c.HostNetwork || c.Interfaces != nil {
		t.Errorf("c is in the host's namespace: %+v", c)
	}
	if n := fx.fs.reads["/net/dev"]; n != 1 {
		t.Errorf("%d reads of net/dev for one shared namespace (and one host's), want 1", n)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	if got["c"].Filesystem.TotalBytes != st.Blocks*uint64(st.Frsize) {
		t.Errorf("c's root filesystem: %d bytes, statfs / says %d", got["c"].Filesystem.TotalBytes, st.Blocks*uint64(st.Frsize))
	}
	// The init is looked for once: later cycles read no stat file. One
	// worker (parallel_processing: false) reads the same.
	stats := fx.fs.reads["/stat"]
	fx.en.opts.Workers = 1
	again := fx.enrich()
	if fx.fs.reads["/stat"] != stats {
		t.Errorf("the second cycle read %d stat files", fx.fs.reads["/stat"]-stats)
	}
	for id, c := range got {
		if c != nil && (again[id] == nil || again[id].Processes != c.Processes || again[id].PID != c.PID || again[id].Network.Netns != c.Network.Netns) {
			t.Errorf("%s with one worker: %+v, with three: %+v", id, again[id], c)
		}
	}
	if fx.log.Len() != 0 {
		t.Errorf("log:\n%s", fx.log)
	}
}

func TestEnrichRetriesTransientFailures(t *testing.T) {
	fx := newFixture(t)
	fx.fs.fail["/proc/"+strconv.Itoa(fx.pids["c"])+"/ns/net"] = 2
	got := fx.enrich()
	if got["c"] == nil || got["c"].Network == nil {
		t.Fatalf("c after two transient failures: %+v", got["c"])
	}
	if s := fx.en.Stats(); s.Retries != 2 || s.Failures != 0 {
		t.Errorf("stats %+v, want 2 retries, no failure", s)
	}
	if fx.log.Len() != 0 {
		t.Errorf("a failure that a retry cured was logged:\n%s", fx.log)
	}
}

func TestEnrichFailingContainerDoesNotStopOthers(t *testing.T) {
	fx := newFixture(t)
	fx.fs.fail["/proc/"+strconv.Itoa(fx.pids["a"])+"/root"] = -1 // a's statfs always fails
	fx.fs.fail[fx.set.Cgroups[2].Path+"/cgroup.procs"] = -1      // c cannot even be listed
	for range 3 {
		got := fx.enrich()
		if got["a"] == nil || got["a"].Filesystem != nil || got["a"].Network == nil || got["a"].Processes != 2 {
			t.Fatalf("a keeps what it could read, without a filesystem: %+v", got["a"])
		}
		if got["c"] != nil {
			t.Fatalf("c, whose processes cannot be listed, got figures: %+v", got["c"])
		}
		if b := got["b"]; b == nil || b.Filesystem == nil || b.Network == nil {
			t.Fatalf("b is not read because a and c fail: %+v", b)
		}
	}
	if s := fx.en.Stats(); s.Failures != 6 || s.Retries != 18 {
		t.Errorf("stats %+v, want 6 failures (2 containers × 3 cycles) after 3 retries each", s)
	}
	if n := strings.Count(fx.log.String(), "level=WARN"); n != 2 {
		t.Errorf("%d warnings for 2 containers failing 3 cycles, want 2:\n%s", n, fx.log)
	}
	clear(fx.fs.fail)
	got := fx.enrich()
	if got["a"].Filesystem == nil || got["c"] == nil {
		t.Errorf("no recovery: a %+v, c %+v", got["a"], got["c"])
	}
	if n := strings.Count(fx.log.String(), "readable again"); n != 2 {
		t.Errorf("%d recovery notices, want 2:\n%s", n, fx.log)
	}
}

func TestEnrichSwapOff(t *testing.T) {
	fx := newFixture(t)
	fx.en.opts.Swap = false
	fx.set.Cgroups[0].Memory.Swap = sample.Some(4096)
	fx.enrich()
	if fx.set.Cgroups[0].Memory.Swap.OK {
		t.Error("swap kept with swap: false")
	}
}

// BenchmarkEnrich is one cycle over three running containers on the live
// host: list processes, freezer state, netns link, one net/dev read, statfs.
func BenchmarkEnrich(b *testing.B) {
	fx := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		fx.enrich()
	}
}

// TestEnrichThroughPrefix reads the same containers through a root prefix,
// as cgmon in a container with the host's / at /rootfs: processes and
// network namespaces are read; filesystems cannot be (openat2 refuses the
// /proc/PID/root magic link there), which is said once and not retried.
func TestEnrichThroughPrefix(t *testing.T) {
	fx := newFixture(t)
	prefix := t.TempDir()
	for _, d := range []string{"/proc", "/sys/fs/cgroup"} {
		target := prefix + d
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount(d, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			testsvc.Skip(t, "bind mount %s: %v", d, err)
		}
		t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
	}
	root, err := rootfs.New(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	layout, err := cgroup.DetectLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	en, err := New(root, layout, Options{Network: true, Filesystem: true, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for i := range fx.set.Cgroups {
			fx.set.Cgroups[i].Container = nil
		}
		en.Enrich(fx.set)
	}
	a, b := fx.set.Cgroups[0].Container, fx.set.Cgroups[1].Container
	if a == nil || b == nil || a.Processes != 2 || a.Filesystem != nil || a.Network == nil || a.Network.Netns != b.Network.Netns || len(a.Network.Interfaces) != 1 {
		t.Fatalf("through %s: a %+v, b %+v; log:\n%s", prefix, a, b, &log)
	}
	if n := strings.Count(log.String(), "cannot be read through a root prefix"); n != 1 || strings.Contains(log.String(), "level=WARN") {
		t.Errorf("log, want one notice about filesystems and no warning:\n%s", &log)
	}
}

// A container's descendants are found even when another container's name
// extends its own: "/a-b" sorts between "/a" and "/a/x".
func TestJobsFindDescendants(t *testing.T) {
	ct := identity.Identity{Kind: identity.KindLXC, Role: identity.RoleContainer, Runtime: "lxc"}
	set := &sample.Set{Cgroups: []sample.Cgroup{
		{Path: "/"}, {Path: "/lxc.payload.web", Identity: ct}, {Path: "/lxc.payload.web-2", Identity: ct},
		{Path: "/lxc.payload.web-2/x"}, {Path: "/lxc.payload.web/init.scope"}, {Path: "/lxc.payload.web/system.slice"}, {Path: "/z"},
	}}
	en := newEnricher(nil, true, &cgroup.Layout{}, Options{})
	got := map[string][]string{}
	for _, j := range en.jobs(set) {
		got[j.paths[0]] = j.paths[1:]
	}
	want := map[string][]string{
		"/lxc.payload.web":   {"/lxc.payload.web/init.scope", "/lxc.payload.web/system.slice"},
		"/lxc.payload.web-2": {"/lxc.payload.web-2/x"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
