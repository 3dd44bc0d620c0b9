package jsonexport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/sink/jsonexport/jsonexporttest"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// t0 is a few hours ago, on a whole hour plus some nanoseconds: recent
// enough that the default retention (24 h, against the real clock) keeps
// what the tests add. (A fixed date here broke the tests a day later.)
var t0 = time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Hour).Add(123456789 * time.Nanosecond)

// ts is the export's timestamp of t0+d.
func ts(d time.Duration) string { return t0.Add(d).Truncate(time.Second).Format(time.RFC3339) }

func some(v uint64) model.Count { return model.Count{V: v, OK: true} }
func pct(v float64) model.Float { return model.Float{V: v, OK: true} }
func mkSnapshot(at time.Time, containers ...model.Cgroup) *model.Snapshot {
	return &model.Snapshot{Timestamp: at, Cgroups: append([]model.Cgroup{{Path: "/"}}, containers...)}
}

// lxc is a running LXC container as the engine gives it with the container
// figures on.
func lxc(id string) model.Cgroup {
	return model.Cgroup{
		Path:       "/lxc/" + id,
		Container:  &model.Container{Runtime: "lxc", ID: id, Name: "web", Role: "container", State: "running"},
		CPU:        model.CPU{Percent: pct(15.6049)},
		Memory:     model.Memory{UsageBytes: some(600 << 20), WorkingSetBytes: some(512 << 20), SwapBytes: some(3 << 19)},
		IO:         model.IO{ReadBytesTotal: some(102400), WriteBytesTotal: some(204800)},
		Processes:  some(25),
		Network:    &model.Network{RxBytesTotal: some(12345678), TxBytesTotal: some(87654321)},
		Filesystem: &model.Filesystem{TotalBytes: 10485760, UsedBytes: 5242880, FreeBytes: 5242880},
	}
}

