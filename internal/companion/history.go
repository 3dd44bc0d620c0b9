// Package companion serves the cAdvisor-companion processes API
// (GET /api/v1.0/<cgroup>/processes, seeds/cadvisor_companion.md) and keeps
// the bounded process history behind it.
//
// History samples the processes of the cgroups that clients ask for — only
// those — every second from one background goroutine, and keeps the last
// minute of raw samples of each, so that count and interval can be served
// from the past instead of making the client wait.
package companion

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/proc"
	"github.com/cgmon/cgmon/internal/rootfs"
)

const (
	// SampleEvery is the time between two samples of a tracked cgroup.
	SampleEvery = time.Second

	// TrackFor is how long a cgroup stays tracked after its last request.
	TrackFor = 10 * time.Minute

	// MaxTracked is the most cgroups tracked at once; a request for one
	// more drops the least recently requested.
	MaxTracked = 16

	// MaxSamples is the ring size of a tracked cgroup: 60 s of history at
	// SampleEvery, plus the sample before the oldest entry that its
	// relativecpuusage is computed against. count × interval ≤ 60 follows.
	//
	// Memory: a sample keeps, per process, its proc.Process: the status
	// file's text (~1.4 KiB) and its index (~1 KiB), the parsed stat
	// (416 B), the command line and the struct itself.
	// TestBytesPerProcessSample measures 3.3 KiB of heap per process sample
	// (Linux 6.x, amd64, a Go process's status). The history is therefore
	// bounded to MaxSamples × 3.3 KiB ≈ 200 KiB per process of a tracked
	// cgroup; MaxStoredProcesses bounds the whole history.
	MaxSamples = 61

	// MaxStoredProcesses bounds the process samples kept over all tracked
	// cgroups: 10 000 × 3.3 KiB ≈ 33 MiB at most. Past it, the oldest
	// sample of the cgroup that holds the most is dropped (keeping at least
	// two per cgroup, for relativecpuusage), so a cgroup of many processes
	// has a shorter history: 1000 processes keep about 10 s, and a request
	// reaching further back gets fewer than count entries.
	MaxStoredProcesses = 10000

	// MaxWait bounds how long a request waits for samples of a cgroup that
	// was not tracked yet, well inside the server's 30 s WriteTimeout.
	MaxWait = 25 * time.Second

	// ScanTTL is how long one scan of the host's /proc serves the cgroups
	// sampled after it, when cgmon runs in a PID namespace of its own and
	// lists processes by scanning /proc (proc.Lister): cgroups due within
	// it share one scan, so there are at most SampleEvery/ScanTTL scans per
	// period however many cgroups are tracked, and a process is at most
	// ScanTTL late to appear.
	ScanTTL = SampleEvery / 2

	// files are the files read per process: stat always; status and cmdline
	// are in the answer; io and cgroup are not.
	files = proc.FileStatus | proc.FileCmdline
)

// Snapshots gives the latest snapshot of the cgroups, used to resolve the
// names clients give (*agent.Agent is one).
type Snapshots interface {
	Latest() *model.Snapshot
}

// Options configure a History.
type Options struct {
	// Root is the host's / (rootfs.New(--rootfs)). Required.
	Root rootfs.Root
	// Layout is the host's cgroup layout (engine's Collector().Layout()).
	// Required.
	Layout *cgroup.Layout
	// Snapshots resolves cgroup names. Required.
	Snapshots Snapshots
	// Logger receives sampling errors. Optional.
	Logger *slog.Logger
}

// History keeps recent process samples of the cgroups clients ask for, and
// serves them as the companion API (ServeProcesses). Run must be running
// for samples to be taken; its methods are safe for concurrent use.
type History struct {
	root   rootfs.Root
	layout *cgroup.Layout
	pids   *proc.Lister
	snaps  Snapshots
	log    *slog.Logger

	wake chan struct{} // a new cgroup is tracked: sample it now

	mu      sync.Mutex
	tracked map[string]*track
}

// track is one tracked cgroup.
type track struct {
	path string
	// Guarded by History.mu:
	lastReq time.Time
	next    time.Time      // when the next sample is due
	samples []*proc.Sample // oldest first, at most MaxSamples; immutable once in
	err     error          // of the last sampling, nil when it worked
	changed chan struct{}  // closed and replaced at each sample and when dropped
	dropped bool
}

