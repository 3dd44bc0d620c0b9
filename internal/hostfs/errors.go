package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// ParseCount parses a sysfs file holding one decimal count, such as the
// EDAC counters /sys/devices/system/edac/mc/mcN/ce_count and ue_count
// (Documentation/admin-guide/ras.rst, "EDAC sysfs interface").
func ParseCount(b []byte) (uint64, error) { return cgroupfs.ParseUint(b) }

// ParseIOErrorCount parses /sys/block/DEV/device/ioerr_cnt, the SCSI
// layer's count of commands that completed with an error, which the
// kernel writes in hex ("0x1a\n", drivers/scsi/scsi_sysfs.c).
func ParseIOErrorCount(b []byte) (uint64, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) < 3 || b[0] != '0' || b[1] != 'x' {
		return 0, newError(0, "ioerr_cnt", b, ErrSyntax)
	}
	var n uint64
	for _, c := range b[2:] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, newError(0, "ioerr_cnt", b, ErrSyntax)
		}
		if n>>60 != 0 {
			return 0, newError(0, "ioerr_cnt", b, ErrRange)
		}
		n = n<<4 | uint64(d)
	}
	return n, nil
}
