package promexport

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestFastGathererMatchesRegistry: the fast path gathers exactly what
// prometheus.Registry gathers from the same Collector, checks included —
// the same families with the same names, help, types and series.
func TestFastGathererMatchesRegistry(t *testing.T) {
	src := staticSource{bigSnapshot(t, 50)} // containers with network and filesystem figures among them
	sinks := []Sink{fakeSink{"collectd", 3, 1, 0}, fakeBacklogSink{fakeSink{"influxdb", 5, 0, 0}, 7, false, 1.5}}

	reg := prometheus.NewRegistry()
	reg.MustRegister(New(Options{Source: src, Sinks: sinks}))
	want, err := reg.Gather() // fails on any inconsistency
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	got, err := newFastGatherer(New(Options{Source: src, Sinks: sinks})).Gather()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(flatten(want), flatten(got)); d != "" {
		t.Errorf("fast gatherer differs from the registry (-registry +fast):\n%s", d)
	}
	if len(want) < 40 {
		t.Errorf("only %d families: the snapshot does not exercise the exporter", len(want))
	}
}

// flatten renders families as "name|help|type|series" lines, sorted: the
// registry sorts series, the fast path keeps the Collector's order.
func flatten(fams []*dto.MetricFamily) []string {
	var out []string
	for _, f := range fams {
		for _, m := range f.Metric {
			out = append(out, f.GetName()+"|"+f.GetHelp()+"|"+f.GetType().String()+"|"+m.String())
		}
	}
	slices.Sort(out)
	return out
}
