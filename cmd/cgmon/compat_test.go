package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/sink/influx/influxtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// TestRunAsCgtopMon runs the binary the two ways a cgtop_mon user would:
// with their /etc/cgtop_mon.conf (the seed's variables) given to --config,
// and with the same variables in the environment as cgtop_mon's unit gave
// them. Either way the cgtop_mon series arrive in a real InfluxDB with
// authentication: measurement = CGTOP_MON_HOSTNAME, tags name and prefix,
// fields cpu, memory, tasks; and the password is never logged.
func TestRunAsCgtopMon(t *testing.T) {
	g := testcg.Require(t).NewGroup(t, "cgtopmon")
	g.Sleepers(t, 2)
	db := influxtest.StartInfluxd(t, false)
	bin := buildCgmon(t)
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	vars := func(measurement string) []string {
		return []string{
			"CGTOP_MON_INFLUXDB_HOST=" + u.Hostname(),
			"CGTOP_MON_INFLUXDB_PORT=" + u.Port(),
			"CGTOP_MON_INFLUXDB_USER=" + influxtest.AdminUser,
			"CGTOP_MON_INFLUXDB_PASSWORD=" + influxtest.AdminPass,
			"CGTOP_MON_INFLUXDB_DATABASE=" + influxtest.DB,
			"CGTOP_MON_INFLUXDB_SSL=false",
			"CGTOP_MON_DELAY=1",
			"CGTOP_MON_GROUP=" + g.Path(),
			"CGTOP_MON_WHITELIST=" + path.Base(g.Path()) + ",nothing-else",
			"CGTOP_MON_BLACKLIST=*.scope",
			"CGTOP_MON_SEND_BUFSIZE=10",
			"CGTOP_MON_MAX_PENDING_POINTS=1000",
			"CGTOP_MON_HOSTNAME=" + measurement,
		}
	}
	check := func(t *testing.T, p *cgmonProcess, measurement string) {
		t.Helper()
		p.waitServing(t)
		q := fmt.Sprintf(`SELECT cpu, memory, tasks, "name", "prefix" FROM "%s"`, measurement)
		var rows []map[string]any
		for deadline := time.Now().Add(20 * time.Second); len(rows) < 3; time.Sleep(300 * time.Millisecond) {
			rows = db.Query(influxtest.DB, q, true).Rows()
			if time.Now().After(deadline) {
				t.Fatalf("%d points in %q after 20 s, want 3; stderr:\n%s", len(rows), measurement, p.stderr())
			}
		}
		withCPU := 0
		for _, r := range rows {
			tasks, _ := r["tasks"].(json.Number).Int64()
			memory, _ := r["memory"].(json.Number).Int64()
			if r["name"] != path.Base(g.Path()) || r["prefix"] != path.Dir(g.Path()) || tasks != 2 || memory <= 0 {
				t.Errorf("point %v: want name %q, prefix %q, tasks 2, memory > 0", r, path.Base(g.Path()), path.Dir(g.Path()))
			}
			if r["cpu"] != nil {
				withCPU++
			}
		}
		// The first sample has no rate yet: like systemd-cgtop's first
		// iteration, its point has no cpu field. Every later one has.
		if withCPU < len(rows)-1 {
			t.Errorf("%d of %d points have a cpu field, want all but the first: %v", withCPU, len(rows), rows)
		}
		if strings.Contains(p.stderr(), influxtest.AdminPass) {
			t.Errorf("the password is in the log:\n%s", p.stderr())
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t, 15*time.Second); code != 0 {
			t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr())
		}
	}

	t.Run("--config /etc/cgtop_mon.conf", func(t *testing.T) {
		m := fmt.Sprintf("node-file-%04x", rand.IntN(1<<16))
		conf := filepath.Join(t.TempDir(), "cgtop_mon.conf")
		body := "# cgtop_mon's configuration, as its README shows it\n" + strings.Join(vars(m), "\n") + "\n"
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, startCgmon(t, bin, "run", "--config", conf, "--listen", "127.0.0.1:0", "--log-format", "json"), m)
	})
	t.Run("environment", func(t *testing.T) {
		m := fmt.Sprintf("node-env-%04x", rand.IntN(1<<16))
		check(t, startCgmonEnv(t, bin, vars(m), "run", "--listen", "127.0.0.1:0", "--log-format", "json"), m)
	})
}

// TestRunWithLXCMonitorConfig runs the binary on LXC Monitor's example
// file, unchanged but for its paths and interval: cgmon logs to its
// log_file and writes its export_file as valid JSON.
func TestRunWithLXCMonitorConfig(t *testing.T) {
	bin := buildCgmon(t)
	dir := t.TempDir()
	logFile, export := filepath.Join(dir, "lxc_monitor.log"), filepath.Join(dir, "lxc_metrics.json")
	conf := filepath.Join(dir, "lxc_monitor.yaml")
	seed, err := os.ReadFile("../../internal/config/testdata/lxc_monitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer(`"/var/log/lxc_monitor.log"`, logFile, `"/var/log/lxc_metrics.json"`, export,
		"check_interval: 60", "check_interval: 1").Replace(string(seed))
	if !strings.Contains(body, logFile) || !strings.Contains(body, export) || !strings.Contains(body, "check_interval: 1 ") {
		t.Fatalf("the seed file changed shape:\n%s", body)
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// LXC Monitor's file has no listen key: a free port from the flag.
	p := startCgmon(t, bin, "run", "--config", conf, "--listen", "127.0.0.1:0")
	waitFor(t, p, "the serving line in log_file", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), `msg=serving`) && strings.Contains(string(b), "interval=1s")
	})
	waitFor(t, p, "the export file", func() bool {
		b, err := os.ReadFile(export)
		var entries []map[string]any
		return err == nil && json.Unmarshal(b, &entries) == nil
	})
	if s := p.stderr(); strings.Contains(s, "msg=serving") {
		t.Errorf("logged to standard error as well as log_file:\n%s", s)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr())
	}
}
