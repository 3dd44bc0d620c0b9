package proc

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// maxNSRootWalk bounds the directories looked at to find the reader's
// cgroup namespace root in one hierarchy (findNSRoot).
const maxNSRootWalk = 50000

// Lister lists the processes of cgroups by PIDs of the root's /proc, in one
// of two ways, chosen at the first call:
//
//   - cgroup.procs (the fast path: one small file per cgroup), when the
//     root's /proc belongs to cgmon's own PID namespace (cgmon on the host,
//     or in a container with --pid=host), so that the PIDs the kernel lists
//     are those of the root's /proc;
//   - a scan of the root's /proc (cAdvisor-companion's way) when it belongs
//     to an ancestor PID namespace: cgmon in a container of its own with the
//     host's / at /rootfs, where /rootfs/proc is the host's procfs. There
//     cgroup.procs is useless: cgroup v2 lists every process outside
//     cgmon's namespace as 0 and v1 leaves it out. The scan reads
//     /proc/PID/cgroup of every process once and maps every cgroup asked
//     while it is fresh (TTL) to its processes by host PID; a process that
//     exits while it is scanned is skipped.
//
// Paths of /proc/PID/cgroup are relative to cgmon's cgroup namespace; a
// private one (docker's and podman's default on cgroup v2) is resolved to
// host paths through NSRoot. A Lister is safe for concurrent use.
type Lister struct {
	root   rootfs.Root
	layout *cgroup.Layout
	ttl    time.Duration

	mu      sync.Mutex
	checked bool
	scanned bool     // the scan way
	selfPID int      // cgmon's PID in its own namespace (NSpid's last)
	roots   []NSRoot // per hierarchy; nil until the first scan
	buf     Buffers
	paths   []string
	scan    *procScan
	scans   int
}

// procScan is one scan of the root's /proc.
type procScan struct {
	at    time.Time
	want  []bool // the hierarchies it covers
	procs map[scanKey][]int
}

type scanKey struct {
	hierarchy int
	path      string
}

// NewLister returns a Lister. A scan serves the calls made within ttl of it
// (0: only the call that made it; PIDsRecursive makes at most one).
func NewLister(root rootfs.Root, layout *cgroup.Layout, ttl time.Duration) *Lister {
	return &Lister{root: root, layout: layout, ttl: ttl}
}

// Scans returns how many scans of /proc the Lister made (0 on the fast
// path).
func (l *Lister) Scans() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.scans
}

// UsesScan reports whether the Lister scans /proc instead of reading
// cgroup.procs.
func (l *Lister) UsesScan() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.check()
	return l.scanned
}

// check chooses the way once: the scan when the root's /proc/self, which is
// cgmon itself, has more than one PID in its NSpid line, i.e. the root's
// procfs is of an ancestor PID namespace. A root without /proc/self (a
// fixture tree) or a kernel without NSpid keeps cgroup.procs.
func (l *Lister) check() {
	if l.checked {
		return
	}
	l.checked = true
	b, err := l.root.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	pid, levels := lastNSpid(b)
	l.scanned = levels > 1
	l.selfPID = pid
}

// PIDs lists the processes of one cgroup (not of its descendants), sorted,
// like the package's PIDs.
func (l *Lister) PIDs(cgroupPath string) ([]int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.check()
	var sc *procScan
	return l.pids(CleanPath(cgroupPath), &sc)
}

// PIDsRecursive is the package's PIDsRecursive; it scans at most once.
func (l *Lister) PIDsRecursive(cgroupPaths []string) ([]Member, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.check()
	var sc *procScan
	var out []Member
	seen := make(map[int]bool)
	found := false
	for _, cp := range cgroupPaths {
		cp = CleanPath(cp)
		pids, err := l.pids(cp, &sc)
		if errors.Is(err, ErrNoCgroup) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		for _, pid := range pids {
			if !seen[pid] {
				seen[pid] = true
				out = append(out, Member{PID: pid, Cgroup: cp})
			}
		}
	}
	if !found && len(cgroupPaths) > 0 {
		return nil, fmt.Errorf("cgroup %s: %w", CleanPath(cgroupPaths[0]), ErrNoCgroup)
	}
	return out, nil
}

// pids lists cgroup p's processes: from cgroup.procs, or from a scan (*sc,
// made or taken from the cache at most once per public call). l.mu is held.
func (l *Lister) pids(p string, sc **procScan) ([]int, error) {
	if !l.scanned {
		return pids(l.root, l.layout, p, &l.buf)
	}
	for _, dir := range l.layout.ProcsDirs(p) {
		hi := slices.IndexFunc(l.layout.Hierarchies, func(h cgroup.Hierarchy) bool { return h.Dir(p) == dir })
		if hi < 0 {
			continue
		}
		name := dir + "/cgroup.procs"
		b, err := l.buf.read(l.root, name)
		if err != nil {
			if rootfs.IsGone(err) {
				continue // not in this hierarchy, or just removed
			}
			return nil, fmt.Errorf("read %s in root %s: %w", name, l.root, err)
		}
		if l.layout.Hierarchies[hi].V2 && cgroupfs.CountLines(b) == 0 {
			// v2 lists every process, as 0 if need be: none, no scan.
			return []int{}, nil
		}
		if *sc == nil || !(*sc).want[hi] {
			if *sc, err = l.scanFor(hi); err != nil {
				return nil, err
			}
		}
		return slices.Clone((*sc).procs[scanKey{hi, p}]), nil
	}
	return nil, fmt.Errorf("cgroup %s: %w", p, ErrNoCgroup)
}

