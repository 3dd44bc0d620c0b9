// Package container reads what a running container's cgroup files do not
// tell: through a process inside it, the counters of its network namespace
// (/proc/PID/net/dev, one read per namespace however many containers share
// it), its root filesystem (statfs of /proc/PID/root), its process count,
// start time and state. It enriches a raw sample set after the cgroup read,
// with a bounded pool of workers and a few retries for transient failures;
// a container that stops meanwhile is skipped quietly.
package container

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/kerntext"
	"github.com/cgmon/cgmon/internal/netdev"
	"github.com/cgmon/cgmon/internal/proc"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// Options choose what is read per container. They are the `containers:`
// section of the configuration.
type Options struct {
	// Network reads the interface counters of each container's network
	// namespace.
	Network bool
	// Filesystem reads statfs of each container's root filesystem.
	Filesystem bool
	// Swap keeps the containers' swap figures; when false they are left
	// out of their cgroups (LXC Monitor's enable_swap: false).
	Swap bool
	// Workers bounds the containers read at once. 0 means 4; 1 reads them
	// one after the other (LXC Monitor's parallel_processing: false).
	Workers int
	// Retries is how many times a read that failed other than by the
	// container going away is tried again. 0 means 3; negative means none.
	Retries int
	// RetryDelay is the pause before each retry. 0 means 50 ms.
	RetryDelay time.Duration
	// DockerRoot is dockerd's --data-root, whose filesystem is reported as
	// a Docker container's storage. Default /var/lib/docker.
	DockerRoot string
	// Logger receives a warning the first time a container fails, and a
	// notice when it recovers. Optional.
	Logger *slog.Logger
}

// DefaultOptions are the defaults of the `containers:` section: everything
// on, 4 workers.
func DefaultOptions() Options {
	return Options{Network: true, Filesystem: true, Swap: true, Workers: 4}
}

const (
	defaultWorkers    = 4
	defaultRetries    = 3
	defaultRetryDelay = 50 * time.Millisecond
	// maxInitCandidates caps the processes whose start time is read to
	// find a container's init (its oldest process), once per container.
	maxInitCandidates = 64
	// userHZ is the unit of /proc/PID/stat starttime; Linux fixes it at
	// 100 for user space whatever CONFIG_HZ is.
	userHZ = 100
)

// reader is what the enricher needs of a Root. *rootfs.Dir is one; tests
// wrap it to inject faults.
type reader interface {
	ReadFile(name string) ([]byte, error)
	Readlink(name string) (string, error)
	Statfs(name string) (unix.Statfs_t, error)
	String() string
}

// Enricher adds container figures to sample sets. Enrich is called by one
// goroutine at a time (the engine's).
type Enricher struct {
	fs     reader
	isHost bool
	layout *cgroup.Layout
	opts   Options
	log    *slog.Logger

	// lister lists a container's processes when cgroup.procs cannot
	// (nil in tests with a fake reader: cgroup.procs only).
	lister *proc.Lister

	hostNetns uint64 // 0 until known
	bootTime  time.Time
	// noStatfs is set once statfs through /proc/PID/root turned out
	// impossible (a /rootfs prefix: openat2 RESOLVE_IN_ROOT refuses the
	// magic link); filesystems are not asked for again.
	noStatfs atomic.Bool

	// hostMounts is the host's mount table, for the device of an overlay
	// root.
	hostMounts hostMounts

	// inits remembers each container's init process, so its start time is
	// looked for once per container, not every cycle.
	inits map[string]initProc
	// failing holds the containers whose last reading failed, so a failure
	// is logged once, not every cycle.
	failing map[string]bool

	mu    sync.Mutex // guards stats, written by the workers
	stats Stats
}

type initProc struct {
	gen     uint64
	pid     int
	started time.Time
}

// Stats count the enricher's work since it was made.
type Stats struct {
	Cycles      uint64 // Enrich calls
	Containers  uint64 // containers enriched
	NetnsReads  uint64 // /proc/PID/net/dev reads (one per namespace per cycle)
	Retries     uint64 // reads tried again after a transient failure
	Failures    uint64 // containers whose reading failed after every retry
	Vanished    uint64 // containers gone while they were read (not failures)
	LastFailure error
}

