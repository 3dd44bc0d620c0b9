package model

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/netdev"
	"github.com/cgmon/cgmon/internal/sample"
)

func TestNetworkRates(t *testing.T) {
	ns := func(ino uint64, host bool, ifs ...netdev.Interface) *sample.Container {
		return &sample.Container{Network: &sample.Network{Netns: ino, HostNetwork: host, Interfaces: ifs}}
	}
	lo := func(v uint64) netdev.Interface { return netdev.Interface{Name: "lo", RxBytes: v, TxBytes: v} }
	eth := func(rx, tx uint64) netdev.Interface { return netdev.Interface{Name: "eth0", RxBytes: rx, TxBytes: tx} }
	for _, tc := range []struct {
		name      string
		prev, cur *sample.Container
		want      NetRates
	}{
		{"bytes per second without lo", ns(7, false, lo(0), eth(1000, 10)), ns(7, false, lo(1e6), eth(3000, 410)),
			NetRates{RxBytes: floatOf(1000), TxBytes: floatOf(200), Interfaces: []ifaceRate{{0, floatOf(5e5), floatOf(5e5)}, {1, floatOf(1000), floatOf(200)}}}},
		{"other namespace", ns(7, false, eth(1000, 10)), ns(8, false, eth(3000, 410)), NetRates{}},
		{"host network", ns(1, true), ns(1, true), NetRates{}},
		{"interface recreated", ns(7, false, eth(1000, 10)), ns(7, false, eth(5, 410)),
			NetRates{}},
		{"new interface counts from zero", ns(7, false, lo(0)), ns(7, false, lo(0), eth(400, 0)),
			NetRates{RxBytes: floatOf(200), TxBytes: floatOf(0), Interfaces: []ifaceRate{{0, floatOf(0), floatOf(0)}}}},
		{"no previous", nil, ns(7, false, eth(1, 1)), NetRates{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := networkRates(tc.prev, tc.cur, 2*time.Second)
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(ifaceRate{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestConvertContainer(t *testing.T) {
	started := time.Date(2026, 11, 22, 5, 44, 28, 0, time.FixedZone("x", 3600))
	c := &sample.Cgroup{
		Path:     "/lxc.payload.c1",
		Identity: identity.Identity{Kind: identity.KindLXC, Role: identity.RoleContainer, Runtime: "lxc", ID: "c1", Name: "c1"},
		Container: &sample.Container{PID: 7, Processes: 5, State: "running", StartedAt: started,
			Network: &sample.Network{Netns: 9, Interfaces: []netdev.Interface{{Name: "lo", RxBytes: 100, TxBytes: 100}, {Name: "eth0", RxBytes: 7, TxBytes: 8, RxDropped: 1}, {Name: "eth1", RxBytes: 1, TxBytes: 2}}},
			Filesystem: &sample.Filesystem{TotalBytes: 100, FreeBytes: 30, AvailBytes: 20, TotalInodes: 10, FreeInodes: 4,
				Storage: &sample.Filesystem{TotalBytes: 5, Path: "/var/lib/lxc"}}},
	}
	var got Cgroup
	convert(&got, c)
	if got.Container.State != "running" || !got.Container.StartedAt.Equal(started) || got.Container.StartedAt.Location() != time.UTC {
		t.Errorf("container = %+v", got.Container)
	}
	if got.Processes != (Count{V: 5, OK: true}) {
		t.Errorf("processes = %+v", got.Processes)
	}
	n := got.Network
	if n.RxBytesTotal.V != 8 || n.TxBytesTotal.V != 10 || n.RxDroppedTotal.V != 1 || len(n.Interfaces) != 3 {
		t.Errorf("network totals (lo left out) = %+v", n)
	}
	want := &Filesystem{TotalBytes: 100, UsedBytes: 70, FreeBytes: 20, TotalInodes: 10, UsedInodes: 6, FreeInodes: 4,
		Storage: &Filesystem{TotalBytes: 5, UsedBytes: 5, Path: "/var/lib/lxc"}}
	if d := cmp.Diff(want, got.Filesystem); d != "" {
		t.Errorf("filesystem (-want +got):\n%s", d)
	}
	var host Cgroup
	convert(&host, &sample.Cgroup{Path: "/docker/x", Container: &sample.Container{Network: &sample.Network{Netns: 1, HostNetwork: true, Interfaces: []netdev.Interface{{Name: "eth0", RxBytes: 5}}}}})
	if host.Network == nil || !host.Network.HostNetwork || host.Network.RxBytesTotal.OK || host.Network.Interfaces != nil {
		t.Errorf("a host-network container reports traffic: %+v", host.Network)
	}
}
