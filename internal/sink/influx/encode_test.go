package influx

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/sample"
)

var ts = time.Date(2026, 11, 22, 6, 0, 0, 123456789, time.UTC)

func f(v float64) model.Float { return model.Float{V: v, OK: true} }
func n(v uint64) model.Count  { return model.Count{V: v, OK: true} }

func testSnapshot() *model.Snapshot {
	return &model.Snapshot{
		Timestamp: ts, Hostname: "node-01", CgroupMode: "hybrid", IntervalSeconds: f(1),
		Cgroups: []model.Cgroup{
			{Path: "/", Name: "/", Kind: "raw", CPU: model.CPU{Percent: f(136.94)}, Memory: model.Memory{UsageBytes: n(1341919232)}},
			{Path: "/system.slice", Name: "system.slice", Kind: "systemd", Tasks: n(0), Memory: model.Memory{UsageBytes: n(0)}}, // cgtop: a row of dashes
			{Path: "/system.slice/sshd.service", Name: "sshd.service", Prefix: "/system.slice", Kind: "systemd",
				CPU:    model.CPU{Percent: f(0.04999), UsageSecondsTotal: f(12.5), LimitCores: model.Limit{State: sample.LimitUnlimited}},
				Memory: model.Memory{UsageBytes: n(4 << 20), LimitBytes: model.Limit{V: 1 << 30, State: sample.LimitSet}},
				Tasks:  n(3), IO: model.IO{ReadBytesPerSecond: f(4095.9), WriteBytesPerSecond: f(0)}},
			{Path: "/system.slice/we ird,na=me.service", Name: "we ird,na=me.service", Prefix: "/system.slice", Kind: "systemd", Tasks: n(1)},
			{Path: "/machine.slice/libpod-abc.scope", Name: "libpod-abc.scope", Prefix: "/machine.slice", Kind: "podman",
				Container: &model.Container{Runtime: "podman", ID: "abc", Name: "web"}, Tasks: n(7),
				PSI: model.Pressure{CPU: model.PSI{Some: model.PSILine{Avg10: 1.5, TotalSeconds: 2, OK: true}}}},
			{Path: "/a/b/c", Name: "c", Prefix: "/a/b", Kind: "raw", Tasks: n(1)},
			{Path: "/a/b/c/d", Name: "d", Prefix: "/a/b/c", Kind: "raw", Tasks: n(1)}, // below cgtop's depth 3
			{Path: "/bad", Name: "bad\x01name", Kind: "raw", Tasks: n(1)},             // line protocol cannot carry it
			{Path: "/nan", Name: "nan", Kind: "raw", CPU: model.CPU{Percent: f(math.NaN())}},
		},
	}
}

func encodeLines(t testing.TB, o Options, s *model.Snapshot) (string, *encoder) {
	t.Helper()
	c, err := o.check()
	if err != nil {
		t.Fatal(err)
	}
	e := newEncoder(o, c)
	var b strings.Builder
	for _, l := range e.Encode(s) {
		if l[len(l)-1] != '\n' || strings.Count(string(l), "\n") != 1 {
			t.Errorf("point %q is not one line", l)
		}
		b.Write(l)
	}
	return b.String(), e
}

func opts(mod func(*Options)) Options {
	o := DefaultOptions()
	o.Database = "db"
	if mod != nil {
		mod(&o)
	}
	return o
}

func TestEncodeCgtop(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"cgtop_mon's schema", opts(nil), `node-01,name=/ cpu=136.9,memory=1341919232i 1795327200
node-01,name=sshd.service,prefix=/system.slice cpu=0,io_read=4095i,io_write=0i,memory=4194304i,tasks=3i 1795327200
node-01,name=we\ ird\,na\=me.service,prefix=/system.slice tasks=1i 1795327200
node-01,name=libpod-abc.scope,prefix=/machine.slice tasks=7i 1795327200
node-01,name=c,prefix=/a/b tasks=1i 1795327200
`},
		{"measurement, precision, filter", opts(func(o *Options) {
			o.Measurement, o.Precision = "my host,x", "ms"
			o.Filter = FilterOptions{Group: "system.slice", Include: []string{"*.service"}, Exclude: []string{"we*"}}
		}), `my\ host\,x,name=sshd.service,prefix=/system.slice cpu=0,io_read=4095i,io_write=0i,memory=4194304i,tasks=3i 1795327200123
`},
		{"depth counts from the group", opts(func(o *Options) { o.Filter.Group = "/a"; o.Precision = "ns" }),
			"node-01,name=c,prefix=/a/b tasks=1i 1795327200123456789\nnode-01,name=d,prefix=/a/b/c tasks=1i 1795327200123456789\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, e := encodeLines(t, tc.opts, testSnapshot())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if tc.opts.Filter.Group == "" && e.skipped.Load() != 2 {
				t.Errorf("skipped %d cgroups, want 2 (a control character, a NaN as the only field)", e.skipped.Load())
			}
		})
	}
}

