package testcg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readyTimeout bounds how long a load may take to join its group and get
// ready (or finish, for the loads that finish). Generous: the v2 test VM runs
// without KVM.
const readyTimeout = 2 * time.Minute

// joinScript runs as `sh -c joinScript sh FD N PROCS_1…PROCS_N PROG ARG…`: the
// shell writes its own pid into each of the N cgroup.procs files, reports
// "ok" on fd FD, and execs PROG with FD closed. The program thus starts
// inside the group and everything it allocates is charged there.
const joinScript = `fd=$1 n=$2; shift 2
while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 126; shift; n=$((n-1)); done
echo ok >&"$fd" || exit 126
eval 'exec "$@" '"$fd"'>&-'`

// proc is a process this package started in a group.
type proc struct {
	cmd    *exec.Cmd
	argv   []string // as the caller asked, before wrapping in the join shell
	stderr *tailBuffer

	mu      sync.Mutex
	waiting bool
	done    chan struct{}
	err     error
}

func (p *proc) String() string {
	return fmt.Sprintf("pid %d %q", p.cmd.Process.Pid, p.argv)
}

// wait waits at most d for the process to exit and returns cmd.Wait's
// result. It never calls cmd.Wait for a process the test has already reaped.
func (p *proc) waitTimeout(d time.Duration) error {
	p.mu.Lock()
	if !p.waiting {
		if p.cmd.ProcessState != nil { // the test called Wait itself
			p.mu.Unlock()
			return nil
		}
		p.waiting = true
		go func() {
			p.err = p.cmd.Wait()
			close(p.done)
		}()
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		return fmt.Errorf("still running after %v", d)
	}
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	if over := len(b.b) - 4096; over > 0 {
		b.b = b.b[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}

// Start starts argv inside the group and returns once the process is in the
// group in every hierarchy. The process runs until it exits or the test ends.
// Its stdout is discarded and its stderr kept for failure messages.
func (g *Group) Start(t testing.TB, argv ...string) *exec.Cmd {
	t.Helper()
	if len(argv) == 0 {
		t.Fatal("testcg: Start needs a command")
	}
	return g.StartCmd(t, exec.Command(argv[0], argv[1:]...))
}

// StartCmd starts a prepared, not yet started command inside the group, as
// Start does. Its Stdin, Stdout, Stderr, Env, Dir and ExtraFiles (at most 6)
// are honoured; its Path and Args are rewritten to run it through the join
// shell. A test may Wait for it; cleanup reaps it otherwise.
func (g *Group) StartCmd(t testing.TB, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	g.startCmd(t, cmd)
	return cmd
}

func (g *Group) startCmd(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	if cmd.Err != nil {
		t.Fatalf("testcg: %v", cmd.Err)
	}
	if cmd.Process != nil {
		t.Fatal("testcg: command already started")
	}
	fd := 3 + len(cmd.ExtraFiles)
	if fd > 9 { // a shell redirection takes one digit
		t.Fatalf("testcg: at most 6 ExtraFiles, have %d", len(cmd.ExtraFiles))
	}
	argv := append([]string{cmd.Path}, cmd.Args[1:]...)
	args := []string{"sh", "-c", joinScript, "sh", strconv.Itoa(fd), strconv.Itoa(len(g.h.hier))}
	for _, hi := range g.h.hier {
		args = append(args, hi.Mount+g.path+"/cgroup.procs")
	}
	cmd.Path, cmd.Args = "/bin/sh", append(args, argv...)

	p := &proc{cmd: cmd, argv: argv, done: make(chan struct{})}
	if cmd.Stderr == nil {
		p.stderr = &tailBuffer{}
		cmd.Stderr = p.stderr
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Second // a killed load's orphans must not hold Wait
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("testcg: %v", err)
	}
	defer r.Close()
	cmd.ExtraFiles = append(cmd.ExtraFiles, w)
	err = cmd.Start()
	w.Close()
	cmd.ExtraFiles = cmd.ExtraFiles[:len(cmd.ExtraFiles)-1]
	if err != nil {
		t.Fatalf("testcg: start %q: %v", argv, err)
	}
	g.addProc(p)

	_ = r.SetReadDeadline(time.Now().Add(readyTimeout))
	got, err := io.ReadAll(r) // EOF once the program is exec'd (or the shell failed)
	if string(got) != "ok\n" {
		werr := p.waitTimeout(time.Second)
		t.Fatalf("testcg: %q did not join %s (read %q, %v; exit %v): %s", argv, g.path, got, err, werr, p.stderr)
	}
	return p
}

// BusyLoop starts one CPU-bound process (a shell loop) in the group.
func (g *Group) BusyLoop(t testing.TB) *exec.Cmd {
	t.Helper()
	return g.Start(t, "/bin/sh", "-c", "while :; do :; done")
}

// Sleepers starts n single-threaded sleep processes in the group.
func (g *Group) Sleepers(t testing.TB, n int) []*exec.Cmd {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = g.Start(t, "sleep", "1000000")
	}
	return cmds
}

// HoldAnon starts a process in the group that allocates mib MiB of anonymous
// memory, writes to every page of it, and holds it until the test ends. It
// returns once the memory is touched. The process is the test binary itself
// (a Go program: its runtime adds a few MiB and a few threads).
func (g *Group) HoldAnon(t testing.TB, mib int) *exec.Cmd {
	t.Helper()
	cmd := helperCmd(t, "hold", strconv.Itoa(mib<<20))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("testcg: %v", err)
	}
	defer r.Close()
	defer w.Close()
	cmd.Stdout = w
	p := g.startCmd(t, cmd)
	w.Close() // the helper holds the only write end now: EOF if it dies
	_ = r.SetReadDeadline(time.Now().Add(readyTimeout))
	line, err := bufio.NewReader(r).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("testcg: HoldAnon(%d): %q, %v: %s", mib, line, err, p.stderr)
	}
	return cmd
}

