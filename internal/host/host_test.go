package host_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

func openRoot(t testing.TB, dir string) *rootfs.Dir {
	t.Helper()
	root, err := rootfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// newReader returns a reader of the directory dir, closed when t ends.
func newReader(t testing.TB, dir string, exclude []string) *host.Reader {
	t.Helper()
	r, err := host.New(host.Options{Root: openRoot(t, dir), ExcludedDevices: exclude})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReadFixture(t *testing.T) {
	r := newReader(t, "../hostfs/testdata", nil)
	var s hostfs.Sample
	for range 2 { // the second read goes through the kept-open handles
		if err := r.Read(&s); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Stat.CPUs) != 2 || !s.Meminfo.MemAvailable.OK || !s.HasLoadavg || !s.Pressure.IO.HasFull {
		t.Errorf("sample: %+v", s)
	}
	if s.MachineChecks.OK {
		t.Errorf("this host has no MCE line, got %+v", s.MachineChecks)
	}
	var disks []string
	for _, d := range s.Disks {
		disks = append(disks, d.Name)
	}
	if d := cmp.Diff([]string{"vda", "zram0"}, disks); d != "" {
		t.Errorf("disks: loop excluded (-want +got):\n%s", d)
	}
	speeds := map[string]hostfs.Speed{}
	for i, n := range s.Interfaces {
		speeds[n.Name] = s.Speeds[i]
	}
	if _, ok := speeds["lo"]; ok {
		t.Error("lo is listed")
	}
	want := map[string]hostfs.Speed{"eth0": {}, "ifb0": {}, "ifb1": {}, "lxcbr0": {Mbps: 10000, Known: true}}
	for name, sp := range want {
		if speeds[name] != sp {
			t.Errorf("%s speed = %+v, want %+v", name, speeds[name], sp)
		}
	}
	// The fixture's mount points (/, /proc...) exist in the fixture tree as
	// directories of the test's own filesystem: / is counted once though
	// it is mounted four times (bind mounts of vda).
	var mounts []string
	for _, f := range s.Filesystems {
		mounts = append(mounts, f.MountPoint+" "+f.FSType)
	}
	if d := cmp.Diff([]string{"/ ext4"}, mounts); d != "" {
		t.Errorf("filesystems (-want +got):\n%s", d)
	}
	files := r.Files(&s)
	if len(files) < 15 || files[0] != "/proc/stat" {
		t.Errorf("Files = %q", files)
	}
}

func TestReadMissingFiles(t *testing.T) {
	// A root with only /proc/stat: everything else is absent, no error.
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/proc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/proc/stat", []byte("cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newReader(t, dir, nil)
	var s hostfs.Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if !s.Stat.HasAll || s.Meminfo.MemTotal.OK || s.HasLoadavg || s.Disks != nil || s.Pressure.CPU.HasSome || s.Stat.ProcsRunning.OK {
		t.Errorf("absent files must leave figures absent: %+v", s)
	}
}

func TestReadBrokenFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/proc", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"stat": "cpu 1 2\n", "meminfo": "MemTotal: 8 kB\n"} {
		if err := os.WriteFile(dir+"/proc/"+name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := newReader(t, dir, nil)
	var s hostfs.Sample
	err := r.Read(&s)
	if err == nil || !strings.Contains(err.Error(), "/proc/stat") {
		t.Fatalf("error %v does not name /proc/stat", err)
	}
	if s.Meminfo.MemTotal.V != 8192 {
		t.Errorf("a broken stat must not cost meminfo: %+v", s.Meminfo)
	}
}

func TestReadLiveHost(t *testing.T) {
	r := newReader(t, "/", nil)
	var s hostfs.Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.Stat.CPUs) == 0 || !s.Meminfo.MemTotal.OK || len(s.Filesystems) == 0 {
		t.Fatalf("live host: %d CPUs, meminfo %+v, %d filesystems", len(s.Stat.CPUs), s.Meminfo, len(s.Filesystems))
	}
}

func BenchmarkRead(b *testing.B) {
	r := newReader(b, "/", nil)
	var s hostfs.Sample
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Read(&s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReadNoticesChanges changes a copy of the fixture between reads: a
// disk that appears is listed (its /sys/block entry is read again), and a
// new mount table is parsed again.
func TestReadNoticesChanges(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", "../hostfs/testdata/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	r := newReader(t, dir, nil)
	var s hostfs.Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.Disks) != 2 || len(s.Filesystems) != 1 {
		t.Fatalf("before: %d disks, %d filesystems", len(s.Disks), len(s.Filesystems))
	}
	f, err := os.OpenFile(dir+"/proc/diskstats", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("   8       0 sdb 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n   8       1 sdb1 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n")
	f.Close()
	if err := os.MkdirAll(dir+"/sys/block/sdb", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/proc/self/mountinfo", []byte("22 27 0:21 / /proc rw,relatime - proc proc rw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range s.Disks {
		names = append(names, d.Name)
	}
	if d := cmp.Diff([]string{"vda", "zram0", "sdb"}, names); d != "" {
		t.Errorf("after: disks (-want +got):\n%s", d)
	}
	if len(s.Filesystems) != 0 {
		t.Errorf("after: filesystems %+v from a table with only /proc", s.Filesystems)
	}
}

// TestReadErrorCounters reads EDAC memory error counts and a SCSI disk's
// ioerr_cnt, in the kernel's formats, from a copy of the fixture.
func TestReadErrorCounters(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", "../hostfs/testdata/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	files := map[string]string{
		"sys/devices/system/edac/mc/mc0/ce_count": "3\n", "sys/devices/system/edac/mc/mc0/ue_count": "0\n",
		"sys/devices/system/edac/mc/mc1/ce_count": "2\n", "sys/devices/system/edac/mc/mc1/ue_count": "1\n",
		"sys/block/vda/device/ioerr_cnt": "0x2\n",
	}
	for name, body := range files {
		if err := os.MkdirAll(dir+"/"+name[:strings.LastIndexByte(name, '/')], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := newReader(t, dir, nil)
	var s hostfs.Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if s.MemoryCorrected != sample.Some(5) || s.MemoryUncorrected != sample.Some(1) {
		t.Errorf("EDAC: corrected %+v, uncorrected %+v", s.MemoryCorrected, s.MemoryUncorrected)
	}
	if d := cmp.Diff([]sample.Value{sample.Some(2), {}}, s.DiskIOErrors); d != "" {
		t.Errorf("ioerr_cnt of vda, zram0 (-want +got):\n%s", d)
	}
	// The plain fixture has neither: absent, not 0.
	var plain hostfs.Sample
	if err := newReader(t, "../hostfs/testdata", nil).Read(&plain); err != nil {
		t.Fatal(err)
	}
	if plain.MemoryCorrected.OK || plain.DiskIOErrors[0].OK {
		t.Errorf("no EDAC, no SCSI: %+v %+v", plain.MemoryCorrected, plain.DiskIOErrors)
	}
}
