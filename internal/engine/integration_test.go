package engine_test

// Real-host checks: each test creates its own cgroup with a known load
// (internal/testcg), reads the live host with an Engine, and compares. They
// need root and skip otherwise.

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/test/v2vm"
)

// TestV2VMGuest runs this file's TestLive* checks again inside a real cgroup
// v2 kernel under qemu (test/v2vm): the same loads, the same relations.
func TestV2VMGuest(t *testing.T) {
	if v2vm.IsGuest() {
		t.Skip("already in the guest")
	}
	log := v2vm.RunGuestTests(t, ".", "-test.run=^TestLive")
	wants := []string{"--- PASS: TestLiveCPUUnderHalfQuota", "--- PASS: TestLiveMemoryOfTmpfsFile", "--- PASS: TestLiveDirectIOWrites", "--- PASS: TestLiveTasksOfSleepers"}
	// The image carries systemd-cgtop when the host that built it has one.
	m, err := v2vm.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m["systemd-cgtop"] != "" {
		wants = append(wants, "--- PASS: TestLiveAgreesWithCgtop")
	} else {
		t.Log("the v2 VM image has no systemd-cgtop (the host has none): TestLiveAgreesWithCgtop skips in the guest")
	}
	for _, want := range wants {
		if !strings.Contains(log, want) {
			t.Errorf("the guest did not report %q", want)
		}
	}
}

const mib = 1 << 20

// newEngine reads the live host. Groups are created before it, so its first
// walk finds them. No device is excluded: the test disk may be anything.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Options{ExcludedDevices: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

func next(t *testing.T, e *engine.Engine) *model.Snapshot {
	t.Helper()
	s, err := e.Next()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func find(t *testing.T, s *model.Snapshot, path string) *model.Cgroup {
	t.Helper()
	c := s.Find(path)
	if c == nil {
		t.Fatalf("the snapshot has no cgroup %s", path)
	}
	return c
}

func TestLiveCPUUnderHalfQuota(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "cpu")
	g.SetCPUQuota(t, 50000, 100000)
	g.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	g.BusyLoop(t)
	e := newEngine(t)
	// 2 s = 20 CFS periods: the quota is enforced per period, so the busy
	// loop gets 50 ms of each 100 ms.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := e.Snapshot(ctx, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := find(t, s, g.Path())
	t.Logf("%s: cpu %+v", g.Path(), c.CPU)
	// ± 5 holds in the v2 VM (qemu TCG, no KVM) too, even with every host
	// core busy: the usage (the guest's sched_clock), the window (ReadAt, the
	// guest's CLOCK_MONOTONIC) and the quota's periods are all guest time.
	// When the host deschedules a vCPU thread, guest time runs on and the
	// guest charges it to the running busy loop (TCG has no steal time),
	// which the quota counts as well: the ratio stays 50 %. Measured in the
	// guest: 48.7 … 51.3 over 42 boots, 35 of them with one or both host
	// cores kept busy by a shell loop.
	const tol = 5.0
	if !c.CPU.Percent.OK || math.Abs(c.CPU.Percent.V-50) > tol {
		t.Errorf("CPU = %+v %%, want 50 ± %v", c.CPU.Percent, tol)
	}
	if !c.CPU.LimitCores.Set() || c.CPU.LimitCores.V != 0.5 {
		t.Errorf("CPU limit = %+v cores, want 0.5", c.CPU.LimitCores)
	}
	if !c.CPU.ThrottledPeriodsTotal.OK || c.CPU.ThrottledPeriodsTotal.V == 0 {
		t.Errorf("throttled periods = %+v, want > 0", c.CPU.ThrottledPeriodsTotal)
	}
}

func TestLiveMemoryOfTmpfsFile(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "tmpfs")
	e := newEngine(t)
	before := find(t, next(t, e), g.Path()).Memory.UsageBytes
	g.WriteTmpfs(t, 64)
	c := find(t, next(t, e), g.Path())
	t.Logf("%s: usage %+v -> %+v, shmem %+v", g.Path(), before, c.Memory.UsageBytes, c.Memory.ShmemBytes)
	if !before.OK || !c.Memory.UsageBytes.OK || c.Memory.UsageBytes.V < before.V+64*mib {
		t.Errorf("memory usage %+v -> %+v, want a rise ≥ 64 MiB", before, c.Memory.UsageBytes)
	}
	if !c.Memory.ShmemBytes.OK || c.Memory.ShmemBytes.V < 64*mib {
		t.Errorf("shmem = %+v, want ≥ 64 MiB", c.Memory.ShmemBytes)
	}
}

