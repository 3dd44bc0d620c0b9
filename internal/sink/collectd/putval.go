package collectd

import (
	"math"
	"strconv"
)

// AppendPutval appends vl as a PUTVAL line of collectd's plain-text
// protocol, as the exec plugin reads it on a child's standard output:
//
//	PUTVAL "host/libpodstats-web/pod_cpu" interval=10.000 1700000000.000:49.9:123456789
//
// An unknown gauge (NaN) is "U". The identifier's parts must hold no
// quote or backslash (Values sanitizes them).
func AppendPutval(b []byte, vl *ValueList) []byte {
	b = append(b, `PUTVAL "`...)
	b = append(b, vl.Identifier()...)
	b = append(b, `" interval=`...)
	b = strconv.AppendFloat(b, vl.Interval.Seconds(), 'f', 3, 64)
	b = append(b, ' ')
	if vl.Time.IsZero() {
		b = append(b, 'N')
	} else {
		b = strconv.AppendFloat(b, float64(vl.Time.UnixNano())/1e9, 'f', 3, 64)
	}
	for _, v := range vl.Values {
		b = append(b, ':')
		switch {
		case v.Type != Gauge:
			b = strconv.AppendInt(b, v.I, 10)
		case math.IsNaN(v.F) || math.IsInf(v.F, 0):
			b = append(b, 'U')
		default:
			b = strconv.AppendFloat(b, v.F, 'g', -1, 64)
		}
	}
	return append(b, '\n')
}
