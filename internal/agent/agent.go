// Package agent has one job: run the engine on a schedule (a fixed interval
// or a cron expression) and publish each snapshot. The latest snapshot is an atomic pointer that readers (the
// HTTP API) load without ever waiting for the collector; consumers that want
// every snapshot (history, push sinks) subscribe and are told through a
// one-slot channel that the collector never blocks on.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/schedule"
)

// DefaultInterval is the time between two cycles when Options.Interval is 0.
const DefaultInterval = 5 * time.Second

// Source produces snapshots. *engine.Engine is one. Next is only ever
// called from the goroutine that runs Agent.Run.
type Source interface {
	Next() (*model.Snapshot, error)
}

// Options configure an Agent.
type Options struct {
	// Source is read once a cycle. Required.
	Source Source
	// Interval is the time between the starts of two cycles; 0 means
	// DefaultInterval. Ignored when Schedule is set.
	Interval time.Duration
	// Schedule, when set, gives the cycle times instead of Interval (a cron
	// expression from schedule.Parse). The first cycle still runs at once,
	// so that the first scheduled snapshot has rates; rates always use the
	// real time between the two samples.
	Schedule schedule.Schedule
	// Clock is the time source; nil means the system clock. Tests pass a
	// fake one.
	Clock schedule.Clock
	// Logger receives cycle errors. Optional.
	Logger *slog.Logger
}

// Agent runs a Source at a fixed interval and publishes what it returns.
// Latest, Stats, Subscribe and Subscription's methods are safe for
// concurrent use; Run is called once.
type Agent struct {
	src      Source
	interval time.Duration
	sched    schedule.Schedule
	clock    schedule.Clock
	log      *slog.Logger

	latest  atomic.Pointer[model.Snapshot]
	started atomic.Bool

	cycles, errs, overruns atomic.Uint64
	lastDuration           atomic.Int64 // nanoseconds
	cycleStart             atomic.Int64 // unix nanoseconds of the cycle running now; 0 between cycles
	lastErr                atomic.Pointer[error]

	mu   sync.Mutex // guards subs and done; the collector holds it only for non-blocking sends
	subs []*Subscription
	done bool
}

// New checks the options and returns an Agent that is not running yet.
func New(opts Options) (*Agent, error) {
	if opts.Source == nil {
		return nil, errors.New("agent: no source")
	}
	if opts.Interval < 0 {
		return nil, fmt.Errorf("agent: interval %s: must be positive", opts.Interval)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := opts.Clock
	if clock == nil {
		clock = schedule.RealClock{}
	}
	sched := opts.Schedule
	if sched == nil {
		sched = schedule.Every(opts.Interval)
	} else {
		opts.Interval = schedule.MinGap(sched, clock.Now())
		if opts.Interval <= 0 {
			return nil, fmt.Errorf("agent: schedule %s never fires", sched)
		}
	}
	return &Agent{src: opts.Source, interval: opts.Interval, sched: sched, clock: clock, log: log}, nil
}

// Interval returns the time between two cycles; with a cron schedule, the
// shortest gap between its next runs.
func (a *Agent) Interval() time.Duration { return a.interval }

// Schedule returns the schedule the agent runs on.
func (a *Agent) Schedule() schedule.Schedule { return a.sched }

// Latest returns the last published snapshot, or nil before the first. The
// snapshot is immutable: callers must not change it.
func (a *Agent) Latest() *model.Snapshot { return a.latest.Load() }

// Run reads the source at once and then at every time of the schedule until
// ctx is done, and returns nil then. A cycle that runs past the next
// scheduled time skips the times it missed: cycles never pile up, and the
// next one starts at the next scheduled time. A failed cycle is counted and
// logged, and the previous snapshot stays published. When Run returns, every
// subscription's channel is closed.
func (a *Agent) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("agent: Run called twice")
	}
	defer a.closeSubscriptions()
	last := a.clock.Now()
	for {
		a.cycle()
		next, skipped := schedule.Following(a.sched, last, a.clock.Now())
		if skipped > 0 {
			a.overruns.Add(1)
		}
		if next.IsZero() {
			a.log.Warn("schedule has no further run time; the agent stops sampling", "schedule", a.sched.String())
			<-ctx.Done()
			return nil
		}
		fired, stop := a.clock.NewTimer(next.Sub(a.clock.Now()))
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-fired:
		}
		// A tick and cancellation can both be ready; cancellation wins.
		if ctx.Err() != nil {
			return nil
		}
		last = next
	}
}