// WriteTmpfs mounts a private tmpfs on a temporary directory and writes a
// mib MiB file into it from a process inside the group, so the file's pages
// (shmem) are charged to the group. It returns the file's path. The file
// stays until the test ends, then the tmpfs is unmounted.
func (g *Group) WriteTmpfs(t testing.TB, mib int) string {
	t.Helper()
	dir := t.TempDir()
	opts := fmt.Sprintf("size=%dk,mode=0700", (mib+4)*1024)
	if err := unix.Mount("cgmon-testcg", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		t.Fatalf("testcg: mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		// Lazy: the group's processes are killed only after this runs.
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("testcg: unmount %s: %v", dir, err)
		}
	})
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("testcg: make %s private: %v", dir, err)
	}
	file := filepath.Join(dir, "load")
	g.runHelper(t, "write", file, strconv.Itoa(mib<<20))
	return file
}

// DirectIOWrite writes mib MiB with O_DIRECT to a new file in dir from a
// process inside the group, and returns when the writes are done. dir must
// be on a block device (see BlockDevice). It returns the whole disk's
// numbers, under which the kernel accounts the I/O in blkio.* and io.stat.
// On v1 it first enables the blkio counters for that disk
// (EnableBlkioCounting). The file is removed when the test ends.
func (g *Group) DirectIOWrite(t testing.TB, dir string, mib int) (maj, min uint32) {
	t.Helper()
	pmaj, pmin, name, err := BlockDevice(dir)
	if err != nil {
		t.Fatalf("testcg: DirectIOWrite: %v", err)
	}
	maj, min, _, err = WholeDisk(pmaj, pmin)
	if err != nil {
		t.Fatalf("testcg: DirectIOWrite: %s: %v", name, err)
	}
	g.EnableBlkioCounting(t, maj, min)
	file := filepath.Join(dir, fmt.Sprintf("cgmon-testcg-dio-%d-%08x", os.Getpid(), rand.Uint32()))
	t.Cleanup(func() {
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("testcg: %v", err)
		}
	})
	g.runHelper(t, "directio", file, strconv.Itoa(mib<<20))
	return maj, min
}

// DirectIOWriteDevice writes mib MiB with O_DIRECT straight to a block
// device (a scratch disk such as the test VM's /dev/vda: its contents are
// lost) from inside the group, and returns the device's numbers.
func (g *Group) DirectIOWriteDevice(t testing.TB, dev string, mib int) (maj, min uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatalf("testcg: DirectIOWriteDevice: %v", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		t.Fatalf("testcg: DirectIOWriteDevice: %s is not a block device", dev)
	}
	maj, min = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	g.EnableBlkioCounting(t, maj, min)
	g.runHelper(t, "directio-dev", dev, strconv.Itoa(mib<<20))
	return maj, min
}

// runHelper runs a helper in the group to completion.
func (g *Group) runHelper(t testing.TB, args ...string) {
	t.Helper()
	p := g.startCmd(t, helperCmd(t, args...))
	if err := p.waitTimeout(readyTimeout); err != nil {
		t.Fatalf("testcg: helper %q: %v: %s", args, err, p.stderr)
	}
}

// helperEnv turns the test binary into a helper (see init).
const helperEnv = "CGMON_TESTCG_HELPER"

func helperCmd(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("testcg: %v", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}

func init() {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	if err := helperMain(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "testcg helper %q: %v\n", os.Args[1:], err)
		os.Exit(1)
	}
	os.Exit(0)
}

// held keeps HoldAnon's memory reachable.
var held []byte

func helperMain(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: hold BYTES | write FILE BYTES | directio FILE BYTES")
	}
	n, err := strconv.Atoi(args[len(args)-1])
	if err != nil || n < 0 {
		return fmt.Errorf("bad size %q", args[len(args)-1])
	}
	switch {
	case args[0] == "hold" && len(args) == 2:
		held = make([]byte, n)
		for i := 0; i < n; i += os.Getpagesize() {
			held[i] = 1
		}
		if _, err := os.Stdout.WriteString("ready\n"); err != nil {
			return err
		}
		for {
			time.Sleep(time.Hour)
		}
	case args[0] == "write" && len(args) == 3:
		return writeFileOf(args[1], n, os.O_CREATE|os.O_EXCL)
	case args[0] == "directio" && len(args) == 3:
		return writeFileOf(args[1], n, os.O_CREATE|os.O_EXCL|unix.O_DIRECT)
	case args[0] == "directio-dev" && len(args) == 3:
		return writeFileOf(args[1], n, unix.O_DIRECT)
	}
	return fmt.Errorf("unknown helper command %q", args)
}

// writeFileOf writes n bytes (a multiple of the page size for O_DIRECT) to a
// file opened with the extra flags, from a page-aligned 1 MiB buffer.
func writeFileOf(path string, n, flags int) error {
	const chunk = 1 << 20
	buf, err := unix.Mmap(-1, 0, chunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err
	}
	defer unix.Munmap(buf)
	for i := range buf {
		buf[i] = 0xa5
	}
	f, err := os.OpenFile(path, os.O_WRONLY|flags, 0o600)
	if err != nil {
		return err
	}
	for n > 0 {
		w := min(n, chunk)
		if _, err := f.Write(buf[:w]); err != nil {
			f.Close()
			return err
		}
		n -= w
	}
	return f.Close()
}
