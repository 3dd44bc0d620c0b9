package cgroup

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cgmon/cgmon/internal/sample"
)

// TestFileBudgetDegradesGracefully runs the collector with a budget far below
// the files the fixture has: it keeps exactly the budget open, reads every
// figure the unlimited collector reads, sees every change at the next cycle
// (the files past the budget are opened again, not remembered), and says so
// once in the log.
func TestFileBudgetDegradesGracefully(t *testing.T) {
	for _, fixture := range []string{"v2", "hybrid"} {
		t.Run(fixture, func(t *testing.T) {
			dir, root := fixtureCopy(t, fixture)
			full, fc := collectOnce(t, root, Options{NoWatch: true})
			if open := fc.Stats().OpenFiles; open <= 20 {
				t.Fatalf("the unlimited collector keeps only %d files open: the fixture is too small for this test", open)
			}

			const budget = 7
			var logs bytes.Buffer
			c, err := New(Options{Root: root, FileBudget: budget, NoWatch: true,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ignoreTime := cmp.Options{cmpopts.IgnoreFields(sample.Set{}, "Time"), cmpopts.IgnoreFields(sample.Cgroup{}, "ReadAt")}
			var set sample.Set
			for cycle := 1; cycle <= 2; cycle++ {
				if err := c.Collect(&set); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(full, &set, ignoreTime); d != "" {
					t.Fatalf("cycle %d with a budget of %d files differs from the unlimited read (-unlimited +budget):\n%s", cycle, budget, d)
				}
				st := c.Stats()
				if st.OpenFiles != budget || st.FileBudget != budget {
					t.Errorf("cycle %d: %d files open, budget %d; want both %d", cycle, st.OpenFiles, st.FileBudget, budget)
				}
				if st.ReadErrors != 0 || st.ParseErrors != 0 {
					t.Errorf("cycle %d: errors %+v", cycle, st)
				}
			}
			if n := strings.Count(logs.String(), "file budget reached"); n != 1 {
				t.Errorf("the budget notice was logged %d times, want once:\n%s", n, logs.String())
			}

			// Every usage file changes: all of them, kept open or not, show
			// the new figure at the next cycle.
			usageFile := "memory.current"
			if fixture != "v2" {
				usageFile = "memory.usage_in_bytes"
			}
			const changed = 123456789
			n := 0
			err = filepath.WalkDir(filepath.Join(dir, "sys/fs/cgroup"), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.Name() != usageFile {
					return err
				}
				n++
				return os.WriteFile(p, []byte("123456789\n"), 0o644)
			})
			if err != nil || n < 10 {
				t.Fatalf("rewrote %d %s files: %v", n, usageFile, err)
			}
			if err := c.Collect(&set); err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, cg := range set.Cgroups {
				if !cg.Memory.Usage.OK {
					continue
				}
				seen++
				if cg.Memory.Usage.V != changed {
					t.Errorf("%s: memory usage %d after the file changed to %d", cg.Path, cg.Memory.Usage.V, changed)
				}
			}
			if seen < 10 {
				t.Errorf("only %d cgroups have a memory usage", seen)
			}
		})
	}
}
