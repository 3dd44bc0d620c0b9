package promexport

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/model"
)

// checkContainerSeries wants the network and filesystem series of c to be
// those of the snapshot: one per interface cAdvisor keeps, none for the
// others, none at all for a container in the host's network namespace.
func checkContainerSeries(t *testing.T, f families, c *model.Cgroup) {
	t.Helper()
	if n := c.Network; n != nil {
		for i := range n.Interfaces {
			x := &n.Interfaces[i]
			for _, m := range netMetrics {
				got, ok := f.find(m.name, "id", c.Path, "interface", x.Name)
				switch {
				case ignoredInterface(x.Name) && ok:
					t.Errorf("%s{id=%q,interface=%q} is there: cAdvisor leaves the interface out", m.name, c.Path, x.Name)
				case !ignoredInterface(x.Name) && (!ok || got != float64(m.value(x))):
					t.Errorf("%s{id=%q,interface=%q} = %v, %v; want %d", m.name, c.Path, x.Name, got, ok, m.value(x))
				}
			}
		}
		if n.HostNetwork {
			if _, ok := f.find("container_network_receive_bytes_total", "id", c.Path); ok {
				t.Errorf("host-network container %s has network series", c.Path)
			}
		}
	}
	device := "/" // no block device known: the mount point
	if c.Filesystem != nil && c.Filesystem.Device != "" {
		device = c.Filesystem.Device
	}
	for _, m := range fsMetrics {
		want, wantOK := 0.0, false
		if c.Filesystem != nil {
			want, wantOK = m.value(c.Filesystem)
		}
		got, ok := f.find(m.name, "id", c.Path, "device", device)
		if ok != wantOK || got != want {
			t.Errorf("%s{id=%q} = %v (present %v), want %v (present %v)", m.name, c.Path, got, ok, want, wantOK)
		}
	}
}

