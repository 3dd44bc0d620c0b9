package promexport

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// scrape GETs /metrics from h as Prometheus does (text format) and returns
// the body; anything logged fails the test.
func scrape(t *testing.T, c *Collector) []byte {
	t.Helper()
	var logged bytes.Buffer
	h := Handler(c, slog.New(slog.NewTextHandler(&logged, nil)))
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if logged.Len() > 0 {
		t.Errorf("the scrape logged: %s", logged.String())
	}
	return rec.Body.Bytes()
}

type families map[string]*dto.MetricFamily

func parse(t *testing.T, body []byte) families {
	t.Helper()
	p := expfmt.NewTextParser(prommodel.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return mfs
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func valueOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return m.Untyped.GetValue()
}

// find returns the value of metric name with the labels given (others may
// be there), and whether there is one.
func (f families) find(name string, labels ...string) (float64, bool) {
	mf := f[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.Metric {
		l := labelsOf(m)
		for i := 0; i+1 < len(labels); i += 2 {
			if l[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return valueOf(m), true
	}
	return 0, false
}

// promtoolCheck runs `promtool check metrics` over a scrape: it must print
// nothing and succeed.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	promtool := testsvc.LookPath(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestFixtureScrape renders the v2 fixture, its containers with network
// and filesystem figures: every figure of every cgroup is there with the
// snapshot's value, and only then.
func TestFixtureScrape(t *testing.T) {
	snap := fixtureSnapshot(t)
	body := scrape(t, New(Options{Source: staticSource{snap}}))
	promtoolCheck(t, body)
	f := parse(t, body)
	for i := range snap.Cgroups {
		c := &snap.Cgroups[i]
		for _, m := range cgroupMetrics {
			want, wantOK := m.value(c)
			got, ok := f.find(m.name, "id", c.Path)
			if ok != wantOK || ok && got != want && !(math.IsInf(got, 1) && math.IsInf(want, 1)) {
				t.Errorf("%s{id=%q} = %v (present %v), want %v (present %v)", m.name, c.Path, got, ok, want, wantOK)
			}
		}
		got, ok := f.find("container_cpu_usage_seconds_total", "id", c.Path, "cpu", "total")
		if ok != c.CPU.UsageSecondsTotal.OK || got != c.CPU.UsageSecondsTotal.V {
			t.Errorf("container_cpu_usage_seconds_total{id=%q} = %v, %v; want %v", c.Path, got, ok, c.CPU.UsageSecondsTotal)
		}
		for _, d := range c.IO.Devices {
			got, ok := f.find("container_fs_writes_bytes_total", "id", c.Path, "device", "/dev/"+d.Device)
			if !ok || got != float64(d.WriteBytesTotal) {
				t.Errorf("container_fs_writes_bytes_total{id=%q,device=/dev/%s} = %v, %v; want %d", c.Path, d.Device, got, ok, d.WriteBytesTotal)
			}
		}
		checkContainerSeries(t, f, c)
		if c.PSI.Memory.Full.OK {
			got, ok := f.find("container_pressure_memory_stalled_seconds_total", "id", c.Path)
			if !ok || got != c.PSI.Memory.Full.TotalSeconds {
				t.Errorf("container_pressure_memory_stalled_seconds_total{id=%q} = %v, %v; want %v", c.Path, got, ok, c.PSI.Memory.Full.TotalSeconds)
			}
		}
	}
	if _, ok := f.find("container_memory_usage_bytes", "id", "/"); ok {
		t.Error("the v2 root has no memory.current, yet container_memory_usage_bytes{id=\"/\"} is there")
	}
	if n := len(f["container_network_receive_bytes_total"].GetMetric()); n != 3 {
		t.Errorf("%d container_network_receive_bytes_total series, want 3 (eth0 of the podman, LXC and containerd containers)", n)
	}
	if v, ok := f.find("cgmon_snapshot_cgroups"); !ok || v != float64(len(snap.Cgroups)) {
		t.Errorf("cgmon_snapshot_cgroups = %v, %v; want %d", v, ok, len(snap.Cgroups))
	}
}

// TestLabels: name is set on a container's own cgroup only (cAdvisor's
// name!="" selects containers), runtime on every cgroup of a container,
// and a path that is not UTF-8 is still exported.
func TestLabels(t *testing.T) {
	mem := model.Memory{UsageBytes: model.Count{V: 1, OK: true}}
	snap := &model.Snapshot{Timestamp: time.Unix(1e9, 0), Cgroups: []model.Cgroup{
		{Path: "/bad\xffname", Memory: mem},
		{Path: "/machine.slice/libpod-abc.scope", Memory: mem,
			Container: &model.Container{Runtime: "podman", ID: "abc", Name: "web", Role: "container"}},
		{Path: "/machine.slice/libpod-abc.scope/container", Memory: mem,
			Container: &model.Container{Runtime: "podman", ID: "abc", Name: "web"}},
		{Path: "/machine.slice/libpod-conmon-abc.scope", Memory: mem,
			Container: &model.Container{Runtime: "podman", ID: "abc", Name: "web", Role: "monitor"}},
		{Path: "/system.slice/sshd.service", Memory: mem},
	}}
	f := parse(t, scrape(t, New(Options{Source: staticSource{snap}})))
	want := map[string][2]string{ // id → name, runtime
		"/bad\uFFFDname":                            {"", ""},
		"/machine.slice/libpod-abc.scope":           {"web", "podman"},
		"/machine.slice/libpod-abc.scope/container": {"", "podman"},
		"/machine.slice/libpod-conmon-abc.scope":    {"", "podman"},
		"/system.slice/sshd.service":                {"", ""},
	}
	got := map[string][2]string{}
	for _, m := range f["container_memory_usage_bytes"].GetMetric() {
		l := labelsOf(m)
		got[l["id"]] = [2]string{l["name"], l["runtime"]}
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("id %q: name, runtime = %q, want %q", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d cgroups exported, want %d: %v", len(got), len(want), got)
	}
}

// statsSourceFake is a Source with the agent's counters.
type statsSourceFake struct {
	staticSource
	st agent.Stats
}

func (s statsSourceFake) Stats() agent.Stats { return s.st }

type fakeSink struct {
	name                string
	sent, errs, dropped uint64
}

func (s fakeSink) Name() string                        { return s.name }
func (s fakeSink) SinkStats() (uint64, uint64, uint64) { return s.sent, s.errs, s.dropped }

// fakeBacklogSink is a sink with a backlog, as the InfluxDB output.
type fakeBacklogSink struct {
	fakeSink
	queued   int
	degraded bool
	outage   float64
}

func (s fakeBacklogSink) SinkBacklog() (int, bool, float64) { return s.queued, s.degraded, s.outage }

// TestSelfMetrics: the agent's and the sinks' counters, also before the
// first snapshot.
func TestSelfMetrics(t *testing.T) {
	src := statsSourceFake{st: agent.Stats{Cycles: 7, Errors: 2, Overruns: 1, LastDuration: 1500 * time.Millisecond}}
	sinks := []Sink{fakeSink{"collectd", 30, 1, 4}, fakeBacklogSink{fakeSink{"influxdb", 5, 0, 0}, 120, true, 42.5}}
	body := scrape(t, New(Options{Source: src, Sinks: sinks}))
	promtoolCheck(t, body)
	f := parse(t, body)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cgmon_cycles_total", nil, 7},
		{"cgmon_cycle_errors_total", nil, 2},
		{"cgmon_cycle_overruns_total", nil, 1},
		{"cgmon_cycle_duration_seconds", nil, 1.5},
		{"cgmon_sink_sent_total", []string{"sink", "collectd"}, 30},
		{"cgmon_sink_errors_total", []string{"sink", "collectd"}, 1},
		{"cgmon_sink_dropped_total", []string{"sink", "collectd"}, 4},
		{"cgmon_sink_sent_total", []string{"sink", "influxdb"}, 5},
		{"cgmon_sink_queued", []string{"sink", "influxdb"}, 120},
		{"cgmon_sink_degraded", []string{"sink", "influxdb"}, 1},
		{"cgmon_sink_outage_seconds_total", []string{"sink", "influxdb"}, 42.5},
	} {
		if got, ok := f.find(tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v, %v; want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if _, ok := f["cgmon_snapshot_cgroups"]; ok {
		t.Error("cgmon_snapshot_cgroups before the first snapshot")
	}
	if _, ok := f.find("cgmon_sink_queued", "sink", "collectd"); ok {
		t.Error("cgmon_sink_queued for collectd, which keeps no backlog")
	}
	if _, ok := f["process_resident_memory_bytes"]; !ok {
		t.Error("no process_resident_memory_bytes: the process collector is missing")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                     false,
		"gzip":                 true,
		"GZIP":                 true,
		"deflate, gzip;q=0.5":  true,
		"gzip;q=0":             false,
		"gzip; q=0.000":        false,
		"identity":             false,
		"x-gzip":               false,
		"br, gzip , zstd":      true,
		"gzip;q=1.0, identity": true,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestGzip: a client that accepts gzip, as Prometheus does, gets the same
// metrics compressed.
func TestGzip(t *testing.T) {
	c := New(Options{Source: staticSource{fixtureSnapshot(t)}})
	plain := scrape(t, c)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	Handler(c, nil).ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// Only the Go runtime's and the process's own figures may differ.
	own := func(b []byte) string {
		var keep []string
		for line := range strings.SplitSeq(string(b), "\n") {
			if !strings.HasPrefix(line, "go_") && !strings.HasPrefix(line, "process_") && !strings.Contains(line, " go_") && !strings.Contains(line, " process_") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\n")
	}
	if own(body) != own(plain) {
		t.Errorf("gzipped scrape differs from the plain one")
	}
}
