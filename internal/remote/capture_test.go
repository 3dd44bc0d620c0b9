package remote

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var capture = flag.Bool("capture", false, "rewrite testdata/fetch-*.out from this host (go test -run TestCapture -capture)")

// captureRequest is what testdata/fetch-hybrid.out was made from on the
// project's hybrid host: a few host files, links, and the v1 pids and
// cgroup2 trees.
var captureRequest = Request{
	Files: []string{"/proc/loadavg", "/proc/sys/kernel/hostname", "/proc/swaps", "/sys/class/net/*/speed", "/proc/pressure/*", "/nonexistent"},
	Links: []string{"/sys/class/net/*"},
	Trees: []TreeSpec{
		{Dir: "/sys/fs/cgroup/pids", Names: []string{"cgroup.procs", "pids.current", "pids.max"}},
		{Dir: "/sys/fs/cgroup/unified", Names: []string{"cpu.pressure", "cpu.stat"}},
	},
}

// runLocal runs a fetch script with the local sh, as sshd would.
func runLocal(t *testing.T, script string) (stdout, stderr []byte) {
	return runWith(t, "", script)
}

// runWith runs a fetch script with the tools in dir (sh, find, head, ...),
// or the system's when dir is empty.
func runWith(t *testing.T, dir, script string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command("sh", "-s")
	if dir != "" {
		cmd = exec.Command(dir+"/sh", "-s")
		cmd.Env = []string{"PATH=" + dir}
	}
	cmd.Stdin = strings.NewReader(script)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return out, []byte(errb.String())
}

func TestCapture(t *testing.T) {
	if !*capture {
		t.Skip("-capture not given")
	}
	wire, stderr := runLocal(t, Script(captureRequest))
	out, err := Decode(wire, MaxOutput)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/fetch-hybrid.out", out, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/fetch-hybrid.err", stderr, 0o644); err != nil {
		t.Fatal(err)
	}
}
