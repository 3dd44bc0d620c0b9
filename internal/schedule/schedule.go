// Package schedule says when something runs: at a fixed interval or at the
// times a cron expression names. It only computes times; the agent and the
// sink gate decide what to do at them.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	cron "github.com/netresearch/go-cron"
)

// Schedule gives the run times of a recurring job.
type Schedule interface {
	// Next returns the first run time strictly after t.
	Next(t time.Time) time.Time
	// String is the schedule as the user wrote it.
	String() string
}

// Every runs at a fixed interval. Next(t) is t + d, so a runner that asks
// from the previous run time keeps a steady cadence.
type Every time.Duration

// Next implements Schedule.
func (e Every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// String implements Schedule.
func (e Every) String() string { return time.Duration(e).String() }

// Cron runs at the times of a cron expression.
type Cron struct {
	spec  string
	sched cron.Schedule
}

// parser accepts the standard five fields (minute hour day-of-month month
// day-of-week), an optional leading seconds field, descriptors (@hourly,
// @every 30s) and a CRON_TZ= prefix. Day-of-month and day-of-week are ORed
// when both are restricted, as Vixie cron and POSIX crontab do; the
// library's default is AND.
var parser = cron.MustNewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom |
	cron.Month | cron.Dow | cron.Descriptor | cron.DowOrDom)

// ParseCron parses a cron expression.
func ParseCron(spec string) (*Cron, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("cron expression: empty")
	}
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %w", spec, err)
	}
	c := &Cron{spec: spec, sched: s}
	// An expression that never fires (30 February) would stall a runner.
	if c.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("cron expression %q: never fires", spec)
	}
	return c, nil
}

// Next implements Schedule. The library works in whole seconds: a time
// inside a second yields the next matching second after it.
func (c *Cron) Next(t time.Time) time.Time { return c.sched.Next(t) }

// String implements Schedule.
func (c *Cron) String() string { return c.spec }

// Parse reads a schedule as the configuration writes it: a Go duration
// ("5s", "1m30s") is a fixed interval, anything else a cron expression
// ("*/5 * * * *", "*/10 * * * * *" with seconds, "@hourly").
func Parse(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if d, err := time.ParseDuration(spec); err == nil {
		if d <= 0 {
			return nil, fmt.Errorf("schedule %q: interval must be positive", spec)
		}
		return Every(d), nil
	}
	return ParseCron(spec)
}

// Following returns the first run time of s after last that is after now
// too: the runs missed while a cycle overran are skipped, never caught up
// in a burst. skipped is the number of run times passed over.
func Following(s Schedule, last, now time.Time) (next time.Time, skipped int) {
	next = s.Next(last)
	for !next.After(now) {
		if e, ok := s.(Every); ok && e > 0 {
			// Jump without a loop: an interval can be far behind after a
			// suspend.
			n := int(now.Sub(next)/time.Duration(e)) + 1
			return next.Add(time.Duration(n) * time.Duration(e)), skipped + n
		}
		n := s.Next(next)
		if n.IsZero() {
			return n, skipped
		}
		next = n
		skipped++
	}
	return next, skipped
}

// MinGap estimates the shortest time between two runs after t, from the
// next few run times: a health check uses it as the expected cadence.
func MinGap(s Schedule, t time.Time) time.Duration {
	if e, ok := s.(Every); ok {
		return time.Duration(e)
	}
	prev := s.Next(t)
	gap := time.Duration(0)
	for range 4 {
		n := s.Next(prev)
		if n.IsZero() {
			break
		}
		if d := n.Sub(prev); gap == 0 || d < gap {
			gap = d
		}
		prev = n
	}
	return gap
}
