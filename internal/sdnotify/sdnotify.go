// Package sdnotify tells systemd how the agent is doing, through the
// sd_notify protocol (sd_notify(3)): ready, reloading, stopping, a status
// line, and watchdog pings that stop when the agent stops making progress,
// so that systemd restarts a hung agent. Every call is a no-op when
// NOTIFY_SOCKET is unset, i.e. when cgmon does not run under systemd with
// Type=notify.
package sdnotify

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notify sends state, one datagram; with no NOTIFY_SOCKET it does nothing.
func notify(state string) error {
	// The environment is kept (false): children such as ssh may inherit
	// it, but with NotifyAccess=main systemd ignores what they send.
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sdnotify: send %q: %w", state, err)
	}
	return nil
}

// Ready says start-up, or a reload, is complete.
func Ready() error { return notify(daemon.SdNotifyReady) }

// Reloading says a configuration reload has begun; Ready must follow when it
// is done. It carries MONOTONIC_USEC, which systemd 253 and later want with
// RELOADING=1 for Type=notify-reload, and which older ones ignore.
func Reloading() error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fmt.Errorf("sdnotify: clock_gettime(CLOCK_MONOTONIC): %w", err)
	}
	usec := ts.Nano() / 1000
	return notify(daemon.SdNotifyReloading + "\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10))
}

// Stopping says the agent is shutting down.
func Stopping() error { return notify(daemon.SdNotifyStopping) }

// Status sets the one-line status `systemctl status` shows. Line breaks
// become spaces: a newline would start another variable of the protocol.
func Status(s string) error {
	return notify("STATUS=" + strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
}

// Watchdog sends WATCHDOG=1 every half of WATCHDOG_USEC (as sd_watchdog_enabled
// advises) for as long as ctx lasts, but only while healthy reports true
// (nil means always healthy): an agent whose collection is stuck stops
// pinging and systemd kills and restarts it after WatchdogSec.
//
// It returns at once, with nil, when the watchdog is off: NOTIFY_SOCKET or
// WATCHDOG_USEC unset, or WATCHDOG_PID naming another process. It returns
// an error only for a WATCHDOG_USEC or WATCHDOG_PID it cannot parse. A ping
// that fails to send is not fatal: the next one is tried on time, and if
// they all fail systemd restarts the agent, which is the right outcome.
func Watchdog(ctx context.Context, healthy func() bool) error {
	interval, err := Interval()
	if err != nil || interval == 0 {
		return err
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if healthy == nil || healthy() {
				_ = notify(daemon.SdNotifyWatchdog)
			}
		}
	}
}

// Interval returns systemd's watchdog timeout (WatchdogSec), or 0 when the
// watchdog is off for this process or NOTIFY_SOCKET is unset.
func Interval() (time.Duration, error) {
	if !Enabled() {
		return 0, nil
	}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("sdnotify: watchdog: %w", err)
	}
	return d, nil
}

// Enabled reports whether systemd listens: NOTIFY_SOCKET is set.
func Enabled() bool { return os.Getenv("NOTIFY_SOCKET") != "" }
