package promexport

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/server"
	"github.com/cgmon/cgmon/internal/snaptest"
	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/internal/testsvc/promtest"
)

// serveLive runs the agent over the live host at a 1 s interval and the
// API with /metrics on a loopback port until the test ends; it returns the
// address.
func serveLive(t *testing.T) string {
	t.Helper()
	a := snaptest.RunAgent(t, engine.Options{Root: "/", NoNames: true}, time.Second)
	srv := server.New(server.Options{Source: a, Interval: time.Second, Metrics: Handler(New(Options{Source: a}), nil)})
	ln, err := server.Listen("127.0.0.1:0", server.Access{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-srvDone; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// startPrometheus starts a real Prometheus scraping target's /metrics every
// second and returns its base URL.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	return promtest.Start(t, promtest.StaticJob(target))
}

var query = promtest.Query

// TestPrometheusScrapesKnownLoad: a real Prometheus scrapes /metrics of an
// agent on the live host every second; a cgroup with a busy loop under a
// 50 % quota shows rate(container_cpu_usage_seconds_total) = 0.5 ± 0.05,
// and its memory usage and working set equal the kernel's files. A real
// scrape passes `promtool check metrics`.
func TestPrometheusScrapesKnownLoad(t *testing.T) {
	g := testcg.Require(t).NewGroup(t, "prom")
	g.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	g.SetCPUQuota(t, 50000, 100000)
	g.BusyLoop(t)
	g.HoldAnon(t, 64)

	addr := serveLive(t)
	base := startPrometheus(t, addr)

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	promtoolCheck(t, body)

	id := strconv.Quote(g.Path())
	// rate over 10 s of 1 s scrapes, once Prometheus has samples from
	// before the window: with a window only partly filled, rate
	// extrapolates half an interval at each end and reads low.
	var cpu []float64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		n, err := query(base, `count_over_time(container_cpu_usage_seconds_total{cpu="total",id=`+id+`}[12s])`)
		if err == nil && len(n) == 1 && n[0] >= 12 {
			cpu, err = query(base, `rate(container_cpu_usage_seconds_total{cpu="total",id=`+id+`}[10s])`)
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has no 12 samples of %s in 12 s: %v %v", g.Path(), n, err)
		}
	}
	if len(cpu) != 1 || math.Abs(cpu[0]-0.5) > 0.05 {
		t.Errorf("rate(container_cpu_usage_seconds_total{id=%s}[10s]) = %v, want 0.5 ± 0.05 (a busy loop under a 50 %% quota)", id, cpu)
	} else {
		t.Logf("rate(container_cpu_usage_seconds_total{id=%s}[10s]) = %.4f", id, cpu[0])
	}

	// Memory: anonymous memory held still, so the kernel's figure moves by
	// a few pages at most between the agent's read and ours.
	const slack = 1 << 20
	for _, tc := range []struct {
		metric string
		kernel func() uint64
	}{
		{"container_memory_usage_bytes", func() uint64 { u, _ := g.Memory(t); return u }},
		{"container_memory_working_set_bytes", func() uint64 { _, ws := g.Memory(t); return ws }},
	} {
		got, err := query(base, tc.metric+`{id=`+id+`}`)
		want := tc.kernel()
		if err != nil || len(got) != 1 {
			t.Errorf("%s{id=%s}: %v %v", tc.metric, id, got, err)
			continue
		}
		if want < 64<<20 || math.Abs(got[0]-float64(want)) > slack {
			t.Errorf("%s{id=%s} = %.0f, kernel %d (want ≥ 64 MiB held, within 1 MiB)", tc.metric, id, got[0], want)
		} else {
			t.Logf("%s{id=%s} = %.0f, kernel %d", tc.metric, id, got[0], want)
		}
	}
}
