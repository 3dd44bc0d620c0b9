package identity

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/cgmon/cgmon/internal/rootfs"
)

// ResolverOptions configures a Resolver. Zero fields take their defaults.
type ResolverOptions struct {
	// TTL is how long a name, or the absence of one, is kept before it is
	// looked up again. Default 60 s.
	TTL time.Duration
	// MaxEntries caps the names kept. Default 4096.
	MaxEntries int
	// QueueSize caps the lookups waiting for the background goroutine;
	// misses beyond it are dropped and asked again on a later Name call.
	// Default 256.
	QueueSize int
	// DockerSocket is the Docker Engine API socket, asked only when a
	// container's config.v2.json cannot be read and the Root is the live host
	// (a socket cannot be reached through a Root). Default "/run/docker.sock".
	DockerSocket string
	// DockerRoot is dockerd's --data-root, where containers/ID/config.v2.json
	// names each container. Default "/var/lib/docker".
	DockerRoot string
	// Timeout bounds one Docker API request. Default 2 s. File reads through
	// the Root cannot be interrupted; a slow one holds up only the
	// background goroutine, never Name.
	Timeout time.Duration
}

const (
	defaultTTL          = 60 * time.Second
	defaultMaxEntries   = 4096
	defaultQueueSize    = 256
	defaultDockerSocket = "/run/docker.sock"
	defaultDockerRoot   = "/var/lib/docker"
	defaultTimeout      = 2 * time.Second
)

// Resolver finds the human names of containers from their runtimes' files,
// off the hot path: Name answers from a cache at once and leaves misses to one
// background goroutine, run by Start and stopped by Close.
//
// Sources, each read through the Root:
//
//   - Proxmox LXC: /etc/pve/lxc/VMID.conf, line "hostname: NAME"; a plain LXC
//     container's name is its ID.
//   - Podman (and CRI-O): containers/storage's DRIVER-containers/containers.json
//     under /var/lib/containers/storage (rootful), and under
//     ~/.local/share/containers/storage for /root and every /home/USER
//     (rootless); one read caches every container listed.
//   - Docker: DockerRoot/containers/ID/config.v2.json (/var/lib/docker), field "Name";
//     then GET /containers/ID/json on the Docker API socket, when the file
//     cannot be read and the Root is the live host.
//
// nspawn machines, libvirt domains and systemd units are named by their path
// already. Failures are counted in Stats, not logged.
type Resolver struct {
	root  rootfs.Root
	opts  ResolverOptions
	now   func() time.Time
	queue chan key
	// docker talks to the Docker API socket; nil unless the Root is the live
	// host.
	docker *http.Client

	mu      sync.Mutex
	cache   map[key]entry
	pending map[key]struct{}
	stats   ResolverStats
	sources [numSources]SourceStats
	started bool
	stopped bool // Close was called or the goroutine ended
	cancel  context.CancelFunc
	done    chan struct{}
}

// key names one lookup: a source and the runtime's ID.
type key struct {
	src source
	id  string
}

type entry struct {
	name    string
	expires time.Time
}

// source is where a name comes from.
type source uint8

const (
	srcProxmox source = iota
	srcStorage
	srcDockerConfig
	srcDockerAPI
	numSources
)

var sourceNames = [numSources]string{
	srcProxmox:      "proxmox",
	srcStorage:      "containers-storage",
	srcDockerConfig: "docker-config",
	srcDockerAPI:    "docker-api",
}

// ResolverStats counts a Resolver's work since it was made.
type ResolverStats struct {
	Hits      uint64 // Name calls answered by a fresh cache entry
	Misses    uint64 // Name calls that found no entry or an expired one
	Queued    uint64 // lookups put on the queue
	Coalesced uint64 // misses for an ID already queued
	Dropped   uint64 // misses not queued because the queue was full
	Lookups   uint64 // lookups the background goroutine ran
	Resolved  uint64 // lookups that found a name
	Entries   int    // names cached now, including known absences
	// Sources holds one entry per name source, in a fixed order.
	Sources []SourceStats
}

// SourceStats counts one name source's reads and failures. A missing file is
// not a failure: most containers are not in most sources.
type SourceStats struct {
	Source    string    // "proxmox", "containers-storage", "docker-config", "docker-api"
	Reads     uint64    // lookups that consulted the source
	Errors    uint64    // reads that failed other than by a missing file
	LastErr   error     // the latest failure, carrying its path
	LastErrAt time.Time // when it happened
}

// NewResolver returns a Resolver that reads the host through root. It does
// nothing in the background until Start.
func NewResolver(root rootfs.Root, opts ResolverOptions) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = defaultTTL
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = defaultMaxEntries
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = defaultQueueSize
	}
	if opts.DockerSocket == "" {
		opts.DockerSocket = defaultDockerSocket
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.DockerRoot == "" {
		opts.DockerRoot = defaultDockerRoot
	}
	r := &Resolver{
		root:    root,
		opts:    opts,
		now:     time.Now,
		queue:   make(chan key, opts.QueueSize),
		cache:   make(map[key]entry),
		pending: make(map[key]struct{}),
		done:    make(chan struct{}),
	}
	if h, ok := root.(interface{ IsHost() bool }); ok && h.IsHost() {
		r.docker = newDockerClient(opts.DockerSocket, opts.Timeout)
	}
	for i := range r.sources {
		r.sources[i].Source = sourceNames[i]
	}
	return r
}

