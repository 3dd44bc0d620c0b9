package host_test

// Integration tests against the tools admins trust: mpstat and iostat -x of
// sysstat, free(1) of procps, and the kernel's own per-interface counters in
// /sys/class/net/IF/statistics. Each samples the same interval as the tool,
// under a known load (a busy loop, direct-IO writes), and requires the
// figures to agree.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// liveReader reads the live host, every disk included.
func liveReader(t *testing.T) *host.Reader {
	t.Helper()
	return newReader(t, "/", []string{})
}

func read(t *testing.T, r *host.Reader) *hostfs.Sample {
	t.Helper()
	s := &hostfs.Sample{}
	if err := r.Read(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1e6)
}

// sysstatJSON is the part of mpstat -o JSON and iostat -o JSON used here.
type sysstatJSON struct {
	Sysstat struct {
		Hosts []struct {
			Statistics []struct {
				CPULoad []map[string]any `json:"cpu-load"`
				Disk    []map[string]any `json:"disk"`
			} `json:"statistics"`
		} `json:"hosts"`
	} `json:"sysstat"`
}

// bracket starts a sysstat tool that samples one interval, reads the host
// right after the tool started and right after it printed, and returns the
// tool's JSON and the two samples. The tool reads its first sample within
// milliseconds of starting and its second just before printing, so both
// cover the same interval give or take a few milliseconds.
func bracket(t *testing.T, r *host.Reader, during func(), name string, args ...string) (sysstatJSON, *hostfs.Sample, *hostfs.Sample) {
	t.Helper()
	prog := testsvc.LookPath(t, name, "sysstat")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "S_TIME_FORMAT=ISO")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the tool's first reading happens at start-up
	prev := read(t, r)
	if during != nil {
		during()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, errb.String())
	}
	cur := read(t, r)
	var js sysstatJSON
	if err := json.Unmarshal(out.Bytes(), &js); err != nil {
		t.Fatalf("%s output: %v\n%s", name, err, out.String())
	}
	if len(js.Sysstat.Hosts) != 1 || len(js.Sysstat.Hosts[0].Statistics) != 1 {
		t.Fatalf("%s: want one report, got\n%s", name, out.String())
	}
	return js, prev, cur
}

func num(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("no number %q in %v", key, m)
	}
	return v
}

func TestCPUAgainstMpstat(t *testing.T) {
	testsvc.RequireRoot(t)
	h := testcg.Require(t)
	g := h.NewGroup(t, uniqueName("cgmon-use-cpu"))
	g.BusyLoop(t)
	r := liveReader(t)
	js, prev, cur := bracket(t, r, nil, "mpstat", "-P", "ALL", "-o", "JSON", "10", "1")
	got := model.BuildHost(prev, cur).CPU
	byCPU := map[string]model.CPUTimesPercent{"all": got.CPUTimesPercent}
	for _, c := range got.PerCPU {
		byCPU[strconv.Itoa(c.CPU)] = c.CPUTimesPercent
	}
	perCPUSum := 0.0
	for _, row := range js.Sysstat.Hosts[0].Statistics[0].CPULoad {
		id, _ := row["cpu"].(string)
		ours, ok := byCPU[id]
		if !ok {
			t.Errorf("mpstat has cpu %q, cgmon not", id)
			continue
		}
		mUtil := 100 - num(t, row, "idle") - num(t, row, "iowait")
		for _, cmp := range []struct {
			name       string
			ours, them float64
		}{
			{"utilization", ours.UtilizationPercent.V, mUtil},
			{"user", ours.UserPercent.V, num(t, row, "usr") + num(t, row, "guest")}, // /proc/stat user includes guest
			{"system", ours.SystemPercent.V, num(t, row, "sys")},
			{"iowait", ours.IOWaitPercent.V, num(t, row, "iowait")},
			{"steal", ours.StealPercent.V, num(t, row, "steal")},
		} {
			if math.Abs(cmp.ours-cmp.them) > 2 {
				t.Errorf("cpu %s %s: cgmon %.2f %%, mpstat %.2f %% (more than 2 points apart)", id, cmp.name, cmp.ours, cmp.them)
			}
		}
		t.Logf("cpu %-3s utilization: cgmon %6.2f %%, mpstat %6.2f %%", id, ours.UtilizationPercent.V, mUtil)
		if id != "all" {
			perCPUSum += ours.UtilizationPercent.V
		}
	}
	// Ground truth: the busy loop keeps one CPU's worth busy, though the
	// scheduler may move it between CPUs while other test packages run, so
	// the per-CPU figures must add up to at least nearly 100.
	if perCPUSum < 90 {
		t.Errorf("per-CPU utilization adds up to %.1f %% under a busy loop, want ≥ 90", perCPUSum)
	}
}

