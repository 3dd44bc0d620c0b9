package server

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/promexport"
)

// TestMetricsRoute: /metrics is there only when Options.Metrics is set, is
// read-only like every route, and answers in Prometheus's text format.
func TestMetricsRoute(t *testing.T) {
	a := newAgent(t, fixture, time.Hour)
	runAgent(t, a)
	src := staticSource{snap: waitLatest(t, a)}
	without := serve(t, New(Options{Source: src}))
	if code, _, _ := get(t, without, "/metrics"); code != http.StatusNotFound {
		t.Errorf("without Options.Metrics: GET /metrics = %d, want 404", code)
	}

	h := promexport.Handler(promexport.New(promexport.Options{Source: src}), nil)
	addr := serve(t, New(Options{Source: src, Metrics: h}))
	code, hdr, body := get(t, addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	if !bytes.Contains(body, []byte(`container_memory_usage_bytes{id="`+src.snap.Cgroups[1].Path+`"`)) {
		t.Errorf("no container_memory_usage_bytes of %s in:\n%s", src.snap.Cgroups[1].Path, body)
	}
	resp, _ := raw(t, addr, "POST", "/metrics")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", resp.StatusCode)
	}
}
