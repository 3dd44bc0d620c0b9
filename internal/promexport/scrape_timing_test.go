package promexport

import (
	"net/http/httptest"
	"testing"

	"github.com/cgmon/cgmon/internal/snaptest"
)

// BenchmarkScrape1000 is one /metrics scrape of 1000 cgroups, as Prometheus
// asks for it: text format, with and without gzip. Target: ≤ 50 ms.
func BenchmarkScrape1000(b *testing.B) {
	h := Handler(New(Options{Source: staticSource{bigSnapshot(b, 1000)}}), nil)
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept", "text/plain;version=0.0.4")
			req.Header.Set("Accept-Encoding", enc)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				d := snaptest.NewDiscard()
				h.ServeHTTP(d, req)
				n = d.N
			}
			b.ReportMetric(float64(n), "bytes/scrape")
		})
	}
}
