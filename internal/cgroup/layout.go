// Package cgroup finds the cgroup hierarchies of a host (v1, hybrid or v2),
// keeps track of which cgroups exist, and reads one raw sample per cgroup
// each cycle through kept-open file handles.
package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// Mode is how a host mounts its cgroups.
type Mode string

const (
	ModeV1     Mode = "v1"     // only v1 hierarchies ("legacy")
	ModeHybrid Mode = "hybrid" // v1 controllers plus a cgroup2 mount (systemd's "unified")
	ModeV2     Mode = "v2"     // only cgroup2 ("unified")
)

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	// V2 is true for the cgroup2 hierarchy.
	V2 bool
	// Controllers are the v1 controllers mounted here ("cpu", "cpuacct",
	// "name=systemd"), or the controllers the v2 root offers.
	Controllers []string
	// MountPoint is where the hierarchy is mounted, as a name inside the root.
	MountPoint string
	// Base is the path of the mount's root inside the hierarchy: "/" on a
	// host, "/docker/ID" where a container sees only its own subtree. Cgroup
	// paths are Base joined with the path below MountPoint.
	Base string
}

// Has reports whether the hierarchy carries a controller.
func (h *Hierarchy) Has(controller string) bool {
	return slices.Contains(h.Controllers, controller)
}

// Dir is the name, inside the root, of the directory of cgroup path p.
func (h *Hierarchy) Dir(p string) string {
	rel := strings.TrimPrefix(p, h.Base)
	if h.Base != "/" && rel == p {
		return "" // p is not below this mount
	}
	if rel == "" || rel == "/" {
		return h.MountPoint
	}
	if !strings.HasPrefix(rel, "/") {
		rel = "/" + rel
	}
	return h.MountPoint + rel
}

// Layout is the set of hierarchies of a host.
type Layout struct {
	Mode        Mode
	Hierarchies []Hierarchy
}

// ErrNoCgroups is returned when a root has no cgroup mounts.
var ErrNoCgroups = errors.New("no cgroup filesystem mounted")

// DetectLayout reads the mount table of the root — proc/1/mountinfo where
// cgmon looks at a host through a prefix, proc/self/mountinfo otherwise —
// and returns the cgroup hierarchies found there.
func DetectLayout(root rootfs.Root) (*Layout, error) {
	candidates := []string{"/proc/self/mountinfo", "/proc/1/mountinfo"}
	if d, ok := root.(*rootfs.Dir); ok && !d.IsHost() {
		// In a container with the host's / at /rootfs, proc/self is the
		// container's own mount table; PID 1's is the host's.
		candidates = []string{"/proc/1/mountinfo", "/proc/self/mountinfo"}
	}
	var errs []error
	for _, name := range candidates {
		b, err := root.ReadFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		mounts, err := cgroupfs.ParseMountinfo(b)
		if err != nil {
			return nil, fmt.Errorf("parse %s in root %s: %w", name, root, err)
		}
		l, err := layoutFromMounts(mounts)
		if err != nil {
			return nil, fmt.Errorf("%s in root %s: %w", name, root, err)
		}
		if err := l.readV2Controllers(root); err != nil {
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("find cgroup mounts: %w", errors.Join(errs...))
}

// layoutFromMounts picks the cgroup mounts. A hierarchy mounted more than
// once (bind mounts, nested containers) is kept once: the mount that shows
// the most of it (shortest Base), then the shortest mount point.
func layoutFromMounts(mounts []cgroupfs.Mount) (*Layout, error) {
	type key struct{ major, minor uint32 }
	best := map[key]int{}
	var order []key
	for i, m := range mounts {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		k := key{m.Major, m.Minor}
		j, seen := best[k]
		if !seen {
			best[k] = i
			order = append(order, k)
			continue
		}
		old := mounts[j]
		if len(m.Root) < len(old.Root) || (len(m.Root) == len(old.Root) && len(m.MountPoint) < len(old.MountPoint)) {
			best[k] = i
		}
	}
	l := &Layout{}
	v1, v2 := false, false
	for _, k := range order {
		m := mounts[best[k]]
		h := Hierarchy{V2: m.FSType == "cgroup2", MountPoint: path.Clean(m.MountPoint), Base: path.Clean(m.Root)}
		if !h.V2 {
			for _, opt := range m.SuperOptions {
				if isV1Controller(opt) {
					h.Controllers = append(h.Controllers, opt)
				}
			}
			if len(h.Controllers) == 0 {
				continue // a named hierarchy of some other tool; nothing to read
			}
			v1 = true
		} else {
			v2 = true
		}
		l.Hierarchies = append(l.Hierarchies, h)
	}
	switch {
	case v1 && v2:
		l.Mode = ModeHybrid
	case v1:
		l.Mode = ModeV1
	case v2:
		l.Mode = ModeV2
	default:
		return nil, ErrNoCgroups
	}
	return l, nil
}

// isV1Controller tells controllers apart from mount options in the super
// options of a v1 cgroup mount ("rw,cpu,cpuacct", "rw,xattr,name=systemd").
func isV1Controller(opt string) bool {
	switch opt {
	case "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls",
		"blkio", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc":
		return true
	}
	return opt == "name=systemd"
}

// readV2Controllers fills the controllers the cgroup2 root offers.
func (l *Layout) readV2Controllers(root rootfs.Root) error {
	for i := range l.Hierarchies {
		h := &l.Hierarchies[i]
		if !h.V2 {
			continue
		}
		b, err := root.ReadFile(h.MountPoint + "/cgroup.controllers")
		if err != nil {
			if rootfs.IsGone(err) {
				continue // very old kernels: no controllers file, nothing offered
			}
			return fmt.Errorf("read cgroup2 controllers: %w", err)
		}
		for _, f := range bytes.Fields(b) {
			h.Controllers = append(h.Controllers, string(f))
		}
	}
	return nil
}

// controller returns the hierarchy that carries a controller, or nil. A v1
// mount wins: in hybrid mode a controller bound to v1 is not usable in v2.
func (l *Layout) controller(name string) (int, *Hierarchy) {
	for i := range l.Hierarchies {
		if h := &l.Hierarchies[i]; !h.V2 && h.Has(name) {
			return i, h
		}
	}
	for i := range l.Hierarchies {
		if h := &l.Hierarchies[i]; h.V2 && h.Has(name) {
			return i, h
		}
	}
	return -1, nil
}

// unified returns the cgroup2 hierarchy, or nil.
func (l *Layout) unified() (int, *Hierarchy) {
	for i := range l.Hierarchies {
		if l.Hierarchies[i].V2 {
			return i, &l.Hierarchies[i]
		}
	}
	return -1, nil
}

// ProcsDirs returns, in order of preference, the directories (names inside
// the root) whose cgroup.procs list the processes of cgroup path p: the
// cgroup2 hierarchy, then name=systemd, then every v1 hierarchy. A cgroup
// need not exist in all of them; the caller takes the first that reads.
func (l *Layout) ProcsDirs(p string) []string {
	var out []string
	add := func(h *Hierarchy) {
		if d := h.Dir(p); d != "" {
			out = append(out, d)
		}
	}
	if _, u := l.unified(); u != nil {
		add(u)
	}
	if _, s := l.controller("name=systemd"); s != nil {
		add(s)
	}
	for i := range l.Hierarchies {
		if h := &l.Hierarchies[i]; !h.V2 && !h.Has("name=systemd") {
			add(h)
		}
	}
	return out
}
