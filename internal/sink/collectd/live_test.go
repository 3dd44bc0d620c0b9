package collectd

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/sink/collectd/collectdtest"
	"github.com/cgmon/cgmon/internal/snaptest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// runAgent runs an agent over the live host at a 1 s interval, with
// container names, until the test ends.
func runAgent(t *testing.T) *agent.Agent {
	t.Helper()
	return snaptest.RunAgent(t, engine.Options{Root: "/"}, time.Second)
}

// startSink runs a sink on a's snapshots until the test ends.
func startSink(t *testing.T, a *agent.Agent, opts Options) *Sink {
	t.Helper()
	opts.Interval = time.Second
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sub := a.Subscribe("collectd " + opts.Hostname)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, sub.C()) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sub.Close()
		s.Close()
	})
	return s
}

// TestCollectdReceivesKnownLoad sends, through a real collectd 5.12 at
// every security level, the values of a cgroup that cgmon recognizes as an
// LXC container, with a busy loop under a 50 % quota and 64 MiB held: the
// csv plugin's files show cpu percent 50 ± 5, cpu time growing 0.5 s a
// second, and memory equal to the kernel's files: usage − inactive_file
// with memory "current", usage with "raw" (32 MiB of page cache written
// from the group sets the two apart). A
// sender with the wrong password is refused by collectd.
func TestCollectdReceivesKnownLoad(t *testing.T) {
	name := fmt.Sprintf("cgmoncd%d-%04x", os.Getpid(), rand.Uint32()&0xffff)
	g := testcg.Require(t).NewGroup(t, "lxc.payload."+name)
	g.SetCPUWeight(t, 10000)
	g.SetCPUQuota(t, 50000, 100000)
	g.BusyLoop(t)
	g.HoldAnon(t, 64)
	// 32 MiB of page cache, on the inactive list: current and raw differ.
	cache := g.Start(t, "dd", "if=/dev/zero", "of="+t.TempDir()+"/cache", "bs=1M", "count=32")
	if err := cache.Wait(); err != nil {
		t.Fatalf("dd: %v", err)
	}

	users := map[string]string{"cgmon": "s3cret-" + strconv.Itoa(os.Getpid())}
	none := &collectdtest.Listen{SecurityLevel: "None"}
	sign := &collectdtest.Listen{SecurityLevel: "Sign", Users: users}
	encrypt := &collectdtest.Listen{SecurityLevel: "Encrypt", Users: users}
	srv := collectdtest.Start(t, collectdtest.Config{Hostname: "collectd-under-test", Listens: []*collectdtest.Listen{none, sign, encrypt}})

	a := runAgent(t)
	addr := func(l *collectdtest.Listen) string { return "127.0.0.1:" + strconv.Itoa(l.Port) }
	hosts := map[string]Options{
		"none-current":    {Server: addr(none), Memory: "current"},
		"sign-raw":        {Server: addr(sign), SecurityLevel: "sign", Username: "cgmon", Password: users["cgmon"], Memory: "raw"},
		"encrypt-current": {Server: addr(encrypt), SecurityLevel: "encrypt", Username: "cgmon", Password: users["cgmon"], Memory: "current"},
		"sign-bad":        {Server: addr(sign), SecurityLevel: "sign", Username: "cgmon", Password: "wrong"},
	}
	sinks := map[string]*Sink{}
	for host, opts := range hosts {
		opts.Hostname = "cgmon-" + host
		sinks[host] = startSink(t, a, opts)
	}

	for _, host := range []string{"none-current", "sign-raw", "encrypt-current"} {
		t.Run(host, func(t *testing.T) {
			host := "cgmon-" + host
			cpu := srv.WaitRows(t, 20*time.Second, 5, host, Plugin+"-"+name, TypeCPU)
			last := cpu[len(cpu)-1]
			if len(last.Values) != 2 || math.Abs(last.Values[0]-50) > 5 {
				t.Errorf("pod_cpu percent = %v, want 50 ± 5 (a busy loop under a 50 %% quota)", last.Values)
			}
			first := cpu[1]
			if rate := (last.Values[1] - first.Values[1]) / (last.Time - first.Time) / 1e9; math.Abs(rate-0.5) > 0.05 {
				t.Errorf("pod_cpu time grows %.3f s a second, want 0.5 ± 0.05: %v → %v", rate, first, last)
			}
			mem := srv.WaitRows(t, 10*time.Second, 1, host, Plugin+"-"+name, TypeMemory)
			usage, ws := g.Memory(t)
			want := ws
			if strings.HasSuffix(host, "-raw") {
				want = usage
			}
			got := mem[len(mem)-1].Values[0]
			if want < 64<<20 || math.Abs(got-float64(want)) > 1<<20 {
				t.Errorf("pod_memory = %.0f, kernel %d (usage %d, working set %d); want equal within 1 MiB, ≥ 64 MiB", got, want, usage, ws)
			}
			if usage-ws < 16<<20 {
				t.Errorf("usage %d − working set %d: the 32 MiB written should be inactive page cache", usage, ws)
			}
			t.Logf("%s: pod_cpu %v, pod_memory %.0f (kernel %d)", host, last.Values, got, want)
		})
	}
	if rows := srv.Rows(t, "cgmon-sign-bad", Plugin+"-"+name, TypeCPU); len(rows) > 0 {
		t.Errorf("collectd took %d value lists signed with a wrong password", len(rows))
	}
	if !strings.Contains(srv.Proc.Output(), "signature failed: Hash mismatch. Username: cgmon") {
		t.Error("collectd did not log refusing the wrong password's signature")
	}
	if sent, errs, _ := sinks["none-current"].SinkStats(); sent == 0 || errs != 0 {
		t.Errorf("SinkStats: sent %d, errors %d; want some sent and no error", sent, errs)
	}
}
