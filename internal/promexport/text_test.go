package promexport

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// accepts are Accept headers of the text format: what Prometheus 2 sends,
// nothing, and each escaping scheme a newer server may ask for.
var accepts = []string{
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	"",
	"text/plain;version=0.0.4;escaping=allow-utf-8",
	"text/plain;version=0.0.4;escaping=underscores",
	"text/plain;version=0.0.4;escaping=dots",
	"text/plain;version=0.0.4;escaping=values",
}

// expfmtText is what expfmt's encoder writes for fams, a family that fails
// left out (the textWriter does not send a family's first half).
func expfmtText(t testing.TB, format expfmt.Format, fams []*dto.MetricFamily) (string, int) {
	var out bytes.Buffer
	failed := 0
	for _, mf := range fams {
		var b bytes.Buffer
		if err := expfmt.NewEncoder(&b, format).Encode(mf); err != nil {
			failed++
			continue
		}
		out.Write(b.Bytes())
	}
	return out.String(), failed
}

func writeText(format expfmt.Format, fams []*dto.MetricFamily) (string, []error) {
	tw := newTextWriter()
	tw.reset(format)
	var out bytes.Buffer
	errs, err := tw.write(&out, fams)
	if err != nil {
		errs = append(errs, err)
	}
	return out.String(), errs
}

// TestTextWriterMatchesExpfmt: cgmon's text writer writes what expfmt
// writes, byte for byte, in every escaping scheme: for a scrape of 50
// cgroups with the Go and process collectors, and for families it must
// hand to expfmt or refuse.
func TestTextWriterMatchesExpfmt(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	src := staticSource{bigSnapshot(t, 50)}
	fams, err := gatherers{reg, newFastGatherer(New(Options{Source: src}))}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	fams = append(fams, oddFamilies()...)

	for _, accept := range accepts {
		format := expfmt.Negotiate(http.Header{"Accept": {accept}})
		t.Run(string(format), func(t *testing.T) {
			want, failed := expfmtText(t, format, fams)
			got, errs := writeText(format, fams)
			if len(errs) != failed {
				t.Errorf("%d families refused (%v), expfmt refuses %d", len(errs), errors.Join(errs...), failed)
			}
			if got != want {
				t.Errorf("differs from expfmt (-expfmt +cgmon):\n%s", cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
			}
			if len(got) < 100_000 {
				t.Errorf("only %d bytes: the scrape does not exercise the writer", len(got))
			}
		})
	}
}

// oddFamilies are families the fast path must get right or leave to
// expfmt: escapes, special values, timestamps, names that need quoting,
// types it does not write, and broken families.
func oddFamilies() []*dto.MetricFamily {
	shared := []*dto.LabelPair{
		{Name: proto.String("a"), Value: proto.String("back\\slash \"quoted\"\nnew line ☃")},
		{Name: proto.String("b"), Value: proto.String("")},
	}
	gauge := func(v float64, labels []*dto.LabelPair) *dto.Metric {
		return &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	}
	return []*dto.MetricFamily{
		{Name: proto.String("odd_values"), Help: proto.String("help with \\ and \n and \"quotes\""), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{
				gauge(math.NaN(), shared), gauge(math.Inf(1), shared), gauge(math.Inf(-1), shared),
				gauge(math.Copysign(0, -1), shared), gauge(1, shared), gauge(-1, shared),
				gauge(1e-300, nil), gauge(123456789012345678, nil), gauge(0.1, shared[1:]),
				{Label: shared, Gauge: &dto.Gauge{Value: proto.Float64(3)}, TimestampMs: proto.Int64(-1_700_000_000_000)},
			}},
		{Name: proto.String("no_help_total"), Type: dto.MetricType_COUNTER.Enum(),
			Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(42)}}}},
		{Name: proto.String("odd_untyped"), Help: proto.String(""), Type: dto.MetricType_UNTYPED.Enum(),
			Metric: []*dto.Metric{{Label: shared, Untyped: &dto.Untyped{Value: proto.Float64(7)}}}},
		{Name: proto.String("dotted.name"), Help: proto.String("a UTF-8 name"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{gauge(1, shared)}},
		{Name: proto.String("dotted_label"), Help: proto.String("a UTF-8 label name"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{gauge(2, shared), gauge(3, []*dto.LabelPair{{Name: proto.String("x.y"), Value: proto.String("v")}})}},
		{Name: proto.String("odd_summary"), Help: proto.String("a summary"), Type: dto.MetricType_SUMMARY.Enum(),
			Metric: []*dto.Metric{{Label: shared, Summary: &dto.Summary{SampleCount: proto.Uint64(3), SampleSum: proto.Float64(1.5),
				Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(0.4)}}}}}},
		{Name: proto.String("empty"), Help: proto.String("no metrics"), Type: dto.MetricType_GAUGE.Enum()},
		{Name: proto.String("wrong_value_total"), Help: proto.String("a counter with a gauge"), Type: dto.MetricType_COUNTER.Enum(),
			Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(1)}}, gauge(2, nil)}},
		{Name: proto.String("after_errors"), Help: proto.String("still written"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{gauge(5, shared)}},
	}
}

