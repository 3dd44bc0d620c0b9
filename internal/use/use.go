// Package use is cgmon's USE-method analysis (Brendan Gregg: for every
// resource, check utilization, saturation and errors). It turns a
// snapshot's host view and cgroups into checks — one per figure, with a
// status (ok, warning, critical) from fixed, documented thresholds and an
// anomaly flag from a rolling baseline (internal/anomaly) — and names them
// hierarchically (<base>.<hostname>.resources.cpu.utilization).
//
// An Analyzer keeps the baselines, so one Analyzer watches one host; it
// adds the checks to a snapshot before the snapshot is published.
package use

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/anomaly"
	"github.com/cgmon/cgmon/internal/model"
)

// Statuses.
const (
	OK       = "ok"
	Warning  = "warning"
	Critical = "critical"
)

// Kinds: the three USE questions.
const (
	Utilization = "utilization"
	Saturation  = "saturation"
	Errors      = "errors"
)

// Options configure an Analyzer.
type Options struct {
	// AnomalyWindow is the span of every baseline (config
	// use.anomaly_window); 0 means one hour.
	AnomalyWindow time.Duration
	// Anomaly tunes the detector further; its Window is AnomalyWindow.
	Anomaly anomaly.Options
}

// Analyzer adds checks to snapshots. It is not safe for concurrent use.
type Analyzer struct {
	det      *anomaly.Detector
	window   string            // "1-hour", for the words of a flag
	prevOOM  map[string]uint64 // cgroup path → oom_kills_total of the previous snapshot
	lastSeen time.Time
}

// New returns an Analyzer.
func New(opts Options) *Analyzer {
	ao := opts.Anomaly
	ao.Window = opts.AnomalyWindow
	det := anomaly.New(ao)
	return &Analyzer{det: det, window: windowWords(det.Window())}
}

// BytesPerSeries is the baseline memory of one figure.
func (a *Analyzer) BytesPerSeries() int { return a.det.BytesPerSeries() }

// Series returns the number of figures with a baseline.
func (a *Analyzer) Series() int { return a.det.Len() }

// spec describes one figure.
type spec struct {
	name       string // after "resources.": "cpu.utilization", "storage.%s.await"
	resource   string
	kind       string
	unit       string
	warn, crit float64 // status thresholds, value ≥ threshold; 0 = none
	// minDelta is the smallest rise over the baseline's median that may be
	// flagged; negative turns anomaly detection off for the figure.
	minDelta float64
	label    string // words for the flag: "disk %s await"
}

// anyPositive as a threshold means "any value above zero".
const anyPositive = 1e-9

// Analyze adds the checks of s to s.Host (which must not be published
// yet); a snapshot without a host view gets none. Figures absent from the
// snapshot (no rate in the first one, no PSI on the kernel) have no check.
func (a *Analyzer) Analyze(s *model.Snapshot) {
	if s.Host == nil {
		return
	}
	h := s.Host
	c := &collector{a: a, t: s.Timestamp}
	cpuChecks(c, h)
	memoryChecks(c, h)
	storageChecks(c, h)
	networkChecks(c, h)
	a.cgroupChecks(c, s)
	h.Checks = c.checks
	if s.Timestamp.Sub(a.lastSeen) > a.det.Window()/4 {
		a.det.Expire(s.Timestamp)
		a.lastSeen = s.Timestamp
	}
}

type collector struct {
	a      *Analyzer
	t      time.Time
	checks []model.Check
}

// add appends the check of one figure; subject fills the %s of the spec's
// name (as a name segment) and label.
func (c *collector) add(sp spec, subject string, v model.Float) {
	if !v.OK || math.IsNaN(v.V) || math.IsInf(v.V, 0) {
		return
	}
	name, label := sp.name, sp.label
	if strings.Contains(name, "%s") {
		name = fmt.Sprintf(name, Segment(subject))
	}
	if strings.Contains(label, "%s") {
		label = fmt.Sprintf(label, subject)
	}
	ch := model.Check{Name: "resources." + name, Resource: sp.resource, Kind: sp.kind, Subject: subject,
		Value: v.V, Unit: sp.unit, Status: OK}
	switch {
	case sp.crit > 0 && v.V >= sp.crit:
		ch.Status, ch.Reason = Critical, thresholdWords(sp.crit, sp.unit)
	case sp.warn > 0 && v.V >= sp.warn:
		ch.Status, ch.Reason = Warning, thresholdWords(sp.warn, sp.unit)
	}
	if sp.minDelta >= 0 {
		vd := c.a.det.Observe(ch.Name, c.t, v.V, sp.minDelta)
		if vd.Anomalous {
			ch.Anomaly = c.a.anomalyWords(label, v.V, sp.unit, vd)
		}
	}
	c.checks = append(c.checks, ch)
}

func (a *Analyzer) anomalyWords(label string, v float64, unit string, vd anomaly.Verdict) string {
	s := label + " " + formatValue(v, unit) + ", "
	if r := vd.Ratio(v); r >= 1.5 {
		return s + strconv.FormatFloat(r, 'f', 0, 64) + "× its " + a.window + " median"
	}
	return s + "its " + a.window + " median is " + formatValue(vd.Median, unit)
}

func thresholdWords(limit float64, unit string) string {
	if limit == anyPositive {
		return "> " + formatValue(0, unit)
	}
	return "≥ " + formatValue(limit, unit)
}

// formatValue writes a value with its unit: "48 ms", "93.2 %", "0.004/s".
func formatValue(v float64, unit string) string {
	var num string
	switch av := math.Abs(v); {
	case av >= 100 || av == math.Trunc(av):
		num = strconv.FormatFloat(v, 'f', 0, 64)
	case av >= 1:
		num = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		num = strconv.FormatFloat(v, 'g', 2, 64)
	}
	switch {
	case unit == "":
		return num
	case strings.HasPrefix(unit, "/"):
		return num + unit
	}
	return num + " " + unit
}

// windowWords gives "1-hour", "30-minute", "90-second".
func windowWords(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "-hour"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "-minute"
	}
	return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "-second"
}
