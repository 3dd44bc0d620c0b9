package promexport

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// gzipWriters are reused between scrapes: a gzip.Writer holds about
// 800 KB of state.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return w
}}

// gzipped compresses h's answers for clients that accept gzip, as
// Prometheus does, at gzip's fastest level: at a thousand cgroups it
// shrinks 4 MB to about 200 KB in a third of the time of promhttp's default
// level, which would cost more than the rest of the scrape.
func gzipped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.ServeHTTP(w, r)
			return
		}
		gz := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(gz)
		gz.Reset(w)
		w.Header().Set("Content-Encoding", "gzip")
		h.ServeHTTP(&gzipResponse{ResponseWriter: w, gz: gz}, r)
		gz.Close() // the client went away: nothing to do
	})
}

// acceptsGzip reports whether an Accept-Encoding header lists gzip without
// q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

type gzipResponse struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g *gzipResponse) WriteHeader(code int) {
	g.Header().Del("Content-Length") // the length of the uncompressed body
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipResponse) Write(b []byte) (int, error) { return g.gz.Write(b) }