// New returns a History that tracks nothing yet.
func New(opts Options) (*History, error) {
	if opts.Root == nil || opts.Layout == nil || opts.Snapshots == nil {
		return nil, errors.New("companion: Root, Layout and Snapshots are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &History{
		root: opts.Root, layout: opts.Layout, snaps: opts.Snapshots, log: log,
		pids:    proc.NewLister(opts.Root, opts.Layout, ScanTTL),
		wake:    make(chan struct{}, 1),
		tracked: make(map[string]*track),
	}, nil
}

// Run samples the tracked cgroups, each every SampleEvery, until ctx is
// done, and forgets those not requested for TrackFor. It is the History's
// only sampling goroutine; call it once.
func (h *History) Run(ctx context.Context) {
	var buf proc.Buffers
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	defer h.dropAll()
	for {
		now := time.Now()
		due, next := h.due(now)
		if len(due) > 0 {
			for _, t := range due {
				h.sample(t, &buf)
			}
			continue // their next samples are due later: recompute
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(now), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// due drops the cgroups not requested for TrackFor and
// returns those whose sample is due at now, and the earliest next due time
// of the others.
func (h *History) due(now time.Time) (due []*track, next time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p, t := range h.tracked {
		if now.Sub(t.lastReq) > TrackFor {
			h.drop(p, t)
			continue
		}
		if !t.next.After(now) {
			due = append(due, t)
			continue
		}
		if next.IsZero() || t.next.Before(next) {
			next = t.next
		}
	}
	return due, next
}

// sample reads the processes of t's cgroup (not of its descendants) and adds
// the sample to its ring.
func (h *History) sample(t *track, buf *proc.Buffers) {
	s := &proc.Sample{Time: time.Now()}
	pids, err := h.pids.PIDs(t.path)
	if err == nil {
		members := make([]proc.Member, len(pids))
		for i, pid := range pids {
			members[i] = proc.Member{PID: pid, Cgroup: t.path}
		}
		var rerr error
		s.Processes, rerr = proc.ReadProcesses(h.root, members, files, buf)
		if rerr != nil {
			// Those processes are left out; the sample is worth keeping.
			h.log.Warn("companion: read processes", "cgroup", t.path, "err", rerr)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// Next due one period after this one was, so that samples stay
	// SampleEvery apart; after an overrun, one period from now.
	t.next = t.next.Add(SampleEvery)
	if now := time.Now(); t.next.Before(now) {
		t.next = now.Add(SampleEvery)
	}
	t.err = err
	if t.dropped {
		return
	}
	if err == nil {
		if len(t.samples) == MaxSamples {
			copy(t.samples, t.samples[1:])
			t.samples[MaxSamples-1] = nil
			t.samples = t.samples[:MaxSamples-1]
		}
		t.samples = append(t.samples, s)
		h.trim()
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// trim drops the oldest samples until the history holds at most
// MaxStoredProcesses process samples, taking first from the cgroup that
// holds the most, and never below two samples a cgroup. h.mu is held.
func (h *History) trim() {
	for {
		total := 0
		var most *track
		mostN := 0
		for _, t := range h.tracked {
			n := 0
			for _, s := range t.samples {
				n += len(s.Processes)
			}
			total += n
			if len(t.samples) > 2 && n > mostN {
				most, mostN = t, n
			}
		}
		if total <= MaxStoredProcesses || most == nil {
			return
		}
		copy(most.samples, most.samples[1:])
		most.samples[len(most.samples)-1] = nil
		most.samples = most.samples[:len(most.samples)-1]
	}
}

// drop forgets a tracked cgroup and wakes its waiters. h.mu is held.
func (h *History) drop(p string, t *track) {
	delete(h.tracked, p)
	t.dropped = true
	t.samples = nil
	close(t.changed)
	t.changed = make(chan struct{})
}

func (h *History) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p, t := range h.tracked {
		h.drop(p, t)
	}
}

// request notes a request for path, tracking it if it was not, and returns
// its track.
func (h *History) request(path string) *track {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.tracked[path]; ok {
		t.lastReq = now
		return t
	}
	if len(h.tracked) >= MaxTracked {
		var oldest *track
		for _, t := range h.tracked {
			if oldest == nil || t.lastReq.Before(oldest.lastReq) {
				oldest = t
			}
		}
		h.drop(oldest.path, oldest)
	}
	t := &track{path: path, lastReq: now, next: now, changed: make(chan struct{})}
	h.tracked[path] = t
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return t
}

// Tracked returns the paths of the tracked cgroups, for tests and stats.
func (h *History) Tracked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.tracked))
	for p := range h.tracked {
		out = append(out, p)
	}
	return out
}

// samplesOf waits until t holds at least n samples, ctx is done, or
// deadline, and returns its samples then (oldest first) with the error of
// its last sampling.
func (h *History) samplesOf(ctx context.Context, t *track, n int, deadline time.Time) ([]*proc.Sample, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		h.mu.Lock()
		// A copy: sample shifts the ring in place.
		s, err, changed, dropped := slices.Clone(t.samples), t.err, t.changed, t.dropped
		h.mu.Unlock()
		if len(s) >= n || dropped || errors.Is(err, proc.ErrNoCgroup) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-timer.C:
			return s, err
		case <-changed:
		}
	}
}