// New returns an Enricher reading through root, which must be able to
// statfs (a *rootfs.Dir). layout tells where a cgroup's cgroup.procs are.
func New(root rootfs.Root, layout *cgroup.Layout, opts Options) (*Enricher, error) {
	r, ok := root.(reader)
	if !ok {
		return nil, fmt.Errorf("container figures: root %s cannot statfs", root)
	}
	h, _ := root.(interface{ IsHost() bool })
	e := newEnricher(r, h != nil && h.IsHost(), layout, opts)
	// One scan of the root's /proc a cycle serves every container when
	// cgroup.procs cannot name the processes (cgmon in a PID namespace of
	// its own: see proc.Lister).
	e.lister = proc.NewLister(root, layout, listerTTL)
	return e, nil
}

// listerTTL is how long a scan of /proc serves: within one cycle, whose
// containers are read at about the same time.
const listerTTL = time.Second

func newEnricher(r reader, isHost bool, layout *cgroup.Layout, opts Options) *Enricher {
	if opts.Workers <= 0 {
		opts.Workers = defaultWorkers
	}
	if opts.Retries == 0 {
		opts.Retries = defaultRetries
	} else if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = defaultRetryDelay
	}
	if opts.DockerRoot == "" {
		opts.DockerRoot = "/var/lib/docker"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Enricher{
		fs: r, isHost: isHost, layout: layout, opts: opts, log: log,
		inits: make(map[string]initProc), failing: make(map[string]bool),
	}
}

// Stats returns a copy of the counters.
func (e *Enricher) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// errGone marks a container that has no process left, or whose process
// went away while it was read: skipped quietly.
var errGone = errors.New("container gone")

// job is one container of a cycle.
type job struct {
	index int      // into the set's Cgroups
	paths []string // its cgroup and the cgroups below it
	id    identity.Identity
	gen   uint64

	out    *sample.Container
	netns  uint64
	failed error
}

// Enrich reads the figures of every running container in set and attaches
// them to the container's own cgroup (sample.Cgroup.Container). A
// container whose cgroup has no process is not running: it gets none.
func (e *Enricher) Enrich(set *sample.Set) {
	e.count(func(s *Stats) { s.Cycles++ })
	e.refreshHost()
	jobs := e.jobs(set)
	e.pool(len(jobs), func(w *worker, i int) { e.readContainer(w, &jobs[i]) })
	if e.opts.Network {
		e.readNetworks(jobs)
	}
	seen := make(map[string]bool, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		c := &set.Cgroups[j.index]
		path := c.Path
		seen[path] = true
		if !e.opts.Swap {
			c.Memory.Swap, c.Memory.SwapLimit = sample.Value{}, sample.Limit{}
		}
		c.Container = j.out
		switch {
		case j.failed == nil:
			if e.failing[path] {
				delete(e.failing, path)
				e.log.Info("container readable again", "cgroup", path)
			}
		case errors.Is(j.failed, errGone):
			delete(e.inits, path)
		default:
			if !e.failing[path] {
				e.failing[path] = true
				e.log.Warn("container figures unavailable; retrying every cycle", "cgroup", path, "err", j.failed)
			} else {
				e.log.Debug("container figures unavailable", "cgroup", path, "err", j.failed)
			}
		}
	}
	for p := range e.inits {
		if !seen[p] {
			delete(e.inits, p)
		}
	}
	for p := range e.failing {
		if !seen[p] {
			delete(e.failing, p)
		}
	}
}

// jobs lists the containers' own cgroups in set with their descendants.
// In path order the descendants of /a are one run, but not always right
// after /a: /a-b sorts between /a and /a/x ('-' < '/'). So the run is
// searched for.
func (e *Enricher) jobs(set *sample.Set) []job {
	var out []job
	for i := range set.Cgroups {
		c := &set.Cgroups[i]
		if c.Identity.Role != identity.RoleContainer {
			continue
		}
		j := job{index: i, paths: []string{c.Path}, id: c.Identity, gen: c.Generation}
		prefix := c.Path + "/"
		k, _ := slices.BinarySearchFunc(set.Cgroups[i+1:], prefix, func(c sample.Cgroup, p string) int { return strings.Compare(c.Path, p) })
		for k += i + 1; k < len(set.Cgroups) && strings.HasPrefix(set.Cgroups[k].Path, prefix); k++ {
			j.paths = append(j.paths, set.Cgroups[k].Path)
		}
		if init, ok := e.inits[c.Path]; ok && init.gen != c.Generation {
			delete(e.inits, c.Path) // a new container under an old name
		}
		out = append(out, j)
	}
	return out
}

