package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/proc"
	"github.com/cgmon/cgmon/internal/testcg"
)

// runPsCmd runs the command line and returns its standard output and error
// apart.
func runPsCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// psRow is one object of `cgmon ps --format json`; absent figures are nil.
type psRow struct {
	PID        int      `json:"pid"`
	PPID       int      `json:"ppid"`
	UID        *uint64  `json:"uid"`
	State      string   `json:"state"`
	Comm       string   `json:"comm"`
	Cmdline    string   `json:"cmdline"`
	CPUPercent *float64 `json:"cpu_percent"`
	RSSBytes   uint64   `json:"rss_bytes"`
	MemPercent *float64 `json:"mem_percent"`
	Cgroup     string   `json:"cgroup"`
}

// psJSON runs `cgmon ps ... --format json` and decodes its output, which
// must have exactly the documented keys.
func psJSON(t *testing.T, args ...string) []psRow {
	t.Helper()
	out, stderr, err := runPsCmd(t, append([]string{"ps", "--format", "json"}, args...)...)
	if err != nil {
		t.Fatalf("cgmon ps %q: %v", args, err)
	}
	if stderr != "" {
		t.Errorf("cgmon ps %q wrote to stderr: %s", args, stderr)
	}
	var rows []psRow
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	return rows
}

func TestPsUsage(t *testing.T) {
	v2 := fixtures + "/v2"
	for _, args := range [][]string{
		{"ps"},
		{"ps", "/a", "/b"},
		{"ps", "/", "--sort", "disk"},
		{"ps", "/", "--format", "xml"},
		{"ps", "/", "--limit", "-1"},
		{"ps", "/", "--interval", "0s"},
		{"ps", "/", "--limit", "x"},
	} {
		_, _, err := runPsCmd(t, append(args, "--rootfs", v2)...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("cgmon %q: %v, want a usage error (exit 2)", args, err)
		}
	}
}

func TestPsNoCgroup(t *testing.T) {
	for _, name := range []string{"/nope", "/docker/" + strings.Repeat("1", 64)} {
		_, _, err := runPsCmd(t, "ps", name, "--rootfs", fixtures+"/v2", "--interval", "1ms")
		var ue usageError
		if !errors.Is(err, proc.ErrNoCgroup) || errors.As(err, &ue) || !strings.Contains(err.Error(), "no such cgroup") {
			t.Errorf("ps %s: %v, want a no-such-cgroup error (exit 1)", name, err)
		}
	}
}

// TestPsFixture runs ps on the v2 fixture tree, which has the cgroups but
// not their processes' /proc files: the processes listed are gone by the
// time they are read, and are left out quietly.
func TestPsFixture(t *testing.T) {
	const id = "a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7"
	for _, args := range [][]string{
		{"/docker/" + id},
		{"system.slice/docker-" + id + ".scope"},
		{"/system.slice", "--recursive"},
	} {
		out, stderr, err := runPsCmd(t, append([]string{"ps", "--rootfs", fixtures + "/v2", "--interval", "1ms", "--format", "json"}, args...)...)
		if err != nil || out != "[]\n" || stderr != "" {
			t.Errorf("ps %q = %q, %q, %v; want []", args, out, stderr, err)
		}
	}
	out, _, err := runPsCmd(t, "ps", "/docker/"+id, "--rootfs", fixtures+"/v2", "--interval", "1ms")
	if err != nil || out != "    PID    UID   %CPU      RSS   %MEM STATE COMMAND\n" {
		t.Errorf("table = %q, %v", out, err)
	}
}

// psRSS is what ps(1) says the process's resident set is, in bytes.
func psRSS(t *testing.T, pid int) uint64 {
	t.Helper()
	out, err := exec.Command("ps", "-o", "rss=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		t.Skipf("ps -o rss=: %v", err)
	}
	kib, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("ps -o rss= -p %d: %q", pid, out)
	}
	return kib * 1024
}

