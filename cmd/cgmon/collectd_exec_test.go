package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/sink/collectd"
	"github.com/cgmon/cgmon/internal/sink/collectd/collectdtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

func TestCollectdInterval(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
		ok   bool
	}{
		{"", 10 * time.Second, true},
		{"10.000", 10 * time.Second, true},
		{"1", time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"0.01", 0, false},
		{"-3", 0, false},
		{"ten", 0, false},
		{"1e9", 0, false},
	} {
		got, err := collectdInterval(tc.env)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("collectdInterval(%q) = %v, %v; want %v, ok %v", tc.env, got, err, tc.want, tc.ok)
		}
	}
}

// TestCollectdExec runs `cgmon collectd-exec` under a real collectd's exec
// plugin, as nobody (collectd refuses root): the values of a cgroup cgmon
// takes for an LXC container, with a busy loop under a 50 % quota, reach
// the csv plugin under collectd's host name at collectd's interval.
func TestCollectdExec(t *testing.T) {
	h := testcg.Require(t)
	name := fmt.Sprintf("cgmonexec%d-%04x", os.Getpid(), rand.Uint32()&0xffff)
	g := h.NewGroup(t, "lxc.payload."+name)
	g.SetCPUWeight(t, 10000)
	g.SetCPUQuota(t, 50000, 100000)
	g.BusyLoop(t)

	// nobody must reach the binary: t.TempDir's directories are 0700.
	dir, err := os.MkdirTemp("", "cgmon-exec-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cgmon")
	b, err := os.ReadFile(buildCgmon(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("su", "-s", "/bin/sh", "nobody", "-c", bin+" version").CombinedOutput(); err != nil {
		t.Fatalf("nobody cannot run %s: %v\n%s", bin, err, out)
	}

	host := "collectd-exec-" + name
	srv := collectdtest.Start(t, collectdtest.Config{Hostname: host, Exec: [][]string{{"nobody", bin, "collectd-exec"}}})
	rows := srv.WaitRows(t, 20*time.Second, 4, host, collectd.Plugin+"-"+name, collectd.TypeCPU)
	last := rows[len(rows)-1]
	if math.Abs(last.Values[0]-50) > 5 {
		t.Errorf("pod_cpu percent = %v, want 50 ± 5", last.Values)
	}
	if d := last.Time - rows[len(rows)-2].Time; math.Abs(d-1) > 0.2 {
		t.Errorf("pod_cpu rows %.3f s apart, want collectd's 1 s interval", d)
	}
	mem := srv.WaitRows(t, 5*time.Second, 1, host, collectd.Plugin+"-"+name, collectd.TypeMemory)
	if v := mem[len(mem)-1].Values[0]; v <= 0 {
		t.Errorf("pod_memory = %v", v)
	}
	if out := srv.Proc.Output(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Errorf("cgmon logged a problem:\n%s", out)
	}
	t.Logf("pod_cpu %v, pod_memory %v", last.Values, mem[len(mem)-1].Values)
}
