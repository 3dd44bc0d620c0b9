package influx

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/cgmon/cgmon/internal/testsvc"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/sink/influx/influxtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// liveAgent is an agent on the live host, and every snapshot it published.
type liveAgent struct {
	*agent.Agent
	mu    sync.Mutex
	snaps []*model.Snapshot
	sub   *agent.Subscription
	stop  func()
}

// startAgent runs an agent on the live host at interval until stop (or the
// end of the test), keeping every snapshot it publishes.
func startAgent(t *testing.T, interval time.Duration) *liveAgent {
	t.Helper()
	e, err := engine.New(engine.Options{Root: "/", NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Source: e, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	la := &liveAgent{Agent: a, sub: a.Subscribe("test")}
	ctx, cancel := context.WithCancel(context.Background())
	done, kept := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	go func() {
		defer close(kept)
		for s := range la.sub.C() {
			la.mu.Lock()
			la.snaps = append(la.snaps, s)
			la.mu.Unlock()
		}
	}()
	var once sync.Once
	la.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			<-kept
			e.Close()
			if m := la.sub.Missed(); m != 0 {
				t.Errorf("the test's own subscription missed %d snapshots", m)
			}
		})
	}
	t.Cleanup(la.stop)
	return la
}

func (la *liveAgent) snapshots() []*model.Snapshot {
	la.mu.Lock()
	defer la.mu.Unlock()
	return append([]*model.Snapshot(nil), la.snaps...)
}

// logBuffer collects a test's log concurrently.
type logBuffer struct{ testsvc.Buffer }

