package testcg

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// v2Controllers are enabled down the parent chain on cgroup2, when the
// kernel offers them there.
var v2Controllers = []string{"cpu", "memory", "io", "pids"}

const (
	killTimeout  = 10 * time.Second // for every process of a group to die
	rmdirTimeout = 2 * time.Second  // for rmdir to stop failing with EBUSY
)

// Group is one test cgroup, present at the same path in every hierarchy.
type Group struct {
	h    *Host
	path string

	mu    sync.Mutex
	procs []*proc
}

// NewGroup creates <parent>/<name> in every hierarchy, where parent is
// /cgmon-test-<pid>-<random>, created on the first call for t. On cgroup2 it
// enables cpu, memory, io and pids (those the kernel offers) in
// cgroup.subtree_control of the root and the parent (the root's stay
// enabled, as systemd leaves them on a v2 host). On v1, the new cpuset
// cgroups get their parent's cpus and mems, so processes can join them.
//
// When t ends, even by failure or panic, every process in the group and its
// descendants is killed and reaped, and the cgroups are removed leaves first
// in every hierarchy; anything that cannot be removed is reported with
// t.Errorf.
func (h *Host) NewGroup(t testing.TB, name string) *Group {
	t.Helper()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\n") {
		t.Fatalf("testcg: bad group name %q", name)
	}
	parent := h.parent(t)
	g := &Group{h: h, path: parent + "/" + name}
	t.Cleanup(func() { h.destroy(t, g.path, g.takeProcs()) })
	for _, hi := range h.hier {
		if err := h.mkdir(hi, g.path); err != nil {
			t.Fatalf("testcg: %v", err)
		}
	}
	return g
}

// parent returns the per-test parent, creating it on first use.
func (h *Host) parent(t testing.TB) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.parents[t]; ok {
		return p
	}
	p := fmt.Sprintf("/cgmon-test-%d-%08x", os.Getpid(), rand.Uint32())
	h.parents[t] = p
	t.Cleanup(func() {
		h.destroy(t, p, nil)
		h.mu.Lock()
		delete(h.parents, t)
		h.mu.Unlock()
	})
	for _, hi := range h.hier {
		if hi.V2 {
			if err := enableControllers(hi, hi.Mount); err != nil {
				t.Fatalf("testcg: %v", err)
			}
		}
		if err := h.mkdir(hi, p); err != nil {
			t.Fatalf("testcg: %v", err)
		}
		if hi.V2 {
			if err := enableControllers(hi, hi.Mount+p); err != nil {
				t.Fatalf("testcg: %v", err)
			}
		}
	}
	return p
}

