// Package server is cgmon's read-only HTTP API. Every handler reads only the
// latest published snapshot (an atomic load), so no client, however slow,
// can hold the collector; no route writes anything.
//
// Routes:
//
//	GET /healthz                 200 {"status":"ok",...} or 503 with the reason
//	GET /api/v1/cgroups          the latest snapshot, as `cgmon snapshot --format json`
//	GET /api/v1/cgroups/<path>   one cgroup: an element of that snapshot's "cgroups"
//	GET /api/v1.0/<cgroup>/processes   the cAdvisor companion's route, when
//	                             Options.Processes is set
//	GET /metrics                 Prometheus metrics, when Options.Metrics is set
//	GET /api/v1/sinks            the push sinks' self-metrics (sinks.go)
//
// Every response is JSON (errors are {"error":"..."}) and is not cached,
// but for the 401 of a request without good credentials when
// Options.WebConfigFile has basic_auth_users: that is the
// exporter-toolkit's, before any route, as every Prometheus exporter's.
// Request paths are checked before routing (see checkPath): a hostile path
// is a 400, an unknown route a 404, a method other than GET or HEAD a 405.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/model"
)

// Settings of the http.Server that Serve runs. A client that is slow to
// send its request or to read the answer is cut off by these; it never
// delays the collector either way.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 64 << 10
	// ShutdownTimeout is how long Serve waits for requests in flight once
	// its context is done; then it closes the connections left.
	ShutdownTimeout = 5 * time.Second
)

// DefaultAddr is the cAdvisor companion's port, on loopback only.
const DefaultAddr = "127.0.0.1:8801"

// Source gives the latest snapshot. *agent.Agent is one. Latest must not
// block: it is called on every request.
type Source interface {
	// Latest returns the latest snapshot, or nil before the first.
	Latest() *model.Snapshot
}

// errorSource is an optional interface of a Source: the error of its last
// cycle, shown by /healthz when it is unhealthy.
type errorSource interface {
	LastError() error
}

// ProcessesHandler serves the cAdvisor companion's
// GET /api/v1.0/<absolute cgroup name>/processes. The server has checked
// the path and the method; cgroup is the decoded cgroup path ("/" or
// "/docker/8847cf…", no trailing slash). The query is the handler's to
// check.
type ProcessesHandler interface {
	ServeProcesses(w http.ResponseWriter, r *http.Request, cgroup string)
}

// ProcessesHandlerFunc adapts a function to ProcessesHandler.
type ProcessesHandlerFunc func(w http.ResponseWriter, r *http.Request, cgroup string)

// ServeProcesses calls f.
func (f ProcessesHandlerFunc) ServeProcesses(w http.ResponseWriter, r *http.Request, cgroup string) {
	f(w, r, cgroup)
}

// Options configure a Server.
type Options struct {
	// Source is read on every request. Required.
	Source Source
	// Interval is the source's cycle: /healthz reports unhealthy when the
	// latest snapshot is older than three of them. 0 means 5 s.
	Interval time.Duration
	// Processes serves the companion's /api/v1.0/<cgroup>/processes; nil
	// leaves the route out (404).
	Processes ProcessesHandler
	// Metrics serves GET /metrics (see metrics.go); nil leaves the route
	// out (404).
	Metrics http.Handler
	// Sinks returns the self-metrics of every push sink for
	// /api/v1/sinks; nil means there are none ([]).
	Sinks func() []delivery.Stats
	// WebConfigFile is an exporter-toolkit web configuration file
	// (tls_server_config, basic_auth_users, http_server_config): Serve
	// serves through the toolkit's web.Serve, which reads the file again
	// on every TLS handshake and every request, so a renewed certificate
	// or a changed user needs no restart. Empty: plain HTTP, no
	// authentication. Check it (config.ReadWebConfig) before serving.
	WebConfigFile string
	// Guard, when set, is called before every request is served; an
	// error refuses it (a 503 that does not say why, and the error
	// logged once until it changes). cgmon run sets it on a public address served only
	// because the web configuration has TLS and authentication
	// (config.WebConfigGuard), so that the API fails closed when the
	// file loses either between reloads.
	Guard func() error
	// Logger receives recovered panics, the http.Server's errors and, at
	// debug level, one line per request. Optional.
	Logger *slog.Logger
}

// Server is the API's http.Handler.
type Server struct {
	src       Source
	interval  time.Duration
	log       *slog.Logger
	mux       *http.ServeMux
	webConfig string
	guard     func() error

	guardMu  sync.Mutex
	guardErr string // the last refusal logged
}

