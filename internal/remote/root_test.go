package remote

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/cgmon/cgmon/internal/rootfs"
)

var errorsIs = errors.Is

func TestRootServesTheLatestFetch(t *testing.T) {
	parse := func(files ...string) *Tree {
		t.Helper()
		var names, contents []string
		for i := 0; i < len(files); i += 2 {
			names, contents = append(names, files[i]), append(contents, files[i+1])
		}
		tree, err := Parse([]byte("\x00V1\x00\x00L/l\x00target\n\x00\x00B\x00" + headOutput(names, contents) + "\x00E\x00"))
		if err != nil {
			t.Fatal(err)
		}
		return tree
	}
	r := NewRoot("ssh://root@h:22")
	if _, err := r.ReadFile("/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty root: err = %v", err)
	}
	r.Swap(parse("/d/a", "1\n", "/d/b", "x\n"))
	h, err := r.Open("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open("/d/none"); !rootfs.IsGone(err) {
		t.Fatalf("Open of a missing file: err = %v, want gone", err)
	}
	buf, err := h.ReadAll(nil)
	if err != nil || string(buf) != "1\n" {
		t.Fatalf("ReadAll = %q, %v", buf, err)
	}
	// A kept handle reads the next fetch, as a kept-open kernel file reads
	// the kernel's current value.
	r.Swap(parse("/d/a", "22\n"))
	if buf, err = h.ReadAll(buf); err != nil || string(buf) != "22\n" {
		t.Fatalf("after a new fetch ReadAll = %q, %v", buf, err)
	}
	r.Swap(parse("/d/b", "x\n"))
	if _, err := h.ReadAll(buf); !rootfs.IsGone(err) {
		t.Fatalf("file gone from the fetch: err = %v, want gone", err)
	}
	entries, err := r.ReadDir("/")
	if err != nil || len(entries) != 2 || entries[0].Name() != "d" || !entries[0].IsDir() ||
		entries[1].Name() != "l" || entries[1].Type() != fs.ModeSymlink {
		t.Fatalf("ReadDir(/) = %v, %v", entries, err)
	}
	if got, err := r.Readlink("/l"); err != nil || got != "target" {
		t.Fatalf("Readlink = %q, %v", got, err)
	}
	if _, err := r.ReadFile("relative"); err == nil {
		t.Fatal("relative name accepted")
	}
	if _, err := r.ReadDir("/d/b"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadDir of a file: err = %v", err)
	}
	if got, _ := r.ReadFile("/d/../d/./b"); string(got) != "x\n" {
		t.Fatalf("unclean name: %q", got)
	}
}
