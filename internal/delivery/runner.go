// Package delivery is the one runner every push sink (InfluxDB, ...) shares:
// it takes each snapshot from the agent without ever holding the collector,
// turns it into points with the sink's Encoder, keeps them in a bounded
// backlog (and, optionally, an on-disk spool) and hands them in batches to
// the sink's Sender, riding out outages with exponential backoff.
//
// This is cgtop_mon's failure handling, generalised: batches of BatchSize
// points; a backlog of MaxPendingPoints that drops the oldest point when
// full and counts it; on a failed write, degraded mode with a backoff from
// 1 s doubling to 60 s (±20 % jitter), a new client after every 3
// consecutive failures, one warning when degraded mode starts and one
// message when it ends, with the outage's duration and the points dropped.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cgmon/cgmon/internal/model"
)

// Backoff and client re-creation, as cgtop_mon does them.
const (
	InitialBackoff = time.Second
	MaxBackoff     = 60 * time.Second
	// JitterFraction spreads each delay uniformly over ±20 % (never above
	// MaxBackoff), so that agents that lost the same server do not come
	// back in lock step.
	JitterFraction = 0.2
	// ResetAfter consecutive failures, the Sender is asked for a new client.
	ResetAfter = 3
)

// Defaults of Options.
const (
	DefaultBatchSize        = 10
	DefaultMaxPendingPoints = 1000
	DefaultSpoolMaxBytes    = 64 << 20
	DefaultShutdownTimeout  = 5 * time.Second
)

// Sender delivers one batch of encoded points. A sink implements it.
type Sender interface {
	// Send writes points (each one encoded point, in the sink's wire
	// format) in one request. A failure says what to do next through
	// Classify; an unclassified error is retried. The error text ends up
	// in logs and Stats: it must not contain secrets.
	Send(ctx context.Context, points [][]byte) error
	// Reset drops the current client and its connections: the next Send
	// starts afresh. Called after every ResetAfter consecutive failures.
	Reset()
}

// Encoder turns a snapshot into points. The Runner keeps the returned
// slices until they are sent: Encode must not reuse their memory.
type Encoder interface {
	Encode(s *model.Snapshot) [][]byte
}

// Snapshots is where the Runner takes snapshots from; *agent.Subscription
// is one.
type Snapshots interface {
	C() <-chan *model.Snapshot
	Missed() uint64
}

// Clock is time as the Runner sees it; tests give a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Runner.
type Options struct {
	// Name identifies the sink in logs and Stats ("influxdb").
	Name string
	// Target says where it writes, without secrets (a URL without
	// credentials); shown in Stats.
	Target  string
	Sender  Sender  // required
	Encoder Encoder // required
	// BatchSize is the most points one Send gets (default 10).
	BatchSize int
	// MaxPendingPoints bounds the points kept in memory, the batch being
	// sent included (default 1000; at least BatchSize).
	MaxPendingPoints int
	// SpoolDir, when set, keeps points that could not be sent on disk
	// instead of in memory, up to SpoolMaxBytes (default 64 MiB).
	SpoolDir      string
	SpoolMaxBytes int64
	// ShutdownTimeout bounds the last flush when Run's context ends
	// (default 5 s).
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
	// Clock and Rand (uniform in [0,1), for the jitter) are for tests.
	Clock Clock
	Rand  func() float64
}