func (h *Host) mkdir(hi Hierarchy, path string) error {
	dir := hi.Mount + path
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if !hi.V2 && slices.Contains(hi.Controllers, "cpuset") {
		// A new v1 cpuset has no cpus and no mems: nothing could join it.
		up := filepath.Dir(dir)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			b, err := os.ReadFile(filepath.Join(up, f))
			if err != nil {
				return err
			}
			if err := writeFile(filepath.Join(dir, f), strings.TrimSpace(string(b))); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableControllers writes +ctrl to dir/cgroup.subtree_control for every
// wanted controller the hierarchy offers and dir does not yet enable.
func enableControllers(hi Hierarchy, dir string) error {
	b, err := os.ReadFile(dir + "/cgroup.subtree_control")
	if err != nil {
		return err
	}
	on := strings.Fields(string(b))
	for _, c := range v2Controllers {
		if !slices.Contains(hi.Controllers, c) || slices.Contains(on, c) {
			continue
		}
		if err := writeFile(dir+"/cgroup.subtree_control", "+"+c); err != nil {
			return err
		}
	}
	return nil
}

// Path returns the group's path relative to every hierarchy's root
// ("/cgmon-test-1234-0a1b2c3d/name").
func (g *Group) Path() string { return g.path }

// Dir returns the group's directory in a hierarchy named as for
// Host.Hierarchy ("memory", "cpuacct", "name=systemd", Unified), or "" when
// the host has no such hierarchy.
func (g *Group) Dir(hierarchy string) string {
	hi, ok := g.h.Hierarchy(hierarchy)
	if !ok {
		return ""
	}
	return hi.Mount + g.path
}

// controller returns the group's directory in the hierarchy holding ctrl,
// and whether that hierarchy is cgroup2. It skips the test when the host has
// no such controller.
func (g *Group) controller(t testing.TB, ctrl string) (string, bool) {
	t.Helper()
	for _, hi := range g.h.hier {
		if slices.Contains(hi.Controllers, ctrl) {
			return hi.Mount + g.path, hi.V2
		}
	}
	t.Skipf("testcg: the host has no %s controller", ctrl)
	return "", false
}

// SetCPUQuota limits the group to quotaUs of CPU time per periodUs
// (cpu.cfs_period_us and cpu.cfs_quota_us on v1, cpu.max on v2). A negative
// quota removes the limit.
func (g *Group) SetCPUQuota(t testing.TB, quotaUs, periodUs int64) {
	t.Helper()
	dir, v2 := g.controller(t, "cpu")
	q := strconv.FormatInt(quotaUs, 10)
	if v2 {
		if quotaUs < 0 {
			q = "max"
		}
		mustWrite(t, dir+"/cpu.max", q+" "+strconv.FormatInt(periodUs, 10))
		return
	}
	if quotaUs < 0 {
		q = "-1"
	}
	mustWrite(t, dir+"/cpu.cfs_period_us", strconv.FormatInt(periodUs, 10))
	mustWrite(t, dir+"/cpu.cfs_quota_us", q)
}

// SetCPUWeight sets the CPU weight (1…10000, default 100) of the group and
// of its per-test parent, which competes with the rest of the host: cpu.weight
// on v2, cpu.shares = weight × 1024 / 100 on v1 (systemd's conversion). A
// test that measures CPU use on a busy machine sets a high weight, so the
// load gets the CPU time its quota allows.
func (g *Group) SetCPUWeight(t testing.TB, weight int) {
	t.Helper()
	dir, v2 := g.controller(t, "cpu")
	if weight < 1 || weight > 10000 {
		t.Fatalf("testcg: CPU weight %d is not in 1…10000", weight)
	}
	file, v := "cpu.weight", strconv.Itoa(weight)
	if !v2 {
		file, v = "cpu.shares", strconv.Itoa(weight*1024/100)
	}
	mustWrite(t, filepath.Dir(dir)+"/"+file, v)
	mustWrite(t, dir+"/"+file, v)
}

// SetMemoryLimit sets memory.limit_in_bytes (v1) or memory.max (v2). A
// negative limit removes it.
func (g *Group) SetMemoryLimit(t testing.TB, bytes int64) {
	t.Helper()
	dir, v2 := g.controller(t, "memory")
	switch {
	case v2 && bytes < 0:
		mustWrite(t, dir+"/memory.max", "max")
	case v2:
		mustWrite(t, dir+"/memory.max", strconv.FormatInt(bytes, 10))
	case bytes < 0:
		mustWrite(t, dir+"/memory.limit_in_bytes", "-1")
	default:
		mustWrite(t, dir+"/memory.limit_in_bytes", strconv.FormatInt(bytes, 10))
	}
}

// SetPidsMax sets pids.max. A negative n removes the limit.
func (g *Group) SetPidsMax(t testing.TB, n int64) {
	t.Helper()
	dir, _ := g.controller(t, "pids")
	v := strconv.FormatInt(n, 10)
	if n < 0 {
		v = "max"
	}
	mustWrite(t, dir+"/pids.max", v)
}

// EnableBlkioCounting makes the v1 blkio.throttle.* counters count I/O to
// the device maj:min (a whole disk). Those counters stay 0 until throttling
// has been switched on once for a device, so it sets a 1 TiB/s read and
// write limit and removes it again; counting then stays on. On cgroup2
// (io.stat counts always) it does nothing.
func (g *Group) EnableBlkioCounting(t testing.TB, maj, min uint32) {
	t.Helper()
	dir := ""
	for _, hi := range g.h.hier {
		if !hi.V2 && slices.Contains(hi.Controllers, "blkio") {
			dir = hi.Mount + g.path
		}
	}
	if dir == "" {
		g.controller(t, "io") // skips when there is no io controller either
		return
	}
	dev := fmt.Sprintf("%d:%d", maj, min)
	for _, f := range []string{"blkio.throttle.write_bps_device", "blkio.throttle.read_bps_device"} {
		mustWrite(t, dir+"/"+f, dev+" 1099511627776")
		mustWrite(t, dir+"/"+f, dev+" 0")
	}
}

func mustWrite(t testing.TB, file, value string) {
	t.Helper()
	if err := writeFile(file, value); err != nil {
		t.Fatalf("testcg: %v", err)
	}
}

// writeFile writes value to an existing kernel file in one write(2).
func writeFile(file, value string) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(value))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, file, err)
	}
	return nil
}