// FuzzTextWriter: any label value, help, name and value is written as
// expfmt writes it, or refused where expfmt refuses it.
func FuzzTextWriter(f *testing.F) {
	f.Add("container_memory_usage_bytes", "help", "/system.slice/a.service", 1.5, int64(0), true)
	f.Add("a.b", "x\\y\nz", "\"\\\n", math.Inf(-1), int64(-5), false)
	f.Add("", "", "\xff\xfe", math.NaN(), int64(1), true)
	f.Fuzz(func(t *testing.T, name, help, value string, v float64, ts int64, counter bool) {
		labels := []*dto.LabelPair{{Name: proto.String("id"), Value: proto.String(value)}, {Name: proto.String("name"), Value: proto.String(help)}}
		m := func(v float64) *dto.Metric {
			if counter {
				return &dto.Metric{Label: labels, Counter: &dto.Counter{Value: proto.Float64(v)}}
			}
			return &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: proto.Float64(v)}}
		}
		typ := dto.MetricType_GAUGE
		if counter {
			typ = dto.MetricType_COUNTER
		}
		last := m(-v)
		if ts != 0 {
			last.TimestampMs = proto.Int64(ts)
		}
		fams := []*dto.MetricFamily{{Name: proto.String(name), Help: proto.String(help), Type: typ.Enum(), Metric: []*dto.Metric{m(v), m(v * 2), last}}}
		for _, accept := range accepts[1:] {
			format := expfmt.Negotiate(http.Header{"Accept": {accept}})
			want, failed := expfmtText(t, format, fams)
			got, errs := writeText(format, fams)
			if got != want || len(errs) != failed {
				t.Fatalf("%s: cgmon wrote %q (errors %v), expfmt %q (%d failed)", format, got, errs, want, failed)
			}
		}
	})
}

// TestScrapeProtobuf: a server that asks for protobuf (Prometheus with
// native histograms) gets it from promhttp, with the same families as the
// text answer.
func TestScrapeProtobuf(t *testing.T) {
	h := Handler(New(Options{Source: staticSource{fixtureSnapshot(t)}}), nil)
	get := func(accept string) (string, map[string]int) {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("Accept %q: status %d: %s", accept, rec.Code, rec.Body)
		}
		ct := rec.Header().Get("Content-Type")
		dec := expfmt.NewDecoder(rec.Body, expfmt.Format(ct))
		series := map[string]int{}
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("Accept %q: decode %s: %v", accept, ct, err)
			}
			series[mf.GetName()] = len(mf.Metric)
		}
		return ct, series
	}
	textType, text := get("text/plain;version=0.0.4")
	protoType, pb := get("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")
	if expfmt.Format(textType).FormatType() != expfmt.TypeTextPlain || expfmt.Format(protoType).FormatType() != expfmt.TypeProtoDelim {
		t.Fatalf("Content-Types %q and %q", textType, protoType)
	}
	for name, n := range text {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		if pb[name] != n {
			t.Errorf("%s: %d series in text, %d in protobuf", name, n, pb[name])
		}
	}
	if len(text) < 40 {
		t.Errorf("only %d families", len(text))
	}
}

// TestScrapesInFlight: three scrapes run at once, a fourth is refused with
// a 503 until one ends.
func TestScrapesInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, maxScrapes)
	h := limitInFlight(maxScrapes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range maxScrapes {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil)) })
	}
	for range maxScrapes {
		<-started
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "concurrent requests") {
		t.Errorf("fourth scrape: %d %q, want 503", rec.Code, rec.Body)
	}
	close(release)
	wg.Wait()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after the others ended: %d, want 200", rec.Code)
	}
}