func TestEntries(t *testing.T) {
	hostNet := lxc("101")
	hostNet.Container = &model.Container{Runtime: "docker", ID: strings.Repeat("ab", 32), Role: "container"}
	hostNet.Network = &model.Network{Netns: 1, HostNetwork: true}
	hostNet.Filesystem = nil
	hostNet.Memory = model.Memory{UsageBytes: some(1 << 20)}
	named := lxc("x")
	named.Container = &model.Container{Runtime: "podman", ID: strings.Repeat("cd", 32), Name: "db", Role: "container"}
	firstCycle := lxc("102")
	firstCycle.CPU = model.CPU{}
	notEnriched := lxc("103")
	notEnriched.Processes = model.Count{}
	monitor := lxc("104")
	monitor.Container.Role = "monitor"

	got := Entries(mkSnapshot(t0, lxc("100"), hostNet, named, firstCycle, notEnriched, monitor))
	want := []Entry{
		{ContainerID: "100", Timestamp: ts(0), CPUUsage: 15.6, MemoryUsage: 512, SwapUsage: 1.5,
			IOReadBytes: 102400, IOWriteBytes: 204800, NetworkReceivedBytes: 12345678, NetworkTransmittedBytes: 87654321,
			FilesystemUsage: Usage{10485760, 5242880, 5242880}, ProcessCount: 25},
		{ContainerID: "abababababab", Timestamp: ts(0), CPUUsage: 15.6, MemoryUsage: 1,
			IOReadBytes: 102400, IOWriteBytes: 204800, ProcessCount: 25},
		{ContainerID: "db", Timestamp: ts(0), CPUUsage: 15.6, MemoryUsage: 512, SwapUsage: 1.5,
			IOReadBytes: 102400, IOWriteBytes: 204800, NetworkReceivedBytes: 12345678, NetworkTransmittedBytes: 87654321,
			FilesystemUsage: Usage{10485760, 5242880, 5242880}, ProcessCount: 25},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	b, _ := json.Marshal(got)
	if _, err := jsonexporttest.Shape(b); err != nil {
		t.Errorf("not the seed's shape: %v\n%s", err, b)
	}
}

// readExport reads the export and checks it is the seed's shape.
func readExport(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := jsonexporttest.Shape(b)
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return got
}

func TestRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lxc_metrics.json")
	x, err := New(Options{Path: path, MaxEntries: 5, MaxAge: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	x.now = func() time.Time { return now }
	for i := range 4 {
		now = t0.Add(time.Duration(i) * time.Minute)
		if err := x.Add(mkSnapshot(now, lxc("100"), lxc("101"))); err != nil {
			t.Fatal(err)
		}
	}
	got := readExport(t, path)
	if len(got) != 5 || got[0]["container_id"] != "101" || got[0]["timestamp"] != ts(time.Minute) {
		t.Fatalf("max_entries 5 kept %d entries, first %v", len(got), got[0])
	}
	now = t0.Add(time.Hour + 2*time.Minute + 30*time.Second)
	if err := x.Add(mkSnapshot(now, lxc("100"))); err != nil {
		t.Fatal(err)
	}
	got = readExport(t, path)
	if len(got) != 3 || got[0]["timestamp"] != ts(3*time.Minute) {
		t.Fatalf("max_age 1h kept %d entries from %v; want 3 from 06:03:00", len(got), got[0]["timestamp"])
	}
	if s := x.Stats(); s.Dropped != 6 || s.Writes != 5 {
		t.Errorf("stats = %+v, want 6 dropped (3 by count, 3 by age), 5 writes", s)
	}

	// A restart continues the file.
	y, err := New(Options{Path: path, MaxEntries: 5, MaxAge: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != 3 {
		t.Errorf("restart kept %d entries, want 3", y.Len())
	}
}

func TestNotAnExportIsReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.json")
	if err := os.WriteFile(path, []byte(`{"100": {"cpu_usage_percent": 1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".m.json.tmp-123")
	os.WriteFile(stale, []byte("[{"), 0o644)
	x, err := New(Options{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a temporary file left by a crash is still there")
	}
	if x.Len() != 0 {
		t.Errorf("kept %d entries from a file that is not an export", x.Len())
	}
	if err := x.Add(mkSnapshot(t0, lxc("100"))); err != nil {
		t.Fatal(err)
	}
	if got := readExport(t, path); len(got) != 1 {
		t.Errorf("%d entries, want 1", len(got))
	}
}

// TestReadersAlwaysSeeValidJSON reads the file in a loop while it is
// rewritten: every read must parse, never a partial file.
func TestReadersAlwaysSeeValidJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.json")
	x, err := New(Options{Path: path, MaxEntries: 300}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Add(mkSnapshot(t0, lxc("100"))); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			b, err := os.ReadFile(path)
			if err == nil {
				_, err = jsonexporttest.Shape(b)
			}
			if err != nil {
				select {
				case errs <- fmt.Errorf("read %d: %w", reads.Load(), err):
				default:
				}
				return
			}
			reads.Add(1)
		}
	}()
	for i := range 200 {
		if err := x.Add(mkSnapshot(t0.Add(time.Duration(i)*time.Second), lxc("100"), lxc("101"))); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	t.Logf("%d reads during 200 rewrites, all valid", reads.Load())
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it when the test ends.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	testsvc.RequireRoot(t)
	dir := t.TempDir()
	if err := unix.Mount("cgmon-test", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		testsvc.Skip(t, "mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestFullDisk(t *testing.T) {
	dir := mountTmpfs(t, 64<<10)
	path := filepath.Join(dir, "m.json")
	var logs bytes.Buffer
	x, err := New(Options{Path: path}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	// Fill the disk with entries until a write fails: the file must keep
	// its last good content.
	var good []byte
	var failed error
	for i := 0; i < 1000 && failed == nil; i++ {
		failed = x.Add(mkSnapshot(t0.Add(time.Duration(i)*time.Second), lxc("100"), lxc("101"), lxc("102")))
		if failed == nil {
			good, _ = os.ReadFile(path)
		}
	}
	if failed == nil {
		t.Fatal("64 KiB tmpfs never filled")
	}
	if !strings.Contains(failed.Error(), "no space left") {
		t.Errorf("error %q does not say the disk is full", failed)
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, good) {
		t.Fatalf("a failed write changed the file")
	}
	readExport(t, path)
	if ents, _ := filepath.Glob(filepath.Join(dir, ".m.json.tmp-*")); len(ents) != 0 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	// More failures log at debug only.
	for range 3 {
		if err := x.Add(mkSnapshot(t0.Add(time.Hour), lxc("100"))); err == nil {
			t.Fatal("a write to a full disk succeeded")
		}
	}
	if n := strings.Count(logs.String(), "write failed"); n != 1 {
		t.Errorf("%d warnings for 4 failed writes, want 1:\n%s", n, logs.String())
	}
	// Room again: the next snapshot writes everything kept.
	if err := unix.Mount("cgmon-test", dir, "tmpfs", unix.MS_REMOUNT, "size=8m"); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(mkSnapshot(t0.Add(2*time.Hour), lxc("100"))); err != nil {
		t.Fatalf("write after space came back: %v", err)
	}
	if got := readExport(t, path); len(got) != x.Len() || len(got) <= bytes.Count(good, []byte("container_id")) {
		t.Errorf("file has %d entries, exporter %d, before the failure %d", len(got), x.Len(), bytes.Count(good, []byte("container_id")))
	}
	if !strings.Contains(logs.String(), "written again") {
		t.Errorf("no recovery notice:\n%s", logs.String())
	}
}

func TestReadOnlyAndMissingDirectory(t *testing.T) {
	dir := mountTmpfs(t, 1<<20)
	path := filepath.Join(dir, "m.json")
	x, err := New(Options{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Add(mkSnapshot(t0, lxc("100"))); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	if err := unix.Mount("cgmon-test", dir, "tmpfs", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	err = x.Add(mkSnapshot(t0.Add(time.Second), lxc("100")))
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write to a read-only filesystem: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
		t.Fatal("a failed write changed the file")
	}
	if err := unix.Mount("cgmon-test", dir, "tmpfs", unix.MS_REMOUNT, ""); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(mkSnapshot(t0.Add(2*time.Second), lxc("100"))); err != nil {
		t.Fatal(err)
	}
	if got := readExport(t, path); len(got) != 3 {
		t.Errorf("%d entries after recovery, want 3 (none lost)", len(got))
	}

	missing := filepath.Join(t.TempDir(), "no", "such", "m.json")
	y, err := New(Options{Path: missing}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := y.Add(mkSnapshot(t0, lxc("100"))); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

type sourceFunc func() (*model.Snapshot, error)

func (f sourceFunc) Next() (*model.Snapshot, error) { return f() }

func TestStartExportsEverySnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.json")
	var n atomic.Int64
	ag, err := agent.New(agent.Options{Interval: 20 * time.Millisecond, Source: sourceFunc(func() (*model.Snapshot, error) {
		return mkSnapshot(time.Now().Add(time.Duration(n.Add(1))*time.Second), lxc("100")), nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, err := Start(ctx, Options{Path: path}, ag, nil)
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- ag.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("container_id")) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export not written 3 times in 10 s: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-runDone
	<-done
	readExport(t, path)
}

// BenchmarkAdd is one snapshot of 10 containers added to a full export
// (10000 entries, about 3.5 MB rewritten, fsynced and renamed).
func BenchmarkAdd(b *testing.B) {
	x, err := New(Options{Path: filepath.Join(b.TempDir(), "m.json")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var cs []model.Cgroup
	for i := range 10 {
		cs = append(cs, lxc(strconv.Itoa(100+i)))
	}
	at := time.Now()
	one, err := json.Marshal(Entries(mkSnapshot(at, lxc("cgmon-podman-12345-abcd")))[0])
	if err != nil {
		b.Fatal(err)
	}
	for range DefaultMaxEntries {
		x.entries = append(x.entries, stored{at: at, json: one})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := x.Add(mkSnapshot(at, cs...)); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(x.buf.Len()))
}
