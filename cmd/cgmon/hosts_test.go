package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/remote/sshdtest"
)

func TestScheduleAndHostFlagsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--schedule", "every minute"}, "--schedule"},
		{[]string{"run", "--schedule", "0 0 30 2 *"}, "never fires"},
		{[]string{"run", "--host", "root@:22"}, "--host"},
		{[]string{"run", "--host", "db1:99999"}, "bad port"},
		{[]string{"run", "--host", "a@db1", "--host", "b@db1:2222"}, "two hosts have this name"},
		{[]string{"run", "--host", "db1", "--host-timeout", "0s"}, "--host-timeout"},
		{[]string{"snapshot", "--host", "a@x", "--host", "b@y"}, "one host"},
		{[]string{"snapshot", "--host", "a@x", "--rootfs", "/"}, "--rootfs and --host"},
	} {
		_, err := run(t, tc.args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}

func TestSnapshotRemoteHost(t *testing.T) {
	d := sshdtest.Start(t)
	out, err := run(t, "snapshot", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", d.KnownHosts,
		"--format", "json", "--interval", "500ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var snap struct {
		Hostname        string
		IntervalSeconds float64 `json:"interval_seconds"`
		Cgroups         []struct {
			Path string
			CPU  struct {
				Percent *float64 `json:"percent"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if snap.Hostname != "127.0.0.1" || len(snap.Cgroups) == 0 || snap.Cgroups[0].Path != "/" ||
		snap.Cgroups[0].CPU.Percent == nil || snap.IntervalSeconds < 0.4 {
		t.Errorf("snapshot of the remote host: hostname %q, %d cgroups, interval %v, first %+v",
			snap.Hostname, len(snap.Cgroups), snap.IntervalSeconds, snap.Cgroups[0])
	}

	// An unknown host key is refused with a message saying what to do.
	_, err = run(t, "snapshot", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", d.Dir+"/nothing", "--interval", "100ms")
	if err == nil || !strings.Contains(err.Error(), "trust_on_first_use") {
		t.Errorf("no known_hosts: err = %v", err)
	}
}

// cgmon run with a per-second cron schedule and the loopback host over SSH.
func TestRunRemoteHostOnSchedule(t *testing.T) {
	d := sshdtest.Start(t)
	bin := buildCgmon(t)
	p := startCgmon(t, bin, "run", "--listen", "127.0.0.1:0", "--schedule", "* * * * * *", "--log-format", "json",
		"--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", d.KnownHosts)
	addr := p.waitServing(t)
	var hosts []struct {
		Name       string
		Cycles     uint64
		LastError  string `json:"last_error"`
		FetchBytes int    `json:"fetch_bytes"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body, err := getOK(addr, "/api/v1/hosts")
		if err != nil || code != http.StatusOK || json.Unmarshal(body, &hosts) != nil || len(hosts) != 1 {
			t.Fatalf("/api/v1/hosts: %d %v %s", code, err, body)
		}
		if hosts[0].Cycles >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote host after 15 s: %+v\n%s", hosts, p.stderr())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if hosts[0].Name != "127.0.0.1" || hosts[0].FetchBytes == 0 || hosts[0].LastError != "" {
		t.Errorf("hosts = %+v", hosts)
	}
	code, body, err := getOK(addr, "/api/v1/hosts/127.0.0.1")
	var snap struct {
		Timestamp       time.Time
		Hostname        string
		IntervalSeconds float64 `json:"interval_seconds"`
		Cgroups         []struct{ Path string }
	}
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &snap) != nil {
		t.Fatalf("/api/v1/hosts/127.0.0.1: %d %v %s", code, err, body)
	}
	// A per-second schedule: cycles start just after whole seconds, 1 s apart.
	if snap.Hostname != "127.0.0.1" || len(snap.Cgroups) == 0 || snap.IntervalSeconds < 0.7 || snap.IntervalSeconds > 1.3 {
		t.Errorf("remote snapshot: hostname %q, %d cgroups, interval %v s", snap.Hostname, len(snap.Cgroups), snap.IntervalSeconds)
	}
	if code, _, _ := getOK(addr, "/api/v1/hosts/nosuch"); code != http.StatusNotFound {
		t.Errorf("unknown host: %d, want 404", code)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr())
	}
}
