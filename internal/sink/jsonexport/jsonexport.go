// Package jsonexport writes LXC Monitor's JSON export: one file holding a
// JSON array of per-container entries (seeds/lxc_monitor.md), appended to at
// every snapshot and kept within a number of entries and an age. The file
// is replaced atomically (a temporary file in the same directory, fsync,
// rename, fsync of the directory), so a reader always finds a whole, valid
// array; a write that fails (full disk, read-only or missing directory) is
// logged and done again at the next snapshot, never leaving a truncated
// file.
package jsonexport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
)

// Options are the `json_export:` section of the configuration.
type Options struct {
	// Path is the export file (LXC Monitor's monitoring.export_file).
	// Empty means no export.
	Path string
	// MaxEntries caps the entries kept; the oldest go first. 0 means
	// 10000.
	MaxEntries int
	// MaxAge drops entries older than this. 0 means 24 h.
	MaxAge time.Duration
}

const (
	DefaultMaxEntries = 10000
	DefaultMaxAge     = 24 * time.Hour
)

// stored is one entry kept, encoded once.
type stored struct {
	at   time.Time
	json []byte
}

// Exporter keeps the entries and writes the file. Its methods are called
// from one goroutine.
type Exporter struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	entries []stored
	buf     bytes.Buffer
	failing bool
	stats   Stats
}

// Stats count an Exporter's work.
type Stats struct {
	Writes    uint64 // files written
	Failures  uint64 // writes that failed (retried at the next snapshot)
	Dropped   uint64 // entries dropped by MaxEntries or MaxAge
	LastError error
}

// New returns an Exporter that continues the entries already in the file,
// when it holds a valid export; a file that is not one is left alone until
// the first write replaces it, and said so in the log.
func New(opts Options, log *slog.Logger) (*Exporter, error) {
	if opts.Path == "" {
		return nil, errors.New("json export: no path")
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	x := &Exporter{opts: opts, log: log, now: time.Now}
	// Temporary files a crash left behind.
	dir, base := filepath.Split(opts.Path)
	if stale, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	b, err := os.ReadFile(opts.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		log.Warn("json export: cannot read the existing file; starting afresh", "path", opts.Path, "err", err)
	default:
		if err := x.load(b); err != nil {
			log.Warn("json export: the existing file is not an export; it will be replaced", "path", opts.Path, "err", err)
		}
	}
	return x, nil
}

// load keeps the entries of an earlier export, those with a timestamp.
func (x *Exporter) load(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, r := range raw {
		var e struct {
			Timestamp string `json:"timestamp"`
		}
		if json.Unmarshal(r, &e) != nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, e.Timestamp)
		if err != nil {
			continue
		}
		var c bytes.Buffer
		if json.Compact(&c, r) == nil {
			x.entries = append(x.entries, stored{at: t, json: c.Bytes()})
		}
	}
	return nil
}

// Stats returns the counters.
func (x *Exporter) Stats() Stats { return x.stats }

// Len returns the number of entries kept.
func (x *Exporter) Len() int { return len(x.entries) }

// Add appends the snapshot's entries, applies retention, and writes the
// file. On failure the entries stay in memory (within retention) and the
// next Add writes them all; the file keeps its previous content.
func (x *Exporter) Add(s *model.Snapshot) error {
	for _, e := range Entries(s) {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("json export: encode %s: %w", e.ContainerID, err)
		}
		x.entries = append(x.entries, stored{at: s.Timestamp, json: b})
	}
	x.prune()
	return x.write()
}

// prune drops entries beyond MaxEntries and older than MaxAge.
func (x *Exporter) prune() {
	cut := 0
	if n := len(x.entries) - x.opts.MaxEntries; n > 0 {
		cut = n
	}
	oldest := x.now().Add(-x.opts.MaxAge)
	for cut < len(x.entries) && x.entries[cut].at.Before(oldest) {
		cut++
	}
	if cut > 0 {
		x.stats.Dropped += uint64(cut)
		x.entries = append(x.entries[:0], x.entries[cut:]...)
	}
}

// write replaces the file with the entries kept.
func (x *Exporter) write() error {
	x.buf.Reset()
	x.buf.WriteString("[")
	for i, e := range x.entries {
		if i > 0 {
			x.buf.WriteByte(',')
		}
		x.buf.WriteString("\n  ")
		x.buf.Write(e.json)
	}
	x.buf.WriteString("\n]\n")
	if err := writeAtomic(x.opts.Path, x.buf.Bytes()); err != nil {
		x.stats.Failures++
		x.stats.LastError = err
		if !x.failing {
			x.failing = true
			x.log.Warn("json export: write failed; the file keeps its previous content, retrying at the next snapshot", "err", err)
		} else {
			x.log.Debug("json export: write failed", "err", err)
		}
		return err
	}
	x.stats.Writes++
	if x.failing {
		x.failing = false
		x.log.Info("json export: written again", "path", x.opts.Path, "entries", len(x.entries))
	}
	return nil
}

// writeAtomic replaces path with b so that a reader sees either the old
// file or the new one, whole, even across a crash: the data is synced
// before the rename, and the directory after it.
func writeAtomic(path string, b []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("json export: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("json export: write %s: %w", tmp, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("json export: chmod %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("json export: fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("json export: close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("json export: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("json export: open %s: %w", dir, err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("json export: fsync %s: %w", dir, err)
	}
	return nil
}

// Start subscribes to the agent's snapshots and exports each one until ctx
// ends or the agent stops. The returned channel closes when it has
// finished; it never stops on a write failure.
func Start(ctx context.Context, opts Options, ag *agent.Agent, log *slog.Logger) (<-chan struct{}, error) {
	x, err := New(opts, log)
	if err != nil {
		return nil, err
	}
	sub := ag.Subscribe("json_export")
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case s, ok := <-sub.C():
				if !ok {
					return
				}
				_ = x.Add(s) // logged by Add; the next snapshot retries
			}
		}
	}()
	return done, nil
}
