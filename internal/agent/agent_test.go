package agent_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
)

// fakeSource returns a new snapshot per call; calls for which fail is true
// return an error instead.
type fakeSource struct {
	fail  func(call int) bool
	calls atomic.Int64
}

func (f *fakeSource) Next() (*model.Snapshot, error) {
	n := int(f.calls.Add(1))
	if f.fail != nil && f.fail(n) {
		return nil, errors.New("read failed")
	}
	return &model.Snapshot{Timestamp: time.Now(), Hostname: string(rune('a' + n%26)), Cgroups: []model.Cgroup{}}, nil
}

// start runs an agent until the test ends and returns it with a stop
// function that waits for Run to return.
func start(t *testing.T, opts agent.Options) (*agent.Agent, func()) {
	t.Helper()
	a, err := agent.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return 5 s after its context was canceled")
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewChecksOptions(t *testing.T) {
	if _, err := agent.New(agent.Options{}); err == nil {
		t.Error("no source: no error")
	}
	if _, err := agent.New(agent.Options{Source: &fakeSource{}, Interval: -time.Second}); err == nil {
		t.Error("negative interval: no error")
	}
	a, err := agent.New(agent.Options{Source: &fakeSource{}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Interval() != agent.DefaultInterval || a.Latest() != nil {
		t.Errorf("new agent: interval %s, latest %v; want %s and nil", a.Interval(), a.Latest(), agent.DefaultInterval)
	}
}

func TestRunPublishesAtOnceAndEveryInterval(t *testing.T) {
	src := &fakeSource{}
	a, stop := start(t, agent.Options{Source: src, Interval: 10 * time.Millisecond})
	waitFor(t, "the first snapshot", func() bool { return a.Latest() != nil })
	waitFor(t, "5 cycles", func() bool { return a.Stats().Cycles >= 5 })
	stop()
	st := a.Stats()
	if st.Cycles != uint64(src.calls.Load()) || st.Errors != 0 || st.LastError != nil {
		t.Errorf("stats %+v after %d calls, want every call a cycle and no error", st, src.calls.Load())
	}
}

func TestFirstCycleDoesNotWaitForATick(t *testing.T) {
	a, _ := start(t, agent.Options{Source: &fakeSource{}, Interval: time.Hour})
	waitFor(t, "the first snapshot", func() bool { return a.Latest() != nil })
}

func TestRunTwice(t *testing.T) {
	a, _ := start(t, agent.Options{Source: &fakeSource{}, Interval: time.Hour})
	waitFor(t, "the first Run to start", func() bool { return a.Latest() != nil })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := a.Run(ctx); err == nil {
		t.Error("a second Run: no error")
	}
}

func TestSlowCycleSkipsTicks(t *testing.T) {
	// The first cycle takes 10 intervals. The ticks missed meanwhile are
	// dropped: afterwards cycles go on one per tick, not 10 in a burst.
	var mu sync.Mutex
	var starts []time.Time
	src := sourceFunc(func() (*model.Snapshot, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		first := len(starts) == 1
		mu.Unlock()
		if first {
			time.Sleep(100 * time.Millisecond)
		}
		return &model.Snapshot{Timestamp: time.Now()}, nil
	})
	a, stop := start(t, agent.Options{Source: src, Interval: 10 * time.Millisecond})
	waitFor(t, "5 cycles", func() bool { return a.Stats().Cycles >= 5 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	slowEnd := starts[0].Add(100 * time.Millisecond)
	burst := 0
	for _, s := range starts[1:] {
		if s.Sub(slowEnd) < 5*time.Millisecond {
			burst++
		}
	}
	if burst > 2 {
		t.Errorf("%d cycles started within 5 ms after the slow one: ticks piled up", burst)
	}
	// The slow cycle is an overrun. On a loaded machine a later cycle may
	// start more than an interval late too (the timer fired late) and is
	// rightly counted as well; any other overrun is wrong.
	late := 0
	for i := 2; i < len(starts); i++ {
		if starts[i].Sub(starts[i-1]) > 15*time.Millisecond { // an interval and a half
			late++
		}
	}
	if st := a.Stats(); st.Overruns < 1 || st.Overruns > uint64(1+late) || st.Cycles != uint64(len(starts)) {
		t.Errorf("stats %+v after %d cycles (%d started late), want 1 overrun (+ at most the late ones)", st, len(starts), late)
	}
}

type sourceFunc func() (*model.Snapshot, error)

func (f sourceFunc) Next() (*model.Snapshot, error) { return f() }

func TestFailedCycleKeepsThePreviousSnapshot(t *testing.T) {
	var failing atomic.Bool
	src := &fakeSource{fail: func(int) bool { return failing.Load() }}
	a, _ := start(t, agent.Options{Source: src, Interval: 5 * time.Millisecond})
	waitFor(t, "a snapshot", func() bool { return a.Latest() != nil })
	failing.Store(true)
	calls := src.calls.Load()
	waitFor(t, "failed cycles", func() bool { return a.Stats().Errors >= 3 })
	held := a.Latest()
	if a.LastError() == nil {
		t.Error("LastError is nil after failed cycles")
	}
	waitFor(t, "more failed cycles", func() bool { return src.calls.Load() > calls+5 })
	if a.Latest() != held {
		t.Error("the published snapshot changed while every cycle failed")
	}
	failing.Store(false)
	waitFor(t, "recovery", func() bool { return a.Latest() != held })
	waitFor(t, "LastError cleared", func() bool { return a.LastError() == nil })
}

func TestSubscriberGetsEverySnapshotInOrder(t *testing.T) {
	a, err := agent.New(agent.Options{Source: &fakeSource{}, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sub := a.Subscribe("history")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	var got []*model.Snapshot
	for s := range sub.C() {
		got = append(got, s)
		if len(got) == 10 {
			cancel()
		}
	}
	<-done // the channel closes when Run returns
	for i := 1; i < len(got); i++ {
		if !got[i].Timestamp.After(got[i-1].Timestamp) {
			t.Fatalf("snapshot %d is not newer than the one before", i)
		}
	}
	if got[len(got)-1] != a.Latest() {
		t.Error("the last snapshot received is not the last published")
	}
	if uint64(len(got))+sub.Missed() != a.Stats().Cycles {
		t.Errorf("received %d + missed %d != %d cycles", len(got), sub.Missed(), a.Stats().Cycles)
	}
}

func TestSlowSubscriberNeverBlocksTheCollector(t *testing.T) {
	a, err := agent.New(agent.Options{Source: &fakeSource{}, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stalled := a.Subscribe("stalled") // never reads
	gone := a.Subscribe("gone")
	gone.Close()
	gone.Close() // twice is fine
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	waitFor(t, "50 cycles past a stalled subscriber", func() bool { return a.Stats().Cycles >= 50 })
	cancel()
	<-done
	cycles := a.Stats().Cycles
	// The one slot holds the newest snapshot; every other one was missed.
	last, ok := <-stalled.C()
	if !ok || last != a.Latest() {
		t.Errorf("the stalled subscriber's slot holds %p, want the latest snapshot %p", last, a.Latest())
	}
	if _, ok := <-stalled.C(); ok {
		t.Error("the channel is not closed after Run returned")
	}
	if stalled.Missed() != cycles-1 {
		t.Errorf("missed %d, want %d (all %d cycles but the one held)", stalled.Missed(), cycles-1, cycles)
	}
	if _, ok := <-gone.C(); ok || gone.Missed() != 0 {
		t.Error("a closed subscription received snapshots")
	}
	if _, ok := <-a.Subscribe("late").C(); ok {
		t.Error("a subscription made after Run returned is open")
	}
}

func TestAgentDrivesTheEngine(t *testing.T) {
	e, err := engine.New(engine.Options{Root: "../../testdata/roots/v2", NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, stop := start(t, agent.Options{Source: e, Interval: 20 * time.Millisecond})
	waitFor(t, "3 cycles", func() bool { return a.Stats().Cycles >= 3 })
	stop()
	s := a.Latest()
	if s == nil || s.Find("/system.slice/demo.service") == nil || !s.IntervalSeconds.OK {
		t.Fatalf("latest snapshot %+v: want demo.service and rates", s)
	}
}

func TestBusyMeasuresTheCycleRunningNow(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	src := sourceFunc(func() (*model.Snapshot, error) {
		if calls.Add(1) == 2 {
			<-release // the second cycle hangs until the test lets it go
		}
		return &model.Snapshot{Timestamp: time.Now()}, nil
	})
	a, stop := start(t, agent.Options{Source: src, Interval: 50 * time.Millisecond})
	defer stop()
	waitFor(t, "the hung cycle", func() bool { return calls.Load() == 2 })
	time.Sleep(100 * time.Millisecond)
	if b := a.Busy(); b < 100*time.Millisecond || b > 10*time.Second {
		t.Errorf("Busy %s during a cycle hung for 100 ms", b)
	}
	close(release)
	waitFor(t, "the cycle after", func() bool { return a.Stats().Cycles >= 2 })
	time.Sleep(5 * time.Millisecond)
	if b := a.Busy(); b > 40*time.Millisecond {
		t.Errorf("Busy %s between cycles, want 0 (or a cycle just started)", b)
	}
}
