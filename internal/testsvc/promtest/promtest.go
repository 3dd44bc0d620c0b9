// Package promtest runs a real Prometheus (Debian's prometheus package) for
// tests that check what it scrapes from cgmon, and queries it.
package promtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testsvc"
)

// Start starts Prometheus on a free loopback port, scraping every second
// with the scrape job job, which must be named "cgmon" (a YAML list item
// under scrape_configs, indented by four spaces: "  - job_name: cgmon\n
// static_configs: ..."). It waits until Prometheus is ready and the job's
// target is up — the first scrape can take several seconds — and returns
// Prometheus's base URL. It skips when Prometheus is not installed; the
// server is stopped when t ends.
func Start(t testing.TB, job string) string {
	t.Helper()
	bin := testsvc.LookPath(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" + job
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testsvc.FreePort(t))
	p := testsvc.Start(t, "prometheus", bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	base := "http://" + addr
	p.WaitFor(t, 30*time.Second, testsvc.HTTPReady(base+"/-/ready"))
	p.WaitFor(t, 30*time.Second, func() error {
		up, err := Query(base, `up{job="cgmon"}`)
		if err != nil {
			return err
		}
		if len(up) != 1 || up[0] != 1 {
			return fmt.Errorf("up = %v; targets: %s", up, targets(base))
		}
		return nil
	})
	return base
}

// StaticJob is the scrape job "cgmon" of one plain-HTTP target.
func StaticJob(target string) string {
	return fmt.Sprintf("  - job_name: cgmon\n    static_configs:\n      - targets: [%q]\n", target)
}

// Query runs an instant PromQL query and returns the vector's values.
func Query(base, q string) ([]float64, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status, Error string
		Data          struct{ Result []struct{ Value [2]any } }
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %s: %w: %.300s", q, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	var out []float64
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", q, s.Value[1], err)
		}
		out = append(out, v)
	}
	return out, nil
}

// targets is Prometheus's view of its targets (their last errors), for a
// failure message.
func targets(base string) string {
	resp, err := http.Get(base + "/api/v1/targets")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return string(b)
}
