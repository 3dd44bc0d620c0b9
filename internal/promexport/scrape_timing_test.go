package promexport

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discard is a ResponseWriter that keeps nothing: the benchmark measures
// the scrape, not a recorder's copying.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

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
				d := &discard{h: http.Header{}}
				h.ServeHTTP(d, req)
				n = d.n
			}
			b.ReportMetric(float64(n), "bytes/scrape")
		})
	}
}
