package main

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/remote/sshdtest"
	"github.com/cgmon/cgmon/internal/sink/influx/influxtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

// TestRunRemoteHostReachesTheSinks: a remote host's snapshots go through
// the same outputs as the local host's, under the host's name — InfluxDB
// (a real influxd: the cgtop schema's measurement is the host name) and
// Prometheus (/api/v1/hosts/<name>/metrics).
func TestRunRemoteHostReachesTheSinks(t *testing.T) {
	g := testcg.Require(t).NewGroup(t, "hostsinks")
	g.Sleepers(t, 1)
	d := sshdtest.Start(t)
	db := influxtest.StartInfluxd(t, false)
	bin := buildCgmon(t)
	url := db.AdminURL()
	p := startCgmon(t, bin, "run", "--listen", "127.0.0.1:0", "--interval", "1s", "--log-format", "json",
		"--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", d.KnownHosts,
		"--influxdb-url", url, "--influxdb-database", influxtest.DB, "--influxdb-group", g.Path())
	addr := p.waitServing(t)
	local, err := os.ReadFile("/proc/sys/kernel/hostname")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{strings.TrimSpace(string(local)): false, "127.0.0.1": false}
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, r := range db.Query(influxtest.DB, "SHOW MEASUREMENTS", true).Rows() {
			if name, ok := r["name"].(string); ok {
				if _, wanted := want[name]; wanted {
					want[name] = true
				}
			}
		}
		if want["127.0.0.1"] && want[strings.TrimSpace(string(local))] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("measurements after 30 s: %v, want the local host's and the remote host's; stderr (%d bytes):\n%s", want, len(p.stderr()), p.stderr())
		}
		time.Sleep(500 * time.Millisecond)
	}
	code, body, err := getOK(addr, "/api/v1/hosts/127.0.0.1/metrics")
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), `container_cpu_usage_seconds_total{cpu="total",id="`+g.Path()+`"`) {
		t.Errorf("/api/v1/hosts/127.0.0.1/metrics: %d %v, want the remote host's cgroups in cAdvisor's names:\n%.2000s", code, err, body)
	}
	// The InfluxDB output's own counters in the local /metrics.
	code, body, err = getOK(addr, "/metrics")
	if err != nil || code != http.StatusOK || !regexp.MustCompile(`(?m)^cgmon_sink_sent_total\{sink="influxdb"\} [1-9]`).Match(body) ||
		!strings.Contains(string(body), `cgmon_sink_degraded{sink="influxdb"} 0`) {
		t.Errorf("/metrics: %d %v, want the influxdb sink's points written and degraded 0", code, err)
	}
	if code, _, _ := getOK(addr, "/api/v1/hosts/nosuch/metrics"); code != http.StatusNotFound {
		t.Errorf("an unknown host's metrics: %d, want 404", code)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr())
	}
}