// series renders every sample of the families named as
// `name{label="value",...} value`, labels in name order, sorted.
func series(f families, names ...string) []string {
	var out []string
	for _, name := range names {
		for _, m := range f[name].GetMetric() {
			var b strings.Builder
			b.WriteString(name + "{")
			for i, l := range m.GetLabel() {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(l.GetName() + "=" + strconv.Quote(l.GetValue()))
			}
			b.WriteString("} " + strconv.FormatFloat(valueOf(m), 'f', -1, 64))
			out = append(out, b.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestContainerFigures renders a snapshot built here and wants exactly
// these series: cAdvisor's names and labels for the network (per
// interface, loopback, veth and docker bridges left out, case aside),
// the root filesystem (inodes absent when the filesystem has no fixed
// count), processes and start time; cgmon's paused and host-network
// flags; nothing for the nested cgroup and the service.
func TestContainerFigures(t *testing.T) {
	iface := func(name string, v uint64) model.NetInterface {
		return model.NetInterface{Name: name,
			RxBytesTotal: v, RxPacketsTotal: v + 1, RxErrorsTotal: v + 2, RxDroppedTotal: v + 3,
			TxBytesTotal: v + 4, TxPacketsTotal: v + 5, TxErrorsTotal: v + 6, TxDroppedTotal: v + 7}
	}
	some := func(v uint64) model.Count { return model.Count{V: v, OK: true} }
	snap := &model.Snapshot{Timestamp: time.Unix(1e9, 0), Cgroups: []model.Cgroup{
		{Path: "/lxc.payload.db", Processes: some(12),
			Container: &model.Container{Runtime: "lxc", ID: "db", Name: "db", Role: "container", State: "paused"},
			Network:   &model.Network{Netns: 4026531840, HostNetwork: true},
			// btrfs: no fixed inode count.
			Filesystem: &model.Filesystem{TotalBytes: 8 << 30, UsedBytes: 5 << 30, FreeBytes: 3 << 30}},
		{Path: "/machine.slice/libpod-abc.scope", Processes: some(3),
			Container: &model.Container{Runtime: "podman", ID: "abc", Name: "web", Role: "container", State: "running",
				StartedAt: time.Unix(1_700_000_000, 500_000_000)},
			Network: &model.Network{Netns: 4026532001,
				RxBytesTotal: some(1), // totals are not exported: sum by (id) over the interfaces
				Interfaces: []model.NetInterface{
					iface("lo", 900), iface("eth0", 100), iface("Veth9", 700), iface("docker0", 800),
					iface("nerdctl0", 600), iface("eth1", 200),
				}},
			Filesystem: &model.Filesystem{TotalBytes: 10 << 30, UsedBytes: 3 << 30, FreeBytes: 6 << 30,
				TotalInodes: 1000, UsedInodes: 400, FreeInodes: 600,
				Storage: &model.Filesystem{TotalBytes: 1 << 40, Path: "/var/lib/containers/storage"}}},
		{Path: "/machine.slice/libpod-abc.scope/container", Tasks: some(3),
			Container: &model.Container{Runtime: "podman", ID: "abc", Name: "web"}},
		{Path: "/system.slice/sshd.service", Tasks: some(1)},
	}}
	body := scrape(t, New(Options{Source: staticSource{snap}}))
	promtoolCheck(t, body)
	f := parse(t, body)

	var names []string
	for _, m := range netMetrics {
		names = append(names, m.name)
	}
	for _, m := range fsMetrics {
		names = append(names, m.name)
	}
	names = append(names, "container_processes", "container_start_time_seconds", "cgmon_container_paused", "cgmon_container_host_network")

	const (
		db  = `id="/lxc.payload.db",name="db",runtime="lxc"`
		web = `id="/machine.slice/libpod-abc.scope",name="web",runtime="podman"`
	)
	want := []string{
		`cgmon_container_host_network{` + db + `} 1`,
		`cgmon_container_host_network{` + web + `} 0`,
		`cgmon_container_paused{` + db + `} 1`,
		`cgmon_container_paused{` + web + `} 0`,
		`container_fs_limit_bytes{device="/",` + db + `} 8589934592`,
		`container_fs_limit_bytes{device="/",` + web + `} 10737418240`,
		`container_fs_usage_bytes{device="/",` + db + `} 5368709120`,
		`container_fs_usage_bytes{device="/",` + web + `} 3221225472`,
		`container_fs_inodes_free{device="/",` + web + `} 600`,
		`container_fs_inodes_total{device="/",` + web + `} 1000`,
		`container_processes{` + db + `} 12`,
		`container_processes{` + web + `} 3`,
		`container_start_time_seconds{` + web + `} 1700000000.5`,
	}
	webIface := func(iface string) string {
		return `id="/machine.slice/libpod-abc.scope",interface="` + iface + `",name="web",runtime="podman"`
	}
	for _, x := range []struct {
		iface string
		v     int
	}{{"eth0", 100}, {"eth1", 200}} {
		l := webIface(x.iface)
		for i, dir := range []string{"receive", "transmit"} {
			v := x.v + 4*i
			want = append(want,
				`container_network_`+dir+`_bytes_total{`+l+`} `+strconv.Itoa(v),
				`container_network_`+dir+`_packets_total{`+l+`} `+strconv.Itoa(v+1),
				`container_network_`+dir+`_errors_total{`+l+`} `+strconv.Itoa(v+2),
				`container_network_`+dir+`_packets_dropped_total{`+l+`} `+strconv.Itoa(v+3))
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, series(f, names...)); diff != "" {
		t.Errorf("container series (-want +got):\n%s", diff)
	}
	for _, name := range names {
		wantType := "GAUGE"
		switch {
		case name == "container_fs_inodes_total":
			wantType = "UNTYPED"
		case strings.HasSuffix(name, "_total"):
			wantType = "COUNTER"
		}
		if mf := f[name]; mf != nil && mf.GetType().String() != wantType {
			t.Errorf("%s is a %s, want a %s", name, mf.GetType(), wantType)
		}
	}
}

func TestIgnoredInterface(t *testing.T) {
	for name, want := range map[string]bool{
		"lo": true, "LO": true, "veth1a2b": true, "VethX": true, "docker0": true, "nerdctl0": true,
		"eth0": false, "ens3": false, "wlan0": false, "l": false, "": false, "br-lo": false,
	} {
		if got := ignoredInterface(name); got != want {
			t.Errorf("ignoredInterface(%q) = %v, want %v", name, got, want)
		}
	}
}