// Name returns the human name of id's container as far as it is known now,
// or "" when it is not known (yet). It never blocks and never does I/O: on a
// miss it queues id for the background goroutine and answers "", or the
// expired name while a fresh one is looked up. A name in the path (id.Name)
// is returned as it is.
func (r *Resolver) Name(id Identity) string {
	if id.Name != "" {
		return id.Name
	}
	if id.Kind == KindLXC && id.ID != "" && !allDigits(id.ID) {
		return id.ID // lxc.payload.NAME: the ID is the name
	}
	k, ok := lookupKey(id)
	if !ok {
		return ""
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e, found := r.cache[k]
	if found && now.Before(e.expires) {
		r.stats.Hits++
		return e.name
	}
	r.stats.Misses++
	if r.stopped {
		return e.name
	}
	if _, queued := r.pending[k]; queued {
		r.stats.Coalesced++
		return e.name
	}
	select {
	case r.queue <- k:
		r.pending[k] = struct{}{}
		r.stats.Queued++
	default:
		r.stats.Dropped++
	}
	return e.name
}

// lookupKey says where id's name is to be found, if anywhere but the path.
func lookupKey(id Identity) (key, bool) {
	switch {
	case id.ID == "" || id.Role == RolePod:
		return key{}, false
	case id.Kind == KindLXC:
		return key{srcProxmox, id.ID}, allDigits(id.ID)
	case id.Runtime == "podman" || id.Runtime == "cri-o":
		return key{srcStorage, id.ID}, isHex64(id.ID)
	case id.Runtime == "docker":
		return key{srcDockerConfig, id.ID}, isHex64(id.ID)
	}
	return key{}, false
}

// Start runs the background goroutine until ctx ends or Close is called.
// Only the first call starts it; a call after Close does nothing.
func (r *Resolver) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.stopped {
		return
	}
	r.started = true
	ctx, r.cancel = context.WithCancel(ctx)
	go r.run(ctx)
}

// Close stops the background goroutine and waits for it, including a lookup
// in progress. Name keeps answering from the cache afterwards. Close always
// returns nil.
func (r *Resolver) Close() error {
	r.mu.Lock()
	r.stopped = true
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-r.done
	}
	if r.docker != nil {
		r.docker.CloseIdleConnections()
	}
	return nil
}

// Stats returns a copy of the Resolver's counters.
func (r *Resolver) Stats() ResolverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Entries = len(r.cache)
	s.Sources = append([]SourceStats(nil), r.sources[:]...)
	return s
}

func (r *Resolver) run(ctx context.Context) {
	defer close(r.done)
	defer func() {
		r.mu.Lock()
		r.stopped = true
		clear(r.pending)
		r.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-r.queue:
			r.resolve(ctx, k)
		}
	}
}

// resolve looks one key up, unless an earlier lookup (such as one read of a
// containers.json) answered it meanwhile.
func (r *Resolver) resolve(ctx context.Context, k key) {
	r.mu.Lock()
	if e, ok := r.cache[k]; ok && r.now().Before(e.expires) {
		delete(r.pending, k)
		r.mu.Unlock()
		return
	}
	r.stats.Lookups++
	r.mu.Unlock()

	switch k.src {
	case srcProxmox:
		r.store(k, r.lookupProxmox(k.id), nil)
	case srcStorage:
		all := r.loadStorage()
		r.store(k, all[k.id], all)
	case srcDockerConfig:
		r.store(k, r.lookupDocker(ctx, k.id), nil)
	}
}

// store caches the name found for k and, when a source listed more, the
// others too, as far as room allows without evicting fresh names.
func (r *Resolver) store(k key, name string, others map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	exp := now.Add(r.opts.TTL)
	delete(r.pending, k)
	if name != "" {
		r.stats.Resolved++
	}
	if _, ok := r.cache[k]; !ok && len(r.cache) >= r.opts.MaxEntries {
		r.evict(now)
	}
	r.cache[k] = entry{name: name, expires: exp}
	for id, n := range others {
		other := key{k.src, id}
		if _, cached := r.cache[other]; !cached && len(r.cache) >= r.opts.MaxEntries {
			continue
		}
		r.cache[other] = entry{name: n, expires: exp}
	}
}

// evict makes room for one entry: expired ones go first, else any one.
func (r *Resolver) evict(now time.Time) {
	for k, e := range r.cache {
		if !now.Before(e.expires) {
			delete(r.cache, k)
		}
	}
	if len(r.cache) < r.opts.MaxEntries {
		return
	}
	for k := range r.cache {
		delete(r.cache, k)
		if len(r.cache) < r.opts.MaxEntries {
			return
		}
	}
}

// read counts a read of src.
func (r *Resolver) read(src source) {
	r.mu.Lock()
	r.sources[src].Reads++
	r.mu.Unlock()
}

// fail counts a failed read of src.
func (r *Resolver) fail(src source, err error) {
	r.mu.Lock()
	s := &r.sources[src]
	s.Errors++
	s.LastErr = err
	s.LastErrAt = r.now()
	r.mu.Unlock()
}
