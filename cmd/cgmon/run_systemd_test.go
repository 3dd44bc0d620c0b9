package main

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunNotifiesSystemd runs the binary as systemd runs a Type=notify
// service with WatchdogSec: NOTIFY_SOCKET and WATCHDOG_USEC in its
// environment, a datagram socket the test reads as systemd would. It
// checks READY=1 after the first cycle, watchdog pings, RELOADING=1 and
// READY=1 again around a SIGHUP, and STOPPING=1 on SIGTERM.
func TestRunNotifiesSystemd(t *testing.T) {
	bin := buildCgmon(t)
	dir := t.TempDir()
	root := v2Root(t, dir)
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	// WATCHDOG_PID is left out: go-systemd then takes the watchdog as
	// meant for this process, as systemd's own sd_watchdog_enabled does.
	p := startCgmonEnv(t, bin, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"},
		"run", "--rootfs", root, "--listen", "127.0.0.1:0", "--interval", "200ms", "--log-format", "json")
	expect := func(what string) string {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m := <-msgs:
				if strings.Contains(m, what) {
					return m
				}
			case <-deadline:
				t.Fatalf("no %q from cgmon in 10 s; stderr:\n%s", what, p.stderr())
			}
		}
	}
	p.waitServing(t)
	expect("READY=1")
	expect("WATCHDOG=1")
	expect("WATCHDOG=1") // pinged again: every 200 ms (half of WATCHDOG_USEC)

	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if m := expect("RELOADING=1"); !strings.Contains(m, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 without MONOTONIC_USEC (systemd's Type=notify-reload wants it): %q", m)
	}
	expect("READY=1")

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("STOPPING=1")
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr())
	}
}
