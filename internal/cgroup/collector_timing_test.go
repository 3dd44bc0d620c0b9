package cgroup

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// copyTree copies a fixture tree (files, directories and symlinks).
func copyTree(t testing.TB, src, dst string) { copyOrLink(t, src, dst, false) }

// linkTree is copyTree with hard links for files: a thousand copies of a
// cgroup cost seconds less to make.
func linkTree(t testing.TB, src, dst string) { copyOrLink(t, src, dst, true) }

func copyOrLink(t testing.TB, src, dst string, link bool) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case link:
			return os.Link(p, target)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// replicatedRoot returns a copy of a fixture with n more cgroups, each a
// copy of the real container cgroup `from`, under /bench.slice in every
// hierarchy listed.
func replicatedRoot(t testing.TB, fixture, from string, hierarchies []string, n int) *rootfs.Dir {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixtures, fixture), dir)
	for _, h := range hierarchies {
		src := filepath.Join(dir, h, from)
		for i := 0; i < n; i++ {
			linkTree(t, src, filepath.Join(dir, h, "bench.slice", fmt.Sprintf("g%d", i)))
		}
	}
	root, err := rootfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func benchmarkCollect(b *testing.B, root rootfs.Root) {
	c, err := New(Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var set sample.Set
	if err := c.Collect(&set); err != nil { // opens every file
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Collect(&set); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(set.Cgroups)), "cgroups")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(set.Cgroups)), "ns/cgroup")
}

// BenchmarkCollectV2 is one whole cycle over 1000 copies of the real v2
// podman cgroup (files on the test's file system, not cgroupfs: this
// measures cgmon's own work, not the kernel's).
func BenchmarkCollectV2(b *testing.B) {
	root := replicatedRoot(b, "v2", podV2, []string{"sys/fs/cgroup"}, 1000)
	benchmarkCollect(b, root)
}

// BenchmarkCollectHybrid is the same on the hybrid layout: ten hierarchies.
func BenchmarkCollectHybrid(b *testing.B) {
	var hs []string
	for _, h := range []string{"cpu", "cpuacct", "memory", "blkio", "pids", "unified", "systemd"} {
		hs = append(hs, "sys/fs/cgroup/"+h)
	}
	root := replicatedRoot(b, "hybrid", podV1, hs, 1000)
	benchmarkCollect(b, root)
}

func TestReplicatedTreeIsRead(t *testing.T) {
	root := replicatedRoot(t, "v2", podV2, []string{"sys/fs/cgroup"}, 20)
	set, c := collectOnce(t, root, Options{})
	g := find(t, set, "/bench.slice/g7")
	pod := find(t, set, podV2)
	if g.Memory.Usage != pod.Memory.Usage || len(g.IO) != 1 {
		t.Errorf("copy reads differently: %+v vs %+v", g.Memory, pod.Memory)
	}
	if st := c.Stats(); st.OpenFiles == 0 || st.Cgroups != len(set.Cgroups) || st.Cgroups < 21 {
		t.Errorf("stats %+v", st)
	}
}
