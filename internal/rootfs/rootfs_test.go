package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func makeTree(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	root := filepath.Join(top, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "proc/self"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "proc/self/mountinfo"), []byte("inside\n"), 0o644))
	must(os.WriteFile(filepath.Join(top, "secret"), []byte("outside\n"), 0o644))
	// An absolute symlink means "/etc/hostname of the watched host", not ours.
	must(os.WriteFile(filepath.Join(root, "etc/real"), []byte("host-a\n"), 0o644))
	must(os.Symlink("/etc/real", filepath.Join(root, "etc/hostname")))
	// A relative symlink that climbs out must stay inside.
	must(os.Symlink("../../secret", filepath.Join(root, "etc/escape")))
	return root
}

func TestDirReadsInsideRootOnly(t *testing.T) {
	root := makeTree(t)
	d, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	tests := []struct {
		name    string
		want    string
		wantErr bool
	}{
		{name: "/proc/self/mountinfo", want: "inside\n"},
		{name: "/etc/hostname", want: "host-a\n"},
		{name: "/../../secret", wantErr: true},
		{name: "/etc/escape", wantErr: true},
		{name: "relative/path", wantErr: true},
		{name: "/etc/real\x00", wantErr: true},
		{name: "/" + strings.Repeat("a/", 3000), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name[:min(len(tt.name), 30)], func(t *testing.T) {
			got, err := d.ReadFile(tt.name)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ReadFile(%q) = %q, want an error", tt.name, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadFile(%q): %v", tt.name, err)
			}
			if string(got) != tt.want {
				t.Fatalf("ReadFile(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestHandleRereadsFromStart(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "counter")
	if err := os.WriteFile(file, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.Open("/counter")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	buf := make([]byte, 0, 1) // forces growth
	for _, want := range []string{"1\n", "12345\n", "7\n"} {
		if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		buf, err = h.ReadAll(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf) != want {
			t.Fatalf("ReadAll = %q, want %q", buf, want)
		}
	}
}

func TestIsGone(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.ReadFile("/nope")
	if !IsGone(err) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: IsGone(%v) = false", err)
	}
	if IsGone(errors.New("other")) {
		t.Fatal("IsGone(other) = true")
	}
}

func TestLiveHostRoot(t *testing.T) {
	d, err := New("/")
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsHost() {
		t.Fatal("New(/) is not the host")
	}
	b, err := d.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), " / ") {
		t.Fatalf("mountinfo has no root mount: %q", b)
	}
	if _, err := New("/proc/self/mountinfo"); err == nil {
		t.Fatal("New(a file) succeeded")
	}
}

func TestStatfsFollowsProcRootOnTheHost(t *testing.T) {
	d, err := New("/")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.Statfs("/proc/self/root/")
	if err != nil {
		t.Fatal(err)
	}
	var want unix.Statfs_t
	if err := unix.Statfs("/", &want); err != nil {
		t.Fatal(err)
	}
	if got.Type != want.Type || got.Blocks != want.Blocks || got.Files != want.Files {
		t.Fatalf("Statfs(/proc/self/root) = type %x blocks %d files %d, want statfs(/) type %x blocks %d files %d",
			got.Type, got.Blocks, got.Files, want.Type, want.Blocks, want.Files)
	}
	if _, err := d.Statfs("/no/such/path"); !IsGone(err) {
		t.Fatalf("Statfs of a missing path: err = %v, want ENOENT", err)
	}
}
