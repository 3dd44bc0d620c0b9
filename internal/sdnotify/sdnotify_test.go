package sdnotify

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listen makes a unixgram socket in a temp dir, points NOTIFY_SOCKET at it,
// and returns the datagrams it receives, as systemd would.
func listen(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "n")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return // closed by the cleanup
			}
			ch <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return ch
}

// next returns the next datagram, failing after a second.
func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(time.Second):
		t.Fatal("no notification within 1s")
		return ""
	}
}

func TestMessages(t *testing.T) {
	ch := listen(t)
	for _, tc := range []struct {
		name string
		send func() error
		want string
	}{
		{"ready", Ready, "READY=1"},
		{"stopping", Stopping, "STOPPING=1"},
		{"status", func() error { return Status("collecting 312 cgroups") }, "STATUS=collecting 312 cgroups"},
		{"status newline", func() error { return Status("a\nREADY=1") }, "STATUS=a READY=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.send(); err != nil {
				t.Fatal(err)
			}
			if got := next(t, ch); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReloading(t *testing.T) {
	ch := listen(t)
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	before := ts.Nano() / 1000
	if err := Reloading(); err != nil {
		t.Fatal(err)
	}
	got := next(t, ch)
	first, rest, ok := strings.Cut(got, "\n")
	if !ok || first != "RELOADING=1" || !strings.HasPrefix(rest, "MONOTONIC_USEC=") {
		t.Fatalf("got %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
	usec, err := strconv.ParseInt(strings.TrimPrefix(rest, "MONOTONIC_USEC="), 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC in %q: %v", got, err)
	}
	if usec < before || usec > before+int64(time.Minute/time.Microsecond) {
		t.Errorf("MONOTONIC_USEC=%d, want just after %d", usec, before)
	}
}

func TestNoSocketIsNoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "1000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	for name, f := range map[string]func() error{"Ready": Ready, "Reloading": Reloading, "Stopping": Stopping} {
		if err := f(); err != nil {
			t.Errorf("%s without NOTIFY_SOCKET: %v", name, err)
		}
	}
	if Enabled() {
		t.Error("Enabled without NOTIFY_SOCKET")
	}
	watchdogReturnsAtOnce(t)
}

// watchdogReturnsAtOnce checks that Watchdog sees the watchdog off.
func watchdogReturnsAtOnce(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Watchdog(t.Context(), nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watchdog: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Watchdog did not return with the watchdog off")
	}
}

func TestSocketGone(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "missing"))
	if err := Ready(); err == nil || !strings.Contains(err.Error(), "READY=1") {
		t.Errorf("Ready to a missing socket = %v, want an error naming the message", err)
	}
}

func TestWatchdogOff(t *testing.T) {
	listen(t)
	t.Run("no WATCHDOG_USEC", watchdogReturnsAtOnce)
	t.Run("another pid", func(t *testing.T) {
		t.Setenv("WATCHDOG_USEC", "100000")
		t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
		watchdogReturnsAtOnce(t)
	})
	t.Run("bad WATCHDOG_USEC", func(t *testing.T) {
		t.Setenv("WATCHDOG_USEC", "soon")
		if err := Watchdog(t.Context(), nil); err == nil {
			t.Error("Watchdog with WATCHDOG_USEC=soon returned nil")
		}
	})
}

func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	ch := listen(t)
	const usec = 100_000 // pings every 50 ms
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(usec))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if d, err := Interval(); err != nil || d != 100*time.Millisecond {
		t.Fatalf("Interval = %v, %v; want 100ms", d, err)
	}

	var healthy atomic.Bool
	healthy.Store(true)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, healthy.Load) }()

	start := time.Now()
	for range 3 {
		if got := next(t, ch); got != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", got)
		}
	}
	// Three pings at half the interval: about 150 ms, well inside it each.
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Errorf("three pings in %v, faster than every 50 ms", el)
	}

	healthy.Store(false)
	time.Sleep(60 * time.Millisecond) // a ping decided before the switch may still arrive
	for len(ch) > 0 {
		<-ch
	}
	select {
	case m := <-ch:
		t.Fatalf("got %q while unhealthy", m)
	case <-time.After(300 * time.Millisecond): // six ping periods
	}

	healthy.Store(true)
	if got := next(t, ch); got != "WATCHDOG=1" {
		t.Fatalf("got %q after recovering, want WATCHDOG=1", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watchdog: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Watchdog did not return when its context ended")
	}
}
