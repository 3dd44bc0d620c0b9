package promexport

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Label names, as the label pairs point to them.
var (
	labelCPU       = "cpu"
	labelDevice    = "device"
	labelID        = "id"
	labelInterface = "interface"
	labelName      = "name"
	labelRuntime   = "runtime"
)

// pair is a label: a pointer to one of the names above and a value.
type pair struct {
	name  *string
	value string
}

// renderer hands out the metrics of one scrape from slabs. A cgroup's
// metrics share one slice of label pairs instead of each building and
// sorting its own (prometheus.NewConstMetric's way): at a thousand cgroups
// that halves a scrape. Nothing is changed after it is sent, so the
// registry may read the metrics in any order.
type renderer struct {
	metrics  []sample
	floats   []float64
	counters []dto.Counter
	gauges   []dto.Gauge
	pairs    []dto.LabelPair
	ptrs     []*dto.LabelPair
	values   []string
}

const slab = 512

// labels returns label pairs for ps, which must be in name order.
func (r *renderer) labels(ps ...pair) []*dto.LabelPair {
	if len(r.pairs)+len(ps) > cap(r.pairs) {
		r.pairs = make([]dto.LabelPair, 0, slab)
		r.ptrs = make([]*dto.LabelPair, 0, slab)
		r.values = make([]string, 0, slab)
	}
	start := len(r.ptrs)
	for _, p := range ps {
		r.values = append(r.values, p.value)
		r.pairs = r.pairs[:len(r.pairs)+1]
		lp := &r.pairs[len(r.pairs)-1]
		lp.Name, lp.Value = p.name, &r.values[len(r.values)-1]
		r.ptrs = append(r.ptrs, lp)
	}
	return r.ptrs[start:len(r.ptrs):len(r.ptrs)]
}

// metric returns a metric with shared label pairs. The value's protobuf
// message is filled here, not in Write: Write runs in the registry's
// goroutine while Collect goes on filling the slabs.
func (r *renderer) metric(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels []*dto.LabelPair) prometheus.Metric {
	if len(r.floats) == cap(r.floats) {
		r.floats = make([]float64, 0, slab)
	}
	r.floats = append(r.floats, v)
	value := &r.floats[len(r.floats)-1]
	m := next(&r.metrics)
	m.desc = desc
	m.m.Label = labels
	switch typ {
	case prometheus.CounterValue:
		m.m.Counter = next(&r.counters)
		m.m.Counter.Value = value
	case prometheus.GaugeValue:
		m.m.Gauge = next(&r.gauges)
		m.m.Gauge.Value = value
	default:
		m.m.Untyped = &dto.Untyped{Value: value}
	}
	return m
}

// next returns a zero element from a slab, starting a new slab when it is
// full (the elements handed out stay where they are).
func next[T any](s *[]T) *T {
	if len(*s) == cap(*s) {
		*s = make([]T, 0, slab)
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

// sample is a prometheus.Metric whose label pairs are shared and already in
// name order. It holds its protobuf message: fastGatherer takes that as it
// is instead of having Write copy it into a new one (at a thousand cgroups,
// 8 MB less garbage a scrape).
type sample struct {
	desc *prometheus.Desc
	m    dto.Metric // Label and one of Counter, Gauge, Untyped set
}

func (s *sample) Desc() *prometheus.Desc { return s.desc }

func (s *sample) Write(m *dto.Metric) error {
	m.Label, m.Counter, m.Gauge, m.Untyped = s.m.Label, s.m.Counter, s.m.Gauge, s.m.Untyped
	return nil
}

// validUTF8 returns s with invalid bytes replaced: the registry refuses a
// label value that is not UTF-8, and a cgroup's name may be any bytes.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
