// Package testcg creates real cgroups on the machine running the tests and
// runs known loads inside them. Only tests import it.
//
// Require finds every cgroup hierarchy from /proc/self/mountinfo (v1, hybrid
// or unified); NewGroup creates one cgroup under a per-test parent in every
// hierarchy, the way systemd does, and removes it when the test ends. Loads
// are started inside the group before they allocate anything, so the kernel
// charges their memory and I/O to it.
//
// Unlike cgmon's readers, this package writes to cgroupfs and opens /proc
// and /sys directly: it exists to prepare the live host, never to read a
// watched one.
//
// Some loads re-execute the test binary itself: the package's init function
// turns the process into a small helper when CGMON_TESTCG_HELPER is set in
// its environment, and does nothing otherwise.
package testcg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cgmon/cgmon/internal/cgroupfs"

	"golang.org/x/sys/unix"
)

// Mode says how the cgroup hierarchies are laid out.
type Mode int

const (
	ModeV1     Mode = iota + 1 // legacy: only v1 hierarchies
	ModeHybrid                 // v1 controllers plus a cgroup2 mount (systemd's "hybrid")
	ModeV2                     // unified: a single cgroup2 hierarchy
)

func (m Mode) String() string {
	switch m {
	case ModeV1:
		return "v1"
	case ModeHybrid:
		return "hybrid"
	case ModeV2:
		return "v2"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Unified is the Hierarchy.Name of the cgroup2 hierarchy.
const Unified = "unified"

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	// Name is the comma-separated list of v1 controllers as mounted
	// ("memory", "cpu,cpuacct"), a named v1 hierarchy ("name=systemd"), or
	// Unified for cgroup2.
	Name string
	// Mount is where the hierarchy's root is mounted.
	Mount string
	// Controllers are the controllers bound to the hierarchy: for v1 those
	// of Name, for cgroup2 those listed in the root's cgroup.controllers.
	Controllers []string
	// V2 is true for the cgroup2 hierarchy.
	V2 bool
}

// Host is the cgroup layout of the machine running the tests.
type Host struct {
	mode Mode
	hier []Hierarchy

	mu      sync.Mutex
	parents map[testing.TB]string // per-test parent path, created on first NewGroup
}

// Require returns the host's cgroup layout, or skips the test unless it runs
// as root on a host with writable cgroup hierarchies.
//
// The first call in a test binary also removes groups left behind by test
// binaries that died without running their cleanups (a -timeout panic, a
// kill): parents named cgmon-test-<pid>-… whose pid no longer exists.
func Require(t testing.TB) *Host {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("testcg: creating cgroups needs root")
	}
	h, err := detect()
	if err != nil {
		t.Skipf("testcg: no usable cgroup hierarchy: %v", err)
	}
	for _, hi := range h.hier {
		if err := unix.Access(hi.Mount, unix.W_OK); err != nil {
			t.Skipf("testcg: cgroup hierarchy %s at %s is not writable: %v", hi.Name, hi.Mount, err)
		}
	}
	sweepOnce.Do(func() { h.sweepStale(t) })
	return h
}

var sweepOnce sync.Once

// Mode returns the layout of the host's hierarchies.
func (h *Host) Mode() Mode { return h.mode }

// Hierarchies returns every mounted hierarchy.
func (h *Host) Hierarchies() []Hierarchy {
	out := make([]Hierarchy, len(h.hier))
	for i, hi := range h.hier {
		hi.Controllers = slices.Clone(hi.Controllers)
		out[i] = hi
	}
	return out
}

// Hierarchy finds a hierarchy by its Name ("cpu,cpuacct", "name=systemd",
// Unified) or by a controller bound to it ("cpuacct", "memory", "io").
func (h *Host) Hierarchy(name string) (Hierarchy, bool) {
	for _, hi := range h.hier {
		if hi.Name == name {
			return hi, true
		}
	}
	for _, hi := range h.hier {
		if slices.Contains(hi.Controllers, name) {
			return hi, true
		}
	}
	return Hierarchy{}, false
}

