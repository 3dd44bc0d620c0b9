package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testcg"
)

// TestLiveBusyCgroup runs the agent and the API on the live host (as root):
// a fresh cgroup with a busy loop shows at its own route with CPU above
// 50 % within two intervals of the agent's start.
func TestLiveBusyCgroup(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "api")
	g.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	g.BusyLoop(t)

	const interval = time.Second
	a := newAgent(t, "/", interval)
	addr := serve(t, New(Options{Source: a, Interval: interval}))
	start := time.Now()
	runAgent(t, a)
	deadline := start.Add(2*interval + 500*time.Millisecond)
	var last string
	for time.Now().Before(deadline) {
		code, _, body := get(t, addr, cgroupURL(g.Path()))
		last = string(body)
		if code == http.StatusOK {
			var c struct {
				Path string
				CPU  struct {
					Percent *float64
				}
			}
			if err := json.Unmarshal(body, &c); err != nil {
				t.Fatal(err)
			}
			if c.Path != g.Path() {
				t.Fatalf("asked for %s, got %s", g.Path(), c.Path)
			}
			if c.CPU.Percent != nil && *c.CPU.Percent > 50 {
				t.Logf("%s: cpu.percent %.1f after %s", g.Path(), *c.CPU.Percent, time.Since(start).Round(time.Millisecond))
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("%s did not show cpu.percent > 50 within two intervals; last answer: %s", g.Path(), last)
}
