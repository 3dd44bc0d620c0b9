package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/sink/influx/influxtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// sinkStats reads /api/v1/sinks of a running cgmon.
func sinkStats(t *testing.T, addr string) delivery.Stats {
	t.Helper()
	code, body, err := getOK(addr, "/api/v1/sinks")
	var st []delivery.Stats
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &st) != nil || len(st) != 1 {
		t.Fatalf("/api/v1/sinks: %d %v %s", code, err, body)
	}
	return st[0]
}

func waitStats(t *testing.T, p *cgmonProcess, addr string, limit time.Duration, what string, cond func(delivery.Stats) bool) delivery.Stats {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(200 * time.Millisecond) {
		st := sinkStats(t, addr)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, not %s: %+v\n%s", limit, what, st, p.stderr())
		}
	}
}

// TestRunBinaryInfluxSpoolSurvivesACrash runs the real binary writing to a
// real influxd at a 1 s interval with a spool, kills influxd, then kills
// cgmon with SIGKILL (a crash) during the outage, starts it again on the
// same spool, brings influxd back, and checks that the series in InfluxDB
// has a point every second except across the crash itself.
func TestRunBinaryInfluxSpoolSurvivesACrash(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "bin")
	g.Sleepers(t, 1)
	d := influxtest.StartInfluxd(t, false)
	bin := buildCgmon(t)
	// Credentials in the URL's user info (taken as basic auth): startCgmon
	// gives an empty environment, so CGMON_INFLUXDB_PASSWORD is not set.
	url := d.AdminURL()
	args := []string{"run", "--listen", "127.0.0.1:0", "--interval", "1s", "--log-format", "json",
		"--influxdb-url", url, "--influxdb-database", influxtest.DB, "--influxdb-precision", "ms",
		"--influxdb-group", g.Path(), "--influxdb-measurement", "bin",
		"--influxdb-max-pending-points", "10", "--influxdb-spool-dir", t.TempDir()}

	p1 := startCgmon(t, bin, args...)
	addr := p1.waitServing(t)
	waitStats(t, p1, addr, 10*time.Second, "writing", func(s delivery.Stats) bool { return s.PointsWritten >= 2 })
	d.Proc.Kill()
	st := waitStats(t, p1, addr, 10*time.Second, "spooling", func(s delivery.Stats) bool { return s.Degraded && s.PointsSpooled >= 3 })
	if st.PointsDropped != 0 || strings.Contains(p1.stderr(), influxtest.AdminPass) {
		t.Errorf("first run: %+v; or the password is in the log", st)
	}
	p1.cmd.Process.Kill() // SIGKILL: no flush, no goodbye
	p1.wait(t, 5*time.Second)
	crashed := time.Now()

	p2 := startCgmon(t, bin, args...)
	addr = p2.waitServing(t)
	st = waitStats(t, p2, addr, 10*time.Second, "spooling again", func(s delivery.Stats) bool { return s.Degraded && s.PointsSpooled >= 6 })
	if !strings.Contains(p2.stderr(), "points left by an earlier run") {
		t.Errorf("the second run did not report the spooled points:\n%s", p2.stderr())
	}
	d.Start()
	st = waitStats(t, p2, addr, 60*time.Second, "recovered with everything sent", func(s delivery.Stats) bool {
		return !s.Degraded && s.PointsSpooled == 0 && s.PointsQueued == 0
	})
	if st.PointsDropped != 0 || st.PointsRejected != 0 {
		t.Errorf("second run: %+v", st)
	}
	time.Sleep(1500 * time.Millisecond)
	p2.cmd.Process.Signal(syscall.SIGTERM)
	if code := p2.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}

	var times []time.Time
	for _, r := range d.Query(influxtest.DB, `SELECT tasks FROM "bin"`, true).Rows() {
		ms, _ := r["time"].(json.Number).Int64()
		times = append(times, time.UnixMilli(ms))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	if len(times) < 10 {
		t.Fatalf("%d points in InfluxDB, want at least 10", len(times))
	}
	// One point a second; the only longer gap is the crash and restart.
	var long []string
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap > 1500*time.Millisecond {
			long = append(long, fmt.Sprintf("%s before %s", gap, times[i].Format("15:04:05.000")))
		}
	}
	if len(long) > 1 {
		t.Errorf("gaps in the series besides the crash (at %s): %v", crashed.Format("15:04:05.000"), long)
	}
	t.Logf("%d points from %s to %s; gaps over 1.5 s: %v", len(times), times[0].Format("15:04:05"), times[len(times)-1].Format("15:04:05"), long)
}