func TestLiveDirectIOWrites(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "dio")
	var maj, min uint32
	scratch := os.Getenv("CGMON_TEST_SCRATCH_DISK")
	if scratch == "" && v2vm.IsGuest() {
		scratch = "/dev/vda"
	}
	if scratch != "" {
		// The v2 VM has a scratch disk and no disk file system.
		maj, min = g.DirectIOWriteDevice(t, scratch, 32)
	} else {
		dir := t.TempDir()
		if _, _, _, err := testcg.BlockDevice(dir); err != nil {
			t.Skipf("the temporary directory is not on a disk (and CGMON_TEST_SCRATCH_DISK is unset): %v", err)
		}
		maj, min = g.DirectIOWrite(t, dir, 32)
	}
	e := newEngine(t)
	c := find(t, next(t, e), g.Path())
	var dev *model.DeviceIO
	for i := range c.IO.Devices {
		if d := &c.IO.Devices[i]; d.Major == maj && d.Minor == min {
			dev = d
		}
	}
	if dev == nil {
		t.Fatalf("no IO for %d:%d in %s: %+v", maj, min, g.Path(), c.IO)
	}
	t.Logf("%s: %+v", g.Path(), *dev)
	// O_DIRECT bypasses the page cache: exactly the bytes written reach the
	// disk from this group (the journal is written by jbd2, elsewhere).
	if dev.WriteBytesTotal < 32*mib || dev.WriteBytesTotal >= 33*mib {
		t.Errorf("%s written = %d bytes, want 32 MiB (+ < 1 MiB)", dev.Device, dev.WriteBytesTotal)
	}
}

func TestLiveTasksOfSleepers(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "sleepers")
	g.Sleepers(t, 3)
	e := newEngine(t)
	c := find(t, next(t, e), g.Path())
	if c.Tasks != (model.Count{V: 3, OK: true}) {
		t.Errorf("tasks = %+v, want 3", c.Tasks)
	}
}

// TestLiveAgreesWithCgtop compares memory and tasks with systemd-cgtop for
// the same cgroups.
//
// systemd-cgtop (252, on v1 and v2) shows memory.usage_in_bytes /
// memory.current as is, page cache included: the engine's UsageBytes, not
// WorkingSetBytes (usage − inactive_file). The "cache" group holds a page
// cache file larger than the tolerance, so comparing with the wrong field
// fails.
//
// Memory moves between two reads even for idle processes: the memory
// controller charges in per-CPU batches (MEMCG_CHARGE_BATCH, 64 pages per
// CPU) and drains them at any time, and a Go runtime returns pages. So cgtop,
// which reads between two engine samples, must fall within the range of
// those two samples widened by one batch per CPU plus 256 KiB.
func TestLiveAgreesWithCgtop(t *testing.T) {
	h := testcg.Require(t)
	sleepers := h.NewGroup(t, "sleepers")
	sleepers.Sleepers(t, 3)
	anon := h.NewGroup(t, "anon")
	anon.HoldAnon(t, 32)
	groups := []*testcg.Group{sleepers, anon}
	if dir := t.TempDir(); diskBacked(dir) {
		cache := h.NewGroup(t, "cache")
		dd := cache.Start(t, "dd", "if=/dev/zero", "of="+filepath.Join(dir, "cache"), "bs=1M", "count=32")
		if err := dd.Wait(); err != nil {
			t.Fatalf("dd: %v", err)
		}
		cache.Sleepers(t, 1) // cgtop shows no tasks for an empty group
		groups = append(groups, cache)
	}
	e := newEngine(t)

	before := next(t, e)
	rows := testcg.CgtopRaw(t, 2, 500*time.Millisecond)
	after := next(t, e)

	tol := uint64(runtime.NumCPU())*64*uint64(os.Getpagesize()) + 256<<10
	paths := []string{filepath.Dir(sleepers.Path())}
	for _, g := range groups {
		paths = append(paths, g.Path())
	}
	for _, p := range paths {
		row, ok := rows[p]
		if !ok {
			t.Errorf("systemd-cgtop does not show %s", p)
			continue
		}
		b, a := find(t, before, p), find(t, after, p)
		t.Logf("%s: cgtop tasks %+v memory %+v; engine tasks %v %v, usage %v %v, working set %v %v",
			p, row.Tasks, row.Memory, b.Tasks, a.Tasks, b.Memory.UsageBytes, a.Memory.UsageBytes,
			b.Memory.WorkingSetBytes, a.Memory.WorkingSetBytes)

		// Tasks count threads: the Go helper behind HoldAnon may start one
		// between two reads, so cgtop's count is bracketed too.
		if !row.Tasks.OK || !b.Tasks.OK || !a.Tasks.OK ||
			row.Tasks.V < min(b.Tasks.V, a.Tasks.V) || row.Tasks.V > max(b.Tasks.V, a.Tasks.V) {
			t.Errorf("%s: cgtop tasks %+v, engine %+v then %+v", p, row.Tasks, b.Tasks, a.Tasks)
		}
		lo, hi := min(b.Memory.UsageBytes.V, a.Memory.UsageBytes.V), max(b.Memory.UsageBytes.V, a.Memory.UsageBytes.V)
		if !row.Memory.OK || row.Memory.V+tol < lo || row.Memory.V > hi+tol {
			t.Errorf("%s: cgtop memory %+v, engine usage %d…%d (± %d)", p, row.Memory, lo, hi, tol)
		}
	}
}

func diskBacked(dir string) bool {
	_, _, _, err := testcg.BlockDevice(dir)
	return err == nil
}
