package remote

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/testsvc"
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

// toolsets are the shells and tools the script is run with: the system's
// (dash, GNU coreutils and findutils) and busybox's, as on a small or
// embedded host.
func toolsets(t *testing.T) map[string]string {
	t.Helper()
	sets := map[string]string{"system": ""}
	bb := testsvc.LookPath(t, "busybox", "busybox-static")
	dir := t.TempDir()
	for _, prog := range []string{"sh", "head", "find", "printf", "readlink", "gzip", "awk", "stat", "timeout", "true"} {
		if err := os.Symlink(bb, filepath.Join(dir, prog)); err != nil {
			t.Fatal(err)
		}
	}
	sets["busybox"] = dir
	return sets
}

// The script run by a real sh over a tree with hostile names returns
// exactly the files on disk, and runs nothing a name says.
func TestScriptReturnsExactFiles(t *testing.T) {
	for name, dir := range toolsets(t) {
		t.Run(name, func(t *testing.T) { testScriptReturnsExactFiles(t, dir) })
	}
}

func testScriptReturnsExactFiles(t *testing.T, tools string) {
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
	wire, stderr := runWith(t, tools, Script(req))
	if !bytes.HasPrefix(wire, []byte{0x1f, 0x8b}) {
		t.Errorf("output not gzipped: %q", prefix(wire, 10))
	}
	out, err := Decode(wire, MaxOutput)
	if err != nil {
		t.Fatal(err)
	}
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

// Without gzip on the host the output comes plain, and reads the same.
func TestScriptWithoutGzip(t *testing.T) {
	bin := t.TempDir()
	for _, prog := range []string{"sh", "head", "find", "printf", "readlink"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			t.Skipf("%s: %v", prog, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, prog)); err != nil {
			t.Fatal(err)
		}
	}
	req := Request{Files: []string{"/proc/sys/kernel/hostname"}, Trees: []TreeSpec{{Dir: "/proc/sys/kernel/random", Names: []string{"boot_id"}}}}
	var outs [][]byte
	for _, path := range []string{os.Getenv("PATH"), bin} {
		cmd := exec.Command(filepath.Join(bin, "sh"), "-s")
		cmd.Env = []string{"PATH=" + path}
		cmd.Stdin = strings.NewReader(Script(req))
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	if !bytes.HasPrefix(outs[0], []byte{0x1f, 0x8b}) || !bytes.HasPrefix(outs[1], []byte("\x00V1\x00")) {
		t.Fatalf("with gzip %q..., without %q...", prefix(outs[0], 8), prefix(outs[1], 8))
	}
	for _, wire := range outs {
		out, err := Decode(wire, MaxOutput)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		host, _ := os.ReadFile("/proc/sys/kernel/hostname")
		boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
		if string(tree.files["/proc/sys/kernel/hostname"]) != string(host) || string(tree.files["/proc/sys/kernel/random/boot_id"]) != string(boot) {
			t.Errorf("files %q", tree.files)
		}
	}
	if _, err := Decode([]byte{0x1f, 0x8b, 1, 2, 3}, MaxOutput); err == nil {
		t.Error("broken gzip decoded")
	}
}

// escapeMount writes a name as the kernel writes it in mountinfo.
func escapeMount(s string) string {
	return strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`).Replace(s)
}

// The statfs part of the script, run by a real sh, awk and stat over a
// mount table: statfs of the first mount of each device of a real
// filesystem, by its unescaped name, the rest left out.
func TestStatfsScript(t *testing.T) {
	for name, dir := range toolsets(t) {
		t.Run(name, func(t *testing.T) { testStatfsScript(t, dir) })
	}
}

func testStatfsScript(t *testing.T, tools string) {
	top := t.TempDir()
	made := []string{"a b", "tab\there", `back\slash`, "dup", "proc", "nfs", "new\nline", "plain", "-dash", "bad line"}
	for _, d := range made {
		if err := os.Mkdir(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mi := func(id, dev, point, rest string) string {
		return id + " 1 " + dev + " / " + escapeMount(filepath.Join(top, point)) + " " + rest + "\n"
	}
	table := mi("1", "8:1", "a b", "rw,relatime - ext4 /dev/sda1 rw") +
		mi("2", "8:2", "tab\there", "rw shared:1 master:2 - xfs /dev/sda2 rw") +
		mi("3", "8:3", `back\slash`, "rw - btrfs /dev/sda3 rw,subvol=/") +
		mi("4", "8:3", "dup", "rw - btrfs /dev/sda3 rw") + // the same device again: a bind mount
		mi("5", "0:22", "proc", "rw - proc proc rw") +
		mi("6", "0:50", "nfs", "rw - nfs4 srv:/x rw") +
		mi("7", "8:4", "new\nline", "rw - ext4 /dev/sda4 rw") + // cannot be one line of stat's output
		mi("8", "8:5", "missing", "rw - ext4 /dev/sda5 rw") + // gone: stat fails for it alone
		mi("9", "8:6", "plain", "rw - ext4  rw") + // empty source
		mi("10", "8:7", "-dash", "rw - vfat /dev/sdb1 rw") +
		mi("11", "8:8", "bad line", "rw no separator ext4 /dev/x rw") +
		"garbage\n"
	mountinfo := filepath.Join(top, "mount info")
	if err := os.WriteFile(mountinfo, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "printf '\\000V1\\000'\n" + statfsScript(mountinfo) + "printf '\\000E\\000'\n"
	out, stderr := runWith(t, tools, script)
	tree, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\noutput %q\nstderr: %s", err, out, stderr)
	}
	var want unix.Statfs_t
	if err := unix.Statfs(top, &want); err != nil {
		t.Fatal(err)
	}
	var got []string
	for name, st := range tree.statfs {
		rel, _ := filepath.Rel(top, name)
		got = append(got, rel)
		// Size and inodes are the temporary directory's filesystem's;
		// free space moves as other tests write.
		if st.Bsize != want.Bsize || st.Frsize != want.Frsize || st.Blocks != want.Blocks || st.Files != want.Files ||
			st.Bfree > st.Blocks || st.Bavail > st.Bfree || st.Ffree > st.Files ||
			absDiff(st.Bfree, want.Bfree) > want.Blocks/100 || absDiff(st.Ffree, want.Ffree) > want.Files/100 {
			t.Errorf("statfs %q = %+v, want about %+v", name, st, want)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"-dash", "a b", `back\slash`, "plain", "tab\there"}, got); diff != "" {
		t.Errorf("mount points (-want +got):\n%s\nstderr: %s", diff, stderr)
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// A stat that hangs (a mount whose statfs blocks) is killed after
// statfsTimeout: the fetch ends, with no figures.
func TestStatfsScriptTimeout(t *testing.T) {
	bin := t.TempDir()
	for _, prog := range []string{"sh", "awk", "timeout", "true"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			t.Skipf("%s: %v", prog, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, prog)); err != nil {
			t.Fatal(err)
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("sleep: %v", err)
	}
	if err := os.WriteFile(filepath.Join(bin, "stat"), []byte("#!"+filepath.Join(bin, "sh")+"\nexec "+sleep+" 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mountinfo := filepath.Join(bin, "mountinfo")
	if err := os.WriteFile(mountinfo, []byte("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, stderr := runWith(t, bin, "printf '\\000V1\\000'\n"+statfsScript(mountinfo)+"printf '\\000E\\000'\n")
	took := time.Since(start)
	tree, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\noutput %q\nstderr: %s", err, out, stderr)
	}
	if len(tree.statfs) != 0 || took > 15*time.Second {
		t.Errorf("hung stat: %d figures after %s, want none after about %s s", len(tree.statfs), took, statfsTimeout)
	}
	t.Logf("a hung stat ended the fetch after %s", took)
}