func TestDiskAgainstIostat(t *testing.T) {
	testsvc.RequireRoot(t)
	h := testcg.Require(t)
	dir := t.TempDir()
	_, _, part, err := testcg.BlockDevice(dir)
	if err != nil {
		testsvc.Skip(t, "%s is not on a block device: %v", dir, err)
	}
	maj, min, _, err := testcg.BlockDevice(dir)
	if err != nil {
		t.Fatal(err)
	}
	dmaj, dmin, disk, err := testcg.WholeDisk(maj, min)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("writing to %s (disk %s %d:%d)", part, disk, dmaj, dmin)
	g := h.NewGroup(t, uniqueName("cgmon-use-io"))
	r := liveReader(t)
	const mib = 1024
	js, prev, cur := bracket(t, r, func() {
		time.Sleep(time.Second)
		g.DirectIOWrite(t, dir, mib)
		g.DirectIOWrite(t, dir, mib)
	}, "iostat", "-x", "-d", "-y", "-o", "JSON", disk, "8", "1")
	hv := model.BuildHost(prev, cur)
	var ours *model.HostDisk
	for i := range hv.Disks {
		if hv.Disks[i].Device == disk {
			ours = &hv.Disks[i]
		}
	}
	if ours == nil {
		t.Fatalf("cgmon has no disk %s: %+v", disk, hv.Disks)
	}
	rows := js.Sysstat.Hosts[0].Statistics[0].Disk
	if len(rows) != 1 {
		t.Fatalf("iostat: %d disks", len(rows))
	}
	row := rows[0]
	rs, ws, ds := num(t, row, "r/s"), num(t, row, "w/s"), num(t, row, "d/s")
	await := 0.0
	if n := rs + ws + ds; n > 0 {
		// iostat -x prints await per direction; the combined figure is
		// their mean weighted by the I/O counts, Δticks / ΔI/Os.
		await = (num(t, row, "r_await")*rs + num(t, row, "w_await")*ws + num(t, row, "d_await")*ds) / n
	}
	for _, c := range []struct {
		name       string
		ours, them float64
		floor      float64 // absolute agreement that counts as close at tiny values (iostat prints 2 decimals)
	}{
		{"%util", ours.UtilizationPercent.V, num(t, row, "util"), 0.5},
		{"await ms", ours.AwaitMs.V, await, 0.02},
		{"aqu-sz", ours.QueueSize.V, num(t, row, "aqu-sz"), 0.02},
		{"wkB/s", ours.WriteBytesPerSecond.V / 1024, num(t, row, "wkB/s"), 1},
		{"w/s", ours.WriteOpsPerSecond.V, ws, 0.5},
	} {
		diff := math.Abs(c.ours - c.them)
		if diff > 0.10*math.Abs(c.them) && diff > c.floor {
			t.Errorf("%s %s: cgmon %.3f, iostat -x %.3f (more than 10 %% apart)", disk, c.name, c.ours, c.them)
		}
		t.Logf("%s %-8s cgmon %10.3f  iostat -x %10.3f", disk, c.name, c.ours, c.them)
	}
	// Ground truth: 2 GiB were written with O_DIRECT inside the interval.
	if written := ours.WriteBytesPerSecond.V * cur.Time.Sub(prev.Time).Seconds(); written < 2*mib<<20 {
		t.Errorf("%s: %.0f bytes written in the interval, want ≥ %d", disk, written, 2*mib<<20)
	}
	if !ours.UtilizationPercent.OK || ours.UtilizationPercent.V <= 0 {
		t.Errorf("%s: no utilization under 2 GiB of direct writes: %+v", disk, ours)
	}
}

func TestMemoryAgainstFree(t *testing.T) {
	free := testsvc.LookPath(t, "free", "procps")
	r := liveReader(t)
	before := model.BuildHost(nil, read(t, r)).Memory
	out, err := exec.Command(free, "-b").Output()
	if err != nil {
		t.Fatal(err)
	}
	after := model.BuildHost(nil, read(t, r)).Memory
	// "Mem:  total used free shared buff/cache available"; procps ≥ 4
	// computes used as total − available.
	var total, used uint64
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "Mem:" {
			total, _ = strconv.ParseUint(f[1], 10, 64)
			used, _ = strconv.ParseUint(f[2], 10, 64)
		}
	}
	if total == 0 || total != before.TotalBytes.V {
		t.Fatalf("free total %d, cgmon %d\n%s", total, before.TotalBytes.V, out)
	}
	lo, hi := min(before.UsedBytes.V, after.UsedBytes.V), max(before.UsedBytes.V, after.UsedBytes.V)
	const slack = 16 << 20 // memory moves between the three readings on a busy host
	if used+slack < lo || used > hi+slack {
		t.Errorf("free used %d, cgmon %d..%d", used, lo, hi)
	}
	t.Logf("used: free -b %d, cgmon %d..%d", used, lo, hi)
}

func TestInterfacesAgainstSysfs(t *testing.T) {
	r := liveReader(t)
	prev := read(t, r)
	sys := map[string][2]uint64{}
	for _, n := range prev.Interfaces {
		var v [2]uint64
		for i, f := range []string{"rx_bytes", "tx_bytes"} {
			b, err := os.ReadFile("/sys/class/net/" + n.Name + "/statistics/" + f)
			if err != nil {
				continue // removed meanwhile
			}
			v[i], _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
		sys[n.Name] = v
	}
	time.Sleep(100 * time.Millisecond)
	cur := read(t, r)
	if len(prev.Interfaces) == 0 {
		testsvc.Skip(t, "no network interface but lo")
	}
	checked := 0
	for _, c := range cur.Interfaces {
		s, ok := sys[c.Name]
		var p *hostfs.NetDev
		for i := range prev.Interfaces {
			if prev.Interfaces[i].Name == c.Name {
				p = &prev.Interfaces[i]
			}
		}
		if !ok || p == nil {
			continue
		}
		// The kernel counters are monotonic: sysfs, read between the two
		// readings of /proc/net/dev, must lie between them.
		if s[0] < p.RxBytes || s[0] > c.RxBytes || s[1] < p.TxBytes || s[1] > c.TxBytes {
			t.Errorf("%s: sysfs rx %d tx %d outside /proc/net/dev's [%d,%d] [%d,%d]", c.Name, s[0], s[1], p.RxBytes, c.RxBytes, p.TxBytes, c.TxBytes)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no interface compared")
	}
}
