package hostfs

import (
	"testing"

	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
)

func BenchmarkParseStat(b *testing.B) {
	var st Stat
	kerntexttest.Bench(b, "proc/stat", func(in []byte) error { return ParseStat(in, &st) })
}

func BenchmarkParseDiskstats(b *testing.B) {
	var d []Disk
	kerntexttest.Bench(b, "proc/diskstats", func(in []byte) (err error) { d, err = ParseDiskstats(in, d); return })
}

func BenchmarkParseNetDev(b *testing.B) {
	var d []NetDev
	kerntexttest.Bench(b, "proc/net/dev", func(in []byte) (err error) { d, err = ParseNetDev(in, d); return })
}

func BenchmarkParseMeminfo(b *testing.B) {
	kerntexttest.Bench(b, "proc/meminfo", func(in []byte) (err error) { _, err = ParseMeminfo(in); return })
}

func BenchmarkParseVmstat(b *testing.B) {
	kerntexttest.Bench(b, "proc/vmstat", func(in []byte) (err error) { _, err = ParseVmstat(in); return })
}

func BenchmarkParseSNMP(b *testing.B) {
	kerntexttest.Bench(b, "proc/net/snmp", func(in []byte) (err error) { _, err = ParseSNMP(in); return })
}
