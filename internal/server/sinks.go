package server

import (
	"net/http"

	"github.com/cgmon/cgmon/internal/delivery"
)

// serveSinks answers GET /api/v1/sinks: a JSON array with the self-metrics
// of every push sink (delivery.Stats), [] when there is none. Stats holds
// no secret: targets are URLs without credentials, and the sinks keep
// secrets out of their error messages.
func serveSinks(sinks func() []delivery.Stats) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > 0 {
			writeError(w, http.StatusBadRequest, "/api/v1/sinks takes no query")
			return
		}
		list := []delivery.Stats{}
		if sinks != nil {
			list = append(list, sinks()...)
		}
		writeJSON(w, http.StatusOK, marshal(list))
	})
}