func detect() (*Host, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	mounts, err := parseMountinfo(mi)
	if err != nil {
		return nil, fmt.Errorf("/proc/self/mountinfo: %w", err)
	}
	pc, err := os.ReadFile("/proc/cgroups")
	if err != nil && !errors.Is(err, os.ErrNotExist) { // cgroup v1 support may be compiled out
		return nil, err
	}
	known, err := parseProcCgroups(bytes.NewReader(pc))
	if err != nil {
		return nil, fmt.Errorf("/proc/cgroups: %w", err)
	}
	hier := hierarchies(mounts, known)
	for i := range hier {
		if !hier[i].V2 {
			continue
		}
		b, err := os.ReadFile(hier[i].Mount + "/cgroup.controllers")
		if err != nil {
			return nil, err
		}
		hier[i].Controllers = strings.Fields(string(b))
	}
	mode, err := modeOf(hier)
	if err != nil {
		return nil, err
	}
	return &Host{mode: mode, hier: hier, parents: make(map[testing.TB]string)}, nil
}

func modeOf(hier []Hierarchy) (Mode, error) {
	var v1, v2 bool
	for _, hi := range hier {
		if hi.V2 {
			v2 = true
		} else {
			v1 = true
		}
	}
	switch {
	case v1 && v2:
		return ModeHybrid, nil
	case v1:
		return ModeV1, nil
	case v2:
		return ModeV2, nil
	}
	return 0, errors.New("no cgroup or cgroup2 mount in /proc/self/mountinfo")
}

// mount is one line of /proc/self/mountinfo (proc(5)).
type mount struct {
	major, minor uint32 // st_dev of the file system
	root         string // the mounted directory inside the file system
	point        string // the mount point
	fsType       string
	source       string
	superOpts    []string
}

// parseMountinfo reads the mount table with cgmon's own parser.
func parseMountinfo(b []byte) ([]mount, error) {
	ms, err := cgroupfs.ParseMountinfo(b)
	if err != nil {
		return nil, err
	}
	out := make([]mount, len(ms))
	for i, m := range ms {
		out[i] = mount{major: m.Major, minor: m.Minor, root: m.Root, point: m.MountPoint,
			fsType: m.FSType, source: m.Source, superOpts: m.SuperOptions}
	}
	return out, nil
}

// parseProcCgroups returns the enabled v1 controllers listed in
// /proc/cgroups ("#subsys_name hierarchy num_cgroups enabled", proc(5)).
func parseProcCgroups(r io.Reader) (map[string]bool, error) {
	known := make(map[string]bool)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		known[f[0]] = f[3] == "1"
	}
	return known, sc.Err()
}

// hierarchies picks one mount of every cgroup hierarchy: the first whose
// root is the hierarchy's root ("/"); bind mounts of sub-trees are skipped.
// known holds the v1 controller names (from /proc/cgroups); a v1 mount's
// super options that are not controllers (rw, xattr, release_agent=…) are
// dropped.
func hierarchies(mounts []mount, known map[string]bool) []Hierarchy {
	var out []Hierarchy
	seen := make(map[[2]uint32]bool)
	for _, m := range mounts {
		if m.fsType != "cgroup" && m.fsType != "cgroup2" || m.root != "/" {
			continue
		}
		dev := [2]uint32{m.major, m.minor}
		if seen[dev] {
			continue
		}
		seen[dev] = true
		if m.fsType == "cgroup2" {
			out = append(out, Hierarchy{Name: Unified, Mount: m.point, V2: true})
			continue
		}
		var ctrls []string
		name := ""
		for _, o := range m.superOpts {
			switch {
			case strings.HasPrefix(o, "name="):
				name = o
			case known[o]:
				ctrls = append(ctrls, o)
			}
		}
		if len(ctrls) > 0 {
			name = strings.Join(ctrls, ",")
		}
		if name == "" {
			continue
		}
		out = append(out, Hierarchy{Name: name, Mount: m.point, Controllers: ctrls})
	}
	return out
}
