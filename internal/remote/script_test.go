package remote

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestShellPattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/proc/stat", "'/proc/stat'"},
		{"/sys/class/net/*/speed", "'/sys/class/net/'*'/speed'"},
		{"/proc/pressure/*", "'/proc/pressure/'*"},
		{"/dev/sd[ab]", "'/dev/sd'[ab]"},
		{"/a'b", `'/a'\''b'`},
		{"/x[$(id)]", `'/x[$(id)]'`}, // a class with shell syntax stays literal
		{"/y[", "'/y['"},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shellPattern(tt.in); got != tt.want {
			t.Errorf("shellPattern(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// The script run by the local sh over a tree with hostile names returns
// exactly the files on disk, and runs nothing a name says.
func TestScriptReturnsExactFiles(t *testing.T) {
	top := t.TempDir()
	tree := filepath.Join(top, "cg")
	dirs := []string{"", "a b", "c:d", "it's", `q"uote`, "==> e <==", "$(touch pwned)", "a b/nested", "star*"}
	want := map[string]string{}
	for i, d := range dirs {
		dir := filepath.Join(tree, d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{
			"pids.max":      []string{"max\n", "7\n", ""}[i%3],
			"cpu.stat":      "usage_usec 12\nuser_usec 3\n==> fake <==\n",
			"other.ignored": "not asked for\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if name != "other.ignored" {
				want[filepath.Join(dir, name)] = content
			}
		}
	}
	host := filepath.Join(top, "host files")
	if err := os.MkdirAll(host, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"one", "two", "no newline"} {
		content := n + "\n"
		if n == "no newline" {
			content = n
		}
		if err := os.WriteFile(filepath.Join(host, n), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		want[filepath.Join(host, n)] = content
	}
	if err := os.Symlink("one", filepath.Join(host, "link")); err != nil {
		t.Fatal(err)
	}
	req := Request{
		Files: []string{host + "/*", top + "/$(touch pwned2)`touch pwned3`", top + "/missing"},
		Links: []string{host + "/l*"},
		Trees: []TreeSpec{{Dir: tree, Names: []string{"pids.max", "cpu.stat", "star*"}}},
	}
	// The link is listed by the glob and read as its target's content.
	want[filepath.Join(host, "link")] = "one\n"
	out, stderr := runLocal(t, Script(req))
	got, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr)
	}
	got.dropUnreadable(stderr)
	files := map[string]string{}
	for n, c := range got.files {
		files[n] = string(c)
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	for _, d := range dirs {
		if _, ok := got.dirs[filepath.Join(tree, d)]; !ok {
			t.Errorf("directory %q not listed", d)
		}
	}
	if got.links[filepath.Join(host, "link")] != "one" {
		t.Errorf("links = %v", got.links)
	}
	for _, p := range []string{"pwned", "pwned2", "pwned3"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			os.Remove(p)
			t.Errorf("a name ran a command: %s exists", p)
		}
	}
	// Through the Root: what the collector sees.
	r := NewRoot("test")
	r.Swap(got)
	entries, err := r.ReadDir(tree)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if want := "$(touch pwned)|==> e <==|a b|c:d|it's|q\"uote|star*"; strings.Join(names, "|") != want {
		t.Errorf("ReadDir dirs = %q, want %q", strings.Join(names, "|"), want)
	}
	if _, err := r.ReadFile(filepath.Join(tree, "other.ignored")); !errorsIsNotExist(err) {
		t.Errorf("a file not asked for: err = %v, want not exist", err)
	}
}

func errorsIsNotExist(err error) bool { return err != nil && errorsIs(err, fs.ErrNotExist) }