// scanFor returns a scan that covers hierarchy hi: the cached one while it
// is fresh and covers it, else a new one covering hi and every hierarchy
// asked before. l.mu is held.
func (l *Lister) scanFor(hi int) (*procScan, error) {
	now := time.Now()
	if s := l.scan; s != nil && s.want[hi] && now.Sub(s.at) < l.ttl {
		return s, nil
	}
	want := make([]bool, len(l.layout.Hierarchies))
	if l.scan != nil {
		copy(want, l.scan.want)
	}
	want[hi] = true
	if l.roots == nil {
		l.roots = l.findNSRoots()
	}
	s, err := l.scanProc(want)
	if err != nil {
		return nil, err
	}
	l.scan = s
	l.scans++
	return s, nil
}

// scanProc reads /proc/PID/cgroup of every process of the root's /proc.
func (l *Lister) scanProc(want []bool) (*procScan, error) {
	s := &procScan{at: time.Now(), want: want, procs: make(map[scanKey][]int)}
	ents, err := l.root.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc in root %s: %w", l.root, err)
	}
	hs := l.layout.Hierarchies
	if cap(l.paths) < len(hs) {
		l.paths = make([]string, len(hs))
	}
	paths := l.paths[:len(hs)]
	wanted := func(i int) bool { return want[i] }
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue // not a process: "self", "meminfo", …
		}
		b, err := l.buf.read(l.root, "/proc/"+e.Name()+"/cgroup")
		if err != nil {
			// Gone: it exited meanwhile. Anything else: a process whose
			// cgroups cannot be read cannot be listed either.
			continue
		}
		if ResolveProcCgroup(b, hs, l.roots, wanted, paths) != nil {
			continue
		}
		for i, p := range paths {
			if p != "" {
				k := scanKey{i, p}
				s.procs[k] = append(s.procs[k], pid)
			}
		}
	}
	for _, v := range s.procs {
		slices.Sort(v) // ReadDir sorts by name, not by number
	}
	return s, nil
}

// findNSRoots finds, for every hierarchy, where cgmon's cgroup namespace
// root is (NSRoot). The depth is the number of "/.." of the root field of
// the hierarchy's mount in the root's mountinfo; a depth of 0 is the
// host's namespace (podman's and docker's default on cgroup v1). Otherwise
// the root's names are found by looking, at that depth, for the cgroup
// that holds cgmon itself (findNSRoot); when that fails, processes of the
// namespace root's ancestors' other branches are left out.
func (l *Lister) findNSRoots() []NSRoot {
	hs := l.layout.Hierarchies
	roots := make([]NSRoot, len(hs))
	depth := make([]int, len(hs))
	for _, name := range []string{"/proc/1/mountinfo", "/proc/self/mountinfo"} {
		b, err := l.root.ReadFile(name)
		if err != nil {
			continue
		}
		mounts, err := cgroupfs.ParseMountinfo(b)
		if err != nil {
			continue
		}
		for i, h := range hs {
			for _, m := range mounts {
				if (m.FSType == "cgroup" || m.FSType == "cgroup2") && path.Clean(m.MountPoint) == h.MountPoint {
					depth[i] = MountRootDepth(m.Root)
					break
				}
			}
		}
		break
	}
	self := make([]string, len(hs))
	if b, err := l.root.ReadFile("/proc/self/cgroup"); err == nil {
		// cgmon's own cgroups, relative to its namespace: resolved against
		// a root at "/" they are those relative paths, cleaned.
		rel := make([]NSRoot, len(hs))
		for i := range rel {
			rel[i] = HostNSRoot
		}
		if ResolveProcCgroup(b, hs, rel, func(int) bool { return true }, self) != nil {
			clear(self)
		}
	}
	for i := range hs {
		roots[i] = NSRoot{Depth: depth[i]}
		if depth[i] == 0 {
			roots[i].Path = "/"
			continue
		}
		if self[i] != "" && l.selfPID > 0 {
			roots[i].Path = findNSRoot(l.root, &hs[i], depth[i], self[i], l.selfPID)
		}
	}
	return roots
}

// findNSRoot returns the host path of the cgroup namespace root in h: the
// cgroup at depth below h's root under which, at self (cgmon's own cgroup
// relative to the namespace root), a cgroup.procs lists selfPID, cgmon's
// PID in its own namespace (a process of the reader's namespace is listed
// by its PID there). It returns "" when there is none.
func findNSRoot(root rootfs.Root, h *cgroup.Hierarchy, depth int, self string, selfPID int) string {
	level := []string{h.Base}
	visited := 0
	if h.Base != "/" {
		return "" // a mount of a subtree: not the host's whole hierarchy
	}
	for d := 0; d < depth; d++ {
		var next []string
		for _, p := range level {
			ents, err := root.ReadDir(h.Dir(p))
			if err != nil {
				continue
			}
			for _, e := range ents {
				if visited++; visited > maxNSRootWalk {
					return ""
				}
				if e.IsDir() {
					next = append(next, path.Join(p, e.Name()))
				}
			}
		}
		level = next
	}
	want := strconv.Itoa(selfPID)
	for _, p := range level {
		b, err := root.ReadFile(h.Dir(path.Join(p, self)) + "/cgroup.procs")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if f == want {
				return p
			}
		}
	}
	return ""
}
