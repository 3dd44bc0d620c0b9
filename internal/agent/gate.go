package agent

import (
	"sync/atomic"
	"time"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/schedule"
)

// Gate decides which snapshots a consumer on its own schedule takes: the
// first one stamped at or after each of its run times. It looks only at
// the snapshots' time stamps, so it needs no clock and no timer. A consumer
// whose schedule is finer than the agent's takes every snapshot.
type Gate struct {
	sched schedule.Schedule
	due   time.Time
}

// NewGate returns a gate whose first run time is the first of sched after
// start.
func NewGate(sched schedule.Schedule, start time.Time) *Gate {
	return &Gate{sched: sched, due: sched.Next(start.Local())}
}

// Pass reports whether a snapshot stamped ts is taken, and if so moves the
// gate to its next run time after ts (run times passed over while no
// snapshot came are skipped, not made up).
func (g *Gate) Pass(ts time.Time) bool {
	// Cron fields name local wall-clock times (or CRON_TZ); snapshots are
	// stamped in UTC.
	ts = ts.Local()
	if g.due.IsZero() || ts.Before(g.due) {
		return false
	}
	g.due, _ = schedule.Following(g.sched, g.due, ts)
	return true
}

// Due returns the next run time; zero when the schedule has none left.
func (g *Gate) Due() time.Time { return g.due }

// Gated is a Subscription seen through a Gate: its channel carries only the
// snapshots of its own schedule. A sink that runs on its own schedule
// (its own `schedule:` key) reads Gated.C() where it would read
// Subscription.C().
type Gated struct {
	sub     *Subscription
	gate    *Gate
	c       chan *model.Snapshot
	skipped atomic.Uint64
	missed  atomic.Uint64
}

// Gate wraps the subscription: from now on its snapshots pass only at
// sched's run times after start. The subscription must not be read
// elsewhere; closing the Gated closes it.
func (s *Subscription) Gate(sched schedule.Schedule, start time.Time) *Gated {
	g := &Gated{sub: s, gate: NewGate(sched, start), c: make(chan *model.Snapshot, 1)}
	go g.run()
	return g
}

func (g *Gated) run() {
	defer close(g.c)
	for snap := range g.sub.C() {
		if !g.gate.Pass(snap.Timestamp) {
			g.skipped.Add(1)
			continue
		}
		// Like the agent: never wait for the consumer; a newer snapshot
		// replaces one it has not taken.
		select {
		case g.c <- snap:
			continue
		default:
		}
		select {
		case <-g.c:
			g.missed.Add(1)
		default:
		}
		g.c <- snap
	}
}

// C returns the channel of the snapshots on the schedule. It is closed when
// the subscription is.
func (g *Gated) C() <-chan *model.Snapshot { return g.c }

// Name returns the subscription's name.
func (g *Gated) Name() string { return g.sub.Name() }

// Skipped returns how many snapshots fell between run times.
func (g *Gated) Skipped() uint64 { return g.skipped.Load() }

// Missed returns how many snapshots on the schedule the consumer never
// took, here or in the subscription below.
func (g *Gated) Missed() uint64 { return g.missed.Load() + g.sub.Missed() }

// Close unsubscribes; C is closed once the subscription's last snapshot is
// handled.
func (g *Gated) Close() { g.sub.Close() }
