// Package testsvc starts the real servers that integration tests talk to
// (influxd, prometheus, collectd, sshd, dockerd, ...) as child processes of
// the test, on loopback and free ports, with their state in the test's temp
// directory, and stops them when the test ends, even on failure.
//
// A missing program or a test not run as root skips the test with a message
// that says what to install; with CGMON_TEST_REQUIRE=1 (set by
// scripts/test.sh, which installs everything) it fails instead, so CI cannot
// go green by skipping.
package testsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireEnv names the variable that turns skips into failures.
const RequireEnv = "CGMON_TEST_REQUIRE"

// Strict reports whether missing prerequisites must fail the test.
func Strict() bool { return os.Getenv(RequireEnv) == "1" }

// Skip skips t with the formatted reason, or fails it under CGMON_TEST_REQUIRE=1.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s (%s=1: a missing prerequisite is a failure)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// LookPath returns the path of program, or skips t naming the Debian
// package that has it.
func LookPath(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		// Debian puts daemons in /usr/sbin, which a test's PATH may lack.
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/usr/libexec/lxc"} {
			if fi, serr := os.Stat(dir + "/" + program); serr == nil && fi.Mode()&0o111 != 0 {
				return dir + "/" + program
			}
		}
		Skip(t, "%s not found: apt-get install %s (scripts/test.sh does)", program, debianPackage)
	}
	return p
}

// RequireRoot skips t unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root")
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testsvc: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testsvc: free udp port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Process is a server started by Start.
type Process struct {
	Name string
	Cmd  *exec.Cmd

	out  *Buffer
	done chan struct{}
	err  error // set before done is closed
}

// Start runs program with args as a child of the test, in its own process
// group, with stdout and stderr kept for Output. When t ends the whole
// process group gets SIGTERM, then SIGKILL after 5 s, and is reaped; if the
// test failed, the server's output is logged.
func Start(t testing.TB, name, program string, args ...string) *Process {
	t.Helper()
	return StartCmd(t, name, exec.Command(program, args...))
}

// StartCmd is Start for a prepared command (environment, directory).
func StartCmd(t testing.TB, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Name: name, Cmd: cmd, out: &Buffer{}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		t.Fatalf("testsvc: start %s: %v", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("testsvc: output of %s:\n%s", name, p.Output())
		}
	})
	return p
}

// Output returns what the server printed so far.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Signal sends sig to the server's process group.
func (p *Process) Signal(sig syscall.Signal) error {
	return syscall.Kill(-p.Cmd.Process.Pid, sig)
}

// Stop ends the server's process group (SIGTERM, then SIGKILL after 5 s)
// and waits for it. It may be called more than once.
func (p *Process) Stop() {
	if ok, _ := p.Exited(); ok {
		return
	}
	_ = p.Signal(syscall.SIGCONT) // a test may have stopped it
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Kill ends the server's process group with SIGKILL and waits for it: a
// crash, for outage tests.
func (p *Process) Kill() {
	if ok, _ := p.Exited(); ok {
		return
	}
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
}

// WaitFor polls ready every 100 ms until it returns nil, the process exits,
// or timeout passes; the last two fail t with the server's output.
func (p *Process) WaitFor(t testing.TB, timeout time.Duration, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = ready(); err == nil {
			return
		}
		if ok, werr := p.Exited(); ok {
			t.Fatalf("testsvc: %s exited before it was ready (%v); last check: %v\n%s", p.Name, werr, err, p.Output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testsvc: %s not ready after %s: %v\n%s", p.Name, timeout, err, p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// HTTPReady returns a check for WaitFor that GETs url and wants a 2xx.
func HTTPReady(url string) func() error {
	client := &http.Client{Timeout: 2 * time.Second}
	return func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// TCPReady returns a check for WaitFor that connects to addr.
func TCPReady(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// Run runs a short command and returns its combined output, failing t
// with that output when it fails or takes longer than timeout.
func Run(t testing.TB, timeout time.Duration, program string, args ...string) string {
	t.Helper()
	out, err := RunErr(timeout, program, args...)
	if err != nil {
		t.Fatalf("testsvc: %s %s: %v\n%s", program, strings.Join(args, " "), err, out)
	}
	return out
}

// RunErr is Run that returns the error instead of failing, for cleanup
// paths and commands expected to fail.
func RunErr(timeout time.Duration, program string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	// A child left running with the output pipe (lxc-attach, docker exec
	// of "cmd &") would otherwise hold CombinedOutput past the timeout.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", timeout)
	}
	return string(out), err
}

// Buffer is a bytes.Buffer safe for concurrent writers and a reading test:
// the output of a server, or the destination of a test's slog logger. It
// keeps the last 512 KiB to 1 MiB.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Keep the last 1 MiB: a chatty server must not grow the test's memory.
	if s.b.Len() > 1<<20 {
		tail := append([]byte(nil), s.b.Bytes()[s.b.Len()-(512<<10):]...)
		s.b.Reset()
		s.b.Write(tail)
	}
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
