package remote

import (
	"log/slog"
	"time"

	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/use"
)

// USEOptions turn on a remote host's USE view (Snapshot.Host with its
// checks and anomaly flags), as engine.HostOptions do for the local host.
// The USE files (USEFiles, USELinks) and statfs of the host's filesystems
// then come with every fetch.
type USEOptions struct {
	// AnomalyWindow is the span of the anomaly baselines; 0 means one
	// hour.
	AnomalyWindow time.Duration
}

// useView is the engine's host view over a remote root: engine.New takes
// no host view with Options.FS, so Host adds it to the engine's snapshot.
// It reads what the fetch just made returned; it does no I/O of its own.
type useView struct {
	reader    *host.Reader
	analyzer  *use.Analyzer
	prev, cur *hostfs.Sample
	first     bool
	log       *slog.Logger
	failing   bool // the last read failed: log again only when it recovers and fails anew
}

func newUSEView(root *HostRoot, o USEOptions, excluded []string, log *slog.Logger) (*useView, error) {
	r, err := host.New(host.Options{Root: root, ExcludedDevices: excluded, Logger: log})
	if err != nil {
		return nil, err
	}
	return &useView{reader: r, analyzer: use.New(use.Options{AnomalyWindow: o.AnomalyWindow}),
		prev: &hostfs.Sample{}, cur: &hostfs.Sample{}, first: true, log: log}, nil
}

// add reads the host files into the host view of snap, with rates against
// the previous call's reading, and analyzes snap (host and cgroups). A
// file that failed leaves its figures absent.
func (v *useView) add(snap *model.Snapshot) {
	if err := v.reader.Read(v.cur); err != nil {
		if !v.failing {
			v.log.Warn("reading host files", "err", err)
		}
		v.failing = true
	} else {
		v.failing = false
	}
	var prev *hostfs.Sample
	if !v.first {
		prev = v.prev
	}
	v.first = false
	snap.Host = model.BuildHost(prev, v.cur)
	v.analyzer.Analyze(snap)
	v.prev, v.cur = v.cur, v.prev
}

func (v *useView) close() error { return v.reader.Close() }
