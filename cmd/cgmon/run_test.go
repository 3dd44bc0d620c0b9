package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRunBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the message
	}{
		{[]string{"run", "--interval", "0"}, "--interval"},
		{[]string{"run", "--interval", "10ms"}, "at least"},
		{[]string{"run", "--interval", "soon"}, "interval"},
		{[]string{"run", "--log-format", "xml"}, "--log-format"},
		{[]string{"run", "--log-level", "loud"}, "--log-level"},
		{[]string{"run", "--listen", "0.0.0.0:8801"}, "--listen-public"},
		{[]string{"run", "--listen", ":8801"}, "no authentication"},
		{[]string{"run", "--listen", "192.0.2.1:8801"}, "not a loopback address"},
		{[]string{"run", "--listen", "8801"}, "--listen"},
		{[]string{"run", "--listen", "127.0.0.1:port"}, "port"},
		{[]string{"run", "--no-such-flag"}, "no-such-flag"},
		{[]string{"run", "extra-arg"}, "extra-arg"},
	} {
		_, err := run(t, tc.args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want a usage error (exit code 2) saying %q", tc.args, err, tc.want)
		}
	}
	_, err := run(t, "run", "--rootfs", t.TempDir(), "--listen", "127.0.0.1:0")
	var ue usageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "mountinfo") {
		t.Errorf("empty root: error %v, want a host error naming mountinfo", err)
	}
}

// cgmonProcess is the cgmon binary running `cgmon run`.
type cgmonProcess struct {
	cmd  *exec.Cmd
	addr chan string // the address from the "serving" log line
	done chan struct{}
	mu   sync.Mutex
	log  strings.Builder // standard error
}

func (p *cgmonProcess) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startCgmon starts bin with args from an empty directory, with an empty
// environment, as a container would.
func startCgmon(t *testing.T, bin string, args ...string) *cgmonProcess {
	t.Helper()
	return startCgmonEnv(t, bin, []string{}, args...)
}

// startCgmonEnv is startCgmon with the environment env.
func startCgmonEnv(t *testing.T, bin string, env []string, args ...string) *cgmonProcess {
	t.Helper()
	p := &cgmonProcess{cmd: exec.Command(bin, args...), addr: make(chan string, 1), done: make(chan struct{})}
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = env
	r, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				select { // a reload serves again; a test that does not read that must not block the reader
				case p.addr <- line.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.wait(t, 5*time.Second)
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *cgmonProcess) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	exited := make(chan error, 1)
	go func() { <-p.done; exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-exited
		t.Fatalf("cgmon did not exit within %s; stderr:\n%s", limit, p.stderr())
	}
	return -1
}

// waitServing returns the address cgmon serves on.
func (p *cgmonProcess) waitServing(t *testing.T) string {
	t.Helper()
	select {
	case addr := <-p.addr:
		return addr
	case <-p.done:
		t.Fatalf("cgmon exited before serving:\n%s", p.stderr())
	case <-time.After(10 * time.Second):
		t.Fatalf("cgmon did not log \"serving\" within 10 s:\n%s", p.stderr())
	}
	return ""
}

// buildCgmon builds the binary as the Dockerfile does.
func buildCgmon(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "cgmon")
	build := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func getOK(addr, path string) (int, []byte, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// v2Root copies the v2 fixture tree to dir/rootfs and returns that path:
// the binary reads a root of its own that a test may change.
func v2Root(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "rootfs")
	if err := os.CopyFS(root, os.DirFS(filepath.Join(fixtures, "v2"))); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestRunBinary runs the static binary, built as the Dockerfile builds it,
// from an empty directory against a copy of a fixture root.
func TestRunBinary(t *testing.T) {
	bin := buildCgmon(t)
	root := v2Root(t, t.TempDir())

	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run("serves and stops on "+name, func(t *testing.T) {
			p := startCgmon(t, bin, "run", "--rootfs", root, "--listen", "127.0.0.1:0", "--interval", "200ms", "--log-format", "json")
			addr := p.waitServing(t)
			deadline := time.Now().Add(10 * time.Second)
			for {
				code, body, err := getOK(addr, "/healthz")
				if err == nil && code == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/healthz: %d %s %v; stderr:\n%s", code, body, err, p.stderr())
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // a few cycles: rates over 200 ms
			code, body, err := getOK(addr, "/api/v1/cgroups?group=system.slice")
			var snap struct {
				Hostname        string
				IntervalSeconds float64 `json:"interval_seconds"`
				Cgroups         []struct{ Path string }
			}
			if err != nil || code != http.StatusOK || json.Unmarshal(body, &snap) != nil {
				t.Fatalf("/api/v1/cgroups: %d %v %s", code, err, body)
			}
			if snap.Hostname != "v2vm" || len(snap.Cgroups) != 4 || snap.IntervalSeconds < 0.15 || snap.IntervalSeconds > 0.5 {
				t.Errorf("snapshot %+v: want v2vm's system.slice (4 cgroups) with rates over about 200 ms", snap)
			}

			start := time.Now()
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t, 10*time.Second); code != 0 {
				t.Errorf("exit code %d after %s, want 0; stderr:\n%s", code, sig, p.stderr())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("shutdown took %s, want ≤ 5 s", d)
			}
			if !strings.Contains(p.stderr(), `"msg":"stopped"`) {
				t.Errorf("no \"stopped\" line in the log:\n%s", p.stderr())
			}
			if _, _, err := getOK(addr, "/healthz"); err == nil {
				t.Error("still answering after it exited")
			}
		})
	}

	t.Run("refuses a public address", func(t *testing.T) {
		p := startCgmon(t, bin, "run", "--rootfs", root, "--listen", "0.0.0.0:8801")
		if code := p.wait(t, 10*time.Second); code != exitUsage {
			t.Errorf("exit code %d, want %d", code, exitUsage)
		}
		if s := p.stderr(); !strings.Contains(s, "--listen-public") || !strings.Contains(s, "no authentication") || !strings.Contains(s, "--web-config-file") {
			t.Errorf("the message does not say why and what to do:\n%s", s)
		}
	})

	t.Run("serves publicly with --listen-public and warns", func(t *testing.T) {
		p := startCgmon(t, bin, "run", "--rootfs", root, "--listen", "0.0.0.0:0", "--listen-public", "--log-format", "json")
		addr := p.waitServing(t)
		_, port, _ := net.SplitHostPort(addr)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if code, _, err := getOK("127.0.0.1:"+port, "/healthz"); err == nil && code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not healthy after 10 s:\n%s", p.stderr())
			}
		}
		if !strings.Contains(p.stderr(), "no authentication") {
			t.Errorf("no warning about the missing authentication:\n%s", p.stderr())
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
	})

	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		p := startCgmon(t, bin, "run", "--rootfs", root, "--listen", ln.Addr().String())
		if code := p.wait(t, 10*time.Second); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
		if s := p.stderr(); !strings.Contains(s, "address already in use") || !strings.Contains(s, ln.Addr().String()) {
			t.Errorf("the message does not name the address and the cause:\n%s", s)
		}
	})

	t.Run("bad flags", func(t *testing.T) {
		for _, args := range [][]string{{"run", "--interval", "soon"}, {"run", "--log-format", "xml"}, {"run", "--bogus"}} {
			p := startCgmon(t, bin, args...)
			if code := p.wait(t, 10*time.Second); code != exitUsage {
				t.Errorf("%q: exit code %d, want %d:\n%s", args, code, exitUsage, p.stderr())
			}
		}
	})
}
