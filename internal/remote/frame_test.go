package remote

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The output of the fetch script on the project's hybrid host
// (testdata/fetch-hybrid.out, made by TestCapture).
func TestParseCapturedOutput(t *testing.T) {
	tree, err := Parse(readTestdata(t, "fetch-hybrid.out"))
	if err != nil {
		t.Fatal(err)
	}
	tree.dropUnreadable(readTestdata(t, "fetch-hybrid.err"))
	files := map[string]string{
		"/proc/loadavg":                       "0.65 0.98 0.81 4/165 6700\n",
		"/proc/sys/kernel/hostname":           "vm\n",
		"/proc/swaps":                         "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
		"/sys/class/net/eth0/speed":           "-1\n",
		"/sys/fs/cgroup/pids/docker/pids.max": "max\n",
		"/sys/fs/cgroup/unified/cpu.pressure": "some avg10=20.28 avg60=20.37 avg300=18.11 total=1523379142\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
	}
	for name, want := range files {
		if got, ok := tree.files[name]; !ok || string(got) != want {
			t.Errorf("%s = %q (present %v), want %q", name, got, ok, want)
		}
	}
	for _, gone := range []string{"/dev/null", "/nonexistent", "/sys/class/net/lo/speed", "/sys/class/net/ifb0/speed"} {
		if _, ok := tree.files[gone]; ok {
			t.Errorf("%s is in the tree: missing, unreadable and the /dev/null padding must not be", gone)
		}
	}
	if got := tree.links["/sys/class/net/lo"]; got != "../../devices/virtual/net/lo" {
		t.Errorf("link lo = %q", got)
	}
	var names []string
	for _, e := range tree.dirs["/sys/class/net"] {
		names = append(names, e.name)
		if e.kind != kindLink {
			t.Errorf("/sys/class/net/%s is %d, want a link", e.name, e.kind)
		}
	}
	if want := []string{"eth0", "ifb0", "ifb1", "lo", "lxcbr0"}; !slices.Equal(names, want) {
		t.Errorf("/sys/class/net lists %v, want %v", names, want)
	}
	// A cgroup with no pids file but a listed directory, and a file in
	// the v1 pids root.
	if _, ok := tree.dirs["/sys/fs/cgroup/pids/lxc.pivot"]; !ok {
		t.Error("directory lxc.pivot not listed")
	}
	if p := tree.files["/sys/fs/cgroup/pids/cgroup.procs"]; !bytes.HasPrefix(p, []byte("1\n2\n3\n")) {
		t.Errorf("root cgroup.procs = %q...", prefix(p, 20))
	}
	if n := tree.Files(); n < 30 {
		t.Errorf("%d files, want the captured ≥ 30", n)
	}
}

// headOutput renders files as `head -c N /dev/null FILE...` prints them.
func headOutput(names []string, contents []string) string {
	var b strings.Builder
	b.WriteString("==> /dev/null <==\n")
	for i, n := range names {
		b.WriteString("\n==> " + n + " <==\n" + contents[i])
	}
	return b.String()
}

