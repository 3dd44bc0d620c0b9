package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// SNMP holds the /proc/net/snmp counters cgmon uses (RFC 4022 TCP-MIB and
// RFC 4113 UDP-MIB names).
type SNMP struct {
	TCPOutSegs, TCPRetransSegs, TCPInErrs         sample.Value
	UDPInErrors, UDPRcvbufErrors, UDPSndbufErrors sample.Value
}

// ParseSNMP parses /proc/net/snmp: per protocol, a line of names and a line
// of values, both starting with "Proto:". Only the Tcp and Udp pairs are
// read, and only their used columns (others, such as Tcp MaxConn, may be
// negative).
func ParseSNMP(b []byte) (SNMP, error) {
	var s SNMP
	l := lines{Rest: b}
	for names, ok := l.Next(); ok; names, ok = l.Next() {
		proto, _, found := bytes.Cut(names, []byte(":"))
		if !found {
			return SNMP{}, newError(l.N, "", names, ErrSyntax)
		}
		values, ok := l.Next()
		if !ok {
			return SNMP{}, newError(l.N, string(proto), nil, ErrMissing)
		}
		vproto, vrest, found := bytes.Cut(values, []byte(":"))
		if !found || !bytes.Equal(proto, vproto) {
			return SNMP{}, newError(l.N, string(proto), values, ErrSyntax)
		}
		var want func(name []byte) *sample.Value
		switch string(proto) {
		case "Tcp":
			want = s.tcpField
		case "Udp":
			want = s.udpField
		default:
			continue
		}
		nrest := names[len(proto)+1:]
		for {
			var name, val []byte
			name, nrest = nextField(nrest)
			val, vrest = nextField(vrest)
			if len(name) == 0 && len(val) == 0 {
				break
			}
			if len(name) == 0 || len(val) == 0 {
				return SNMP{}, newError(l.N, string(proto), values, ErrSyntax)
			}
			dst := want(name)
			if dst == nil {
				continue
			}
			v, err := atou(val)
			if err != nil {
				return SNMP{}, newError(l.N, string(proto)+" "+string(name), val, err)
			}
			*dst = some(v)
		}
	}
	return s, nil
}

// nextField returns the first space-separated field of b and the rest.
func nextField(b []byte) (f, rest []byte) {
	b = bytes.TrimLeft(b, " \t")
	i := bytes.IndexAny(b, " \t")
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i:]
}

func (s *SNMP) tcpField(name []byte) *sample.Value {
	switch string(name) {
	case "OutSegs":
		return &s.TCPOutSegs
	case "RetransSegs":
		return &s.TCPRetransSegs
	case "InErrs":
		return &s.TCPInErrs
	}
	return nil
}

func (s *SNMP) udpField(name []byte) *sample.Value {
	switch string(name) {
	case "InErrors":
		return &s.UDPInErrors
	case "RcvbufErrors":
		return &s.UDPRcvbufErrors
	case "SndbufErrors":
		return &s.UDPSndbufErrors
	}
	return nil
}
