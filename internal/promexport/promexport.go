// Package promexport renders the agent's latest snapshot as Prometheus
// metrics for /metrics. Names and labels follow cAdvisor's for every figure
// both have, so existing dashboards and alerts keep working; cgmon's own
// figures (PSI averages, OOM kills, throttling, the agent's and the sinks'
// health) have the cgmon_ prefix.
//
// The Collector does no I/O and keeps no state between scrapes: a scrape
// renders the snapshot that the agent last published, nothing more.
package promexport

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
)

// Source gives the latest snapshot. *agent.Agent is one; Latest must not
// block.
type Source interface {
	Latest() *model.Snapshot
}

// statsSource is an optional interface of a Source: the agent's own
// counters, exported as cgmon_cycle*.
type statsSource interface {
	Stats() agent.Stats
}

// Sink is a push sink that reports its health, exported as cgmon_sink_*
// with a sink label. SinkStats returns counters since the sink started:
// values (points, value lists) handed to the destination, failed sends,
// and values given up on (a full queue, a send that will not be retried).
// Plain numbers, so that a sink need not import this package.
type Sink interface {
	Name() string
	SinkStats() (sent, errors, dropped uint64)
}

// BacklogSink is a Sink that keeps what it cannot send during an outage:
// its backlog and outage are exported as cgmon_sink_queued,
// cgmon_sink_degraded and cgmon_sink_outage_seconds_total.
type BacklogSink interface {
	SinkBacklog() (queued int, degraded bool, outageSecondsTotal float64)
}

// Options configure a Collector.
type Options struct {
	// Source is read on every scrape. Required.
	Source Source
	// Sinks are the push sinks whose counters are exported. Optional.
	Sinks []Sink
}

// Collector is a prometheus.Collector of the latest snapshot.
type Collector struct {
	src   Source
	sinks []Sink
	d     *descs
}

// New returns a Collector. Every descriptor is built here, once.
func New(opts Options) *Collector {
	if opts.Source == nil {
		panic("promexport: no Source")
	}
	return &Collector{src: opts.Source, sinks: opts.Sinks, d: newDescs()}
}

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.d.describe(ch)
}

// Collect renders the latest snapshot, the agent's counters and the sinks'.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if st, ok := c.src.(statsSource); ok {
		c.d.collectAgent(ch, st.Stats())
	}
	for _, s := range c.sinks {
		sent, errs, dropped := s.SinkStats()
		c.d.collectSink(ch, s.Name(), sent, errs, dropped)
		if b, ok := s.(BacklogSink); ok {
			queued, degraded, outage := b.SinkBacklog()
			c.d.collectBacklog(ch, s.Name(), queued, degraded, outage)
		}
	}
	if snap := c.src.Latest(); snap != nil {
		c.d.collectSnapshot(ch, snap)
	}
}

// Handler returns the /metrics handler: the collector, plus the Go runtime
// and process collectors (cgmon's own memory, CPU and file descriptors).
// Errors while encoding a scrape go to log.
//
// The text format, which Prometheus asks for, is written by textWriter;
// every other format (protobuf, for servers with native histograms) by
// promhttp. Both count their errors in promhttp_metric_handler_errors_total.
func Handler(c *Collector, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// promhttp's own counter, registered first so that promhttp below
	// finds it and counts into it too.
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "promhttp_metric_handler_errors_total",
		Help: "Total number of internal errors encountered by the promhttp metric handler.",
	}, []string{"cause"})
	errs.WithLabelValues("gathering")
	errs.WithLabelValues("encoding")
	reg.MustRegister(errs)
	g := gatherers{reg, newFastGatherer(c)}
	h := &scrapeHandler{
		gather: g,
		errs:   errs,
		log:    log,
		other: promhttp.HandlerFor(g, promhttp.HandlerOpts{
			ErrorLog:           slogPrinter{log},
			ErrorHandling:      promhttp.ContinueOnError,
			Registry:           reg,
			DisableCompression: true, // gzipped below, faster
		}),
	}
	// A scrape of a thousand cgroups holds about 13 MB while it runs:
	// three at once (an HA pair of Prometheus servers and a person with
	// curl) are served, a fourth gets a 503. No timeout here: the
	// server's WriteTimeout bounds a scrape.
	return limitInFlight(maxScrapes, gzipped(h))
}

// scrapeHandler serves a scrape: the text format itself, others through
// promhttp.
type scrapeHandler struct {
	gather prometheus.Gatherer
	other  http.Handler
	errs   *prometheus.CounterVec
	log    *slog.Logger
}

// textWriters keeps a writer for each scrape that may run at once. Not a
// sync.Pool: the pool is emptied by the collections a scrape's garbage
// sets off, and a new writer regrows its buffers and map every time.
var textWriters = make(chan *textWriter, maxScrapes)

const maxScrapes = 3

func (h *scrapeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	format := expfmt.Negotiate(r.Header)
	if format.FormatType() != expfmt.TypeTextPlain {
		h.other.ServeHTTP(w, r)
		return
	}
	// As promhttp with ContinueOnError: what was gathered is served, an
	// error is logged and counted, and only a scrape with nothing to
	// serve is an error.
	fams, err := h.gather.Gather()
	if err != nil {
		h.log.Warn("metrics scrape", "err", fmt.Errorf("gather: %w", err))
		h.errs.WithLabelValues("gathering").Inc()
		if len(fams) == 0 {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", string(format))
	var tw *textWriter
	select {
	case tw = <-textWriters:
	default:
		tw = newTextWriter()
	}
	defer func() {
		select {
		case textWriters <- tw:
		default:
		}
	}()
	tw.reset(format)
	encodeErrs, writeErr := tw.write(w, fams)
	for _, err := range encodeErrs {
		h.log.Warn("metrics scrape", "err", err)
		h.errs.WithLabelValues("encoding").Inc()
	}
	if writeErr != nil { // the client went away
		h.log.Debug("metrics scrape", "err", fmt.Errorf("send: %w", writeErr))
		h.errs.WithLabelValues("encoding").Inc()
	}
}

// limitInFlight serves at most n requests of h at once and answers the
// others 503, as promhttp's MaxRequestsInFlight does.
func limitInFlight(n int, h http.Handler) http.Handler {
	sem := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			h.ServeHTTP(w, r)
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", n), http.StatusServiceUnavailable)
		}
	})
}

// slogPrinter adapts slog to promhttp.Logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("metrics scrape", "err", slogArgs(v))
}

func slogArgs(v []any) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}
