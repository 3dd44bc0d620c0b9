package proc

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/rootfs"
)

const fixtures = "../../testdata/roots"

func openRoot(t testing.TB, dir string) *rootfs.Dir {
	t.Helper()
	r, err := rootfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReadProcessFixture(t *testing.T) {
	root := openRoot(t, "testdata/root")
	var buf Buffers
	p, err := ReadProcess(root, pidOdd, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != pidOdd || p.Stat.Name() != "a b)c" || p.Cmdline != "/tmp/a b)c 1000" || !p.HasIO || p.Cgroup != "" {
		t.Errorf("ReadProcess: %+v", p)
	}
	if v, _ := p.Status.Lookup("Name"); string(v) != "a b)c" {
		t.Errorf("status Name %q", v)
	}
	wantCg := []cgroupfs.ProcCgroup{
		{ID: 9, Controllers: []string{"name=systemd"}, Path: "/"},
		{ID: 8, Controllers: []string{"pids"}, Path: "/"},
		{ID: 7, Controllers: []string{"blkio"}, Path: "/"},
		{ID: 6, Controllers: []string{"freezer"}, Path: "/"},
		{ID: 5, Controllers: []string{"devices"}, Path: "/"},
		{ID: 4, Controllers: []string{"memory"}, Path: "/process_api/de408e37a6b21e746586214a1151bfad"},
		{ID: 3, Controllers: []string{"cpuset"}, Path: "/"},
		{ID: 2, Controllers: []string{"cpuacct"}, Path: "/"},
		{ID: 1, Controllers: []string{"cpu"}, Path: "/"},
		{ID: 0, Path: "/"},
	}
	if d := cmp.Diff(wantCg, p.Cgroups); d != "" {
		t.Errorf("cgroups (-want +got)\n%s", d)
	}
	if ticks, start := p.Times(); ticks != 0 || start != 431972 {
		t.Errorf("Times() = %d, %d", ticks, start)
	}

	// Each fixture reads, and a second read through the same buffers gives
	// the same as a first read with fresh ones.
	for _, pid := range fixturePIDs {
		a, err := ReadProcess(root, pid, &buf)
		if err != nil {
			t.Fatalf("%d: %v", pid, err)
		}
		b, err := ReadProcess(root, pid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(a, b, cmp.AllowUnexported(Status{}, span{})); d != "" {
			t.Errorf("%d: reused buffers change the result (-reused +fresh)\n%s", pid, d)
		}
	}

	for _, files := range []Files{0, FileStatus, FileCmdline, FileIO, FileCgroup} {
		p, err := ReadProcessFiles(root, pidOdd, files, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if p.Stat.Pid != pidOdd || (p.Status.Len() > 0) != (files == FileStatus) || (p.Cmdline != "") != (files == FileCmdline) ||
			p.HasIO != (files == FileIO) || (p.Cgroups != nil) != (files == FileCgroup) {
			t.Errorf("ReadProcessFiles(%b) = %+v", files, p)
		}
	}

	if _, err := ReadProcess(root, 999999, &buf); !errors.Is(err, ErrGone) {
		t.Errorf("missing process: %v, want ErrGone", err)
	}
}

// faultRoot makes chosen files of a root fail, at open or at read.
type faultRoot struct {
	rootfs.Root
	open, read map[string]error
}

func (r faultRoot) Open(name string) (rootfs.Handle, error) {
	if err, ok := r.open[name]; ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	h, err := r.Root.Open(name)
	if err != nil {
		return nil, err
	}
	if err, ok := r.read[name]; ok {
		return faultHandle{h, err}, nil
	}
	return h, nil
}

type faultHandle struct {
	rootfs.Handle
	err error
}

func (h faultHandle) ReadAll(buf []byte) ([]byte, error) {
	return buf[:0], &fs.PathError{Op: "read", Path: "x", Err: h.err}
}

// TestReadProcessVanishes: a process that exits while its files are read
// is ErrGone whichever file notices, at open (ENOENT) or at read (ESRCH);
// an unreadable io is absent; other failures are errors with the path.
func TestReadProcessVanishes(t *testing.T) {
	root := openRoot(t, "testdata/root")
	dir := "/proc/" + strconv.Itoa(pidOdd) + "/"
	for _, file := range []string{"stat", "status", "cmdline", "io", "cgroup"} {
		for _, tt := range []struct {
			at  string
			err error
		}{{"open", unix.ENOENT}, {"read", unix.ESRCH}, {"open", unix.ESRCH}} {
			r := faultRoot{Root: root}
			m := map[string]error{dir + file: tt.err}
			if tt.at == "open" {
				r.open = m
			} else {
				r.read = m
			}
			_, err := ReadProcess(r, pidOdd, nil)
			if !errors.Is(err, ErrGone) {
				t.Errorf("%s fails at %s with %v: error %v, want ErrGone", file, tt.at, tt.err, err)
			}
			ps, err := ReadProcesses(r, []Member{{pidOdd, "/a"}, {pidSleep, "/b"}}, AllFiles, nil)
			if err != nil || len(ps) != 1 || ps[0].PID != pidSleep || ps[0].Cgroup != "/b" {
				t.Errorf("%s fails at %s: ReadProcesses = %d processes, %v; want only %d", file, tt.at, len(ps), err, pidSleep)
			}
		}
	}

	for _, e := range []error{unix.EACCES, unix.EPERM} {
		p, err := ReadProcess(faultRoot{Root: root, open: map[string]error{dir + "io": e}}, pidOdd, nil)
		if err != nil || p.HasIO || p.IO != (IO{}) || p.Cmdline == "" {
			t.Errorf("io fails with %v: %+v, %v; want the process without IO", e, p, err)
		}
	}

	r := faultRoot{Root: root, read: map[string]error{dir + "status": unix.EIO}}
	_, err := ReadProcess(r, pidOdd, nil)
	if err == nil || errors.Is(err, ErrGone) || !errors.Is(err, unix.EIO) || !strings.Contains(err.Error(), dir+"status") {
		t.Errorf("EIO: %v, want an error naming the file", err)
	}
	ps, err := ReadProcesses(r, []Member{{pidOdd, "/a"}, {pidSleep, "/b"}}, AllFiles, nil)
	if len(ps) != 1 || !errors.Is(err, unix.EIO) {
		t.Errorf("ReadProcesses with EIO: %d processes, %v", len(ps), err)
	}
}

func TestReadProcessBroken(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"stat", "status", "cmdline", "io", "cgroup"} {
		pd := dir + "/proc/7/"
		if err := os.MkdirAll(pd, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{"stat", "status", "cmdline", "io", "cgroup"} {
			b, err := os.ReadFile("testdata/root/proc/" + strconv.Itoa(pidOdd) + "/" + g)
			if err != nil {
				t.Fatal(err)
			}
			if g == f {
				b = []byte("broken\n")
			}
			if err := os.WriteFile(pd+g, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := ReadProcess(openRoot(t, dir), 7, nil)
		if f == "cmdline" {
			if err != nil {
				t.Errorf("cmdline is any text: %v", err)
			}
			continue
		}
		var pe *cgroupfs.ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "/proc/7/"+f) {
			t.Errorf("broken %s: %v, want a parse error naming it", f, err)
		}
	}
}

// TestReadProcessLive reads this test's own process on the live host.
func TestReadProcessLive(t *testing.T) {
	root := openRoot(t, "/")
	p, err := ReadProcess(root, os.Getpid(), nil)
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if p.Stat.Pid != uint64(os.Getpid()) || p.Stat.Ppid != int64(os.Getppid()) || len(p.Stat.State) != 1 ||
		!strings.HasPrefix(p.Cmdline, os.Args[0]) || len(p.Cgroups) == 0 || p.Stat.NumThreads < 2 {
		t.Errorf("ReadProcess(self) = %+v (exe %s)", p.Stat, exe)
	}
	if ids, ok := p.Status.UIDs(); !ok || ids[1] != uint64(os.Geteuid()) {
		t.Errorf("UIDs() = %v, %v", ids, ok)
	}
	if c, err := p.Status.Companion(); err != nil || c.Pid != uint64(os.Getpid()) || c.VmRSS == 0 {
		t.Errorf("Companion() = %+v, %v", c, err)
	}
	if os.Geteuid() == 0 && !p.HasIO {
		t.Error("root cannot read its own io")
	}
	if n, err := ReadMemTotal(root); err != nil || n < 64<<20 {
		t.Errorf("ReadMemTotal = %d, %v", n, err)
	}
}

// TestExitBetweenListingAndReading lists a real process, lets it exit and
// be reaped, then reads: it is left out without an error.
func TestExitBetweenListingAndReading(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	members := []Member{{pid, "/gone"}, {os.Getpid(), "/here"}}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	root := openRoot(t, "/")
	ps, err := ReadProcesses(root, members, AllFiles, nil)
	if err != nil || len(ps) != 1 || ps[0].PID != os.Getpid() || ps[0].Cgroup != "/here" {
		t.Errorf("ReadProcesses = %d processes, %v; want only this one", len(ps), err)
	}
	if _, err := ReadProcess(root, pid, nil); !errors.Is(err, ErrGone) {
		t.Errorf("ReadProcess(exited) = %v, want ErrGone", err)
	}
}

const dockerID = "a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7"

func TestPIDsFixtures(t *testing.T) {
	layoutOf := func(root rootfs.Root) *cgroup.Layout {
		l, err := cgroup.DetectLayout(root)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	v2 := openRoot(t, fixtures+"/v2")
	l2 := layoutOf(v2)
	for _, name := range []string{"/system.slice/docker-" + dockerID + ".scope", "system.slice/docker-" + dockerID + ".scope/"} {
		got, err := PIDs(v2, l2, name)
		if err != nil || !cmp.Equal(got, []int{146}) {
			t.Errorf("PIDs(%q) = %v, %v", name, got, err)
		}
	}
	if got, err := PIDs(v2, l2, "/system.slice"); err != nil || len(got) != 0 {
		t.Errorf("PIDs of an empty cgroup = %v, %v", got, err)
	}
	if _, err := PIDs(v2, l2, "/nope"); !errors.Is(err, ErrNoCgroup) {
		t.Errorf("PIDs(/nope) = %v, want ErrNoCgroup", err)
	}
	ms, err := PIDsRecursive(v2, l2, []string{"/system.slice", "/system.slice/sshd.service", "/gone", "/system.slice/docker-" + dockerID + ".scope", "/system.slice/sshd.service"})
	want := []Member{{145, "/system.slice/sshd.service"}, {146, "/system.slice/docker-" + dockerID + ".scope"}}
	if err != nil || !cmp.Equal(ms, want) {
		t.Errorf("PIDsRecursive = %v, %v; want %v", ms, err, want)
	}
	if _, err := PIDsRecursive(v2, l2, []string{"/gone", "/also-gone"}); !errors.Is(err, ErrNoCgroup) {
		t.Errorf("PIDsRecursive of missing cgroups = %v", err)
	}

	// Hybrid, docker's cgroupfs driver: the container is in the unified
	// hierarchy and in every v1 one.
	hy := openRoot(t, fixtures+"/hybrid")
	got, err := PIDs(hy, layoutOf(hy), "/docker/"+dockerID)
	if err != nil || !cmp.Equal(got, []int{15224}) {
		t.Errorf("hybrid PIDs = %v, %v", got, err)
	}
}

// TestPIDsLive lists the root cgroup of the live host, which holds this
// test unless it runs in a cgroup of its own.
func TestPIDsLive(t *testing.T) {
	root := openRoot(t, "/")
	l, err := cgroup.DetectLayout(root)
	if err != nil {
		t.Skipf("no cgroups: %v", err)
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	cgs, err := cgroupfs.ParseProcCgroup(b)
	if err != nil {
		t.Fatal(err)
	}
	// Where ProcsDirs looks first: the cgroup2 hierarchy, else name=systemd.
	self := ""
	for _, c := range cgs {
		switch {
		case c.ID == 0 && l.Mode != cgroup.ModeV1:
			self = c.Path
		case l.Mode == cgroup.ModeV1 && len(c.Controllers) == 1 && c.Controllers[0] == "name=systemd":
			self = c.Path
		}
	}
	pids, err := PIDs(root, l, self)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pids {
		found = found || p == os.Getpid()
	}
	if !found {
		t.Errorf("PIDs(%s) = %v: this process (%d) is not there", self, pids, os.Getpid())
	}
}
