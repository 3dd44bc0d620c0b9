// Package remote reads other hosts over SSH, agentless: one SSH connection
// per host, kept open, and one remote command per cycle — a POSIX sh
// script that walks the cgroup hierarchies and prints every file the
// collector's plan needs, framed (see Parse) — whose output becomes a
// read-only in-memory rootfs.Root. The engine reads that root unchanged, so
// a remote host's snapshot is made exactly as a local one. Host keys are
// checked against known_hosts; a host that dies or hangs backs off without
// holding up anything else.
package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
)

// DefaultTimeout bounds one fetch (connecting included) unless configured.
const DefaultTimeout = 10 * time.Second

// Options are one entry of the `hosts:` configuration list.
type Options struct {
	// Address is "user@host:port" (port 22 and the current user when left
	// out).
	Address string
	// Name is the host's name in snapshots and sinks; default: the host
	// part of Address.
	Name string
	// KeyFile is the private key; empty means the keys of the ssh-agent at
	// SSH_AUTH_SOCK.
	KeyFile string
	// KnownHosts is the known_hosts file host keys are checked against;
	// default ~/.ssh/known_hosts.
	KnownHosts string
	// TrustOnFirstUse accepts and appends the key of a host not in
	// KnownHosts. A key that differs from a known one is refused always.
	TrustOnFirstUse bool
	// Timeout bounds one fetch, connecting included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Logger receives connection notices. Optional.
	Logger *slog.Logger
}

// Root files every fetch brings, for the collector: the mount table, the
// host name, the swap devices, and block device names.
var cgroupFiles = []string{"/proc/self/mountinfo", "/proc/sys/kernel/hostname", "/proc/swaps", "/sys/dev/block/*/uevent"}

// USEFiles are the host-wide files of the USE report (internal/host reads
// them; HostOptions.USE has them in every fetch). /proc/interrupts, the
// disks' ioerr_cnt and the EDAC counts are the errors leg: machine checks,
// SCSI command failures, memory errors.
var USEFiles = []string{
	"/proc/stat", "/proc/meminfo", "/proc/vmstat", "/proc/loadavg", "/proc/interrupts", "/proc/diskstats",
	"/proc/net/dev", "/proc/net/snmp", "/proc/pressure/*", "/proc/self/mountinfo",
	"/proc/sys/kernel/hostname", "/sys/class/net/*/speed",
	"/sys/block/*/stat", "/sys/block/*/size", "/sys/block/*/queue/rotational",
	"/sys/block/*/queue/logical_block_size", "/sys/block/*/device/ioerr_cnt",
	"/sys/devices/system/edac/mc/mc*/ce_count", "/sys/devices/system/edac/mc/mc*/ue_count",
}

// USELinks are the links of USEFiles' directories: a NIC or disk whose link
// points into devices/virtual is virtual.
var USELinks = []string{"/sys/class/net/*", "/sys/block/*"}

// HostRoot is a remote host's files as a rootfs.Root, fetched again by each
// Refresh over the host's one SSH connection.
type HostRoot struct {
	*Root
	addr Address
	conn *conn
	req  atomic.Pointer[fetchPlan]

	lastBytes    atomic.Int64
	lastWire     atomic.Int64
	lastFiles    atomic.Int64
	lastDuration atomic.Int64
}

type fetchPlan struct {
	req    Request
	script string
}

