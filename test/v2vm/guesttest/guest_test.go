package guesttest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/test/v2vm"
)

const (
	root         = "/sys/fs/cgroup"
	cgroup2Magic = 0x63677270 // CGROUP2_SUPER_MAGIC
	helperEnv    = "GUESTTEST_HELPER"
)

func readTrim(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestCgroup2Root(t *testing.T) {
	v2vm.SkipIfNotGuest(t)
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != cgroup2Magic {
		t.Fatalf("%s is not cgroup2 (f_type %#x)", root, st.Type)
	}
	for _, f := range []string{"cgroup.controllers", "cgroup.subtree_control"} {
		got := strings.Fields(readTrim(t, filepath.Join(root, f)))
		for _, c := range []string{"cpu", "memory", "io", "pids"} {
			if !slices.Contains(got, c) {
				t.Errorf("%s = %q, missing %s", f, got, c)
			}
		}
	}
	if _, err := os.Stat("/dev/vda"); err != nil {
		t.Errorf("virtio disk: %v", err)
	}
}

// TestCgroupWithProcess creates a cgroup, moves a child process into it,
// makes the child allocate memory and checks the accounting, then cleans up.
func TestCgroupWithProcess(t *testing.T) {
	v2vm.SkipIfNotGuest(t)
	dir := filepath.Join(root, fmt.Sprintf("guesttest-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeCgroup(t, dir) })

	child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	child.Env = append(os.Environ(), helperEnv+"=1")
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	pid := strconv.Itoa(child.Process.Pid)

	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(pid), 0); err != nil {
		t.Fatal(err)
	}
	if got, want := readTrim(t, "/proc/"+pid+"/cgroup"), "0::/"+filepath.Base(dir); got != want {
		t.Errorf("/proc/%s/cgroup = %q, want %q", pid, got, want)
	}
	// memory is charged where it is faulted in: allocate after the move
	fmt.Fprintln(stdin, "alloc")
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	if procs := strings.Fields(readTrim(t, filepath.Join(dir, "cgroup.procs"))); !slices.Contains(procs, pid) {
		t.Errorf("cgroup.procs = %v, missing %s", procs, pid)
	}
	mem, err := strconv.ParseInt(readTrim(t, filepath.Join(dir, "memory.current")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if mem <= 0 {
		t.Errorf("memory.current = %d, want > 0", mem)
	} else if mem < 8<<20 {
		t.Errorf("memory.current = %d, want >= 8 MiB (the helper touched 16 MiB)", mem)
	}
	if n := readTrim(t, filepath.Join(dir, "pids.current")); n == "0" {
		t.Errorf("pids.current = %s", n)
	}
	t.Logf("memory.current=%d pids.current=%s", mem, readTrim(t, filepath.Join(dir, "pids.current")))

	stdin.Close() // helper exits on EOF
	if err := child.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
	removeCgroup(t, dir)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after rmdir: %v", dir, err)
	}
}

// removeCgroup kills what is left in dir and removes it (idempotent).
func removeCgroup(t *testing.T, dir string) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return
	}
	os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
	var err error
	for range 50 {
		if err = os.Remove(dir); err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("rmdir %s: %v", dir, err)
}

// TestHelperProcess is the child of TestCgroupWithProcess, not a real test.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process")
	}
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 16<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	fmt.Println("ready")
	in.ReadString('\n') // until EOF
	if buf[0] != 1 {
		os.Exit(1)
	}
	os.Exit(0)
}
