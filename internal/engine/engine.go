// Package engine runs cgmon's pipeline from the root to the model: it
// discovers and reads every cgroup through a collector, keeps the previous
// raw sample, and turns each new one into an immutable snapshot.
package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// Options configure an Engine.
type Options struct {
	// Root is the directory read as the host's "/": "" or "/" for the live
	// host, "/rootfs" in a container, a fixture tree in tests.
	Root string
	// FS, when set, is read instead of the directory Root: a remote host's
	// files (remote.Root). The engine does not close it. Such a root has
	// no inotify, so the tree is walked every cycle, and container names
	// are not looked up (the runtimes' files are not fetched).
	FS rootfs.Root
	// ExcludedDevices are block device name prefixes left out of IO; nil
	// means cgroup.DefaultExcludedDevices.
	ExcludedDevices []string
	// Logger receives rare notices. Optional.
	Logger *slog.Logger
	// NoNames turns off looking up container names in the runtimes' files
	// (podman and docker storage, Proxmox configs, the docker socket).
	NoNames bool
	// Collector tunes the collector; its Root, ExcludedDevices and Logger
	// are set from the fields above.
	Collector cgroup.Options
	// Containers, when not nil, turns on the per-container figures
	// (network, filesystem, processes, start time) read after the cgroups.
	Containers *container.Options
	// Resolver tunes the container name lookups.
	Resolver identity.ResolverOptions
	// Host, when set, adds the host-wide USE view to every snapshot.
	Host *HostOptions
}

// Engine produces snapshots. It is not safe for concurrent use: one
// goroutine drives it and publishes what it returns.
type Engine struct {
	root      *rootfs.Dir // nil when Options.FS is used
	collector *cgroup.Collector
	resolver  *identity.Resolver
	enricher  *container.Enricher
	prev, cur *sample.Set
	host      *hostView
}

// New opens the root and detects its cgroup layout.
func New(opts Options) (*Engine, error) {
	if opts.FS != nil {
		co := opts.Collector
		co.Root, co.ExcludedDevices, co.Logger, co.NoWatch = opts.FS, opts.ExcludedDevices, opts.Logger, true
		col, err := cgroup.New(co)
		if err != nil {
			return nil, fmt.Errorf("read cgroups under %s: %w", opts.FS, err)
		}
		return &Engine{collector: col}, nil
	}
	root, err := rootfs.New(opts.Root)
	if err != nil {
		return nil, err
	}
	co := opts.Collector
	co.Root = root
	co.ExcludedDevices = opts.ExcludedDevices
	co.Logger = opts.Logger
	var res *identity.Resolver
	if !opts.NoNames {
		// Names are looked up by the resolver's own goroutine: a slow
		// runtime never delays a cycle, and a name shows up a cycle later.
		res = identity.NewResolver(root, opts.Resolver)
		res.Start(context.Background())
		co.Resolver = res
	}
	col, err := cgroup.New(co)
	if err != nil {
		if res != nil {
			res.Close()
		}
		root.Close()
		return nil, fmt.Errorf("read cgroups under %s: %w", root, err)
	}
	e := &Engine{root: root, collector: col, resolver: res}
	if err := e.enableContainers(opts); err != nil {
		e.Close()
		return nil, err
	}
	if opts.Host != nil {
		if e.host, err = newHostView(root, *opts.Host, opts.Logger); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Collector returns the engine's collector, for its layout and statistics.
func (e *Engine) Collector() *cgroup.Collector { return e.collector }

// Next reads every cgroup now and returns the snapshot, with rates against
// the previous call's sample (none on the first call).
func (e *Engine) Next() (*model.Snapshot, error) {
	if e.cur == nil {
		e.cur = &sample.Set{}
	}
	if err := e.collector.Collect(e.cur); err != nil {
		return nil, err
	}
	if e.enricher != nil {
		e.enricher.Enrich(e.cur)
	}
	if e.host != nil {
		e.host.read()
	}
	snap := model.Build(e.prev, e.cur)
	if e.host != nil {
		e.host.add(snap, e.prev == nil)
	}
	// The sample just read becomes the previous one; the older buffer is
	// reused for the next read.
	e.prev, e.cur = e.cur, e.prev
	return snap, nil
}

// Snapshot takes two samples interval apart and returns the second, with
// rates over the interval. It returns early with ctx's error.
func (e *Engine) Snapshot(ctx context.Context, interval time.Duration) (*model.Snapshot, error) {
	if _, err := e.Next(); err != nil {
		return nil, err
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	return e.Next()
}

// Close releases every file the engine holds open.
func (e *Engine) Close() error {
	if e.resolver != nil {
		e.resolver.Close()
	}
	if e.host != nil {
		e.host.close()
	}
	err := e.collector.Close()
	if e.root == nil {
		return err
	}
	if cerr := e.root.Close(); err == nil {
		err = cerr
	}
	return err
}
