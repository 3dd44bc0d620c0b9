package main

import (
	"errors"
	"math"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/render"
	"github.com/cgmon/cgmon/internal/testcg"
)

// topRow is one row of a top -b --raw table.
type topRow struct {
	path                         string
	tasks, cpu, mem, input, outp float64 // NaN for "-"
}

// topTables splits top -b --raw output into its tables.
func topTables(t *testing.T, out string) [][]topRow {
	t.Helper()
	if strings.ContainsRune(out, '\x1b') {
		t.Fatalf("batch output has escape codes: %q", out)
	}
	var tables [][]topRow
	for _, block := range strings.Split(strings.TrimSuffix(out, "\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		if !strings.HasPrefix(lines[0], "Control Group ") {
			t.Fatalf("table without a header:\n%s", block)
		}
		var rows []topRow
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 6 {
				t.Fatalf("row %q: %d fields, want 6", l, len(f))
			}
			v := make([]float64, 5)
			for i, s := range f[1:] {
				v[i] = math.NaN()
				if s != "-" {
					x, err := strconv.ParseFloat(s, 64)
					if err != nil {
						t.Fatalf("row %q: %v", l, err)
					}
					v[i] = x
				}
			}
			rows = append(rows, topRow{f[0], v[0], v[1], v[2], v[3], v[4]})
		}
		tables = append(tables, rows)
	}
	return tables
}

func rowPaths(rows []topRow) []string {
	var p []string
	for _, r := range rows {
		p = append(p, r.path)
	}
	return p
}

// TestTopBatchV2 runs top -b on the v2 fixture tree with every order and a
// few depths: two tables, the same rows, in the order's sense.
func TestTopBatchV2(t *testing.T) {
	root := filepath.Join(fixtures, "v2")
	out, err := run(t, "top", "-b", "--raw", "--rootfs", root, "--interval", "10ms", "--order", "path", "--depth", "64")
	if err != nil {
		t.Fatal(err)
	}
	all := topTables(t, out)
	if len(all) != 1 {
		t.Fatalf("without --iterations and not on a terminal: %d tables, want 1 (as systemd-cgtop)", len(all))
	}
	every := rowPaths(all[0])

	keyOf := map[string]func(topRow) float64{
		"cpu":    func(r topRow) float64 { return r.cpu },
		"memory": func(r topRow) float64 { return r.mem },
		"tasks":  func(r topRow) float64 { return r.tasks },
		"io":     func(r topRow) float64 { return r.input + r.outp },
	}
	for _, order := range []string{"cpu", "memory", "tasks", "io", "path"} {
		for _, depth := range []int{0, 1, 2, 3, 64} {
			out, err := run(t, "top", "-b", "--raw", "--rootfs", root, "--interval", "10ms", "--iterations", "2", "--order", order, "--depth", strconv.Itoa(depth))
			if err != nil {
				t.Fatalf("order %s depth %d: %v", order, depth, err)
			}
			tables := topTables(t, out)
			if len(tables) != 2 {
				t.Fatalf("order %s depth %d: %d tables, want 2:\n%s", order, depth, len(tables), out)
			}
			var want []string
			for _, p := range every {
				if render.Depth(p) <= depth {
					want = append(want, p)
				}
			}
			for i, rows := range tables {
				got := rowPaths(rows)
				if d := cmp.Diff(want, got, cmp.Transformer("sort", func(s []string) []string {
					s = append([]string(nil), s...)
					slices.Sort(s)
					return s
				})); d != "" {
					t.Errorf("order %s depth %d table %d: rows (-want +got):\n%s", order, depth, i, d)
				}
				for j := 1; j < len(rows); j++ {
					a, b := rows[j-1], rows[j]
					if order == "path" {
						if a.path > b.path {
							t.Errorf("order path: %s before %s", a.path, b.path)
						}
						continue
					}
					va, vb := keyOf[order](a), keyOf[order](b)
					switch {
					case math.IsNaN(va) && !math.IsNaN(vb):
						t.Errorf("order %s: %s without a value before %s", order, a.path, b.path)
					case va < vb:
						t.Errorf("order %s: %s (%v) before %s (%v)", order, a.path, va, b.path, vb)
					case va == vb && a.path > b.path:
						t.Errorf("order %s: tie %v, %s before %s (want by path)", order, va, a.path, b.path)
					}
				}
			}
		}
	}
	// The fixture's values: memory order puts the VM's slice first, and
	// tasks the group with the most.
	out, err = run(t, "top", "-b", "--rootfs", root, "--interval", "10ms", "--order", "memory", "--depth", "1")
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.Fields(strings.Split(out, "\n")[1])[0]; first != "/machine.slice" {
		t.Errorf("order memory: first row %s, want /machine.slice:\n%s", first, out)
	}
}

