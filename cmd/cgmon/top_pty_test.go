package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// lockedBuffer collects what the program writes to its terminal.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitOnTerminal polls until the output has want after the from-th byte, or fails.
func waitOnTerminal(t *testing.T, out *lockedBuffer, from int, want string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s := out.String()
		if i := strings.Index(s[from:], want); i >= 0 {
			return from + i + len(want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q on the terminal within 10 s; it shows:\n%q", want, out.String())
	return 0
}

// TestTopInteractivePty runs the real binary on a pseudo-terminal: it draws
// a screen in raw mode, m orders by memory, and q (or SIGTERM) ends it with
// exit code 0 and the terminal's modes as they were.
func TestTopInteractivePty(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("cannot open a pseudo-terminal: %v", err)
	}
	ptmx.Close()
	tty.Close()
	bin := buildCgmon(t) // run_test.go
	root := filepath.Join(fixtures, "v2")

	for _, tc := range []struct {
		name string
		stop func(t *testing.T, ptmx *os.File, p *os.Process)
	}{
		{"keys m then q", func(t *testing.T, ptmx *os.File, _ *os.Process) {
			if _, err := ptmx.Write([]byte("q")); err != nil {
				t.Fatal(err)
			}
		}},
		{"SIGTERM", func(t *testing.T, _ *os.File, p *os.Process) {
			if err := p.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Skipf("cannot open a pseudo-terminal: %v", err)
			}
			defer ptmx.Close()
			defer tty.Close()
			if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 12, Cols: 70}); err != nil {
				t.Fatal(err)
			}
			before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "top", "--rootfs", root, "--interval", "50ms")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out lockedBuffer
			go func() { _, _ = io.Copy(&out, ptmx) }()

			at := waitOnTerminal(t, &out, 0, "order cpu")
			raw, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if raw.Lflag&(unix.ECHO|unix.ICANON) != 0 {
				t.Errorf("while top runs the terminal echoes or is line-buffered (lflag %#x): not raw mode", raw.Lflag)
			}
			if _, err := ptmx.Write([]byte("m")); err != nil {
				t.Fatal(err)
			}
			at = waitOnTerminal(t, &out, at, "order memory")
			// The memory screen's first row is the VM's slice, the largest.
			screen := out.String()[at:]
			if i := strings.Index(screen, "Control Group"); i >= 0 {
				rest := strings.SplitN(screen[i:], "\r\n", 3)
				if len(rest) > 1 && !strings.HasPrefix(rest[1], "/machine.slice") {
					t.Errorf("order memory: first row %q, want /machine.slice", rest[1])
				}
			}
			tc.stop(t, ptmx, cmd.Process)

			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("top ended with %v, want exit code 0:\n%q", err, out.String())
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("top did not end within 10 s:\n%q", out.String())
			}
			after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if *after != *before {
				t.Errorf("terminal modes not restored:\nbefore %+v\nafter  %+v", *before, *after)
			}
			// Lines never reach the last column (no wrap) and the cursor is
			// shown again.
			time.Sleep(50 * time.Millisecond) // the reader drains the last bytes
			s := out.String()
			if !strings.Contains(s, "\x1b[?25h") {
				t.Errorf("the cursor was not shown again: %q", s[max(0, len(s)-200):])
			}
			for _, frame := range strings.Split(s, "\x1b[H\x1b[2J")[1:] {
				lines := strings.Split(frame, "\r\n")
				for _, l := range lines {
					if n := len([]rune(strings.ReplaceAll(l, "\x1b[?25h", ""))); n > 70 {
						t.Errorf("line of %d characters on a 70-column terminal: %q", n, l)
					}
				}
			}
		})
	}
}
