package promexport

import (
	"testing"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/snaptest"
)

const fixture = "../../testdata/roots/v2"

// staticSource serves one snapshot.
type staticSource struct{ snap *model.Snapshot }

func (s staticSource) Latest() *model.Snapshot { return s.snap }

// fixtureSnapshot returns the v2 fixture's second snapshot (with rates).
func fixtureSnapshot(tb testing.TB) *model.Snapshot {
	tb.Helper()
	return snaptest.Fixture(tb, fixture)
}

// bigSnapshot returns n copies of the fixture's cgroups, each with at least
// one block device (a real host's containers all do IO).
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
	big := snaptest.Replicate(base, n)
	for i := range big.Cgroups {
		if len(big.Cgroups[i].IO.Devices) == 0 {
			big.Cgroups[i].IO.Devices = dev
		}
	}
	return big
}