func TestTopFiltersShared(t *testing.T) {
	root := filepath.Join(fixtures, "v2")
	out, err := run(t, "top", "-b", "--raw", "--rootfs", root, "--interval", "1ms", "--order", "path",
		"--group", "system.slice", "--include", "*.service,*.scope", "--exclude", "sshd.*")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/system.slice/demo.service", "/system.slice/docker-a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7.scope"}
	if d := cmp.Diff(want, rowPaths(topTables(t, out)[0])); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestTopKeys(t *testing.T) {
	start := topState{order: render.SortCPU, depth: 3}
	for _, tc := range []struct {
		from topState
		key  byte
		want topState
		quit bool
	}{
		{start, 'm', topState{render.SortMemory, 3}, false},
		{start, 't', topState{render.SortTasks, 3}, false},
		{start, 'i', topState{render.SortIO, 3}, false},
		{start, 'p', topState{render.SortPath, 3}, false},
		{topState{render.SortPath, 3}, 'c', start, false},
		{start, '+', topState{render.SortCPU, 4}, false},
		{start, '=', topState{render.SortCPU, 4}, false}, // + without shift
		{start, '-', topState{render.SortCPU, 2}, false},
		{topState{render.SortCPU, 0}, '-', topState{render.SortCPU, 0}, false},
		{topState{render.SortCPU, maxDepth}, '+', topState{render.SortCPU, maxDepth}, false},
		{start, 'x', start, false},
		{start, 'M', start, false},
		{start, '\r', start, false},
		{start, 'q', start, true},
		{start, 'Q', start, true},
		{start, 3, start, true}, // ^C in raw mode
	} {
		got, quit := tc.from.key(tc.key)
		if got != tc.want || quit != tc.quit {
			t.Errorf("%+v key %q = %+v, quit %v; want %+v, quit %v", tc.from, tc.key, got, quit, tc.want, tc.quit)
		}
	}
}

func TestTopBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"top", "--interval", "0s"},
		{"top", "--iterations", "-1"},
		{"top", "--order", "disk"},
		{"top", "--depth", "-1"},
		{"top", "--include", "a/b"},
		{"top", "extra-arg"},
	} {
		_, err := run(t, args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%q: error %v, want a usage error (exit code 2)", args, err)
		}
	}
}

// TestTopLive: a cgroup with a busy loop comes before an idle sibling, and
// before its own parent's other children, in top -b --order cpu.
func TestTopLive(t *testing.T) {
	h := testcg.Require(t)
	busy := h.NewGroup(t, "top-busy")
	idle := h.NewGroup(t, "top-idle")
	busy.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	busy.BusyLoop(t)
	idle.Sleepers(t, 2)
	parent := path.Dir(busy.Path())

	out, err := run(t, "top", "-b", "--raw", "--order", "cpu", "--interval", "1s", "--group", parent, "--depth", "64", "--exclude-devices", "")
	if err != nil {
		t.Fatal(err)
	}
	rows := topTables(t, out)[0]
	t.Logf("top -b --order cpu --group %s:\n%s", parent, out)
	var children []topRow
	for _, r := range rows {
		if r.path != parent {
			children = append(children, r)
		}
	}
	if len(children) != 2 || children[0].path != busy.Path() || children[1].path != idle.Path() {
		t.Fatalf("rows below %s: %v; want %s first, then %s", parent, rowPaths(children), busy.Path(), idle.Path())
	}
	if c := children[0].cpu; !(c > 20) {
		t.Errorf("busy loop at %v %% CPU, want more than 20", c)
	}
	if c := children[1].cpu; !(c < 5) {
		t.Errorf("sleepers at %v %% CPU, want about 0", c)
	}
}