func (g *Group) addProc(p *proc) {
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
}

func (g *Group) takeProcs() []*proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.procs
	g.procs = nil
	return p
}

// destroy kills everything in path's subtree in every hierarchy, reaps the
// processes this package started, and removes the cgroups leaves first.
func (h *Host) destroy(t testing.TB, path string, procs []*proc) {
	t.Helper()
	err := h.killAll(path)
	for _, p := range procs {
		if werr := p.waitTimeout(killTimeout); werr != nil && !isExitError(werr) {
			err = errors.Join(err, fmt.Errorf("reap %s: %w", p, werr))
		}
	}
	for _, hi := range h.hier {
		err = errors.Join(err, removeTree(hi.Mount+path))
	}
	if err != nil {
		t.Errorf("testcg: cleanup of %s: %v", path, err)
	}
}

func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// killAll SIGKILLs every process in path's subtree, in any hierarchy, until
// none is left. Frozen groups are thawed first: a frozen task cannot die.
func (h *Host) killAll(path string) error {
	deadline := time.Now().Add(killTimeout)
	for {
		var pids []int
		var errs error
		for _, hi := range h.hier {
			dirs, err := subtree(hi.Mount + path)
			errs = errors.Join(errs, err)
			for _, d := range dirs {
				if hi.V2 {
					_ = writeFile(d+"/cgroup.freeze", "0") // absent in old kernels
				} else if slices.Contains(hi.Controllers, "freezer") {
					_ = writeFile(d+"/freezer.state", "THAWED")
				}
				b, err := os.ReadFile(d + "/cgroup.procs")
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = errors.Join(errs, err)
				}
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
						pids = append(pids, pid)
					}
				}
			}
			if hi.V2 && len(dirs) > 0 {
				// cgroup.kill (Linux 5.14) also catches children forked meanwhile.
				_ = writeFile(dirs[0]+"/cgroup.kill", "1")
			}
		}
		if len(pids) == 0 {
			return errs
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
				errs = errors.Join(errs, fmt.Errorf("kill %d: %w", pid, err))
			}
		}
		if time.Now().After(deadline) {
			slices.Sort(pids)
			return errors.Join(errs, fmt.Errorf("processes still in %s after %v: %v", path, killTimeout, slices.Compact(pids)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subtree lists dir and every cgroup below it, parents before children. A
// missing dir gives an empty list.
func subtree(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// removeTree rmdirs dir and the cgroups below it, leaves first, retrying
// briefly while the kernel still reports EBUSY (tasks exiting).
func removeTree(dir string) error {
	dirs, err := subtree(dir)
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		deadline := time.Now().Add(rmdirTimeout)
		for {
			err := unix.Rmdir(dirs[i])
			if err == nil || err == unix.ENOENT {
				break
			}
			if err != unix.EBUSY || time.Now().After(deadline) {
				return &os.PathError{Op: "rmdir", Path: dirs[i], Err: err}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

var staleName = regexp.MustCompile(`^cgmon-test-([0-9]+)-[0-9a-f]{8}$`)

// sweepStale removes parents left by test binaries that are gone.
func (h *Host) sweepStale(t testing.TB) {
	t.Helper()
	stale := make(map[string]bool)
	for _, hi := range h.hier {
		ents, err := os.ReadDir(hi.Mount)
		if err != nil {
			continue
		}
		for _, e := range ents {
			m := staleName.FindStringSubmatch(e.Name())
			if m == nil || !e.IsDir() {
				continue
			}
			pid, err := strconv.Atoi(m[1])
			if err != nil || pid == os.Getpid() {
				continue
			}
			if err := unix.Kill(pid, 0); err == unix.ESRCH {
				stale["/"+e.Name()] = true
			}
		}
	}
	for p := range stale {
		err := h.killAll(p)
		for _, hi := range h.hier {
			err = errors.Join(err, removeTree(hi.Mount+p))
		}
		if err != nil {
			t.Logf("testcg: could not remove stale test cgroup %s: %v", p, err)
		} else {
			t.Logf("testcg: removed stale test cgroup %s (its test binary is gone)", p)
		}
	}
}
