// Package anomaly flags values that stand far above their own recent
// past, with no training and no tuning by the user. Each series keeps a
// rolling robust baseline — the median and the median absolute deviation
// (MAD) of a systematic sample of its last window (default one hour) — and
// a value is anomalous when it exceeds the median by more than K robust
// standard deviations (1.4826 × MAD, which equals σ for normal noise), by
// more than the series' own minimum meaningful change, and the 99th
// percentile of the window's slot peaks by half of it again. The last rule
// is for bursty series (a disk idle most of the time, busy in short
// bursts): their median and MAD are near 0, so without it every ordinary
// burst would be flagged; a steady series has its peaks close to its
// median, so the rule costs it nothing.
//
// Memory per series is fixed: two rings of Slots float64 values (240 by
// default: 3.75 KiB), whatever the sampling interval. The window is cut in
// Slots slots (15 s for an hour). One ring keeps one value per slot, a
// systematic sample whose median and MAD estimate the window's without
// bias; the other keeps each slot's largest value, so that every burst of
// the window counts in its 99th percentile, not only those that happened
// to fall on a sampled instant.
//
// The package is pure and deterministic: time comes in with each value,
// nothing reads a clock or a file.
package anomaly

import (
	"math"
	"slices"
	"time"
)

// Defaults.
const (
	DefaultWindow   = time.Hour
	DefaultSlots    = 240
	DefaultMinSlots = 20
	DefaultK        = 5
	// DefaultQuantile and DefaultQuantileFactor: a value must also exceed
	// 1.5 × the window's 99th percentile.
	DefaultQuantile       = 0.99
	DefaultQuantileFactor = 1.5
)

// madToSigma turns a MAD into a standard deviation for normal noise
// (1 / Φ⁻¹(3/4)).
const madToSigma = 1.4826

// Options configure a Detector. Zero values take the defaults.
type Options struct {
	Window time.Duration // the baseline's span
	Slots  int           // values kept per series
	// MinSlots is how many kept values a baseline needs before it judges:
	// with the defaults, 20 × 15 s = 5 minutes of history.
	MinSlots int
	// K is how many robust standard deviations above the median count as
	// anomalous.
	K float64
	// Quantile and QuantileFactor: a value must exceed QuantileFactor ×
	// the window's Quantile to count.
	Quantile, QuantileFactor float64
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Slots <= 0 {
		o.Slots = DefaultSlots
	}
	if o.MinSlots <= 0 {
		o.MinSlots = DefaultMinSlots
	}
	o.MinSlots = min(o.MinSlots, o.Slots)
	if o.K <= 0 {
		o.K = DefaultK
	}
	if o.Quantile <= 0 || o.Quantile > 1 {
		o.Quantile = DefaultQuantile
	}
	if o.QuantileFactor <= 0 {
		o.QuantileFactor = DefaultQuantileFactor
	}
	return o
}

// Verdict is what a detector says about one value.
type Verdict struct {
	Anomalous bool
	// Ready is false while the baseline has fewer than MinSlots values;
	// nothing is flagged then.
	Ready   bool
	Median  float64 // the baseline's median (before this value)
	MAD     float64
	Upper   float64 // the baseline's Quantile (99th percentile)
	Samples int     // values in the baseline
}

// Ratio is value / median, or 0 when the median is not positive.
func (v Verdict) Ratio(value float64) float64 {
	if v.Median <= 0 {
		return 0
	}
	return value / v.Median
}

// series is one baseline.
type series struct {
	ring     []float64 // one value per slot
	peaks    []float64 // each slot's largest value
	next     int       // where the next slot goes once the rings are full
	slotPeak float64   // the largest value of the slot under way
	lastAdd  time.Time // start of the slot under way
	lastSeen time.Time
}

// Detector holds the baselines of many series, by key. It is not safe for
// concurrent use.
type Detector struct {
	opts    Options
	slot    time.Duration
	series  map[string]*series
	scratch []float64
}

// New returns a Detector.
func New(opts Options) *Detector {
	opts = opts.withDefaults()
	return &Detector{
		opts:    opts,
		slot:    opts.Window / time.Duration(opts.Slots),
		series:  make(map[string]*series),
		scratch: make([]float64, 0, opts.Slots),
	}
}

// Window returns the baseline's span.
func (d *Detector) Window() time.Duration { return d.opts.Window }

// BytesPerSeries is the memory a series' rings take.
func (d *Detector) BytesPerSeries() int { return 2 * d.opts.Slots * 8 }

// Len returns the number of series held.
func (d *Detector) Len() int { return len(d.series) }

// Observe judges value against the baseline of key as it was before this
// value, then adds the value to the baseline if a slot has passed since the
// last one kept. minDelta is the smallest rise above the median that can
// count (in the value's unit): it keeps a series that is almost constant
// (errors at 0, an idle disk) from flagging every small wobble.
func (d *Detector) Observe(key string, t time.Time, value, minDelta float64) Verdict {
	s := d.series[key]
	if s == nil {
		s = &series{ring: make([]float64, 0, d.opts.Slots), peaks: make([]float64, 0, d.opts.Slots)}
		d.series[key] = s
	}
	s.lastSeen = t
	v := Verdict{Samples: len(s.ring)}
	if len(s.ring) >= d.opts.MinSlots {
		v.Ready = true
		v.Median, v.MAD, v.Upper = d.stats(s.ring, s.peaks)
		limit := max(v.Median+max(d.opts.K*madToSigma*v.MAD, minDelta), d.opts.QuantileFactor*v.Upper)
		v.Anomalous = value > limit
	}
	if s.lastAdd.IsZero() || t.Sub(s.lastAdd) >= d.slot {
		// A new slot: keep the value, and the peak of the slot that ended
		// (this value for the very first slot).
		peak := value
		if !s.lastAdd.IsZero() {
			peak = s.slotPeak
		}
		if len(s.ring) < cap(s.ring) {
			s.ring = append(s.ring, value)
			s.peaks = append(s.peaks, peak)
		} else {
			s.ring[s.next] = value
			s.peaks[s.next] = peak
			s.next = (s.next + 1) % len(s.ring)
		}
		s.lastAdd = t
		s.slotPeak = value
	} else {
		s.slotPeak = max(s.slotPeak, value)
	}
	return v
}

// Expire drops the series not observed for a whole window (a disk removed,
// an interface deleted), so memory stays bounded by the series that exist.
func (d *Detector) Expire(now time.Time) {
	for k, s := range d.series {
		if now.Sub(s.lastSeen) > d.opts.Window {
			delete(d.series, k)
		}
	}
}

// stats returns the median and the MAD of vals and the upper quantile of
// peaks.
func (d *Detector) stats(vals, peaks []float64) (median, mad, upper float64) {
	d.scratch = append(d.scratch[:0], peaks...)
	slices.Sort(d.scratch)
	// Nearest rank.
	rank := int(math.Ceil(d.opts.Quantile*float64(len(d.scratch)))) - 1
	upper = d.scratch[max(0, min(rank, len(d.scratch)-1))]
	d.scratch = append(d.scratch[:0], vals...)
	median = medianInPlace(d.scratch)
	for i, x := range d.scratch {
		if x < median {
			d.scratch[i] = median - x
		} else {
			d.scratch[i] = x - median
		}
	}
	return median, medianInPlace(d.scratch), upper
}

// medianInPlace sorts v and returns its median.
func medianInPlace(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
