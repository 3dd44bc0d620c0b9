package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// run feeds a series sampled every step to a detector and returns the
// indices flagged.
func run(d *Detector, key string, step time.Duration, values []float64, minDelta float64) []int {
	var flagged []int
	for i, x := range values {
		if d.Observe(key, t0.Add(time.Duration(i)*step), x, minDelta).Anomalous {
			flagged = append(flagged, i)
		}
	}
	return flagged
}

func noisy(rng *rand.Rand, n int, level, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = max(0, level+rng.NormFloat64()*sigma)
	}
	return v
}

func TestSpikesAreFlagged(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Two hours of disk await around 2 ms ± 0.3, one value a second, with
	// two spikes of 10 s to 18 ms (9× the median) after the first hour,
	// then the same spike a third time within the hour.
	values := noisy(rng, 7200, 2, 0.3)
	spikes := []int{4000, 6000, 6600}
	for _, s := range spikes {
		for i := s; i < s+10; i++ {
			values[i] = 18
		}
	}
	flagged := run(New(Options{}), "disk.sda.await", time.Second, values, 1)
	want := map[int]bool{}
	for _, s := range spikes[:2] {
		for i := s; i < s+10; i++ {
			want[i] = true
		}
	}
	got := map[int]bool{}
	for _, i := range flagged {
		got[i] = true
		if !want[i] {
			t.Errorf("value %d (%.2f) flagged", i, values[i])
		}
	}
	for i := range want {
		if !got[i] {
			t.Errorf("spike value %d not flagged", i)
		}
	}
	// The third spike is not flagged: the peaks of the first two fill 3
	// of the window's 240 slots, more than 1 %, so a spike of that size
	// has become part of the normal (a job that runs every 20 minutes).
}

func TestSteadyNoiseIsNotFlagged(t *testing.T) {
	for _, tc := range []struct {
		name         string
		level, sigma float64
		minDelta     float64
		heavyTail    bool
	}{
		{"cpu percent, normal noise", 35, 3, 10, false},
		{"errors at zero", 0, 0, 1, false},
		// 1 % of values are bursts of 2–4× the level (a cron job, a
		// journal flush): those may be flagged, the noise between not.
		{"throughput with bursts", 1e6, 1e5, 2e5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			values := noisy(rng, 3*3600, tc.level, tc.sigma)
			burst := map[int]bool{}
			if tc.heavyTail {
				for i := range values {
					if rng.Float64() < 0.01 {
						values[i] *= 2 + 2*rng.Float64()
						burst[i] = true
					}
				}
			}
			flagged := run(New(Options{}), "s", time.Second, values, tc.minDelta)
			for _, i := range flagged {
				if !burst[i] {
					t.Errorf("steady value %d (%.4g) flagged", i, values[i])
				}
			}
			t.Logf("%d of %d bursts flagged in 3 h", len(flagged), len(burst))
		})
	}
}

func TestBurstySeries(t *testing.T) {
	// An almost idle disk: utilization 0–1 %, with a 25–40 % burst every
	// minute (a journal commit, a log rotation). The bursts are its normal;
	// only a burst well above them is flagged.
	rng := rand.New(rand.NewPCG(7, 8))
	values := noisy(rng, 7200, 0.3, 0.3)
	for i := 30; i < len(values); i += 60 {
		values[i] = 25 + 15*rng.Float64()
	}
	values[6000] = 95
	flagged := run(New(Options{}), "disk.util", time.Second, values, 20)
	if len(flagged) != 1 || flagged[0] != 6000 {
		t.Errorf("flagged %v, want only the 95 %% burst at 6000", flagged)
	}
}

func TestBurstsBetweenSlotsCount(t *testing.T) {
	// Bursts of 3 s every 40 s, at instants no slot boundary (every 15 s)
	// falls on: the systematic sample never sees them, the slot peaks do,
	// so the bursts are normal and only a larger one is flagged.
	values := make([]float64, 7200)
	for i := range values {
		if i%40 >= 20 && i%40 < 23 && i%15 != 0 {
			values[i] = 30
		}
	}
	values[6001] = 100
	flagged := run(New(Options{}), "disk.util", time.Second, values, 20)
	if len(flagged) != 1 || flagged[0] != 6001 {
		t.Errorf("flagged %v, want only 6001", flagged)
	}
}

func TestWarmUpAndMemory(t *testing.T) {
	d := New(Options{})
	// Nothing is judged before MinSlots values are kept: 20 × 15 s.
	for i := 0; i <= 285; i++ {
		v := d.Observe("k", t0.Add(time.Duration(i)*time.Second), 1e9, 0)
		if v.Ready || v.Anomalous {
			t.Fatalf("judged at %d s with %d values", i, v.Samples)
		}
	}
	if v := d.Observe("k", t0.Add(300*time.Second), 1e9, 0); !v.Ready {
		t.Errorf("not ready after 20 slots: %+v", v)
	}
	// A day of samples every second keeps at most Slots values.
	for i := 0; i < 86400; i++ {
		d.Observe("k", t0.Add(time.Duration(i)*time.Second), float64(i), 0)
	}
	if n := len(d.series["k"].ring); n != DefaultSlots {
		t.Errorf("ring holds %d values, want %d", n, DefaultSlots)
	}
	if d.BytesPerSeries() != 3840 {
		t.Errorf("BytesPerSeries = %d", d.BytesPerSeries())
	}
	d.Observe("gone", t0, 1, 0)
	d.Expire(t0.Add(86400 * time.Second))
	if d.Len() != 1 {
		t.Errorf("%d series after expiry, want 1", d.Len())
	}
}

func TestBaselineFollowsWindow(t *testing.T) {
	// A level shift from 10 to 50 is flagged at first, then becomes the
	// new normal once it fills more than half the window.
	d := New(Options{Window: 10 * time.Minute})
	var last Verdict
	for i := 0; i < 1200; i++ { // 20 min at 10
		d.Observe("k", t0.Add(time.Duration(i)*time.Second), 10, 1)
	}
	first := d.Observe("k", t0.Add(1200*time.Second), 50, 1)
	for i := 1201; i < 2400; i++ {
		last = d.Observe("k", t0.Add(time.Duration(i)*time.Second), 50, 1)
	}
	if !first.Anomalous || last.Anomalous || math.Abs(last.Median-50) > 1e-9 {
		t.Errorf("first %+v, last %+v", first, last)
	}
	if r := first.Ratio(50); r != 5 {
		t.Errorf("ratio = %v", r)
	}
}

func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	values := noisy(rng, 5000, 5, 2)
	a := run(New(Options{}), "k", time.Second, values, 0)
	b := run(New(Options{}), "k", time.Second, values, 0)
	if len(a) != len(b) {
		t.Fatalf("two runs differ: %d vs %d flags", len(a), len(b))
	}
}

func BenchmarkObserve(b *testing.B) {
	d := New(Options{})
	for i := 0; i < 4000; i++ {
		d.Observe("k", t0.Add(time.Duration(i)*time.Second), float64(i%17), 1)
	}
	b.ReportAllocs()
	i := 4000
	for b.Loop() {
		d.Observe("k", t0.Add(time.Duration(i)*time.Second), float64(i%17), 1)
		i++
	}
}
