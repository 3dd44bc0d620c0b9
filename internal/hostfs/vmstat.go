package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// Vmstat holds the /proc/vmstat counters cgmon uses (cumulative since boot).
type Vmstat struct {
	PswpIn, PswpOut sample.Value // pages swapped in and out
	PgMajFault      sample.Value // major page faults (the page had to be read)
	PgScanDirect    sample.Value // pages scanned by direct reclaim (an allocating task reclaiming itself)
	PgStealDirect   sample.Value // pages reclaimed by direct reclaim
	// AllocStall counts direct reclaim entries: "allocstall" before kernel
	// 4.8, the sum of the per-zone "allocstall_*" since.
	AllocStall sample.Value
	OOMKill    sample.Value // processes killed by the OOM killer (kernel ≥ 4.13)
}

// ParseVmstat parses /proc/vmstat ("pgmajfault 31880" lines).
func ParseVmstat(b []byte) (Vmstat, error) {
	var v Vmstat
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		key, val := keyValue(line)
		var dst *sample.Value
		add := false
		switch string(key) {
		case "pswpin":
			dst = &v.PswpIn
		case "pswpout":
			dst = &v.PswpOut
		case "pgmajfault":
			dst = &v.PgMajFault
		case "pgscan_direct":
			dst = &v.PgScanDirect
		case "pgsteal_direct":
			dst = &v.PgStealDirect
		case "oom_kill":
			dst = &v.OOMKill
		case "allocstall":
			dst = &v.AllocStall
		default:
			if !bytes.HasPrefix(key, []byte("allocstall_")) {
				continue
			}
			dst, add = &v.AllocStall, true
		}
		n, err := atou(val)
		if err != nil {
			return Vmstat{}, newError(l.N, string(key), val, err)
		}
		if add {
			n += dst.V
		}
		*dst = some(n)
	}
	return v, nil
}
