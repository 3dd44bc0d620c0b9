package model

import (
	"time"

	"github.com/cgmon/cgmon/internal/netdev"
	"github.com/cgmon/cgmon/internal/sample"
)

// Network is a container's network namespace: the counters of every
// interface in it, and totals over the interfaces other than the loopback
// (traffic a container sends to itself is not network use; LXC Monitor left
// "lo" out too). A container in the host's namespace has HostNetwork and no
// counters: they would be the host's (google/cadvisor#3117).
type Network struct {
	// Netns is the namespace's inode (/proc/PID/ns/net): containers with
	// the same one share these counters.
	Netns       uint64 `json:"netns"`
	HostNetwork bool   `json:"host_network,omitempty"`

	RxBytesTotal     Count `json:"rx_bytes_total,omitzero"`
	TxBytesTotal     Count `json:"tx_bytes_total,omitzero"`
	RxPacketsTotal   Count `json:"rx_packets_total,omitzero"`
	TxPacketsTotal   Count `json:"tx_packets_total,omitzero"`
	RxErrorsTotal    Count `json:"rx_errors_total,omitzero"`
	TxErrorsTotal    Count `json:"tx_errors_total,omitzero"`
	RxDroppedTotal   Count `json:"rx_dropped_total,omitzero"`
	TxDroppedTotal   Count `json:"tx_dropped_total,omitzero"`
	RxBytesPerSecond Float `json:"rx_bytes_per_second,omitzero"`
	TxBytesPerSecond Float `json:"tx_bytes_per_second,omitzero"`

	Interfaces []NetInterface `json:"interfaces,omitempty"`
}

// NetInterface is one interface of a network namespace.
type NetInterface struct {
	Name             string `json:"name"`
	RxBytesTotal     uint64 `json:"rx_bytes_total"`
	TxBytesTotal     uint64 `json:"tx_bytes_total"`
	RxPacketsTotal   uint64 `json:"rx_packets_total"`
	TxPacketsTotal   uint64 `json:"tx_packets_total"`
	RxErrorsTotal    uint64 `json:"rx_errors_total"`
	TxErrorsTotal    uint64 `json:"tx_errors_total"`
	RxDroppedTotal   uint64 `json:"rx_dropped_total"`
	TxDroppedTotal   uint64 `json:"tx_dropped_total"`
	RxBytesPerSecond Float  `json:"rx_bytes_per_second,omitzero"`
	TxBytesPerSecond Float  `json:"tx_bytes_per_second,omitzero"`
}

// Filesystem is a container's root filesystem as df shows it from inside.
type Filesystem struct {
	TotalBytes uint64 `json:"total_bytes"` // size (df "1K-blocks" × 1024)
	UsedBytes  uint64 `json:"used_bytes"`  // size − free to root (df "Used")
	FreeBytes  uint64 `json:"free_bytes"`  // free to unprivileged users (df "Available")
	// Inodes: TotalInodes 0 means the filesystem has no fixed count
	// (btrfs, overlay on some), as df -i shows it.
	TotalInodes uint64 `json:"total_inodes"`
	UsedInodes  uint64 `json:"used_inodes"`
	FreeInodes  uint64 `json:"free_inodes"`
	// Path is, for Storage, the host directory it was read at.
	Path string `json:"path,omitempty"`
	// Device is, for the root, the block device it is on (for an overlay,
	// the one under its upper directory); "" when none or unknown.
	Device string `json:"device,omitempty"`
	// Storage is the host filesystem the runtime keeps the container's
	// files on, when it is another filesystem than the container's root.
	Storage *Filesystem `json:"storage,omitempty"`
}

// convertContainer fills the figures read through a container's process.
func convertContainer(dst *Cgroup, c *sample.Container) {
	if c == nil {
		return
	}
	if dst.Container != nil {
		dst.Container.State = c.State
		if !c.StartedAt.IsZero() {
			dst.Container.StartedAt = c.StartedAt.UTC()
		}
	}
	dst.Processes = Count{V: c.Processes, OK: true}
	if n := c.Network; n != nil {
		dst.Network = networkOf(n)
	}
	if f := c.Filesystem; f != nil {
		dst.Filesystem = filesystemOf(f)
	}
}

