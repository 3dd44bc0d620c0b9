package hostfs

import (
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// ParsePSI parses /proc/pressure/{cpu,memory,io}
// (Documentation/accounting/psi.rst); the format is a cgroup's pressure
// file's, so this is cgroupfs.ParsePSI.
func ParsePSI(b []byte) (sample.PSI, error) { return cgroupfs.ParsePSI(b) }
