package promexport

import (
	"fmt"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/snaptest"
)

const fixture = "../../testdata/roots/v2"

// staticSource serves one snapshot.
type staticSource struct{ snap *model.Snapshot }

func (s staticSource) Latest() *model.Snapshot { return s.snap }

// fixtureSnapshot returns the v2 fixture's second snapshot (with rates),
// its containers with the figures read through their processes (see
// withContainers).
func fixtureSnapshot(tb testing.TB) *model.Snapshot {
	tb.Helper()
	return withContainers(snaptest.Fixture(tb, fixture))
}

// withContainers gives every container's own cgroup of snap the figures
// that internal/container reads through its process, which a fixture tree
// cannot hold (no /proc/PID): a state, a start time, processes, a root
// filesystem, and a network namespace with the loopback, eth0 and a veth
// cAdvisor leaves out. The docker container is in the host's network
// namespace, the LXC one on a filesystem with no fixed inode count
// (btrfs). Values differ by cgroup so that a mix-up shows.
func withContainers(snap *model.Snapshot) *model.Snapshot {
	n := uint64(0)
	for i := range snap.Cgroups {
		c := &snap.Cgroups[i]
		if c.Container == nil || c.Container.Role != "container" {
			continue
		}
		n++
		c.Container.State = "running"
		c.Container.StartedAt = time.Unix(1_700_000_000+int64(n)*1000, 250_000_000).UTC()
		c.Processes = model.Count{V: n + 1, OK: true}
		c.Filesystem = &model.Filesystem{
			TotalBytes: n << 30, UsedBytes: n << 20, FreeBytes: n<<30 - n<<20 - 4096,
			TotalInodes: n * 65536, UsedInodes: n * 100, FreeInodes: n*65536 - n*100,
		}
		if n%2 == 1 { // the others: no block device known, device="/"
			c.Filesystem.Device = fmt.Sprintf("/dev/vd%c", 'a'+n)
		}
		switch c.Container.Runtime {
		case "docker":
			c.Network = &model.Network{Netns: 4026531840, HostNetwork: true}
			continue
		case "lxc":
			c.Container.State = "paused"
			c.Filesystem.TotalInodes, c.Filesystem.UsedInodes, c.Filesystem.FreeInodes = 0, 0, 0
		}
		iface := func(name string, base uint64) model.NetInterface {
			return model.NetInterface{Name: name,
				RxBytesTotal: base + 1, RxPacketsTotal: base + 2, RxErrorsTotal: base + 3, RxDroppedTotal: base + 4,
				TxBytesTotal: base + 5, TxPacketsTotal: base + 6, TxErrorsTotal: base + 7, TxDroppedTotal: base + 8}
		}
		c.Network = &model.Network{Netns: 4026532000 + n, Interfaces: []model.NetInterface{
			iface("lo", n*1000), iface("eth0", n*1_000_000), iface("veth1a2b", n*2_000_000),
		}}
	}
	return snap
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
