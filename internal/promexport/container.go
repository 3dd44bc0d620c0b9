package promexport

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgmon/cgmon/internal/model"
)

// The figures read through a running container's process (model.Cgroup's
// Processes, Network, Filesystem and Container.State/StartedAt), for its
// own cgroup only. Names and labels are cAdvisor's where cAdvisor has the
// figure.

// netMetric is one counter of a network interface, rendered with the
// cgroup's labels and interface.
type netMetric struct {
	name, help string
	value      func(f *model.NetInterface) uint64
}

// netMetrics are cAdvisor's container_network_* counters, in the order of
// descs.net.
var netMetrics = [...]netMetric{
	{"container_network_receive_bytes_total", "Cumulative count of bytes received on the interface, in the container's network namespace (/proc/PID/net/dev).",
		func(f *model.NetInterface) uint64 { return f.RxBytesTotal }},
	{"container_network_receive_packets_total", "Cumulative count of packets received on the interface.",
		func(f *model.NetInterface) uint64 { return f.RxPacketsTotal }},
	{"container_network_receive_errors_total", "Cumulative count of errors encountered while receiving on the interface.",
		func(f *model.NetInterface) uint64 { return f.RxErrorsTotal }},
	{"container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving on the interface.",
		func(f *model.NetInterface) uint64 { return f.RxDroppedTotal }},
	{"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted on the interface, in the container's network namespace (/proc/PID/net/dev).",
		func(f *model.NetInterface) uint64 { return f.TxBytesTotal }},
	{"container_network_transmit_packets_total", "Cumulative count of packets transmitted on the interface.",
		func(f *model.NetInterface) uint64 { return f.TxPacketsTotal }},
	{"container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting on the interface.",
		func(f *model.NetInterface) uint64 { return f.TxErrorsTotal }},
	{"container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting on the interface.",
		func(f *model.NetInterface) uint64 { return f.TxDroppedTotal }},
}

// ignoredInterfacePrefixes are the interface names cAdvisor leaves out of
// its network series, compared case-insensitively as a prefix
// (container/libcontainer/handler.go, ignoredDevicePrefixes): the loopback,
// whose traffic never leaves the container, and the host ends of veth
// pairs and the bridges of a runtime nested in the container, whose
// traffic the container's own interface already counts.
var ignoredInterfacePrefixes = [...]string{"lo", "veth", "docker", "nerdctl"}

func ignoredInterface(name string) bool {
	for _, p := range ignoredInterfacePrefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// fsMetric is one figure of a container's root filesystem, rendered with
// the cgroup's labels and device.
type fsMetric struct {
	name, help string
	typ        prometheus.ValueType
	// value returns the figure, and false when the filesystem lacks it.
	value func(f *model.Filesystem) (float64, bool)
}

// fsMetrics are cAdvisor's container_fs_* gauges of the filesystem, in the
// order of descs.fs.
var fsMetrics = [...]fsMetric{
	{"container_fs_usage_bytes", "Bytes used on the container's root filesystem: its size less its free blocks, as df / inside the container shows it.", gauge,
		func(f *model.Filesystem) (float64, bool) { return float64(f.UsedBytes), true }},
	{"container_fs_limit_bytes", "Size in bytes of the container's root filesystem, as df / inside the container shows it.", gauge,
		func(f *model.Filesystem) (float64, bool) { return float64(f.TotalBytes), true }},
	// A filesystem with no fixed inode count (btrfs) reports 0 inodes:
	// absent, as cAdvisor leaves them out when the filesystem has none.
	{"container_fs_inodes_free", "Free inodes on the container's root filesystem.", gauge,
		func(f *model.Filesystem) (float64, bool) { return float64(f.FreeInodes), f.TotalInodes > 0 }},
	// A gauge, but cAdvisor's name ends in _total: untyped keeps the name
	// and passes promtool's lint, as container_memory_failcnt.
	{"container_fs_inodes_total", "Inodes of the container's root filesystem.", prometheus.UntypedValue,
		func(f *model.Filesystem) (float64, bool) { return float64(f.TotalInodes), f.TotalInodes > 0 }},
}

// rootDevice is the device label of a container's root filesystem: its
// block device as cAdvisor names it ("/dev/vda1"), so that dashboards
// selecting device=~"/dev/.*" keep working; "/" (the mount point) when no
// block device backs it or it cannot be told.
func rootDevice(fs *model.Filesystem) string {
	if fs.Device != "" {
		return validUTF8(fs.Device)
	}
	return "/"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// containerDescs are the descriptors of the figures with their own labels.
type containerDescs struct {
	net [len(netMetrics)]*prometheus.Desc
	fs  [len(fsMetrics)]*prometheus.Desc
}

func newContainerDescs(with func(extra ...string) []string) containerDescs {
	var d containerDescs
	iface := with("interface")
	for i, m := range netMetrics {
		d.net[i] = prometheus.NewDesc(m.name, m.help, iface, nil)
	}
	dev := with("device")
	for i, m := range fsMetrics {
		d.fs[i] = prometheus.NewDesc(m.name, m.help, dev, nil)
	}
	return d
}

func (d *containerDescs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range d.net {
		ch <- x
	}
	for _, x := range d.fs {
		ch <- x
	}
}

// collect renders the per-interface and filesystem figures of a
// container's cgroup. A container in the host's network namespace has no
// interfaces in the model (google/cadvisor#3117): cgmon_container_host_network
// says why.
func (d *containerDescs) collect(ch chan<- prometheus.Metric, r *renderer, c *model.Cgroup, id, name, runtime string) {
	if n := c.Network; n != nil {
		for k := range n.Interfaces {
			f := &n.Interfaces[k]
			if ignoredInterface(f.Name) {
				continue
			}
			lp := r.labels(pair{&labelID, id}, pair{&labelInterface, validUTF8(f.Name)}, pair{&labelName, name}, pair{&labelRuntime, runtime})
			for j := range netMetrics {
				ch <- r.metric(d.net[j], counter, float64(netMetrics[j].value(f)), lp)
			}
		}
	}
	if fs := c.Filesystem; fs != nil {
		lp := r.labels(pair{&labelDevice, rootDevice(fs)}, pair{&labelID, id}, pair{&labelName, name}, pair{&labelRuntime, runtime})
		for j := range fsMetrics {
			if v, ok := fsMetrics[j].value(fs); ok {
				ch <- r.metric(d.fs[j], fsMetrics[j].typ, v, lp)
			}
		}
	}
}
