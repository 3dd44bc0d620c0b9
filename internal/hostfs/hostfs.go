// Package hostfs parses the host-wide kernel files behind cgmon's USE
// report (utilization, saturation, errors of CPU, memory, disks and
// network): /proc/stat, /proc/meminfo, /proc/vmstat, /proc/loadavg,
// /proc/diskstats, /proc/net/dev, /proc/net/snmp, /proc/interrupts (MCE),
// /proc/pressure/*, /sys/class/net/IF/speed, /sys/block/DEV/device/ioerr_cnt
// and the EDAC counters. Parsers are pure, bytes in and typed values out;
// internal/host reads the files. It also holds Sample, one reading of all of
// them, which internal/model turns into rates, and the filesystem types
// its statfs(2) figures leave out (SkipFSType), for every reader of them.
//
// Parsers follow the rules of internal/cgroupfs: lines and keys they do not
// use are skipped, a used value that is malformed is a *kerntext.ParseError
// naming line, key and text (the reader adds the path), and a key that is
// absent leaves its sample.Value absent, never 0.
package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/kerntext"
	"github.com/cgmon/cgmon/internal/sample"
)

// Sentinel errors wrapped by *ParseError; check them with errors.Is.
var (
	ErrSyntax  = kerntext.ErrSyntax
	ErrRange   = kerntext.ErrRange
	ErrMissing = kerntext.ErrMissing
)

func newError(line int, key string, text []byte, err error) error {
	return kerntext.NewError(line, key, text, err)
}

type lines = kerntext.Lines

func atou(b []byte) (uint64, error) { return kerntext.Atou(b) }

// maxFields bounds the fields split out of one line: /proc/diskstats has 20
// on kernels ≥ 5.5, /proc/net/dev 17.
const maxFields = 24

// splitFields splits line at runs of spaces and tabs into dst and returns
// the number of fields; fields beyond len(dst) are dropped and n is then
// len(dst)+1, so a caller can tell "too many".
func splitFields(line []byte, dst *[maxFields][]byte) int {
	n := 0
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if n == len(dst) {
			return n + 1
		}
		dst[n] = line[i:j]
		n++
		i = j
	}
	return n
}

// keyValue splits "key value" or "key: value" at the first run of spaces.
func keyValue(line []byte) (key, value []byte) {
	i := bytes.IndexAny(line, " \t")
	if i < 0 {
		return line, nil
	}
	key, value = line[:i], bytes.TrimLeft(line[i:], " \t")
	return key, value
}

func some(v uint64) sample.Value { return sample.Some(v) }
