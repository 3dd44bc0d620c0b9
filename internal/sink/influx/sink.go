// Package influx is cgmon's InfluxDB output: it encodes each snapshot as
// line protocol (cgtop_mon's schema or the native one) and writes it over
// HTTP to InfluxDB 1.x (/write) or 2.x (/api/v2/write), or to anything that
// speaks either (VictoriaMetrics), through the shared delivery runner.
package influx

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/delivery"
)

// Sink is a running InfluxDB output.
type Sink struct {
	runner *delivery.Runner
	enc    *encoder
	done   chan struct{}
}

// New checks opts and builds a sink that is not running yet (Run starts
// it). An error names the configuration key at fault.
func New(opts Options, log *slog.Logger) (*Sink, error) {
	c, err := opts.check()
	if err != nil {
		return nil, err
	}
	w, err := newWriter(opts, c.url)
	if err != nil {
		return nil, err
	}
	enc := newEncoder(opts, c)
	r, err := delivery.New(delivery.Options{
		Name:             "influxdb",
		Target:           w.shown,
		Sender:           w,
		Encoder:          enc,
		BatchSize:        opts.BatchSize,
		MaxPendingPoints: opts.MaxPendingPoints,
		SpoolDir:         opts.SpoolDir,
		SpoolMaxBytes:    opts.SpoolMaxBytes,
		Logger:           log,
	})
	if err != nil {
		return nil, err
	}
	return &Sink{runner: r, enc: enc, done: make(chan struct{})}, nil
}

// Start builds the sink and runs it on ag's snapshots until ctx is done
// (it does not look at opts.Enabled: the caller does);
// Wait then returns once the last points are flushed (or spooled).
func Start(ctx context.Context, opts Options, ag *agent.Agent, log *slog.Logger) (*Sink, error) {
	if ag == nil {
		return nil, fmt.Errorf("influxdb: no agent")
	}
	s, err := New(opts, log)
	if err != nil {
		return nil, err
	}
	sub := ag.Subscribe("influxdb")
	go func() {
		defer sub.Close()
		s.Run(ctx, sub)
	}()
	if log != nil {
		log.Info("influxdb output started", "target", s.runner.Stats().Target, "schema", opts.Schema,
			"batch_size", opts.BatchSize, "max_pending_points", opts.MaxPendingPoints, "spool_dir", opts.SpoolDir)
	}
	return s, nil
}

// Run delivers the snapshots of snaps until ctx is done or its channel is
// closed, then flushes, and returns.
func (s *Sink) Run(ctx context.Context, snaps delivery.Snapshots) {
	defer close(s.done)
	s.runner.Run(ctx, snaps)
}

// Wait returns when Run has returned.
func (s *Sink) Wait() { <-s.done }

// Name names the sink in /metrics (promexport.Sink).
func (s *Sink) Name() string { return "influxdb" }

// SinkStats returns points written, failed write requests, and points lost
// (dropped or rejected as bad data), for /metrics (promexport.Sink).
func (s *Sink) SinkStats() (sent, errors, dropped uint64) {
	st := s.runner.Stats()
	return st.PointsWritten, st.Failures, st.PointsDropped + st.PointsRejected
}

// SinkBacklog returns the points waiting in memory and on disk, whether
// the server is failing, and the outage time so far, for /metrics
// (promexport.BacklogSink).
func (s *Sink) SinkBacklog() (queued int, degraded bool, outageSecondsTotal float64) {
	st := s.runner.Stats()
	return st.PointsQueued + st.PointsSpooled, st.Degraded, st.OutageSecondsTotal
}

// Stats returns the sink's self-metrics.
func (s *Sink) Stats() delivery.Stats { return s.runner.Stats() }