// NewHostRoot checks the options and returns the host's root, empty until
// the first Refresh. It does not connect yet.
func NewHostRoot(opts Options, req Request) (*HostRoot, error) {
	addr, err := ParseAddress(opts.Address)
	if err != nil {
		return nil, err
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("host %s: timeout %s: must be positive", opts.Address, opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.KnownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("host %s: no known_hosts given and no home directory: %w", opts.Address, err)
		}
		opts.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stop, cancel := context.WithCancel(context.Background())
	r := &HostRoot{
		Root: NewRoot("ssh://" + addr.String()),
		addr: addr,
		conn: &conn{
			addr: addr, keyFile: opts.KeyFile, timeout: opts.Timeout, log: log, now: time.Now, stop: stop, cancel: cancel,
			keys: hostKeys{path: opts.KnownHosts, tofu: opts.TrustOnFirstUse, log: log},
		},
	}
	r.SetRequest(req)
	return r, nil
}

// Address returns the parsed address.
func (r *HostRoot) Address() Address { return r.addr }

// SetRequest changes what the next Refresh fetches.
func (r *HostRoot) SetRequest(req Request) {
	r.req.Store(&fetchPlan{req: req, script: Script(req)})
}

// Request returns what each Refresh fetches.
func (r *HostRoot) Request() Request { return r.req.Load().req }

// Refresh runs the fetch script once and serves its output from then on.
// On failure the previous files stay served; while the host backs off it
// fails at once with ErrBackingOff.
func (r *HostRoot) Refresh(ctx context.Context) error {
	start := time.Now()
	wire, stderr, err := r.conn.run(ctx, r.req.Load().script)
	if err != nil {
		return err
	}
	out, err := Decode(wire, MaxOutput)
	if err != nil {
		return fmt.Errorf("%s: %w", r.addr, err)
	}
	t, err := Parse(out)
	if err != nil {
		return fmt.Errorf("%s: %w", r.addr, err)
	}
	t.dropUnreadable(stderr)
	r.Swap(t)
	r.lastBytes.Store(int64(len(out)))
	r.lastWire.Store(int64(len(wire)))
	r.lastFiles.Store(int64(t.Files()))
	r.lastDuration.Store(int64(time.Since(start)))
	return nil
}

// FetchStats describe the last successful fetch.
type FetchStats struct {
	Bytes    int           // output bytes, uncompressed
	Wire     int           // output bytes as sent (gzipped when the host has gzip)
	Files    int           // files returned
	Duration time.Duration // from sending the script to the end of its output
}

// LastFetch returns the figures of the last successful Refresh.
func (r *HostRoot) LastFetch() FetchStats {
	return FetchStats{Bytes: int(r.lastBytes.Load()), Wire: int(r.lastWire.Load()), Files: int(r.lastFiles.Load()), Duration: time.Duration(r.lastDuration.Load())}
}

// Close drops the SSH connection, ending a Refresh in flight; later
// Refreshes fail.
func (r *HostRoot) Close() error { return r.conn.close() }

// Host is one remote host as an agent.Source: each Next fetches the host's
// files in one command and returns the engine's snapshot of them, named
// after the host.
type Host struct {
	root     *HostRoot
	name     string
	files    []string
	links    []string
	excluded []string
	log      *slog.Logger
	eng      *engine.Engine
	use      *useView // nil without HostOptions.USE
	statfs   bool     // the USE view's filesystem figures need statfs
}

// HostOptions add to Options what the agent reads of a host.
type HostOptions struct {
	Options
	// Files and Links are fetched every cycle besides the cgroup files
	// (USEFiles and USELinks for the USE figures).
	Files, Links []string
	// ExcludedDevices as engine.Options.
	ExcludedDevices []string
	// USE, when set, adds the host-wide USE view to every snapshot, and
	// USEFiles, USELinks and statfs of the filesystems (Request.Statfs) to
	// every fetch.
	USE *USEOptions
}

// NewHost returns the source of a remote host. It connects at the first
// Next.
func NewHost(opts HostOptions) (*Host, error) {
	root, err := NewHostRoot(opts.Options, Request{Files: cgroupFiles})
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = root.addr.Host
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Host{root: root, name: name, files: opts.Files, links: opts.Links,
		excluded: opts.ExcludedDevices, log: log.With("host", name)}
	if opts.USE != nil {
		h.files = append(slices.Clone(USEFiles), h.files...)
		h.links = append(slices.Clone(USELinks), h.links...)
		h.statfs = true
		if h.use, err = newUSEView(root, *opts.USE, opts.ExcludedDevices, h.log); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Name returns the host's name in snapshots.
func (h *Host) Name() string { return h.name }

// Root returns the host's files.
func (h *Host) Root() *HostRoot { return h.root }

// Next implements agent.Source. The first call learns the host's cgroup
// layout (two small fetches) and the files its plan needs; every call
// then fetches them all in one command.
func (h *Host) Next() (*model.Snapshot, error) {
	ctx := context.Background()
	if h.eng == nil {
		if err := h.bootstrap(ctx); err != nil {
			return nil, err
		}
	}
	if err := h.root.Refresh(ctx); err != nil {
		return nil, err
	}
	snap, err := h.eng.Next()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.name, err)
	}
	snap.Hostname = h.name
	if h.use != nil {
		h.use.add(snap)
	}
	return snap, nil
}

// bootstrap fetches the mount table, then the top directory of every
// cgroup mount (the collector probes files there to choose its plan), makes
// the engine, and asks for the plan's files from then on.
func (h *Host) bootstrap(ctx context.Context) error {
	h.root.SetRequest(Request{Files: cgroupFiles})
	if err := h.root.Refresh(ctx); err != nil {
		return err
	}
	b, err := h.root.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("%s: read mount table: %w", h.name, err)
	}
	mounts, err := cgroupfs.ParseMountinfo(b)
	if err != nil {
		return fmt.Errorf("%s: parse mount table: %w", h.name, err)
	}
	files := slices.Clone(cgroupFiles)
	for _, m := range mounts {
		if m.FSType == "cgroup" || m.FSType == "cgroup2" {
			files = append(files, m.MountPoint+"/*")
		}
	}
	h.root.SetRequest(Request{Files: files})
	if err := h.root.Refresh(ctx); err != nil {
		return err
	}
	eng, err := engine.New(engine.Options{FS: h.root, ExcludedDevices: h.excluded, Logger: h.log, NoNames: true})
	if err != nil {
		if errors.Is(err, cgroup.ErrNoCgroups) {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		return err
	}
	h.eng = eng
	h.root.SetRequest(h.planRequest())
	return nil
}

// planRequest is the per-cycle fetch: the collector's plan files in every
// cgroup of every hierarchy it reads, and the host files.
func (h *Host) planRequest() Request {
	var mounts []string
	var names [][]string
	for _, f := range h.eng.Collector().PlanFiles() {
		i := slices.Index(mounts, f.MountPoint)
		if i < 0 {
			mounts, names = append(mounts, f.MountPoint), append(names, nil)
			i = len(mounts) - 1
		}
		names[i] = append(names[i], f.Name)
	}
	files := append(slices.Clone(cgroupFiles), h.files...)
	slices.Sort(files)
	return Request{Files: slices.Compact(files), Links: h.links, Trees: treesFromPlan(mounts, names), Statfs: h.statfs}
}

// Close drops the connection and the engine.
func (h *Host) Close() error {
	var err error
	if h.eng != nil {
		err = h.eng.Close()
	}
	if h.use != nil {
		if cerr := h.use.close(); err == nil {
			err = cerr
		}
	}
	if cerr := h.root.Close(); err == nil {
		err = cerr
	}
	return err
}

// NewUSERoot returns a remote host's USE files alone, without its cgroups:
// USEFiles and USELinks, and statfs of its filesystems, fetched in one
// command by each Refresh, for a reader of the host files (host.New). `cgmon use --host` reads the
// cgroups too, through NewHost with HostOptions.USE.
func NewUSERoot(opts Options) (*HostRoot, error) {
	return NewHostRoot(opts, Request{Files: USEFiles, Links: USELinks, Statfs: true})
}