func TestEncodeNative(t *testing.T) {
	got, _ := encodeLines(t, opts(func(o *Options) { o.Schema = "native"; o.Filter.Include = []string{"sshd.service", "libpod-*"} }), testSnapshot())
	want := `cgroup,host=node-01,kind=systemd,name=sshd.service,path=/system.slice/sshd.service,prefix=/system.slice cpu_usage_seconds_total=12.5,cpu_percent=0.04999,memory_usage_bytes=4194304i,memory_limit_bytes=1073741824i,tasks=3i,io_read_bytes_per_second=4095.9,io_write_bytes_per_second=0 1795327200
cgroup,container_name=web,host=node-01,kind=podman,name=libpod-abc.scope,path=/machine.slice/libpod-abc.scope,prefix=/machine.slice,runtime=podman tasks=7i,psi_cpu_some_avg10=1.5,psi_cpu_some_avg60=0,psi_cpu_some_avg300=0,psi_cpu_some_total_seconds=2 1795327200
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// Every encoded point decodes with the library's own decoder to the values
// it was made of.
func TestEncodedPointsDecode(t *testing.T) {
	for _, schema := range []string{"cgtop", "native"} {
		got, _ := encodeLines(t, opts(func(o *Options) { o.Schema = schema }), testSnapshot())
		dec := lineprotocol.NewDecoderWithBytes([]byte(got))
		lines := 0
		for dec.Next() {
			lines++
			if _, err := dec.Measurement(); err != nil {
				t.Fatal(err)
			}
			for {
				k, v, err := dec.NextTag()
				if err != nil {
					t.Fatal(err)
				}
				if k == nil {
					break
				}
				if string(k) == "name" && strings.Contains(string(v), "ird") && string(v) != "we ird,na=me.service" {
					t.Errorf("name tag decodes to %q", v)
				}
			}
			for {
				k, _, err := dec.NextField()
				if err != nil {
					t.Fatal(err)
				}
				if k == nil {
					break
				}
			}
			if tm, err := dec.Time(lineprotocol.Second, time.Time{}); err != nil || !tm.Equal(ts.Truncate(time.Second)) {
				t.Errorf("time %v, %v", tm, err)
			}
		}
		if lines == 0 {
			t.Errorf("%s: no points", schema)
		}
	}
}

func TestCheckNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Options)
		want string
	}{
		{func(o *Options) { o.Database = "" }, "influxdb.database: required with api v1"},
		{func(o *Options) { o.API = "v3" }, "influxdb.api"},
		{func(o *Options) { o.API = "v2" }, "influxdb.bucket: required with api v2"},
		{func(o *Options) { o.API, o.Bucket, o.Database, o.Username = "v2", "b", "", "u" }, "influxdb.username"},
		{func(o *Options) { o.URL = "ftp://x" }, "influxdb.url"},
		{func(o *Options) { o.URL = "http://x/?db=y" }, "influxdb.url"},
		{func(o *Options) { o.Precision = "h" }, "influxdb.precision"},
		{func(o *Options) { o.Schema = "x" }, "influxdb.schema"},
		{func(o *Options) { o.BatchSize = 0 }, "influxdb.batch_size"},
		{func(o *Options) { o.MaxPendingPoints = -1 }, "influxdb.max_pending_points"},
		{func(o *Options) { o.Timeout = 0 }, "influxdb.timeout"},
		{func(o *Options) { o.SpoolDir, o.SpoolMaxBytes = "/x", 10 }, "influxdb.spool_max_bytes"},
		{func(o *Options) { o.Filter.Include = []string{"a/b"} }, "influxdb.filter"},
		{func(o *Options) {}, ""},
	} {
		err := opts(tc.mod).Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Check() = %v, want %q", err, tc.want)
		}
	}
	o := opts(func(o *Options) { o.Password, o.Token, o.URL = "pw1", "tok1", "http://u:pw2@h:1" })
	if s := fmt.Sprint(o.LogValue()); strings.Contains(s, "pw1") || strings.Contains(s, "tok1") || strings.Contains(s, "pw2") {
		t.Errorf("LogValue shows a secret: %s", s)
	}
}

func TestClassifyStatus(t *testing.T) {
	for code, want := range map[int]string{
		200: "", 204: "", 400: "bad data", 413: "bad data", 422: "bad data", 401: "authentication", 403: "authentication",
		404: "configuration", 429: "retryable", 500: "retryable", 503: "retryable", 307: "retryable",
	} {
		err := classifyStatus("http://h/write", code, []byte(`{"error":"x"}`))
		got := ""
		if err != nil {
			got = kindOf(err)
		}
		if got != want {
			t.Errorf("%d: %q, want %q", code, got, want)
		}
	}
}

// BenchmarkEncodeCgtop encodes a snapshot of 1000 cgroups in the cgtop
// schema; points/s is the throughput on one core (target ≥ 1 M/s).
func BenchmarkEncodeCgtop(b *testing.B) { benchEncode(b, "cgtop") }

// BenchmarkEncodeNative is the same with every metric.
func BenchmarkEncodeNative(b *testing.B) { benchEncode(b, "native") }

func benchEncode(b *testing.B, schema string) {
	s := bigSnapshot(1000)
	o := opts(func(o *Options) { o.Schema = schema })
	c, err := o.check()
	if err != nil {
		b.Fatal(err)
	}
	e := newEncoder(o, c)
	points := 0
	b.ReportAllocs()
	for b.Loop() {
		points += len(e.Encode(s))
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
}

// bigSnapshot has n cgroups shaped like a real container's: every figure
// present.
func bigSnapshot(n int) *model.Snapshot {
	s := &model.Snapshot{Timestamp: ts, Hostname: "node-01", IntervalSeconds: f(1)}
	psi := model.PSILine{Avg10: 0.5, Avg60: 0.25, Avg300: 0.1, TotalSeconds: 12.3, Percent: f(0.4), OK: true}
	for i := range n {
		name := fmt.Sprintf("libpod-%064x.scope", i)
		s.Cgroups = append(s.Cgroups, model.Cgroup{
			Path: "/machine.slice/" + name, Name: name, Prefix: "/machine.slice", Kind: "podman",
			Container: &model.Container{Runtime: "podman", ID: fmt.Sprintf("%064x", i), Name: fmt.Sprintf("web-%d", i)},
			CPU: model.CPU{UsageSecondsTotal: f(1234.5), UserSecondsTotal: f(1000), SystemSecondsTotal: f(234.5), Percent: f(12.34),
				UserPercent: f(10), SystemPercent: f(2.34), PeriodsTotal: n64(100), ThrottledPeriodsTotal: n64(5), ThrottledSecondsTotal: f(0.5),
				ThrottledPercent: f(5), LimitCores: model.Limit{V: 2, State: sample.LimitSet}},
			Memory: model.Memory{UsageBytes: n64(123456789), WorkingSetBytes: n64(100000000), LimitBytes: model.Limit{V: 1 << 30, State: sample.LimitSet},
				UsagePercent: f(11.5), PeakBytes: n64(200000000), AnonBytes: n64(90000000), FileBytes: n64(30000000), ShmemBytes: n64(1000),
				InactiveFileBytes: n64(23456789), SwapBytes: n64(0), FailcntTotal: n64(0), OOMEventsTotal: n64(0), OOMKillsTotal: n64(0)},
			Tasks: n64(12), TasksLimit: model.Limit{V: 4096, State: sample.LimitSet},
			IO: model.IO{ReadBytesTotal: n64(1 << 30), WriteBytesTotal: n64(2 << 30), ReadOpsTotal: n64(1000), WriteOpsTotal: n64(2000),
				ReadBytesPerSecond: f(4096), WriteBytesPerSecond: f(8192), ReadOpsPerSecond: f(1), WriteOpsPerSecond: f(2)},
			PSI: model.Pressure{CPU: model.PSI{Some: psi, Full: psi}, Memory: model.PSI{Some: psi, Full: psi}, IO: model.PSI{Some: psi, Full: psi}},
		})
	}
	return s
}

func n64(v uint64) model.Count { return model.Count{V: v, OK: true} }

func kindOf(err error) string { return delivery.KindOf(err).String() }