func TestParseFraming(t *testing.T) {
	ok := func(body string) string { return "\x00V1\x00" + body + "\x00E\x00" }
	tests := []struct {
		name    string
		in      string
		files   map[string]string
		dirs    map[string][]string
		wantErr string
	}{
		{name: "empty request", in: ok(""), files: map[string]string{}},
		{name: "empty batch", in: ok("\x00B\x00"), files: map[string]string{}},
		{
			name:  "empty, unterminated and header-like files",
			in:    ok("\x00B\x00" + headerStartCase()),
			files: map[string]string{"/a": "", "/b": "no newline", "/c": "x\n==> not a header\n==> /d <== trailing\n", "/e": "\n\n"},
		},
		{
			name:  "two batches and a directory",
			in:    ok("\x00D/sys/fs/cgroup/x\x00\x00B\x00" + headOutput([]string{"/sys/fs/cgroup/x/pids.max"}, []string{"max\n"}) + "\x00B\x00" + headOutput([]string{"/sys/fs/cgroup/y/pids.max"}, []string{"7\n"})),
			files: map[string]string{"/sys/fs/cgroup/x/pids.max": "max\n", "/sys/fs/cgroup/y/pids.max": "7\n"},
			dirs:  map[string][]string{"/sys/fs/cgroup": {"x", "y"}, "/sys/fs/cgroup/x": {"pids.max"}, "/": {"sys"}},
		},
		{
			name:  "names with spaces, colons and quotes",
			in:    ok("\x00B\x00" + headOutput([]string{"/a b/c:d/it's"}, []string{"1\n"})),
			files: map[string]string{"/a b/c:d/it's": "1\n"},
		},
		{
			name:  "relative and unclean names",
			in:    ok("\x00D../x\x00\x00B\x00" + headOutput([]string{"rel", "/a//b/../c"}, []string{"1\n", "2\n"})),
			files: map[string]string{"/a/c": "2\n"},
		},
		{name: "no version", in: "\x00B\x00\x00E\x00", wantErr: "no version"},
		{name: "cut short", in: "\x00V1\x00\x00B\x00" + headOutput([]string{"/a"}, []string{"1\n"}), wantErr: "cut short"},
		{name: "cut in a name", in: "\x00V1\x00\x00D/sys/fs", wantErr: "cut short"},
		{name: "unknown tag", in: ok("\x00Q\x00"), wantErr: "unknown record"},
		{name: "junk between records", in: ok("junk"), wantErr: "does not start with NUL"},
		{name: "batch without header", in: ok("\x00B\x00hello\n"), wantErr: "head header"},
		{name: "bad header", in: ok("\x00B\x00==> /a\n"), wantErr: "bad head header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for n, c := range tree.files {
				got[n] = string(c)
			}
			if diff := cmp.Diff(tt.files, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			for dir, want := range tt.dirs {
				var names []string
				for _, e := range tree.dirs[dir] {
					names = append(names, e.name)
				}
				if !slices.Equal(names, want) {
					t.Errorf("dir %s = %v, want %v", dir, names, want)
				}
			}
		})
	}
	if _, err := Parse([]byte("\x00V1\x00")); !errors.Is(err, ErrTruncated) {
		t.Errorf("no end record: err = %v, want ErrTruncated", err)
	}
}

func headerStartCase() string {
	return headOutput([]string{"/a", "/b", "/c", "/e"}, []string{"", "no newline", "x\n==> not a header\n==> /d <== trailing\n", "\n\n"})
}

// FuzzParse: any output parses or fails, never panics; and the output of
// files rendered as head prints them parses back to exactly those files.
func FuzzParse(f *testing.F) {
	f.Add(readTestdata(f, "fetch-hybrid.out"), "/a", "1\n", "/b", "")
	f.Add([]byte("\x00V1\x00\x00B\x00==> /a <==\n\x00E\x00"), "/x y", "no newline", "/z", "==> a <==\n")
	f.Add([]byte("\x00V1\x00\x00S\x004096 4096 100 50 40 64 32 /\n4096 1024 7 6 5 4 3 /mnt/a b\njunk\n1 2 3\x00E\x00"), "/a", "", "/b", "")
	f.Fuzz(func(t *testing.T, raw []byte, n1, c1, n2, c2 string) {
		if tree, err := Parse(raw); err == nil {
			for name := range tree.files {
				if !strings.HasPrefix(name, "/") {
					t.Fatalf("relative name %q in the tree", name)
				}
			}
			for name := range tree.statfs {
				if c, ok := cleanAbs(name); !ok || c != name {
					t.Fatalf("statfs of a name %q that is not absolute and clean", name)
				}
			}
		}
		// Round trip, for what the script can produce: absolute clean names
		// without NUL or newline, contents without NUL and without a line
		// that is itself a head header.
		valid := func(n string) bool {
			c, ok := cleanAbs(n)
			return ok && c == n && n != "/" && n != "/dev/null" && !strings.ContainsAny(n, "\n")
		}
		content := func(c string) bool {
			if strings.IndexByte(c, 0) >= 0 {
				return false
			}
			// head follows a content with "\n" and the next header.
			for _, line := range strings.SplitAfter(c+"\n", "\n") {
				if strings.HasPrefix(line, headerStart+"/") && strings.HasSuffix(line, headerEnd) {
					return false
				}
			}
			return true
		}
		if !valid(n1) || !valid(n2) || n1 == n2 || !content(c1) || !content(c2) ||
			strings.HasPrefix(n2, n1+"/") || strings.HasPrefix(n1, n2+"/") {
			return
		}
		out := "\x00V1\x00\x00B\x00" + headOutput([]string{n1, n2}, []string{c1, c2}) + "\x00E\x00"
		tree, err := Parse([]byte(out))
		if err != nil {
			t.Fatalf("Parse(%q): %v", out, err)
		}
		if string(tree.files[n1]) != c1 || string(tree.files[n2]) != c2 || len(tree.files) != 2 {
			t.Fatalf("round trip of %q=%q %q=%q: got %q", n1, c1, n2, c2, tree.files)
		}
	})
}

