package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/delivery"
)

func TestSinksRoute(t *testing.T) {
	stats := []delivery.Stats{{Name: "influxdb", Target: "http://127.0.0.1:8086/write?db=x", Degraded: true,
		PointsWritten: 10, PointsDropped: 2, PointsQueued: 5, LastError: "POST …: 503", LastErrorTime: time.Unix(1, 0).UTC(),
		OutageSeconds: 1.5, ConsecutiveFailures: 1}}
	for _, tc := range []struct {
		name  string
		sinks func() []delivery.Stats
		path  string
		code  int
		want  string
	}{
		{"none", nil, "/api/v1/sinks", 200, "[]\n"},
		{"one", func() []delivery.Stats { return stats }, "/api/v1/sinks", 200, ""},
		{"a query", nil, "/api/v1/sinks?x=1", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, New(Options{Source: staticSource{}, Sinks: tc.sinks}))
			code, h, body := get(t, addr, tc.path)
			if code != tc.code || h.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s: %s", code, h.Get("Content-Type"), body)
			}
			if tc.want != "" && string(body) != tc.want {
				t.Errorf("body %q, want %q", body, tc.want)
			}
			if tc.sinks == nil || code != http.StatusOK {
				return
			}
			var got []map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0]["name"] != "influxdb" || got[0]["points_written_total"] != 10.0 ||
				got[0]["points_dropped_total"] != 2.0 || got[0]["degraded"] != true || got[0]["last_error_time"] != "1970-01-01T00:00:01Z" {
				t.Errorf("got %v", got)
			}
		})
	}
}
