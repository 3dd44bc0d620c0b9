// Package snaptest gives tests and benchmarks snapshots: read from the
// fixture trees copied from real kernels and grown to any number of
// cgroups, or published by an agent running over a root; and an
// http.ResponseWriter that keeps nothing. Only tests import it.
package snaptest

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
)

// Fixture returns the second snapshot (the first with rates) of the
// fixture tree at root.
func Fixture(tb testing.TB, root string) *model.Snapshot {
	tb.Helper()
	e, err := engine.New(engine.Options{Root: root, NoNames: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Next(); err != nil {
		tb.Fatal(err)
	}
	snap, err := e.Next()
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// Replicate returns a snapshot of n cgroups: copies of base's under
// /bench-NNN, in path order. The copies share base's slices.
func Replicate(base *model.Snapshot, n int) *model.Snapshot {
	big := *base
	big.Cgroups = make([]model.Cgroup, 0, n)
	for i := 0; len(big.Cgroups) < n && len(base.Cgroups) > 0; i++ {
		for _, c := range base.Cgroups {
			if len(big.Cgroups) == n {
				break
			}
			c.Path = "/bench-" + strconv.Itoa(i) + strings.TrimSuffix(c.Path, "/")
			c.Name, c.Prefix = model.SplitPath(c.Path)
			big.Cgroups = append(big.Cgroups, c)
		}
	}
	slices.SortFunc(big.Cgroups, func(a, b model.Cgroup) int { return strings.Compare(a.Path, b.Path) })
	return &big
}

// Discard is a ResponseWriter that counts the bytes written and keeps
// nothing: a benchmark measures the handler, not a recorder's copying.
type Discard struct {
	H http.Header
	N int
}

// NewDiscard returns a Discard with an empty header.
func NewDiscard() *Discard { return &Discard{H: http.Header{}} }

func (d *Discard) Header() http.Header         { return d.H }
func (d *Discard) WriteHeader(int)             {}
func (d *Discard) Write(p []byte) (int, error) { d.N += len(p); return len(p), nil }

// RunAgent runs an agent over an engine with opts every interval until the
// test ends.
func RunAgent(tb testing.TB, opts engine.Options, interval time.Duration) *agent.Agent {
	tb.Helper()
	e, err := engine.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	a, err := agent.New(agent.Options{Source: e, Interval: interval})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	return a
}