// The statfs record: stat's lines become figures by mount point; a line
// that is not stat's is skipped, and so is one cut short.
func TestParseStatfs(t *testing.T) {
	st := func(bsize, frsize int64, blocks, bfree, bavail, files, ffree uint64) unix.Statfs_t {
		var s unix.Statfs_t
		setInt(&s.Bsize, uint64(bsize))
		setInt(&s.Frsize, uint64(frsize))
		s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree = blocks, bfree, bavail, files, ffree
		return s
	}
	tests := []struct {
		name    string
		record  string
		want    map[string]unix.Statfs_t
		wantErr string
	}{
		{name: "empty", record: "\x00S\x00", want: map[string]unix.Statfs_t{}},
		{
			name:   "mount points, one with spaces",
			record: "\x00S\x004096 4096 100 50 40 64 32 /\n4096 1024 7 6 5 4 3 /mnt/a b \n",
			want: map[string]unix.Statfs_t{
				"/":         st(4096, 4096, 100, 50, 40, 64, 32),
				"/mnt/a b ": st(4096, 1024, 7, 6, 5, 4, 3),
			},
		},
		{
			name: "garbage lines skipped",
			record: "\x00S\x00stat: cannot read file system information for '/x': Permission denied\n" +
				"4096 4096 100 50 40 64 /six-fields\n" +
				"4096 4096 100 50 40 64 x32 /not-a-number\n" +
				"4096 4096 100 50 40 64 +32 /plus\n" +
				"4096 4096 100 50 40 64 18446744073709551616 /overflow\n" +
				"4096 4096 100 50 40 64 32 relative\n" +
				"4096  4096 100 50 40 64 32 /two-spaces\n" +
				"\n" +
				"4096 4096 1 1 1 1 1 /ok\n",
			want: map[string]unix.Statfs_t{"/ok": st(4096, 4096, 1, 1, 1, 1, 1)},
		},
		{
			name:   "last line cut short by timeout",
			record: "\x00S\x004096 4096 1 1 1 1 1 /a\n4096 4096 1 1 1 1 1 /b",
			want:   map[string]unix.Statfs_t{"/a": st(4096, 4096, 1, 1, 1, 1, 1)},
		},
		{
			name:   "unclean name",
			record: "\x00S\x004096 4096 1 1 1 1 1 /a//b/\n",
			want:   map[string]unix.Statfs_t{"/a/b": st(4096, 4096, 1, 1, 1, 1, 1)},
		},
		{name: "record without its NUL", record: "\x00S4096 4096 1 1 1 1 1 /\n", wantErr: "statfs record without its NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := Parse([]byte("\x00V1\x00" + tt.record + "\x00E\x00"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tree.statfs); diff != "" {
				t.Errorf("statfs (-want +got):\n%s", diff)
			}
			// Through the Root, as internal/host asks: a mount point it
			// has, and one it has not.
			r := NewRoot("ssh://test")
			r.Swap(tree)
			for name, want := range tt.want {
				if got, err := r.Statfs(name); err != nil || got != want {
					t.Errorf("Statfs(%q) = %+v, %v; want %+v", name, got, err, want)
				}
			}
			if _, err := r.Statfs("/not-mounted"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Statfs of a name without figures: err = %v, want fs.ErrNotExist", err)
			}
		})
	}
}
