package engine

import (
	"log/slog"
	"time"

	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/use"
)

// HostOptions turn on the host-wide USE view (Snapshot.Host) with its
// checks and anomaly flags.
type HostOptions struct {
	// Root is where the host files are read; nil means the engine's root.
	Root rootfs.Root
	// ExcludedDevices are block device name prefixes left out of the disk
	// figures; nil means host.DefaultExcludedDevices.
	ExcludedDevices []string
	// AnomalyWindow is the span of the anomaly baselines (config
	// use.anomaly_window); 0 means one hour.
	AnomalyWindow time.Duration
}

// hostView reads the host files each cycle and adds the host view and its
// checks to the snapshot before it is published.
type hostView struct {
	reader    *host.Reader
	analyzer  *use.Analyzer
	prev, cur *hostfs.Sample
	log       *slog.Logger
	failing   bool // the last read failed: log again only when it recovers and fails anew
}

func newHostView(root rootfs.Root, o HostOptions, log *slog.Logger) (*hostView, error) {
	if o.Root != nil {
		root = o.Root
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := host.New(host.Options{Root: root, ExcludedDevices: o.ExcludedDevices, Logger: log})
	if err != nil {
		return nil, err
	}
	return &hostView{reader: r, analyzer: use.New(use.Options{AnomalyWindow: o.AnomalyWindow}),
		prev: &hostfs.Sample{}, cur: &hostfs.Sample{}, log: log}, nil
}

// read takes the host sample of this cycle. A file that failed leaves its
// figures absent; the failure is logged once until reads succeed again.
func (v *hostView) read() {
	if err := v.reader.Read(v.cur); err != nil {
		if !v.failing {
			v.log.Warn("reading host files", "err", err)
		}
		v.failing = true
		return
	}
	v.failing = false
}

// add builds the host view into snap, with rates against the previous
// cycle's sample, and analyzes it.
func (v *hostView) add(snap *model.Snapshot, first bool) {
	var prev *hostfs.Sample
	if !first {
		prev = v.prev
	}
	snap.Host = model.BuildHost(prev, v.cur)
	v.analyzer.Analyze(snap)
	v.prev, v.cur = v.cur, v.prev
}

// Files lists what the host reader reads, for a remote root.
func (v *hostView) files() []string { return v.reader.Files(v.prev) }

func (v *hostView) close() error { return v.reader.Close() }

// HostFiles returns every file the engine's host reader reads in a cycle
// (nil without HostOptions): what a remote root must fetch.
func (e *Engine) HostFiles() []string {
	if e.host == nil {
		return nil
	}
	return e.host.files()
}
