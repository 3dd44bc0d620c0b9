// Package fakeclock is a schedule.Clock for tests: time moves only when the
// test advances it, and a test can wait until the code under test is
// blocked on a timer.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a manual clock. The zero value is not usable; use New.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*timer
	waiting chan struct{} // closed and replaced whenever a timer is added
}

type timer struct {
	at time.Time
	c  chan time.Time
}

// New returns a clock that reads start.
func New(start time.Time) *Clock {
	return &Clock{now: start, waiting: make(chan struct{})}
}

// Now implements schedule.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer implements schedule.Clock.
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	close(c.waiting)
	c.waiting = make(chan struct{})
	stop := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, o := range c.timers {
			if o == t {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return true
			}
		}
		return false
	}
	return t.c, stop
}

// Advance moves the clock forward by d and fires every timer that is due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	k := 0
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			continue
		}
		c.timers[k] = t
		k++
	}
	clear(c.timers[k:])
	c.timers = c.timers[:k]
}

// BlockUntil waits until n timers are pending (the code under test is
// waiting on the clock) or timeout passes, and reports which.
func (c *Clock) BlockUntil(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		pending, ch := len(c.timers), c.waiting
		c.mu.Unlock()
		if pending >= n {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// Pending returns the times at which pending timers fire.
func (c *Clock) Pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, len(c.timers))
	for i, t := range c.timers {
		out[i] = t.at
	}
	return out
}