// count returns the number of log lines containing s.
func (l *logBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

func newLog(t *testing.T) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sink log:\n%s", lb)
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// runningSink is a sink started on an agent, stopped by stop.
type runningSink struct {
	*Sink
	stop func()
}

func startSink(t *testing.T, opts Options, a *liveAgent, log *slog.Logger) *runningSink {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, opts, a.Agent, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	rs := &runningSink{Sink: s, stop: func() { once.Do(func() { cancel(); s.Wait() }) }}
	t.Cleanup(rs.stop)
	return rs
}

func v1Options(d *influxtest.Influxd, group string) Options {
	o := DefaultOptions()
	o.Enabled = true
	o.URL = d.URL
	o.Database, o.Username, o.Password = influxtest.DB, influxtest.AdminUser, influxtest.AdminPass
	o.CAFile = d.CAFile
	o.Precision = "ms"
	o.Filter.Group = group
	return o
}

// waitUntil polls cond every 100 ms for up to timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// cgtopWant is what the cgtop schema must hold for c (absent = NaN).
func cgtopWant(c *model.Cgroup) map[string]float64 {
	nan := math.NaN()
	w := map[string]float64{"cpu": nan, "memory": nan, "tasks": nan, "io_read": nan, "io_write": nan}
	if c.CPU.Percent.OK {
		w["cpu"] = math.Round(c.CPU.Percent.V*10) / 10
	}
	if c.Memory.UsageBytes.OK && c.Memory.UsageBytes.V > 0 {
		w["memory"] = float64(c.Memory.UsageBytes.V)
	}
	if c.Tasks.OK && c.Tasks.V > 0 {
		w["tasks"] = float64(c.Tasks.V)
	}
	if c.IO.ReadBytesPerSecond.OK {
		w["io_read"] = math.Trunc(c.IO.ReadBytesPerSecond.V)
	}
	if c.IO.WriteBytesPerSecond.OK {
		w["io_write"] = math.Trunc(c.IO.WriteBytesPerSecond.V)
	}
	return w
}

// TestInfluxV1KnownLoad writes the cgtop schema to a real InfluxDB 1.x with
// auth, reads it back point by point, and holds it to the snapshots the
// agent published and to the known loads: a busy loop under a 50 % CPU
// quota, 3 sleepers, 32 MiB held.
func TestInfluxV1KnownLoad(t *testing.T) {
	h := testcg.Require(t)
	d := influxtest.StartInfluxd(t, false)
	busy := h.NewGroup(t, "busy")
	busy.SetCPUWeight(t, 10000)
	busy.SetCPUQuota(t, 50000, 100000)
	busy.BusyLoop(t)
	sleepers := h.NewGroup(t, "sleep ers,=") // a name line protocol must escape
	sleepers.Sleepers(t, 3)
	mem := h.NewGroup(t, "mem")
	mem.HoldAnon(t, 32)
	parent := busy.Path()[:strings.LastIndexByte(busy.Path(), '/')]

	a := startAgent(t, time.Second)
	log, lb := newLog(t)
	s := startSink(t, v1Options(d, parent), a, log)
	time.Sleep(4500 * time.Millisecond)
	a.stop()
	s.stop()
	snaps := a.snapshots()
	st := s.Stats()
	if st.PointsDropped != 0 || st.PointsRejected != 0 || st.Failures != 0 || st.SnapshotsMissed != 0 {
		t.Errorf("stats: %+v", st)
	}
	host := snaps[0].Hostname

	fieldTypes := map[string]string{}
	for _, r := range d.Query(influxtest.DB, fmt.Sprintf(`SHOW FIELD KEYS FROM %q`, host), true).Rows() {
		fieldTypes[r["fieldKey"].(string)] = r["fieldType"].(string)
	}
	for f, want := range map[string]string{"cpu": "float", "memory": "integer", "tasks": "integer"} {
		if fieldTypes[f] != want {
			t.Errorf("field %s is %q, want %q (cgtop_mon's type); all: %v", f, fieldTypes[f], want, fieldTypes)
		}
	}
	for _, f := range []string{"io_read", "io_write"} {
		if ty, ok := fieldTypes[f]; ok && ty != "integer" {
			t.Errorf("field %s is %q, want integer", f, ty)
		}
	}
	var tags []string
	for _, r := range d.Query(influxtest.DB, fmt.Sprintf(`SHOW TAG KEYS FROM %q`, host), true).Rows() {
		tags = append(tags, r["tagKey"].(string))
	}
	if strings.Join(tags, ",") != "name,prefix" {
		t.Errorf("tag keys %v, want name,prefix", tags)
	}

	rows := d.Query(influxtest.DB, fmt.Sprintf(`SELECT * FROM %q`, host), true).Rows()
	byKey := map[string]map[string]any{}
	for _, r := range rows {
		prefix, _ := r["prefix"].(string)
		byKey[fmt.Sprint(num(t, r["time"]), " ", prefix, "/", r["name"])] = r
	}
	if uint64(len(rows)) != st.PointsWritten {
		t.Errorf("%d points in InfluxDB, the sink wrote %d", len(rows), st.PointsWritten)
	}
	want, busyCPU := 0, []float64{}
	for _, snap := range snaps {
		for i := range snap.Cgroups {
			c := &snap.Cgroups[i]
			if c.Path != parent && !strings.HasPrefix(c.Path, parent+"/") {
				continue
			}
			want++
			prefix := c.Prefix
			key := fmt.Sprint(float64(snap.Timestamp.UnixMilli()), " ", prefix, "/", c.Name)
			r, ok := byKey[key]
			if !ok {
				t.Errorf("no point for %s at %s", c.Path, snap.Timestamp)
				continue
			}
			for f, w := range cgtopWant(c) {
				v, present := r[f]
				if math.IsNaN(w) {
					if present && v != nil {
						t.Errorf("%s at %s: %s = %v, want absent", c.Path, snap.Timestamp, f, v)
					}
					continue
				}
				if got := num(t, v); got != w {
					t.Errorf("%s at %s: %s = %v, want %v", c.Path, snap.Timestamp, f, got, w)
				}
			}
			// Ground truth: the known loads.
			switch c.Path {
			case busy.Path():
				if v := r["cpu"]; v != nil {
					busyCPU = append(busyCPU, num(t, v))
				}
			case sleepers.Path():
				if got := num(t, r["tasks"]); got != 3 {
					t.Errorf("sleepers: tasks = %v, want 3", got)
				}
			case mem.Path():
				if got := num(t, r["memory"]); got < 32<<20 {
					t.Errorf("mem: memory = %v, want ≥ 32 MiB", got)
				}
			case parent:
				if r["prefix"] != nil || r["name"] != parent[1:] {
					t.Errorf("top-level cgroup: name %v prefix %v, want %s and no prefix", r["name"], r["prefix"], parent[1:])
				}
			}
		}
	}
	if want != len(rows) {
		t.Errorf("%d points in InfluxDB, want %d (one per cgroup and snapshot)", len(rows), want)
	}
	if len(busyCPU) < 2 {
		t.Fatalf("only %d cpu values for the busy group", len(busyCPU))
	}
	if last := busyCPU[len(busyCPU)-1]; math.Abs(last-50) > 5 {
		t.Errorf("busy loop under a 50 %% quota: cpu = %v, want 50 ± 5 (all: %v)", last, busyCPU)
	}
	if strings.Contains(lb.String(), influxtest.AdminPass) {
		t.Error("the password is in the log")
	}
	t.Logf("%d points over %d snapshots; busy cpu %v", len(rows), len(snaps), busyCPU)
}

// TestVictoriaMetrics writes to VictoriaMetrics through both APIs and
// reads the samples back from /api/v1/export.
func TestVictoriaMetrics(t *testing.T) {
	h := testcg.Require(t)
	v := influxtest.StartVictoria(t)
	g := h.NewGroup(t, "sleepers")
	g.Sleepers(t, 3)
	a := startAgent(t, time.Second)
	for _, api := range []string{"v1", "v2"} {
		o := DefaultOptions()
		o.URL, o.API, o.Measurement, o.Filter.Group = v.URL, api, "cgtop_"+api, g.Path()
		if api == "v1" {
			o.Database = "vmdb"
		} else {
			o.Bucket, o.Org, o.Token = "vmbucket", "org", "tok"
		}
		log, _ := newLog(t)
		startSink(t, o, a, log)
	}
	time.Sleep(3500 * time.Millisecond)
	a.stop()
	snaps := a.snapshots()
	for _, api := range []string{"v1", "v2"} {
		series := v.Export(fmt.Sprintf(`{__name__="cgtop_%s_tasks"}`, api))
		if len(series) != 1 {
			t.Fatalf("%s: %d series of cgtop_%s_tasks, want 1: %+v", api, len(series), api, series)
		}
		sr := series[0]
		if sr.Metric["name"] != "sleepers" || sr.Metric["prefix"] != g.Path()[:strings.LastIndexByte(g.Path(), '/')] {
			t.Errorf("%s: labels %v", api, sr.Metric)
		}
		got := map[int64]float64{}
		for i, ts := range sr.Timestamps {
			got[ts] = sr.Values[i]
		}
		n := 0
		for _, snap := range snaps {
			c := snap.Find(g.Path())
			if c == nil {
				continue
			}
			n++
			ts := snap.Timestamp.Truncate(time.Second).UnixMilli() // precision s
			if v, ok := got[ts]; !ok || v != 3 {
				t.Errorf("%s: tasks at %d = %v (present %v), want 3", api, ts, v, ok)
			}
		}
		if n == 0 || len(got) != n {
			t.Errorf("%s: %d samples, want %d", api, len(got), n)
		}
		mem := v.Export(fmt.Sprintf(`{__name__="cgtop_%s_memory",name="sleepers"}`, api))
		if len(mem) != 1 || len(mem[0].Values) != n {
			t.Errorf("%s: memory series %+v, want one with %d samples", api, mem, n)
		}
	}
}

// TestWriteProblems: wrong credentials, a database that does not exist, a
// certificate for another name: a clear log line once, the data kept, no
// crash and no busy loop (a handful of requests in 4 s of backoff); and the
// working HTTPS variants.
func TestWriteProblems(t *testing.T) {
	h := testcg.Require(t)
	plain := influxtest.StartInfluxd(t, false)
	secure := influxtest.StartInfluxd(t, true)
	g := h.NewGroup(t, "g")
	g.Sleepers(t, 1)
	a := startAgent(t, time.Second)
	localhost := strings.Replace(secure.URL, "127.0.0.1", "localhost", 1)
	for _, tc := range []struct {
		name   string
		opts   func(o *Options)
		log    string // the cause, in the degraded-mode warning; "" = must work
		kind   string
		server *influxtest.Influxd
	}{
		{"wrong password", func(o *Options) { o.Password = "wrong-" + influxtest.AdminPass }, "refused the credentials", "authentication", plain},
		{"no user", func(o *Options) { o.Username, o.Password = "", "" }, "refused the credentials", "authentication", plain},
		{"wrong database", func(o *Options) { o.Database = "nosuchdb" }, "database not found", "configuration", plain},
		{"TLS name mismatch", func(o *Options) {}, "TLS certificate not accepted", "configuration", secure},
		{"TLS unknown CA", func(o *Options) { o.URL, o.CAFile = localhost, "" }, "TLS certificate not accepted", "configuration", secure},
		{"TLS with ca_file", func(o *Options) { o.URL = localhost }, "", "", secure},
		{"TLS unverified", func(o *Options) { o.CAFile, o.TLSVerify = "", false }, "", "", secure},
		{"precision s", func(o *Options) { o.Precision = "s" }, "", "", plain},
		{"precision us", func(o *Options) { o.Precision = "us" }, "", "", plain},
		{"precision ns", func(o *Options) { o.Precision = "ns" }, "", "", plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := v1Options(tc.server, g.Path())
			o.Measurement = strings.NewReplacer(" ", "_").Replace(tc.name)
			tc.opts(&o)
			log, lb := newLog(t)
			s := startSink(t, o, a, log)
			time.Sleep(4 * time.Second)
			st := s.Stats()
			if tc.log == "" {
				if st.PointsWritten == 0 || st.Failures != 0 || st.PointsRejected != 0 {
					t.Errorf("want points written and no failure: %+v", st)
				}
				// The timestamps arrive at the precision they were sent in.
				rows := tc.server.Query(influxtest.DB, fmt.Sprintf(`SELECT last(tasks) FROM %q`, o.Measurement), true).Rows()
				if len(rows) != 1 {
					t.Fatalf("last point: %v", rows)
				}
				if at := time.UnixMilli(int64(num(t, rows[0]["time"]))); time.Since(at) > 10*time.Second || time.Until(at) > time.Second {
					t.Errorf("the last point is stamped %s, want within the last 10 s", at)
				}
				return
			}
			// Backoff 1 s, 2 s: attempts at 0, 1, 3 s.
			if st.Requests < 1 || st.Requests > 4 {
				t.Errorf("%d requests in 4 s, want 1…4 (backoff, no busy loop)", st.Requests)
			}
			if !st.Degraded || st.PointsWritten != 0 || st.PointsDropped != 0 || st.PointsQueued == 0 {
				t.Errorf("want degraded with the points kept: %+v", st)
			}
			if n := lb.count("entering degraded mode"); n != 1 {
				t.Errorf("%d degraded-mode warnings, want 1", n)
			}
			if !strings.Contains(lb.String(), tc.log) || !strings.Contains(lb.String(), "problem="+tc.kind) {
				t.Errorf("log lacks %q and problem=%s", tc.log, tc.kind)
			}
			if strings.Contains(lb.String(), influxtest.AdminPass) || strings.Contains(st.LastError, influxtest.AdminPass) {
				t.Error("the password is in the log or the stats")
			}
			t.Logf("last error: %s", st.LastError)
		})
	}
}

var _ delivery.Snapshots = (*agent.Subscription)(nil)
