package influx

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/sink/influx/influxtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// outageDowntime is how long influxd stays dead in the outage tests.
const outageDowntime = 20 * time.Second

// TestOutage kills influxd while the sink runs at a 1 s interval and
// restarts it 20 s later on the same data, then counts the points that
// arrived against the points the published snapshots make:
//   - a backlog large enough: nothing is lost;
//   - a backlog too small: exactly the reported drop count is lost;
//   - a spool, and the agent restarted during the outage: nothing is lost.
func TestOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("the outage tests take about 45 s")
	}
	h := testcg.Require(t)
	g := h.NewGroup(t, "outage")
	g.Sleepers(t, 2)
	for _, tc := range []struct {
		name       string
		maxPending int
		spool      bool
		lossy      bool
	}{
		{name: "backlog holds", maxPending: 1000},
		{name: "backlog too small", maxPending: 10, lossy: true},
		{name: "spool across an agent restart", maxPending: 10, spool: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := influxtest.StartInfluxd(t, false)
			o := v1Options(d, g.Path())
			o.Measurement = "outage"
			o.MaxPendingPoints = tc.maxPending
			if tc.spool {
				o.SpoolDir = t.TempDir()
			}
			log, lb := newLog(t)
			a := startAgent(t, time.Second)
			s := startSink(t, o, a, log)
			agents, sinks := []*liveAgent{a}, []*runningSink{s}

			time.Sleep(3 * time.Second)
			d.Proc.Kill()
			killed := time.Now()
			if tc.spool {
				// Restart the agent (a new engine, a new sink on the same
				// spool) in the middle of the outage.
				time.Sleep(6 * time.Second)
				a.stop()
				s.stop()
				a = startAgent(t, time.Second)
				s = startSink(t, o, a, log)
				agents, sinks = append(agents, a), append(sinks, s)
			}
			time.Sleep(time.Until(killed.Add(outageDowntime)))
			d.Start()
			// The sink retries at 1, 3, 7, 15, 31 s after the first failure.
			waitUntil(t, 60*time.Second, "recovery and an empty backlog", func() bool {
				st := s.Stats()
				return !st.Degraded && st.PointsQueued == 0 && st.PointsSpooled == 0
			})
			time.Sleep(1500 * time.Millisecond)
			a.stop()
			s.stop()

			// Expected: every point of every snapshot an agent published.
			enc := newEncoder(o, mustCheck(t, o))
			want := 0
			for _, a := range agents {
				for _, snap := range a.snapshots() {
					want += len(enc.Encode(snap))
				}
			}
			var dropped, missed uint64
			for _, s := range sinks {
				st := s.Stats()
				dropped += st.PointsDropped
				missed += st.SnapshotsMissed
				if st.PointsRejected != 0 {
					t.Errorf("rejected points: %+v", st)
				}
			}
			if missed != 0 {
				t.Errorf("the sink missed %d snapshots", missed)
			}
			got := 0
			for _, r := range d.Query(influxtest.DB, `SELECT count(tasks) FROM "outage"`, true).Rows() {
				got = int(num(t, r["count"]))
			}
			lost := want - got
			t.Logf("published %d points, %d in InfluxDB, %d lost, %d reported dropped; recovery: %s",
				want, got, lost, dropped, lastLine(lb.String(), "write recovered"))
			if lost != int(dropped) {
				t.Errorf("lost %d points, the sink reported %d dropped", lost, dropped)
			}
			if tc.lossy && dropped == 0 {
				t.Errorf("a backlog of %d over %s: want drops", tc.maxPending, outageDowntime)
			}
			if !tc.lossy && lost != 0 {
				t.Errorf("lost %d points, want 0", lost)
			}
			if n := lb.count("entering degraded mode"); n != len(sinks) {
				t.Errorf("%d degraded-mode warnings, want %d (one per sink run)", n, len(sinks))
			}
			if n := lb.count("write recovered"); n != 1 {
				t.Errorf("%d recovery messages, want 1", n)
			}
			if tc.lossy && !strings.Contains(lastLine(lb.String(), "write recovered"), fmt.Sprintf("dropped_points=%d", dropped)) {
				t.Errorf("the recovery message does not give the drop count %d", dropped)
			}
		})
	}
}

func mustCheck(t *testing.T, o Options) checked {
	t.Helper()
	c, err := o.check()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func lastLine(log, s string) string {
	var last string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			last = l
		}
	}
	return last
}

var _ delivery.Encoder = (*encoder)(nil)
