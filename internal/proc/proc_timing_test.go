package proc

import (
	"errors"
	"testing"

	"github.com/prometheus/procfs"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/testcg"
)

func BenchmarkParseStat(b *testing.B) {
	var s Stat
	bench(b, "root/proc/1642/stat", func(in []byte) error { return ParseStat(in, &s) })
}

func BenchmarkParseStatus(b *testing.B) {
	var s Status
	bench(b, "root/proc/1642/status", func(in []byte) error { return ParseStatus(in, &s) })
}

func BenchmarkStatusCompanion(b *testing.B) {
	var s Status
	bench(b, "root/proc/1642/status", func(in []byte) error {
		if err := ParseStatus(in, &s); err != nil {
			return err
		}
		_, err := s.Companion()
		return err
	})
}

func BenchmarkAppendCmdline(b *testing.B) {
	var buf []byte
	bench(b, "root/proc/1642/cmdline", func(in []byte) error { buf = AppendCmdline(buf[:0], in); return nil })
}

func BenchmarkParseIO(b *testing.B) {
	var io IO
	bench(b, "root/proc/1642/io", func(in []byte) error { return ParseIO(in, &io) })
}

// BenchmarkReadProcesses lists and reads 1000 real processes (sleepers in a
// fresh cgroup): one `cgmon ps` reading, or one cycle of the companion API
// for a cgroup of 1000 processes. It needs root; ns/process is the figure.
// "all" reads the five files; "ps" what `cgmon ps` reads (no io); "companion"
// what the companion's response holds (stat, status, cmdline).
func BenchmarkReadProcesses(b *testing.B) {
	const n = 1000
	g := testcg.Require(b).NewGroup(b, "bench")
	g.Sleepers(b, n)
	root := openRoot(b, "/")
	layout, err := cgroup.DetectLayout(root)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		files Files
	}{
		{"all", AllFiles},
		{"ps", FileStatus | FileCmdline | FileCgroup},
		{"companion", FileStatus | FileCmdline},
		{"stat", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var buf Buffers
			b.ReportAllocs()
			for b.Loop() {
				members, err := PIDsRecursive(root, layout, []string{g.Path()})
				if err != nil {
					b.Fatal(err)
				}
				ps, err := ReadProcesses(root, members, bc.files, &buf)
				if err != nil || len(ps) != n {
					b.Fatalf("read %d of %d processes: %v", len(ps), n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/process")
		})
	}
	// The same files as "all" read with prometheus/procfs, for the
	// comparison in the package comment.
	b.Run("procfs-all", func(b *testing.B) {
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			members, err := PIDsRecursive(root, layout, []string{g.Path()})
			if err != nil {
				b.Fatal(err)
			}
			read := 0
			for _, m := range members {
				p, err := fs.Proc(m.PID)
				if err != nil {
					continue
				}
				_, err1 := p.Stat()
				_, err2 := p.NewStatus()
				_, err3 := p.CmdLine()
				_, err4 := p.IO()
				_, err5 := p.Cgroups()
				if errors.Join(err1, err2, err3, err4, err5) == nil {
					read++
				}
			}
			if read != n {
				b.Fatalf("procfs read %d of %d processes", read, n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/process")
	})
}
