package proc

import (
	"testing"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/testcg"
)

// TestPIDsOfABigCgroup: a cgroup.procs of more than a page (1000
// processes, about 6 KB) is read whole — the kernel hands a seq_file out a
// page at a time, so a reader that takes a short read for the end loses
// the processes past the first page once its buffer has grown (the
// Lister's buffer is reused from call to call; the first reading was
// right, the second gave 682 of 1000).
func TestPIDsOfABigCgroup(t *testing.T) {
	const n = 1000
	g := testcg.Require(t).NewGroup(t, "big")
	g.Sleepers(t, n)
	root := openRoot(t, "/")
	layout, err := cgroup.DetectLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLister(root, layout, 0)
	for i := range 3 {
		pids, err := l.PIDs(g.Path())
		if err != nil || len(pids) != n {
			t.Fatalf("reading %d: %d processes (%v), want %d", i+1, len(pids), err, n)
		}
	}
	// The same file through a kept handle and a buffer already bigger than
	// the file, as the engine reads its files every cycle.
	dir := layout.ProcsDirs(g.Path())[0]
	h, err := root.Open(dir + "/cgroup.procs")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	buf := make([]byte, 0, 64<<10)
	for i := range 2 {
		b, err := h.ReadAll(buf)
		if err != nil || cgroupfs.CountLines(b) != n {
			t.Fatalf("kept handle, reading %d: %d lines (%v), want %d", i+1, cgroupfs.CountLines(b), err, n)
		}
		buf = b
	}
	if b, err := root.ReadFile(dir + "/cgroup.procs"); err != nil || cgroupfs.CountLines(b) != n {
		t.Fatalf("ReadFile: %d lines (%v), want %d", cgroupfs.CountLines(b), err, n)
	}
}