// Stats are a sink's self-metrics.
type Stats struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// Degraded is true from a failed write until the next good one.
	Degraded bool `json:"degraded"`
	// PointsWritten were accepted by the server.
	PointsWritten uint64 `json:"points_written_total"`
	// PointsDropped were lost: the backlog or the spool was full (oldest
	// first), or they could not be sent or spooled at shutdown.
	PointsDropped uint64 `json:"points_dropped_total"`
	// PointsRejected were refused by the server as bad data.
	PointsRejected uint64 `json:"points_rejected_total"`
	// PointsQueued are waiting in memory, PointsSpooled on disk.
	PointsQueued  int   `json:"points_queued"`
	PointsSpooled int   `json:"points_spooled"`
	SpoolBytes    int64 `json:"spool_bytes"`
	// Requests is the number of Sends, Failures those that failed.
	Requests            uint64 `json:"requests_total"`
	Failures            uint64 `json:"failures_total"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	ClientResets        uint64 `json:"client_resets_total"`
	// LastError is the last failure's message and when it happened.
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	// OutageSeconds is the current outage's length (0 when not degraded);
	// OutageSecondsTotal adds up every outage of this run.
	OutageSeconds      float64 `json:"outage_seconds"`
	OutageSecondsTotal float64 `json:"outage_seconds_total"`
	// SnapshotsMissed were published while the sink was still encoding the
	// previous one (never under normal load).
	SnapshotsMissed uint64 `json:"snapshots_missed_total"`
}

// Runner delivers one sink's points. Stats is safe for concurrent use.
type Runner struct {
	name, target    string
	sender          Sender
	enc             Encoder
	batch           int
	maxPending      int
	shutdownTimeout time.Duration
	log             *slog.Logger
	clock           Clock
	rand            func() float64
	spoolDir        string
	spoolMax        int64
	wake            chan struct{}
	snaps           Snapshots

	mu          sync.Mutex
	q           *queue
	spool       *spool
	inflight    [][]byte // the batch being sent or retried
	inflightMem bool     // inflight came from q (counts against maxPending)
	spoolSeg    *segment // the spool segment being sent, and its points
	spoolPts    [][]byte
	spoolPos    int // points of spoolPts sent (spoolPts[spoolPos:] are left)

	degraded        bool
	since           time.Time // start of the current outage
	lastKind        Kind
	droppedAtStart  uint64
	dropWarned      bool
	spoolWarned     bool
	outageTotal     time.Duration
	rejectedBatches uint64
	st              Stats
}

// New checks opts and opens the spool, if any, indexing what a previous
// run left in it.
func New(opts Options) (*Runner, error) {
	if opts.Sender == nil || opts.Encoder == nil {
		return nil, errors.New("delivery: Sender and Encoder are required")
	}
	if opts.BatchSize < 0 || opts.MaxPendingPoints < 0 || opts.SpoolMaxBytes < 0 {
		return nil, fmt.Errorf("delivery %s: batch size, max pending points and spool size must not be negative", opts.Name)
	}
	r := &Runner{
		name: opts.Name, target: opts.Target, sender: opts.Sender, enc: opts.Encoder,
		batch: opts.BatchSize, maxPending: opts.MaxPendingPoints, shutdownTimeout: opts.ShutdownTimeout,
		log: opts.Logger, clock: opts.Clock, rand: opts.Rand, spoolDir: opts.SpoolDir, spoolMax: opts.SpoolMaxBytes,
		wake: make(chan struct{}, 1),
	}
	if r.batch == 0 {
		r.batch = DefaultBatchSize
	}
	if r.maxPending == 0 {
		r.maxPending = DefaultMaxPendingPoints
	}
	r.maxPending = max(r.maxPending, r.batch)
	if r.shutdownTimeout <= 0 {
		r.shutdownTimeout = DefaultShutdownTimeout
	}
	if r.spoolMax == 0 {
		r.spoolMax = DefaultSpoolMaxBytes
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("sink", r.name)
	if r.clock == nil {
		r.clock = realClock{}
	}
	if r.rand == nil {
		r.rand = rand.Float64
	}
	r.q = newQueue(r.maxPending)
	if r.spoolDir != "" {
		sp, err := openSpool(r.spoolDir, r.spoolMax, r.log)
		if err != nil {
			return nil, fmt.Errorf("delivery %s: %w", r.name, err)
		}
		r.spool = sp
		if sp.points > 0 {
			r.log.Info("spool: points left by an earlier run will be sent", "points", sp.points, "bytes", sp.bytes, "dir", r.spoolDir)
		}
	}
	return r, nil
}

// Run delivers the points of every snapshot from snaps until ctx is done
// or snaps' channel is closed, then flushes what it can within the
// shutdown timeout, spools the rest when there is a spool, and returns.
func (r *Runner) Run(ctx context.Context, snaps Snapshots) {
	r.mu.Lock()
	r.snaps = snaps
	r.mu.Unlock()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		r.sendLoop(sctx)
	}()
	r.intake(sctx, snaps)
	stop()
	<-sent
	r.flush()
}

// intake encodes each snapshot and queues its points. It never waits for
// the sender: the collector's one-slot channel is emptied at once.
func (r *Runner) intake(ctx context.Context, snaps Snapshots) {
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-snaps.C():
			if !ok {
				return
			}
			r.enqueue(r.enc.Encode(s))
		}
	}
}

// Enqueue adds points as if they came from a snapshot: for sinks that make
// points of their own, and for tests.
func (r *Runner) Enqueue(points [][]byte) { r.enqueue(points) }

func (r *Runner) enqueue(points [][]byte) {
	if len(points) == 0 {
		return
	}
	r.mu.Lock()
	if r.spool != nil && (r.degraded || !r.spool.empty()) && r.spoolAppend(points) {
		r.mu.Unlock()
		r.signal()
		return
	}
	for _, p := range points {
		r.pushLocked(p)
	}
	r.mu.Unlock()
	r.signal()
}

// pushLocked queues one point, dropping the oldest when the backlog is full.
func (r *Runner) pushLocked(p []byte) {
	mem := 0
	if r.inflightMem {
		mem = len(r.inflight)
	}
	if r.q.len()+mem >= r.maxPending {
		r.st.PointsDropped++
		if !r.dropWarned {
			r.dropWarned = true
			r.log.Warn("backlog full while the server is unreachable; dropping the oldest points",
				"max_pending_points", r.maxPending)
		}
		if r.q.len() == 0 {
			return // the whole backlog is the batch in flight: the new point goes
		}
		r.q.dropOldest()
	}
	r.q.push(p)
}

// spoolAppend writes points to the spool and reports whether it could.
func (r *Runner) spoolAppend(points [][]byte) bool {
	dropped, err := r.spool.append(points)
	r.st.PointsDropped += uint64(dropped)
	if dropped > 0 && !r.dropWarned {
		r.dropWarned = true
		r.log.Warn("spool full; dropping the oldest points", "spool_max_bytes", r.spoolMax)
	}
	if err != nil {
		if !r.spoolWarned {
			r.spoolWarned = true
			r.log.Warn("spool write failed; keeping points in memory", "err", err)
		}
		return false
	}
	r.spoolWarned = false
	return true
}

func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// sendLoop sends batches while there are points, and waits out the backoff
// after a failure.
func (r *Runner) sendLoop(ctx context.Context) {
	for {
		batch := r.next()
		if batch == nil {
			select {
			case <-r.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := r.sender.Send(ctx, batch)
		if err != nil && ctx.Err() != nil {
			return // shutting down: the batch stays for the flush
		}
		if delay := r.done(err); delay > 0 {
			select {
			case <-r.clock.After(delay):
			case <-ctx.Done():
				return
			}
		}
	}
}

// next returns the batch to send: the one that failed last, else the
// oldest points of the spool, else of the memory backlog; nil when there
// is nothing.
func (r *Runner) next() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.inflight) > 0 {
		return r.inflight
	}
	if r.spool != nil && r.spoolSeg == nil && !r.spool.empty() {
		seg, pts, err := r.spool.readHead()
		if err != nil {
			r.log.Warn("spool: segment lost", "err", err)
			r.st.PointsDropped += uint64(seg.points)
		} else if seg != nil {
			r.spoolSeg, r.spoolPts, r.spoolPos = seg, pts, 0
		}
	}
	if r.spoolSeg != nil {
		n := min(r.batch, len(r.spoolPts)-r.spoolPos)
		r.inflight = append(r.inflight[:0], r.spoolPts[r.spoolPos:r.spoolPos+n]...)
		r.inflightMem = false
		if n == 0 { // an empty segment: done with it
			r.spoolDoneLocked()
			return nil
		}
		return r.inflight
	}
	r.inflight = r.q.take(r.inflight[:0], r.batch)
	r.inflightMem = true
	if len(r.inflight) == 0 {
		return nil
	}
	return r.inflight
}

func (r *Runner) spoolDoneLocked() {
	r.spool.remove(r.spoolSeg)
	r.spoolSeg, r.spoolPts, r.spoolPos = nil, nil, 0
}

// done accounts for a Send's result and returns how long to wait before
// the next one.
func (r *Runner) done(err error) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Requests++
	kind := KindOf(err)
	if err == nil || kind == BadData {
		n := uint64(len(r.inflight))
		if err == nil {
			r.st.PointsWritten += n
		} else {
			r.st.PointsRejected += n
			r.noteErrorLocked(err)
			r.rejectedBatches++
			if b := r.rejectedBatches; b&(b-1) == 0 { // log at 1, 2, 4, 8, ... batches
				r.log.Warn("the server rejected a batch as bad data; it is dropped", "points", n,
					"rejected_batches", b, "err", err)
			}
		}
		r.releaseLocked()
		r.recoveredLocked()
		return 0
	}
	r.st.Failures++
	r.st.ConsecutiveFailures++
	r.noteErrorLocked(err)
	delay := r.backoff(r.st.ConsecutiveFailures)
	now := r.clock.Now()
	switch {
	case !r.degraded:
		r.degraded, r.since, r.lastKind = true, now, kind
		r.droppedAtStart = r.st.PointsDropped
		r.log.Warn("write failed; entering degraded mode: "+advice(kind), "err", err, "problem", kind.String(),
			"retry_in", delay.Round(time.Millisecond).String(), "points_queued", r.queuedLocked())
	case kind != r.lastKind:
		r.lastKind = kind
		r.log.Warn("write still failing, now with another problem: "+advice(kind), "err", err, "problem", kind.String(),
			"consecutive_failures", r.st.ConsecutiveFailures)
	default:
		r.log.Debug("write still failing", "err", err, "consecutive_failures", r.st.ConsecutiveFailures,
			"retry_in", delay.Round(time.Millisecond).String())
	}
	if r.st.ConsecutiveFailures%ResetAfter == 0 {
		r.st.ClientResets++
		r.sender.Reset()
		r.log.Debug("new client after consecutive failures", "consecutive_failures", r.st.ConsecutiveFailures)
	}
	if r.spool != nil && r.inflightMem {
		// Keep what cannot be sent on disk from now on.
		pts := append(r.inflight[:len(r.inflight):len(r.inflight)], r.q.take(nil, r.q.len())...)
		if r.spoolAppend(pts) {
			r.inflight = r.inflight[:0]
		} else {
			for _, p := range pts[len(r.inflight):] {
				r.q.push(p)
			}
		}
	}
	return delay
}

func advice(k Kind) string {
	switch k {
	case Auth:
		return "the server refused the credentials; check username/password or token (points are kept)"
	case Config:
		return "the server says the target is wrong; check the database/bucket settings (points are kept)"
	}
	return "retrying with backoff (points are kept)"
}

// releaseLocked forgets the batch that was sent (or rejected).
func (r *Runner) releaseLocked() {
	n := len(r.inflight)
	r.inflight = r.inflight[:0]
	if !r.inflightMem && r.spoolSeg != nil {
		r.spoolPos += n
		if r.spoolPos >= len(r.spoolPts) {
			r.spoolDoneLocked()
		}
	}
}

// recoveredLocked ends degraded mode after a request the server answered.
func (r *Runner) recoveredLocked() {
	if r.degraded {
		outage := r.clock.Now().Sub(r.since)
		r.outageTotal += outage
		r.log.Info("write recovered", "outage", outage.Round(time.Millisecond).String(),
			"failures", r.st.ConsecutiveFailures, "dropped_points", r.st.PointsDropped-r.droppedAtStart,
			"points_queued", r.queuedLocked())
	}
	r.degraded = false
	r.st.ConsecutiveFailures = 0
	r.dropWarned = false
}

func (r *Runner) noteErrorLocked(err error) {
	r.st.LastError = err.Error()
	r.st.LastErrorTime = r.clock.Now()
}

// backoff is the delay after n consecutive failures: 1 s doubling up to
// 60 s, jittered by ±JitterFraction and never above MaxBackoff.
func (r *Runner) backoff(n int) time.Duration {
	d := MaxBackoff
	if n < 8 {
		d = min(InitialBackoff<<(n-1), MaxBackoff)
	}
	f := 1 - JitterFraction + 2*JitterFraction*r.rand()
	return min(time.Duration(float64(d)*f), MaxBackoff)
}

func (r *Runner) queuedLocked() int {
	n := r.q.len()
	if r.inflightMem {
		n += len(r.inflight)
	}
	return n
}

// flush sends what it can within the shutdown timeout (unless the server
// is known to be down), then spools the rest or counts it as dropped.
func (r *Runner) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), r.shutdownTimeout)
	defer cancel()
	r.mu.Lock()
	degraded := r.degraded
	r.mu.Unlock()
	for !degraded && ctx.Err() == nil {
		batch := r.next()
		if batch == nil {
			break
		}
		err := r.sender.Send(ctx, batch)
		if err != nil && KindOf(err) != BadData {
			r.mu.Lock()
			r.st.Requests++
			r.st.Failures++
			r.noteErrorLocked(err)
			r.mu.Unlock()
			break
		}
		r.done(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var left [][]byte
	if r.inflightMem {
		left = append(left, r.inflight...)
		r.inflight = r.inflight[:0]
	}
	left = r.q.take(left, r.q.len())
	if len(left) > 0 && r.spool != nil && r.spoolAppend(left) {
		r.log.Info("stopped; unsent points spooled for the next start", "points", len(left), "points_spooled", r.spool.points)
		left = nil
	}
	if len(left) > 0 {
		r.st.PointsDropped += uint64(len(left))
		r.log.Warn("stopped; points not delivered are lost", "points", len(left))
	}
	if r.spool != nil {
		r.spool.close()
	}
	if r.degraded {
		r.outageTotal += r.clock.Now().Sub(r.since)
		r.since = r.clock.Now()
	}
}

// Stats returns the sink's self-metrics.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Name, st.Target, st.Degraded = r.name, r.target, r.degraded
	st.PointsQueued = r.queuedLocked()
	if r.spool != nil {
		st.PointsSpooled = r.spool.points
		if r.spoolSeg != nil {
			st.PointsSpooled -= r.spoolPos
		}
		st.SpoolBytes = r.spool.bytes
	}
	total := r.outageTotal
	if r.degraded {
		cur := r.clock.Now().Sub(r.since)
		st.OutageSeconds = cur.Seconds()
		total += cur
	}
	st.OutageSecondsTotal = total.Seconds()
	if r.snaps != nil {
		st.SnapshotsMissed = r.snaps.Missed()
	}
	return st
}
