package agent_test

import (
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/schedule"
	"github.com/cgmon/cgmon/internal/schedule/fakeclock"
)

// clockSource stamps snapshots with a fake clock's time and can make a
// cycle take fake time.
type clockSource struct {
	clock *fakeclock.Clock
	stamp chan time.Time
	slow  time.Duration // added to the clock by the next call
}

func (s *clockSource) Next() (*model.Snapshot, error) {
	if s.slow > 0 {
		s.clock.Advance(s.slow)
		s.slow = 0
	}
	now := s.clock.Now()
	s.stamp <- now
	return &model.Snapshot{Timestamp: now.UTC(), Cgroups: []model.Cgroup{}}, nil
}

func mustParse(t *testing.T, spec string) schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunFollowsCronScheduleOnFakeClock(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 5, 0, 3, 0, time.Local)
	clock := fakeclock.New(t0)
	src := &clockSource{clock: clock, stamp: make(chan time.Time, 16)}
	a, _ := start(t, agent.Options{Source: src, Schedule: mustParse(t, "*/10 * * * * *"), Clock: clock})
	if a.Interval() != 10*time.Second {
		t.Errorf("Interval() = %s, want the cron gap 10s", a.Interval())
	}
	next := func(want time.Time) {
		t.Helper()
		select {
		case got := <-src.stamp:
			if !got.Equal(want) {
				t.Fatalf("cycle at %s, want %s", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no cycle for %s", want.Format(time.TimeOnly))
		}
	}
	waitTimer := func(want time.Time) {
		t.Helper()
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Fatal("agent not waiting on the clock")
		}
		if p := clock.Pending(); len(p) != 1 || !p[0].Equal(want) {
			t.Fatalf("agent waits for %v, want %s", p, want.Format(time.TimeOnly))
		}
	}
	next(t0) // the first cycle runs at once
	waitTimer(t0.Add(7 * time.Second))
	clock.Advance(6 * time.Second) // not yet
	select {
	case got := <-src.stamp:
		t.Fatalf("cycle at %s before the scheduled time", got.Format(time.TimeOnly))
	case <-time.After(20 * time.Millisecond):
	}
	clock.Advance(time.Second)
	next(t0.Add(7 * time.Second)) // 05:00:10
	waitTimer(t0.Add(17 * time.Second))

	// A cycle that takes 25 s runs past two scheduled times: they are
	// skipped, and the next cycle is at the next time after it ends.
	src.slow = 25 * time.Second
	clock.Advance(10 * time.Second)
	next(t0.Add(17*time.Second + 25*time.Second)) // ends at 05:00:45
	waitTimer(t0.Add(47 * time.Second))           // 05:00:50
	if st := a.Stats(); st.Overruns != 1 || st.LastDuration != 25*time.Second {
		t.Errorf("stats %+v, want 1 overrun and a 25s cycle", st)
	}
}

func TestRunKeepsIntervalCadenceOnFakeClock(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 5, 0, 0, 300e6, time.Local)
	clock := fakeclock.New(t0)
	src := &clockSource{clock: clock, stamp: make(chan time.Time, 16)}
	start(t, agent.Options{Source: src, Interval: 5 * time.Second, Clock: clock})
	for i := range 4 {
		select {
		case got := <-src.stamp:
			if want := t0.Add(time.Duration(i) * 5 * time.Second); !got.Equal(want) {
				t.Fatalf("cycle %d at %s, want %s", i, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no cycle %d", i)
		}
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Fatal("agent not waiting on the clock")
		}
		clock.Advance(5 * time.Second)
	}
}

func TestGatePassesFirstSnapshotAtOrAfterEachRunTime(t *testing.T) {
	start := time.Date(2026, 11, 22, 5, 3, 10, 0, time.Local)
	g := agent.NewGate(mustParse(t, "*/5 * * * *"), start)
	tests := []struct {
		at   string
		want bool
	}{
		{"05:04:59", false},
		{"05:05:00", true}, // exactly at the run time
		{"05:05:05", false},
		{"05:09:58", false},
		{"05:10:03", true}, // the first after 05:10
		{"05:10:08", false},
		{"05:31:00", true}, // after a gap: one snapshot, not five
		{"05:33:00", false},
		{"05:35:00", true},
	}
	for _, tt := range tests {
		clock, err := time.ParseInLocation(time.TimeOnly, tt.at, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Date(2026, 11, 22, clock.Hour(), clock.Minute(), clock.Second(), 0, time.Local).UTC()
		if got := g.Pass(ts); got != tt.want {
			t.Errorf("Pass(%s) = %v, want %v (due %s)", tt.at, got, tt.want, g.Due().Format(time.TimeOnly))
		}
	}
}

// The real agent on a per-second cron schedule, with a sink gated to every
// third second.
func TestRunPerSecondCronAndGatedSink(t *testing.T) {
	a, stop := start(t, agent.Options{Source: &fakeSource{}, Schedule: mustParse(t, "* * * * * *")})
	all := a.Subscribe("all")
	gated := a.Subscribe("gated").Gate(mustParse(t, "*/3 * * * * *"), time.Now())
	var stamps []time.Time
	deadline := time.After(10 * time.Second)
	for len(stamps) < 5 {
		select {
		case s := <-all.C():
			stamps = append(stamps, s.Timestamp)
		case <-deadline:
			t.Fatalf("only %d snapshots in 10 s", len(stamps))
		}
	}
	// After the first (at once), each cycle starts just after a whole
	// second, one second apart.
	for i := 1; i < len(stamps); i++ {
		if frac := stamps[i].Nanosecond(); frac > 300e6 {
			t.Errorf("snapshot %d at %s: %d ms past the second", i, stamps[i].Format(time.StampMilli), frac/1e6)
		}
		if i > 1 {
			if gap := stamps[i].Sub(stamps[i-1]); gap < 700*time.Millisecond || gap > 1300*time.Millisecond {
				t.Errorf("gap %s between snapshots %d and %d, want about 1s", gap, i-1, i)
			}
		}
	}
	var got []time.Time
	for len(got) < 2 {
		select {
		case s := <-gated.C():
			got = append(got, s.Timestamp)
		case <-time.After(5 * time.Second):
			t.Fatalf("gated sink got %d snapshots", len(got))
		}
	}
	for _, ts := range got {
		if ts.Local().Second()%3 != 0 {
			t.Errorf("gated snapshot at %s: not on a */3 second", ts.Format(time.StampMilli))
		}
	}
	if gap := got[1].Sub(got[0]); gap < 2500*time.Millisecond || gap > 3500*time.Millisecond {
		t.Errorf("gated snapshots %s apart, want 3s", gap)
	}
	stop()
	if _, ok := <-gated.C(); ok {
		// one buffered snapshot may remain; the channel must close after it
		if _, ok := <-gated.C(); ok {
			t.Error("gated channel not closed after Run returned")
		}
	}
}