// cycle reads one snapshot and publishes it.
func (a *Agent) cycle() {
	start := a.clock.Now()
	a.cycleStart.Store(start.UnixNano())
	snap, err := a.src.Next()
	a.cycleStart.Store(0)
	d := a.clock.Now().Sub(start)
	a.lastDuration.Store(int64(d))
	if err != nil {
		n := a.errs.Add(1)
		prev := a.lastErr.Swap(&err)
		// One warning per run of failures; the rest at debug level.
		if prev == nil {
			a.log.Warn("cycle failed; the previous snapshot stays published", "err", err, "errors", n)
		} else {
			a.log.Debug("cycle failed", "err", err, "errors", n)
		}
		return
	}
	if prev := a.lastErr.Swap(nil); prev != nil {
		a.log.Info("cycles succeed again", "after", *prev)
	}
	a.latest.Store(snap)
	a.cycles.Add(1)
	a.notify(snap)
}

// Busy returns how long the cycle running now has been running, 0 between
// cycles: a watchdog tells a hung read from a long wait for the next
// scheduled time by it.
func (a *Agent) Busy() time.Duration {
	start := a.cycleStart.Load()
	if start == 0 {
		return 0
	}
	return a.clock.Now().Sub(time.Unix(0, start))
}

// Stats describe the agent's own health.
type Stats struct {
	// Cycles is the number of snapshots published.
	Cycles uint64
	// Errors is the number of cycles that failed.
	Errors uint64
	// Overruns is the number of cycles that ran past the next scheduled
	// time (each skipped at least one run).
	Overruns uint64
	// LastDuration is how long the last cycle took, failed or not.
	LastDuration time.Duration
	// LastError is the last cycle's error, nil when it succeeded.
	LastError error
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	return Stats{
		Cycles:       a.cycles.Load(),
		Errors:       a.errs.Load(),
		Overruns:     a.overruns.Load(),
		LastDuration: time.Duration(a.lastDuration.Load()),
		LastError:    a.LastError(),
	}
}

// LastError returns the last cycle's error, nil when it succeeded.
func (a *Agent) LastError() error {
	if p := a.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Subscription delivers published snapshots to one consumer. Its channel
// holds one snapshot: a consumer that has not taken the previous one when
// the next is published finds only the newer one, and Missed counts the
// snapshot it never saw. The collector never waits for a subscriber.
type Subscription struct {
	a      *Agent
	name   string
	c      chan *model.Snapshot
	missed atomic.Uint64
	closed bool // guarded by a.mu
}

// Subscribe registers a consumer of every snapshot published from now on.
// name identifies it in logs. A subscription made after Run has returned
// has its channel closed already.
func (a *Agent) Subscribe(name string) *Subscription {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &Subscription{a: a, name: name, c: make(chan *model.Snapshot, 1)}
	if a.done {
		s.closed = true
		close(s.c)
		return s
	}
	a.subs = append(a.subs, s)
	return s
}

// C returns the channel of snapshots. It is closed by Close and when Run
// returns.
func (s *Subscription) C() <-chan *model.Snapshot { return s.c }

// Name returns the name given to Subscribe.
func (s *Subscription) Name() string { return s.name }

// Missed returns how many snapshots were published that this consumer never
// received because it had not taken the one before.
func (s *Subscription) Missed() uint64 { return s.missed.Load() }

// Close unsubscribes and closes the channel. It may be called more than
// once.
func (s *Subscription) Close() {
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.c)
	for i, o := range a.subs {
		if o == s {
			a.subs = append(a.subs[:i], a.subs[i+1:]...)
			break
		}
	}
}

// notify hands snap to every subscriber without blocking: the collector is
// the only sender, so after taking back an unread snapshot the send always
// finds the slot free.
func (a *Agent) notify(snap *model.Snapshot) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.subs {
		select {
		case s.c <- snap:
			continue
		default:
		}
		select {
		case <-s.c:
			if n := s.missed.Add(1); n&(n-1) == 0 { // log at 1, 2, 4, 8, ... missed
				a.log.Debug("slow subscriber missed a snapshot", "subscriber", s.name, "missed", n)
			}
		default: // the consumer took it in between
		}
		s.c <- snap
	}
}

func (a *Agent) closeSubscriptions() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = true
	for _, s := range a.subs {
		s.closed = true
		close(s.c)
	}
	a.subs = nil
}