// New returns the API handler. It panics without a Source, as
// http.ServeMux does on a bad pattern: both are programming errors.
func New(opts Options) *Server {
	if opts.Source == nil {
		panic("server: no Source")
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{src: opts.Source, interval: opts.Interval, log: log, mux: http.NewServeMux(), webConfig: opts.WebConfigFile, guard: opts.Guard}
	s.mux.Handle("/", http.HandlerFunc(notFound))
	s.Handle("/healthz", http.HandlerFunc(s.serveHealth))
	s.Handle("/api/v1/cgroups", http.HandlerFunc(s.serveCgroups))
	s.Handle("/api/v1/cgroups/", http.HandlerFunc(s.serveCgroup))
	s.Handle("/api/v1/sinks", serveSinks(opts.Sinks))
	if p := opts.Processes; p != nil {
		s.Handle(companionPrefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serveCompanion(w, r, p)
		}))
	}
	s.mountMetrics(opts.Metrics)
	return s
}

// Handle registers a read-only route: a net/http ServeMux pattern without a
// method ("/api/v1/x" or "/api/v1/x/" for a subtree). The handler is called
// only for GET and HEAD (other methods get a 405), after the path was
// checked, with the JSON and no-store headers set, and a panic in it is
// recovered into a 500. It panics on a pattern with a method or one that
// conflicts with a registered route.
func (s *Server) Handle(pattern string, h http.Handler) {
	if strings.Contains(pattern, " ") {
		panic(fmt.Sprintf("server: pattern %q: give no method; the API answers GET and HEAD only", pattern))
	}
	s.mux.Handle(pattern, readOnly(h))
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &responseWriter{ResponseWriter: w}
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving a request", "method", r.Method, "path", r.URL.EscapedPath(),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rw.status != 0 {
				// Part of the answer is out: cut the connection so the
				// client cannot take it for a whole one.
				panic(http.ErrAbortHandler)
			}
			writeError(rw, http.StatusInternalServerError, "internal error (logged by the server)")
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.EscapedPath(), "status", rw.status,
			"bytes", rw.bytes, "duration", time.Since(start))
	}()
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	if s.guard != nil {
		if err := s.guarded(); err != nil {
			// The reason (a path, what is missing) goes to the log,
			// not to a client that may no longer be authenticated.
			writeError(rw, http.StatusServiceUnavailable, "the API is closed: its web configuration no longer guards it (see the server's log)")
			return
		}
	}
	if _, err := checkPath(r.URL.EscapedPath()); err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// guarded runs the guard and logs a refusal once, and its end.
func (s *Server) guarded() error {
	err := s.guard()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.guardMu.Lock()
	changed := msg != s.guardErr
	s.guardErr = msg
	s.guardMu.Unlock()
	switch {
	case changed && err != nil:
		s.log.Error("refusing every request of the API", "err", err)
	case changed:
		s.log.Info("serving the API again: the web configuration file guards it")
	}
	return err
}

// Serve answers HTTP on ln until ctx is done, then shuts down: requests in
// flight get ShutdownTimeout to finish, and the connections left are closed.
// It returns nil after a shutdown and the error when serving fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.httpServer()
	errc := make(chan error, 1)
	go func() {
		if s.webConfig == "" {
			errc <- hs.Serve(ln)
			return
		}
		// The toolkit wraps the handler with basic authentication (a 401
		// before any route) and serves TLS when the file has a
		// certificate. A file that turns bad while serving is logged by
		// its error, and the requests fail (500, or the handshake).
		errc <- web.Serve(ln, hs, &web.FlagConfig{WebConfigFile: &s.webConfig}, s.log)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown: requests still running were cut off", "err", err)
		hs.Close()
	}
	<-errc // http.ErrServerClosed
	return nil
}

func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:                      s,
		ReadHeaderTimeout:            ReadHeaderTimeout,
		ReadTimeout:                  ReadTimeout,
		WriteTimeout:                 WriteTimeout,
		IdleTimeout:                  IdleTimeout,
		MaxHeaderBytes:               MaxHeaderBytes,
		DisableGeneralOptionsHandler: true, // "OPTIONS *" is a 400 like any path not starting with '/'
		ErrorLog:                     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// readOnly answers 405 to every method but GET and HEAD.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed: the API is read-only (GET, HEAD)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no route "+r.URL.EscapedPath()+": see /healthz, /api/v1/cgroups, /api/v1/cgroups/<path>")
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, marshal(struct {
		Error string `json:"error"`
	}{msg}))
}

// marshal encodes the small documents of the API (errors, health) and ends
// them with a newline, as the snapshot is. HTML is not escaped: the API is
// JSON, and "<path>" stays readable.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("server: encode %T: %v", v, err)) // only plain structs of strings and ints are given
	}
	return b.Bytes()
}

// writeJSON answers with a complete JSON body. The JSON headers are set by
// ServeHTTP.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body) // the client went away: nothing to do
}

// responseWriter notes the status and size of the answer, for the request
// log and for a panic after the answer began.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// jsonBuffers keep response buffers between requests: at a thousand cgroups
// a snapshot is about a megabyte of JSON.
var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}
