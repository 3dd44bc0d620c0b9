package model

// appendContainerJSON appends the container figures of a cgroup and closes
// its object, in the order encoding/json writes the fields.
func (c *Cgroup) appendContainerJSON(dst []byte) []byte {
	if c.Processes.OK {
		dst = append(dst, `,"processes":`...)
		dst = c.Processes.appendJSON(dst)
	}
	if c.Network != nil {
		dst = append(dst, `,"network":`...)
		dst = c.Network.appendJSON(dst)
	}
	if c.Filesystem != nil {
		dst = append(dst, `,"filesystem":`...)
		dst = c.Filesystem.appendJSON(dst)
	}
	return append(dst, '}')
}

func (n *Network) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.plainUint("netns", n.Netns)
	if n.HostNetwork {
		f.key("host_network")
		f.dst = append(f.dst, "true"...)
	}
	f.count("rx_bytes_total", n.RxBytesTotal)
	f.count("tx_bytes_total", n.TxBytesTotal)
	f.count("rx_packets_total", n.RxPacketsTotal)
	f.count("tx_packets_total", n.TxPacketsTotal)
	f.count("rx_errors_total", n.RxErrorsTotal)
	f.count("tx_errors_total", n.TxErrorsTotal)
	f.count("rx_dropped_total", n.RxDroppedTotal)
	f.count("tx_dropped_total", n.TxDroppedTotal)
	f.float("rx_bytes_per_second", n.RxBytesPerSecond)
	f.float("tx_bytes_per_second", n.TxBytesPerSecond)
	if len(n.Interfaces) > 0 {
		f.key("interfaces")
		f.dst = append(f.dst, '[')
		for i := range n.Interfaces {
			if i > 0 {
				f.dst = append(f.dst, ',')
			}
			x := &n.Interfaces[i]
			g := object(f.dst)
			g.key("name")
			g.dst = appendString(g.dst, x.Name)
			g.plainUint("rx_bytes_total", x.RxBytesTotal)
			g.plainUint("tx_bytes_total", x.TxBytesTotal)
			g.plainUint("rx_packets_total", x.RxPacketsTotal)
			g.plainUint("tx_packets_total", x.TxPacketsTotal)
			g.plainUint("rx_errors_total", x.RxErrorsTotal)
			g.plainUint("tx_errors_total", x.TxErrorsTotal)
			g.plainUint("rx_dropped_total", x.RxDroppedTotal)
			g.plainUint("tx_dropped_total", x.TxDroppedTotal)
			g.float("rx_bytes_per_second", x.RxBytesPerSecond)
			g.float("tx_bytes_per_second", x.TxBytesPerSecond)
			f.dst = g.end()
		}
		f.dst = append(f.dst, ']')
	}
	return f.end()
}

func (fs *Filesystem) appendJSON(dst []byte) []byte {
	f := object(dst)
	f.plainUint("total_bytes", fs.TotalBytes)
	f.plainUint("used_bytes", fs.UsedBytes)
	f.plainUint("free_bytes", fs.FreeBytes)
	f.plainUint("total_inodes", fs.TotalInodes)
	f.plainUint("used_inodes", fs.UsedInodes)
	f.plainUint("free_inodes", fs.FreeInodes)
	if fs.Path != "" {
		f.key("path")
		f.dst = appendString(f.dst, fs.Path)
	}
	if fs.Device != "" {
		f.key("device")
		f.dst = appendString(f.dst, fs.Device)
	}
	if fs.Storage != nil {
		f.key("storage")
		f.dst = fs.Storage.appendJSON(f.dst)
	}
	return f.end()
}
