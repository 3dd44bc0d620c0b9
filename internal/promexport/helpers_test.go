package promexport

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
)

const fixture = "../../testdata/roots/v2"

// staticSource serves one snapshot.
type staticSource struct{ snap *model.Snapshot }

func (s staticSource) Latest() *model.Snapshot { return s.snap }

// fixtureSnapshot returns the v2 fixture's second snapshot (with rates).
func fixtureSnapshot(tb testing.TB) *model.Snapshot {
	tb.Helper()
	e, err := engine.New(engine.Options{Root: fixture, NoNames: true})
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

// bigSnapshot returns n cgroups: copies of the fixture's under
// /bench-NNN, each with at least one block device (a real host's
// containers all do IO), in path order.
func bigSnapshot(tb testing.TB, n int) *model.Snapshot {
	tb.Helper()
	base := fixtureSnapshot(tb)
	var dev []model.DeviceIO
	for _, c := range base.Cgroups {
		if len(c.IO.Devices) > 0 {
			dev = c.IO.Devices[:1]
			break
		}
	}
	if dev == nil {
		tb.Fatal("no cgroup of the fixture has a block device")
	}
	big := *base
	big.Cgroups = make([]model.Cgroup, 0, n)
	for i := 0; len(big.Cgroups) < n; i++ {
		for _, c := range base.Cgroups {
			if len(big.Cgroups) == n {
				break
			}
			c.Path = "/bench-" + strconv.Itoa(i) + strings.TrimSuffix(c.Path, "/")
			c.Name, c.Prefix = model.SplitPath(c.Path)
			if len(c.IO.Devices) == 0 {
				c.IO.Devices = dev
			}
			big.Cgroups = append(big.Cgroups, c)
		}
	}
	slices.SortFunc(big.Cgroups, func(a, b model.Cgroup) int { return strings.Compare(a.Path, b.Path) })
	return &big
}
