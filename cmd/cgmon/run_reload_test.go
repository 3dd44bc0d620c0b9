package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunConfigFileAndReload runs the binary on a native configuration
// file, then reloads it with SIGHUP: a good file takes effect (the
// /metrics endpoint goes away), a bad one is logged with its key and line
// and the running configuration stays.
func TestRunConfigFileAndReload(t *testing.T) {
	bin := buildCgmon(t)
	dir := t.TempDir()
	root := v2Root(t, dir)
	export := filepath.Join(dir, "export.json")
	conf := filepath.Join(dir, "cgmon.yaml")
	write := func(extra string) {
		t.Helper()
		body := "rootfs: " + root + "\nlisten: 127.0.0.1:0\ninterval: 200ms\nlogging:\n  log_format: json\njson_export:\n  file: " + export + "\n" + extra
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	p := startCgmon(t, bin, "run", "--config", conf)
	addr := p.waitServing(t)
	waitFor(t, p, "the first snapshot", func() bool {
		code, _, err := getOK(addr, "/healthz")
		return err == nil && code == http.StatusOK
	})
	if code, _, err := getOK(addr, "/metrics"); err != nil || code != http.StatusOK {
		t.Fatalf("/metrics: %d %v, want 200 (prometheus.enabled defaults to true)", code, err)
	}
	waitFor(t, p, "the JSON export", func() bool {
		b, err := os.ReadFile(export)
		var entries []json.RawMessage
		return err == nil && json.Unmarshal(b, &entries) == nil
	})

	write("prometheus:\n  enabled: false\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	addr = p.waitServing(t) // port 0: a new one after the restart
	waitFor(t, p, "the reloaded agent's first snapshot", func() bool {
		code, _, err := getOK(addr, "/healthz")
		return err == nil && code == http.StatusOK
	})
	if code, _, err := getOK(addr, "/metrics"); err != nil || code != http.StatusNotFound {
		t.Errorf("/metrics after the reload: %d %v, want 404; stderr:\n%s", code, err, p.stderr())
	}

	write("interval: soon\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the failed reload's log line", func() bool {
		return strings.Contains(p.stderr(), "reload failed")
	})
	if s := p.stderr(); !strings.Contains(s, "interval") || !strings.Contains(s, "line") {
		t.Errorf("the failed reload's message does not name the key and line:\n%s", s)
	}
	time.Sleep(500 * time.Millisecond)
	if code, _, err := getOK(addr, "/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("after a bad reload: /healthz %d %v, want the running agent to stay", code, err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr())
	}
}

// TestRunBadConfigFile: a bad file stops cgmon before it starts anything,
// with exit code 2 and the key in the message.
func TestRunBadConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "cgmon.yaml")
	if err := os.WriteFile(conf, []byte("listen: 127.0.0.1:0\ncontainers:\n  workers: many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startCgmon(t, buildCgmon(t), "run", "--config", conf)
	if code := p.wait(t, 10*time.Second); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if s := p.stderr(); !strings.Contains(s, "workers") || !strings.Contains(s, "3") {
		t.Errorf("the message does not name the key and its line (3):\n%s", s)
	}
}

func waitFor(t *testing.T, p *cgmonProcess, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 15 s; stderr:\n%s", what, p.stderr())
		}
	}
}