// TestPsLive runs ps on a fresh cgroup holding a busy loop under a 50 % CPU
// quota, a sleeper, and a process that exits between the two readings.
func TestPsLive(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "ps")
	g.SetCPUQuota(t, 50000, 100000)
	g.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	const limit = 256 << 20
	g.SetMemoryLimit(t, limit)
	busy := g.BusyLoop(t).Process.Pid
	sleeper := g.Sleepers(t, 1)[0].Process.Pid
	exiting := g.Start(t, "sleep", "0.3").Process.Pid

	// 2 s = 20 CFS periods; the exiting process is in the first reading only.
	rows := psJSON(t, g.Path(), "--sort", "cpu", "--interval", "2s")
	if len(rows) != 2 {
		t.Fatalf("ps lists %d processes, want the busy one and the sleeper: %+v", len(rows), rows)
	}
	b, s := rows[0], rows[1]
	if b.PID != busy || s.PID != sleeper {
		t.Fatalf("order %d, %d; want busy %d first, then sleeper %d (exiting: %d)", b.PID, s.PID, busy, sleeper, exiting)
	}
	t.Logf("busy: %+v, CPU %v %%", b, *b.CPUPercent)
	t.Logf("sleeper: %+v, CPU %v %%", s, *s.CPUPercent)
	if b.CPUPercent == nil || math.Abs(*b.CPUPercent-50) > 10 {
		t.Errorf("busy loop CPU = %v %%, want 50 ± 10 (its quota)", b.CPUPercent)
	}
	if s.CPUPercent == nil || *s.CPUPercent > 2 {
		t.Errorf("sleeper CPU = %v %%, want about 0", s.CPUPercent)
	}
	for _, r := range rows {
		want := psRSS(t, r.PID)
		if d := int64(r.RSSBytes) - int64(want); d < -8192 || d > 8192 {
			t.Errorf("pid %d: RSS %d bytes, ps says %d", r.PID, r.RSSBytes, want)
		}
		if r.MemPercent == nil || math.Abs(*r.MemPercent-float64(r.RSSBytes)/limit*100) > 1e-6 {
			t.Errorf("pid %d: %%MEM = %v, want RSS / 256 MiB", r.PID, r.MemPercent)
		}
		if r.Cgroup != g.Path() || r.UID == nil || *r.UID != 0 || r.PPID == 0 {
			t.Errorf("pid %d: %+v", r.PID, r)
		}
	}
	if b.Comm != "sh" || b.Cmdline != "/bin/sh -c while :; do :; done" || s.Comm != "sleep" || !strings.HasSuffix(s.Cmdline, "sleep 1000000") {
		t.Errorf("commands: %q %q, %q %q", b.Comm, b.Cmdline, s.Comm, s.Cmdline)
	}

	// --sort mem and --limit; the table.
	rows = psJSON(t, g.Path(), "--sort", "mem", "--limit", "1", "--interval", "100ms")
	if len(rows) != 1 || rows[0].RSSBytes < s.RSSBytes && rows[0].RSSBytes < b.RSSBytes {
		t.Errorf("--sort mem --limit 1 = %+v", rows)
	}
	out, _, err := runPsCmd(t, "ps", g.Path(), "--interval", "500ms")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[1], "/bin/sh -c while :; do :; done") ||
		!strings.HasPrefix(strings.TrimSpace(lines[1]), strconv.Itoa(busy)+" ") {
		t.Errorf("table:\n%s", out)
	}
}

// TestPsLiveRecursive lists a parent without processes, with and without
// its two children, none of them memory-limited.
func TestPsLiveRecursive(t *testing.T) {
	h := testcg.Require(t)
	a, b := h.NewGroup(t, "a"), h.NewGroup(t, "b")
	pa := a.Sleepers(t, 1)[0].Process.Pid
	pb := b.Sleepers(t, 2)
	parent := path.Dir(a.Path())

	if rows := psJSON(t, parent, "--interval", "10ms"); len(rows) != 0 {
		t.Errorf("parent alone: %+v, want no process", rows)
	}
	rows := psJSON(t, parent, "--recursive", "--interval", "10ms")
	got := map[int]string{}
	for _, r := range rows {
		got[r.PID] = r.Cgroup
	}
	want := map[int]string{pa: a.Path(), pb[0].Process.Pid: b.Path(), pb[1].Process.Pid: b.Path()}
	if len(got) != len(want) {
		t.Errorf("recursive: %v, want %v", got, want)
	}
	// No memory limit on the groups, their parent or the root: %MEM is
	// against the host's memory.
	memTotal := float64(localMemTotal(t))
	for _, r := range rows {
		if want := float64(r.RSSBytes) / memTotal * 100; r.RSSBytes == 0 || r.MemPercent == nil || math.Abs(*r.MemPercent-want) > 1e-9 {
			t.Errorf("pid %d: RSS %d, %%MEM %v; want RSS / MemTotal = %v %%", r.PID, r.RSSBytes, r.MemPercent, want)
		}
	}
	for pid, cg := range want {
		if got[pid] != cg {
			t.Errorf("pid %d in %q, want %q", pid, got[pid], cg)
		}
	}
	out, _, err := runPsCmd(t, "ps", strings.TrimPrefix(parent, "/"), "-r", "--interval", "10ms", "--sort", "mem")
	if err != nil || !strings.Contains(out, "CGROUP") || !strings.Contains(out, b.Path()) {
		t.Errorf("recursive table: %v\n%s", err, out)
	}
}

// TestPsInterrupted: a cancelled context before the second reading prints
// nothing and is not an error.
func TestPsInterrupted(t *testing.T) {
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"ps", "/", "--rootfs", fixtures + "/v2", "--interval", "1h"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil || out.Len() != 0 {
		t.Errorf("interrupted: %v, %q", err, out.String())
	}
}
