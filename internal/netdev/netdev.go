// Package netdev parses /proc/PID/net/dev, the interface counters of one
// network namespace (proc_net(5), "/proc/net/dev"; the kernel renders it in
// net/core/net-procfs.c dev_seq_printf_stats). Parsing is pure: bytes in,
// counters out.
package netdev

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/kerntext"
)

// Interface is one line of /proc/net/dev: cumulative counters since the
// interface was created, in bytes and packets.
type Interface struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// fieldsPerLine is the number of counters after "NAME:": 8 receive, 8
// transmit. The layout has not changed since Linux 2.6.
const fieldsPerLine = 16

// Loopback is the interface that carries a namespace's traffic to itself.
const Loopback = "lo"

// Parse appends the interfaces listed in a /proc/net/dev to dst, in the
// kernel's order. The two header lines are skipped by their shape (they
// have "|" where an interface line has ":"), not by position, so a file cut
// short still parses. Names are copied: dst does not keep b.
func Parse(dst []Interface, b []byte) ([]Interface, error) {
	lines := kerntext.Lines{Rest: b}
	var fields [fieldsPerLine]uint64
	for {
		line, ok := lines.Next()
		if !ok {
			return dst, nil
		}
		if bytes.IndexByte(line, '|') >= 0 {
			continue // "Inter-|   Receive ..." and " face |bytes ..."
		}
		name, rest, found := bytes.Cut(line, []byte{':'})
		// An interface name cannot hold ':' (dev_valid_name allows it, but
		// the alias syntax "eth0:1" is a v4 label, not a netdev), so the
		// first ':' ends the name. Long names are glued to it: "vethLEb8Dy:1248".
		if !found {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return dst, kerntext.NewError(lines.N, "", line, kerntext.ErrSyntax)
		}
		name = bytes.TrimSpace(name)
		if len(name) == 0 {
			return dst, kerntext.NewError(lines.N, "interface", line, kerntext.ErrSyntax)
		}
		n := 0
		for len(rest) > 0 {
			rest = bytes.TrimLeft(rest, " \t")
			if len(rest) == 0 {
				break
			}
			end := bytes.IndexAny(rest, " \t")
			if end < 0 {
				end = len(rest)
			}
			if n == fieldsPerLine {
				return dst, kerntext.NewError(lines.N, string(name), rest[:end], kerntext.ErrSyntax)
			}
			v, err := kerntext.Atou(rest[:end])
			if err != nil {
				return dst, kerntext.NewError(lines.N, string(name), rest[:end], err)
			}
			fields[n] = v
			n++
			rest = rest[end:]
		}
		if n != fieldsPerLine {
			return dst, kerntext.NewError(lines.N, string(name), nil, kerntext.ErrMissing)
		}
		dst = append(dst, Interface{
			Name:    string(name),
			RxBytes: fields[0], RxPackets: fields[1], RxErrors: fields[2], RxDropped: fields[3],
			TxBytes: fields[8], TxPackets: fields[9], TxErrors: fields[10], TxDropped: fields[11],
		})
	}
}