// worker holds one goroutine's buffers.
type worker struct {
	pids []int
	stat proc.Stat
}

// pool runs f for 0..n-1 on at most Workers goroutines.
func (e *Enricher) pool(n int, f func(w *worker, i int)) {
	workers := min(e.opts.Workers, n)
	if workers <= 1 {
		var w worker
		for i := range n {
			f(&w, i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w worker
			for i := range next {
				f(&w, i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func (e *Enricher) count(f func(*Stats)) {
	e.mu.Lock()
	f(&e.stats)
	e.mu.Unlock()
}

// retry runs f until it succeeds, fails for good, or has been retried
// Options.Retries times.
func (e *Enricher) retry(f func() error) error {
	err := f()
	for n := 0; err != nil && transient(err) && n < e.opts.Retries; n++ {
		e.count(func(s *Stats) { s.Retries++ })
		time.Sleep(e.opts.RetryDelay)
		err = f()
	}
	return err
}

// transient reports whether trying again may help: not when the container
// went away, nor for a refusal or a malformed file, which stay as they are.
func transient(err error) bool {
	var pe *kerntext.ParseError
	return !gone(err) && !errors.As(err, &pe) &&
		!errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) &&
		!errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.EXDEV) && !errors.Is(err, unix.ENOTDIR)
}

// gone reports whether err means the process or cgroup went away.
func gone(err error) bool {
	return errors.Is(err, errGone) || rootfs.IsGone(err) || errors.Is(err, proc.ErrGone)
}

// readContainer fills j.out. A container that went away gets none; one
// whose network or filesystem cannot be read keeps the rest, and j.failed
// says what failed.
func (e *Enricher) readContainer(w *worker, j *job) {
	c := &sample.Container{}
	err := e.retry(func() error { return e.listProcesses(w, j.paths) })
	if err == nil {
		c.Processes = uint64(len(w.pids))
		err = e.retry(func() error { return e.findInit(w, j, c) })
	}
	if err == nil {
		err = e.retry(func() error { return e.readState(j.paths[0], c) })
	}
	if err != nil {
		e.fail(j, err)
		return
	}
	var partial []error
	if e.opts.Network {
		if err := e.retry(func() error { return e.readNetns(c.PID, j) }); err != nil {
			if gone(err) {
				e.fail(j, err)
				return
			}
			partial = append(partial, err)
		}
	}
	if e.opts.Filesystem && !e.noStatfs.Load() {
		err := e.retry(func() error { return e.readFilesystem(c.PID, j.id, c) })
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			if !e.noStatfs.Swap(true) {
				e.log.Info("container filesystems cannot be read through a root prefix; left out", "root", e.fs.String(), "err", err)
			}
			err = nil
		}
		if err != nil {
			if gone(err) {
				e.fail(j, err)
				return
			}
			partial = append(partial, err)
		}
	}
	j.out = c
	if len(partial) > 0 {
		e.fail(j, errors.Join(partial...))
		return
	}
	e.count(func(s *Stats) { s.Containers++ })
}

// fail records why a container's reading failed.
func (e *Enricher) fail(j *job, err error) {
	if gone(err) {
		j.out, j.failed = nil, fmt.Errorf("%s: %w", j.paths[0], errGone)
		e.count(func(s *Stats) { s.Vanished++ })
		return
	}
	j.failed = err
	e.count(func(s *Stats) { s.Failures++; s.LastFailure = err })
}

// listProcesses reads the processes of a container's cgroups into w.pids,
// sorted and without duplicates. No process at all means the container is
// not running (errGone).
func (e *Enricher) listProcesses(w *worker, paths []string) error {
	w.pids = w.pids[:0]
	scan := e.lister != nil && e.lister.UsesScan()
	for _, p := range paths {
		if scan {
			pids, err := e.lister.PIDs(p)
			if errors.Is(err, proc.ErrNoCgroup) {
				continue // just removed
			}
			if err != nil {
				return fmt.Errorf("list the processes of %s: %w", p, err)
			}
			w.pids = append(w.pids, pids...)
			continue
		}
		for _, dir := range e.layout.ProcsDirs(p) {
			name := dir + "/cgroup.procs"
			b, err := e.fs.ReadFile(name)
			if err != nil {
				if rootfs.IsGone(err) {
					continue // not in this hierarchy, or just removed
				}
				return fmt.Errorf("read %s: %w", name, err)
			}
			w.pids, err = proc.AppendPIDs(w.pids, b)
			if err != nil {
				return fmt.Errorf("parse %s: %w", name, err)
			}
			break
		}
	}
	slices.Sort(w.pids)
	w.pids = slices.Compact(w.pids)
	if len(w.pids) == 0 {
		return errGone
	}
	return nil
}

// findInit sets c.PID and c.StartedAt from the container's oldest process:
// remembered from an earlier cycle while it lives, else looked for among the
// lowest PIDs.
func (e *Enricher) findInit(w *worker, j *job, c *sample.Container) error {
	e.mu.Lock()
	init, ok := e.inits[j.paths[0]]
	e.mu.Unlock()
	if ok && init.gen == j.gen {
		if _, alive := slices.BinarySearch(w.pids, init.pid); alive {
			c.PID, c.StartedAt = init.pid, init.started
			return nil
		}
	}
	best, bestStart := 0, uint64(0)
	for _, pid := range w.pids[:min(len(w.pids), maxInitCandidates)] {
		name := "/proc/" + strconv.Itoa(pid) + "/stat"
		b, err := e.fs.ReadFile(name)
		if err != nil {
			if rootfs.IsGone(err) {
				continue
			}
			return fmt.Errorf("read %s: %w", name, err)
		}
		if err := proc.ParseStat(b, &w.stat); err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		if best == 0 || w.stat.Starttime < bestStart {
			best, bestStart = pid, w.stat.Starttime
		}
	}
	if best == 0 {
		return errGone
	}
	c.PID = best
	if !e.bootTime.IsZero() {
		c.StartedAt = e.bootTime.Add(time.Duration(bestStart) * time.Second / userHZ).Round(time.Second / userHZ).UTC()
	}
	e.mu.Lock()
	e.inits[j.paths[0]] = initProc{gen: j.gen, pid: best, started: c.StartedAt}
	e.mu.Unlock()
	return nil
}

// readState reads whether the container's cgroup is frozen: v1
// freezer.state, else v2 cgroup.freeze. Without a freezer the container
// is running.
func (e *Enricher) readState(path string, c *sample.Container) error {
	c.State = "running"
	for _, v2 := range []bool{false, true} { // a v1 freezer wins: in hybrid mode it is the one in use
		for _, h := range e.layout.Hierarchies {
			file := "cgroup.freeze"
			if !h.V2 {
				if v2 || !h.Has("freezer") {
					continue
				}
				file = "freezer.state"
			} else if !v2 {
				continue
			}
			name := h.Dir(path) + "/" + file
			b, err := e.fs.ReadFile(name)
			if err != nil {
				if rootfs.IsGone(err) {
					continue // a cgroup not in this hierarchy
				}
				return fmt.Errorf("read %s: %w", name, err)
			}
			frozen, err := ParseFrozen(b)
			if err != nil {
				return fmt.Errorf("parse %s: %w", name, err)
			}
			if frozen {
				c.State = "paused"
			}
			return nil
		}
	}
	return nil
}

// readNetns finds the network namespace of the container's process.
func (e *Enricher) readNetns(pid int, j *job) error {
	ino, err := e.netns("/proc/" + strconv.Itoa(pid) + "/ns/net")
	j.netns = ino
	return err
}

func (e *Enricher) netns(link string) (uint64, error) {
	s, err := e.fs.Readlink(link)
	if err != nil {
		return 0, fmt.Errorf("readlink %s: %w", link, err)
	}
	ino, err := ParseNamespace([]byte(s), "net")
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", link, err)
	}
	return ino, nil
}

// refreshHost learns, until it knows it, the host's network namespace
// (PID 1's; cgmon's own on the live host when PID 1's cannot be read, as in
// a VM whose init denies ptrace access), and the boot time.
func (e *Enricher) refreshHost() {
	if e.opts.Network && e.hostNetns == 0 {
		ino, err := e.netns("/proc/1/ns/net")
		if err != nil && e.isHost {
			ino, err = e.netns("/proc/self/ns/net")
		}
		if err != nil {
			e.log.Debug("host network namespace unknown", "err", err)
		}
		e.hostNetns = ino
	}
	// The boot time, to place the start times of processes (clock ticks
	// since boot in /proc/PID/stat) on the wall clock. /proc/stat's btime
	// is rounded to the second; CLOCK_BOOTTIME (the clock starttime counts
	// on, suspend included) is exact. A /rootfs prefix is the same kernel.
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err == nil {
		e.bootTime = time.Now().Add(-time.Duration(ts.Nano()))
	}
}

// readNetworks reads /proc/PID/net/dev once per network namespace, through
// any container's process in it, and gives every container in that
// namespace the same counters. A container in the host's namespace gets
// none, only the flag (google/cadvisor#3117).
func (e *Enricher) readNetworks(jobs []job) {
	type netns struct {
		members []*job
		ifaces  []netdev.Interface
		err     error
	}
	byIno := make(map[uint64]*netns)
	var order []uint64
	for i := range jobs {
		j := &jobs[i]
		if j.out == nil || j.netns == 0 {
			continue
		}
		if j.netns == e.hostNetns {
			j.out.Network = &sample.Network{Netns: j.netns, HostNetwork: true}
			continue
		}
		n := byIno[j.netns]
		if n == nil {
			n = &netns{}
			byIno[j.netns] = n
			order = append(order, j.netns)
		}
		n.members = append(n.members, j)
	}
	e.pool(len(order), func(w *worker, i int) {
		n := byIno[order[i]]
		for _, j := range n.members { // the first whose process still lives
			name := "/proc/" + strconv.Itoa(j.out.PID) + "/net/dev"
			var b []byte
			n.err = e.retry(func() error {
				var err error
				b, err = e.fs.ReadFile(name)
				if err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
				return nil
			})
			if n.err == nil {
				e.count(func(s *Stats) { s.NetnsReads++ })
				n.ifaces, n.err = netdev.Parse(nil, b)
				if n.err != nil {
					n.err = fmt.Errorf("parse %s: %w", name, n.err)
				}
				return
			}
			if !gone(n.err) {
				return
			}
		}
	})
	for _, ino := range order {
		n := byIno[ino]
		for _, j := range n.members {
			switch {
			case n.err == nil:
				j.out.Network = &sample.Network{Netns: ino, Interfaces: n.ifaces}
			default:
				e.fail(j, n.err)
			}
		}
	}
}

// readFilesystem reads statfs of the container's root, and of the runtime's
// storage directory when that is another filesystem.
func (e *Enricher) readFilesystem(pid int, id identity.Identity, c *sample.Container) error {
	name := "/proc/" + strconv.Itoa(pid) + "/root"
	st, err := e.fs.Statfs(name)
	if err != nil {
		return fmt.Errorf("statfs %s: %w", name, err)
	}
	fs := filesystemOf(&st)
	fs.Device = e.rootDevice(pid)
	if dir := e.storageDir(id); dir != "" {
		if hst, err := e.fs.Statfs(dir); err == nil && (hst.Fsid != st.Fsid || hst.Type != st.Type) {
			fs.Storage = filesystemOf(&hst)
			fs.Storage.Path = dir
		}
	}
	c.Filesystem = fs
	return nil
}

// rootDevice is the block device of the container's root filesystem, or
// "" when it cannot be told (see rootDevice in device.go).
func (e *Enricher) rootDevice(pid int) string {
	b, err := e.fs.ReadFile("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		return ""
	}
	mounts, err := cgroupfs.ParseMountinfo(b)
	if err != nil {
		return ""
	}
	host := e.hostMounts.get(func() ([]cgroupfs.Mount, error) {
		b, err := e.fs.ReadFile("/proc/1/mountinfo")
		if err != nil {
			return nil, err
		}
		return cgroupfs.ParseMountinfo(b)
	})
	return rootDevice(mounts, host, e.devName)
}

// devName names a block device /dev/NAME from its uevent, or "".
func (e *Enricher) devName(major, minor uint32) string {
	b, err := e.fs.ReadFile("/sys/dev/block/" + strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10) + "/uevent")
	if err != nil {
		return ""
	}
	if name := cgroupfs.ParseUeventDevname(b); name != "" {
		return "/dev/" + name
	}
	return ""
}

func filesystemOf(st *unix.Statfs_t) *sample.Filesystem {
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return &sample.Filesystem{
		TotalBytes: st.Blocks * bs, FreeBytes: st.Bfree * bs, AvailBytes: st.Bavail * bs,
		TotalInodes: st.Files, FreeInodes: st.Ffree,
	}
}

// storageDir is where a runtime keeps its containers' files.
func (e *Enricher) storageDir(id identity.Identity) string {
	switch id.Runtime {
	case "lxc":
		return "/var/lib/lxc"
	case "podman", "cri-o":
		return "/var/lib/containers/storage"
	case "docker":
		return e.opts.DockerRoot
	}
	return ""
}