func networkOf(n *sample.Network) *Network {
	out := &Network{Netns: n.Netns, HostNetwork: n.HostNetwork}
	if n.HostNetwork {
		return out
	}
	out.Interfaces = make([]NetInterface, len(n.Interfaces))
	var t netdev.Interface
	for i, f := range n.Interfaces {
		out.Interfaces[i] = NetInterface{
			Name:         f.Name,
			RxBytesTotal: f.RxBytes, TxBytesTotal: f.TxBytes,
			RxPacketsTotal: f.RxPackets, TxPacketsTotal: f.TxPackets,
			RxErrorsTotal: f.RxErrors, TxErrorsTotal: f.TxErrors,
			RxDroppedTotal: f.RxDropped, TxDroppedTotal: f.TxDropped,
		}
		if f.Name == netdev.Loopback {
			continue
		}
		t.RxBytes += f.RxBytes
		t.TxBytes += f.TxBytes
		t.RxPackets += f.RxPackets
		t.TxPackets += f.TxPackets
		t.RxErrors += f.RxErrors
		t.TxErrors += f.TxErrors
		t.RxDropped += f.RxDropped
		t.TxDropped += f.TxDropped
	}
	some := func(v uint64) Count { return Count{V: v, OK: true} }
	out.RxBytesTotal, out.TxBytesTotal = some(t.RxBytes), some(t.TxBytes)
	out.RxPacketsTotal, out.TxPacketsTotal = some(t.RxPackets), some(t.TxPackets)
	out.RxErrorsTotal, out.TxErrorsTotal = some(t.RxErrors), some(t.TxErrors)
	out.RxDroppedTotal, out.TxDroppedTotal = some(t.RxDropped), some(t.TxDropped)
	return out
}

func filesystemOf(f *sample.Filesystem) *Filesystem {
	out := &Filesystem{
		TotalBytes: f.TotalBytes, FreeBytes: f.AvailBytes,
		TotalInodes: f.TotalInodes, FreeInodes: f.FreeInodes,
		Path: f.Path, Device: f.Device,
	}
	if f.TotalBytes >= f.FreeBytes {
		out.UsedBytes = f.TotalBytes - f.FreeBytes
	}
	if f.TotalInodes >= f.FreeInodes {
		out.UsedInodes = f.TotalInodes - f.FreeInodes
	}
	if f.Storage != nil {
		out.Storage = filesystemOf(f.Storage)
	}
	return out
}

// NetRates are a container's network rates in bytes per second: totals
// over the interfaces other than the loopback, and per interface.
type NetRates struct {
	RxBytes, TxBytes Float
	Interfaces       []ifaceRate // by index into the current sample's interfaces
}

type ifaceRate struct {
	index  int
	rx, tx Float
}

// networkRates compares the same network namespace in two samples; a
// container that moved to another namespace, or shares the host's, has no
// rates.
func networkRates(prev, cur *sample.Container, elapsed time.Duration) NetRates {
	var r NetRates
	if prev == nil || cur == nil || prev.Network == nil || cur.Network == nil || elapsed <= 0 {
		return r
	}
	p, c := prev.Network, cur.Network
	if p.Netns != c.Netns || c.HostNetwork {
		return r
	}
	sec := elapsed.Seconds()
	var prx, ptx, crx, ctx uint64
	for _, f := range p.Interfaces {
		if f.Name != netdev.Loopback {
			prx, ptx = prx+f.RxBytes, ptx+f.TxBytes
		}
	}
	for i, f := range c.Interfaces {
		if f.Name != netdev.Loopback {
			crx, ctx = crx+f.RxBytes, ctx+f.TxBytes
		}
		for _, g := range p.Interfaces {
			if g.Name == f.Name && f.RxBytes >= g.RxBytes && f.TxBytes >= g.TxBytes {
				r.Interfaces = append(r.Interfaces, ifaceRate{index: i,
					rx: floatOf(float64(f.RxBytes-g.RxBytes) / sec), tx: floatOf(float64(f.TxBytes-g.TxBytes) / sec)})
				break
			}
		}
	}
	// An interface gone or recreated makes a total go back: no rate then.
	if crx >= prx && ctx >= ptx {
		r.RxBytes, r.TxBytes = floatOf(float64(crx-prx)/sec), floatOf(float64(ctx-ptx)/sec)
	}
	return r
}

func (r NetRates) apply(c *Cgroup) {
	n := c.Network
	if n == nil {
		return
	}
	n.RxBytesPerSecond, n.TxBytesPerSecond = r.RxBytes, r.TxBytes
	for _, f := range r.Interfaces {
		if f.index < len(n.Interfaces) {
			n.Interfaces[f.index].RxBytesPerSecond = f.rx
			n.Interfaces[f.index].TxBytesPerSecond = f.tx
		}
	}
}
