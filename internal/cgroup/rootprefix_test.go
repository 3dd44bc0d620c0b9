package cgroup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cgmon/cgmon/internal/rootfs"
)

// TestPrefixRootReadsPID1Mounts is cgmon in a container with the host's / at
// /rootfs: there proc/self/mountinfo is the container's own mount table and
// proc/1/mountinfo the host's. The layout must come from PID 1's, and a root
// with only proc/self (the live host, the fixtures) must still work.
func TestPrefixRootReadsPID1Mounts(t *testing.T) {
	dir, _ := fixtureCopy(t, "v2")
	proc := filepath.Join(dir, "proc")
	if err := os.MkdirAll(filepath.Join(proc, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(proc, "self/mountinfo"), filepath.Join(proc, "1/mountinfo")); err != nil {
		t.Fatal(err)
	}
	// The container's own table: a cgroup namespace root showing a v1
	// memory hierarchy that the host tree does not have.
	own := "1000 999 0:50 / / rw - overlay overlay rw\n" +
		"1001 1000 0:60 / /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
	if err := os.WriteFile(filepath.Join(proc, "self/mountinfo"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	root := reopen(t, dir)
	l, err := DetectLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	if l.Mode != ModeV2 || len(l.Hierarchies) != 1 || l.Hierarchies[0].MountPoint != "/sys/fs/cgroup" {
		t.Fatalf("layout from the prefix root = %s %+v, want the host's v2 mount from proc/1/mountinfo", l.Mode, l.Hierarchies)
	}
	set, _ := collectOnce(t, root, Options{})
	if find(t, set, demo).CPU.UsageNs.V == 0 {
		t.Error("the host's cgroups read no CPU through the prefix root")
	}

	// Without proc/1 (a root that is not a container's view), proc/self
	// is the only table, and it is used.
	if err := os.RemoveAll(filepath.Join(proc, "1")); err != nil {
		t.Fatal(err)
	}
	if l, err := DetectLayout(reopen(t, dir)); err != nil || l.Mode != ModeV1 {
		t.Fatalf("with only proc/self: layout %+v, %v; want v1 from proc/self/mountinfo", l, err)
	}
}

func reopen(t *testing.T, dir string) *rootfs.Dir {
	t.Helper()
	root, err := rootfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}
