package server

import "net/http"

// mountMetrics serves h at /metrics, read-only like every route. h sets its
// own Content-Type (the Prometheus text or protobuf format), replacing the
// API's JSON one.
func (s *Server) mountMetrics(h http.Handler) {
	if h == nil {
		return
	}
	s.Handle("/metrics", h)
}
