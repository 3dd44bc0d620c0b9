package remote

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/remote/sshdtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// BenchmarkRemoteCycle is one cycle of a remote host over a real sshd on
// loopback: the fetch (one command), parsing, and the engine. It adds
// CGMON_SSH_BENCH_CGROUPS (default 100) test cgroups to the host's own and
// reports the output bytes per cycle and per cgroup.
func BenchmarkRemoteCycle(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("CGMON_SSH_BENCH_CGROUPS")); err == nil && v >= 0 {
		n = v
	}
	h := testcg.Require(b)
	for i := range n {
		g := h.NewGroup(b, "bench"+strconv.Itoa(i))
		if i%10 == 0 {
			g.Sleepers(b, 1)
		}
	}
	d := sshdtest.Start(b)
	host, err := NewHost(HostOptions{Options: Options{Address: d.Addr, KeyFile: d.ClientKey, KnownHosts: d.KnownHosts}})
	if err != nil {
		b.Fatal(err)
	}
	defer host.Close()
	snap, err := host.Next() // connects and learns the layout
	if err != nil {
		b.Fatal(err)
	}
	var bytes, wire, files int
	b.ResetTimer()
	for b.Loop() {
		if snap, err = host.Next(); err != nil {
			b.Fatal(err)
		}
		st := host.Root().LastFetch()
		bytes, wire, files = st.Bytes, st.Wire, st.Files
	}
	b.ReportMetric(float64(bytes), "bytes/cycle")
	b.ReportMetric(float64(bytes)/float64(len(snap.Cgroups)), "bytes/cgroup")
	b.ReportMetric(float64(wire), "wire-bytes/cycle")
	b.ReportMetric(float64(files), "files/cycle")
	b.ReportMetric(float64(len(snap.Cgroups)), "cgroups")
}

func BenchmarkParse(b *testing.B) {
	// 1000 cgroups of 12 files of 300 bytes, as a hybrid host's fetch.
	var sb strings.Builder
	sb.WriteString("\x00V1\x00")
	content := strings.Repeat("total_cache 0\ntotal_rss 12345678\n", 10)[:300]
	for i := range 1000 {
		dir := "/sys/fs/cgroup/memory/system.slice/unit-" + strconv.Itoa(i) + ".service"
		sb.WriteString("\x00D" + dir + "\x00")
		var names, contents []string
		for f := range 12 {
			names = append(names, dir+"/file"+strconv.Itoa(f))
			contents = append(contents, content)
		}
		sb.WriteString("\x00B\x00" + headOutput(names, contents))
	}
	sb.WriteString("\x00E\x00")
	out := []byte(sb.String())
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(out); err != nil {
			b.Fatal(err)
		}
	}
}
