package proc

import (
	"bytes"
	"path"
	"strings"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// NSRoot is where the reader's cgroup namespace root lies in one hierarchy.
// The kernel writes the paths of /proc/PID/cgroup (and the root field of a
// cgroup mount in mountinfo) relative to the cgroup namespace of the
// process that reads them (cgroup_show_path, proc_cgroup_show): read from a
// container with a private cgroup namespace rooted at
// /libpod_parent/libpod-ID, a host process in /system.slice/x shows as
// "/../../system.slice/x", one in the sibling /libpod_parent/other as
// "/../other", and the host's cgroup mount, whose root is "/", as "/../..".
type NSRoot struct {
	// Depth is how many levels below the hierarchy's root the namespace
	// root is: the number of "/.." of the mount's root field (0 in the
	// host's cgroup namespace).
	Depth int
	// Path is the namespace root as a host cgroup path, "" when it could
	// not be found (then only paths that climb Depth levels resolve).
	Path string
}

// HostNSRoot is the host's cgroup namespace: paths are the host's.
var HostNSRoot = NSRoot{Path: "/"}

// Resolve returns the host cgroup path of rel, a path of /proc/PID/cgroup
// relative to the namespace root. It returns false for a path that cannot
// be known: one that is not absolute, a removed v2 cgroup ("/x (deleted)"),
// or one that stays below an ancestor of an unknown namespace root.
func (r NSRoot) Resolve(rel string) (string, bool) {
	if !strings.HasPrefix(rel, "/") || strings.HasSuffix(rel, " (deleted)") {
		return "", false
	}
	if r.Path != "" {
		// path.Join cleans ".." lexically, which is what the kernel's ".."
		// mean: each climbs one real ancestor of the namespace root.
		return path.Join(r.Path, rel), true
	}
	if upLevels(rel) < r.Depth {
		return "", false
	}
	return path.Clean(rel), true
}

// upLevels counts the leading "/.." components of p ("/../../x" → 2).
func upLevels(p string) int {
	n := 0
	for {
		rest, ok := strings.CutPrefix(p, "/..")
		if !ok || (rest != "" && rest[0] != '/') {
			return n
		}
		n++
		p = rest
	}
}

// MountRootDepth returns NSRoot.Depth from the root field of a cgroup
// mount as mountinfo shows it: "/../.." → 2, "/" → 0. A root that does
// not only climb ("/docker/ID", a container's own subtree) is 0.
func MountRootDepth(root string) int {
	n := upLevels(root)
	if strings.Trim(strings.ReplaceAll(root, "/..", ""), "/") != "" {
		return 0
	}
	return n
}

// hierarchyOf reports whether a line of /proc/PID/cgroup, its hierarchy ID
// and controllers, names hierarchy h: "0::" is the cgroup2 hierarchy, a v1
// line names the hierarchy that carries exactly its controllers
// ("cpu,cpuacct", "name=systemd") in any order.
func hierarchyOf(h *cgroup.Hierarchy, id, ctrls []byte) bool {
	if len(ctrls) == 0 {
		return h.V2 && string(id) == "0"
	}
	if h.V2 {
		return false
	}
	n := 0
	for rest := ctrls; ; {
		c, after, more := bytes.Cut(rest, []byte{','})
		if !h.Has(string(c)) {
			return false
		}
		n++
		if !more {
			break
		}
		rest = after
	}
	return n == len(h.Controllers)
}

// ResolveProcCgroup parses /proc/PID/cgroup (cgroups(7): "ID:CONTROLLERS:PATH"
// per hierarchy, "0::PATH" for cgroup v2) and sets dst[i] to the process's
// host cgroup path in hs[i], resolved with roots[i], for each i where
// want(i); dst[i] is "" when the file has no line for hs[i] or the path
// cannot be resolved. dst, hs and roots have the same length. A line
// without two ":" or with a bad ID is a *cgroupfs.ParseError; lines of
// hierarchies not in hs (a named hierarchy of another tool) are skipped.
func ResolveProcCgroup(b []byte, hs []cgroup.Hierarchy, roots []NSRoot, want func(int) bool, dst []string) error {
	clear(dst)
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if len(line) == 0 {
			continue
		}
		id, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return newError(l.N, "", line, cgroupfs.ErrSyntax)
		}
		ctrls, rel, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			return newError(l.N, "", line, cgroupfs.ErrSyntax)
		}
		if _, err := atou(id); err != nil {
			return newError(l.N, "hierarchy ID", id, err)
		}
		for i := range hs {
			if dst[i] != "" || !want(i) || !hierarchyOf(&hs[i], id, ctrls) {
				continue
			}
			if p, ok := roots[i].Resolve(string(rel)); ok {
				dst[i] = p
			}
		}
	}
	return nil
}

// lastNSpid returns the last PID of the "NSpid:" line of /proc/PID/status
// (the process's PID in its own namespace) and how many PIDs the line
// holds: one per PID namespace from the one of the procfs read down to the
// process's own. It returns 0, 0 when there is no valid NSpid line (kernels
// before 4.1).
func lastNSpid(b []byte) (pid, levels int) {
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		v, ok := bytes.CutPrefix(line, []byte("NSpid:"))
		if !ok {
			continue
		}
		for rest := v; ; {
			var f []byte
			if f, rest = nextField(rest); len(f) == 0 {
				break
			}
			n, err := atou(f)
			if err != nil || n == 0 || n > 1<<31-1 {
				return 0, 0
			}
			pid, levels = int(n), levels+1
		}
		return pid, levels
	}
	return 0, 0
}
