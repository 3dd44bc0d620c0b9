package cgroup

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// DefaultLimitRefresh is how often limits are re-read unless configured.
const DefaultLimitRefresh = 30 * time.Second

// DefaultRescanEvery is how often the whole tree is walked again as a
// safety net; inotify reports every change in between.
const DefaultRescanEvery = 5 * time.Minute

// DefaultExcludedDevices are the block device name prefixes left out of IO
// figures unless configured otherwise, as LXC Monitor does: loop devices and
// device-mapper targets count the same IO twice (once on the mapper, once on
// the disk below).
var DefaultExcludedDevices = []string{"loop", "dm-"}

// Options configure a Collector.
type Options struct {
	// Root is where files are read. Required.
	Root rootfs.Root
	// ExcludedDevices are block device name prefixes left out of IO. nil
	// means DefaultExcludedDevices; an empty non-nil slice excludes nothing.
	ExcludedDevices []string
	// FileBudget caps the file handles kept open between cycles. 0 means
	// the process's open-file limit less a reserve of 256. Past the budget,
	// files are opened and closed each cycle: slower, never failing.
	FileBudget int
	// LimitRefresh is how often limits (memory.max, cpu.max, pids.max, ...)
	// are re-read; every other figure is read every cycle. A cgroup's limits
	// are read when it is first seen, then every LimitRefresh to
	// 1.5 × LimitRefresh (spread so that not all come due in one cycle).
	// 0 means DefaultLimitRefresh; a negative value reads them every cycle.
	LimitRefresh time.Duration
	// RescanEvery walks all hierarchies again as a safety net besides the
	// inotify events. 0 means DefaultRescanEvery.
	RescanEvery time.Duration
	// Resolver names containers from their runtimes. Optional.
	Resolver *identity.Resolver
	// Logger receives rare notices (no inotify, file budget reached).
	// Optional.
	Logger *slog.Logger
	// NoWatch disables inotify: the tree is walked every cycle.
	NoWatch bool
}

// Stats are the collector's own figures.
type Stats struct {
	Cgroups      int    // cgroups known
	OpenFiles    int    // handles kept open
	FileBudget   int    // the cap on OpenFiles
	Walks        uint64 // full walks of the tree
	ParseErrors  uint64 // files whose content could not be parsed
	ReadErrors   uint64 // reads and listings that failed for a reason other than the cgroup going away
	WatchErrors  uint64 // directories inotify could not watch (found by the rescan instead)
	WatchEnabled bool   // inotify tells about new and removed cgroups
}

// Collector reads every cgroup of a root.
type Collector struct {
	root     rootfs.Root
	layout   *Layout
	plan     plan
	used     []int
	excluded []string
	resolver *identity.Resolver
	log      *slog.Logger

	limitRefresh time.Duration
	rescanEvery  time.Duration
	budget       int
	open         int

	byPath  map[string]*cgState
	sorted  []*cgState
	resort  bool
	nextGen uint64

	watch      *watcher
	events     []event
	lastRescan time.Time
	walkEvery  bool
	cycle      int
	start      time.Time
	hostname   string
	swaps      rootfs.Handle // /proc/swaps, when the root has it
	noSwap     bool          // no swap device this cycle: every cgroup's swap is 0
	devices    map[uint64]device
	buf        []byte
	stats      Stats
	watchLimit sync.Once
	walkError  sync.Once
	budgetFull sync.Once
}

type device struct {
	name     string
	excluded bool
}

// New detects the layout of a root and prepares to read it.
func New(opts Options) (*Collector, error) {
	if opts.Root == nil {
		return nil, errors.New("cgroup collector: no root")
	}
	layout, err := DetectLayout(opts.Root)
	if err != nil {
		return nil, err
	}
	c := &Collector{
		root:         opts.Root,
		layout:       layout,
		excluded:     opts.ExcludedDevices,
		resolver:     opts.Resolver,
		log:          opts.Logger,
		limitRefresh: opts.LimitRefresh,
		rescanEvery:  opts.RescanEvery,
		budget:       opts.FileBudget,
		byPath:       map[string]*cgState{},
		devices:      map[uint64]device{},
		buf:          make([]byte, 0, 8192),
		start:        time.Now(),
	}
	if c.excluded == nil {
		c.excluded = DefaultExcludedDevices
	}
	if c.limitRefresh == 0 {
		c.limitRefresh = DefaultLimitRefresh
	}
	if c.rescanEvery <= 0 {
		c.rescanEvery = DefaultRescanEvery
	}
	if c.budget <= 0 {
		c.budget = defaultBudget()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.plan = makePlan(opts.Root, layout)
	c.used = c.plan.hierarchiesUsed(len(layout.Hierarchies))
	if len(c.used) > 32 {
		return nil, fmt.Errorf("cgroup collector: %d hierarchies, at most 32 supported", len(c.used))
	}
	c.walkEvery = opts.NoWatch
	if !c.walkEvery {
		if _, ok := opts.Root.(interface{ HostPath(string) string }); !ok {
			c.walkEvery = true
		} else if w, err := newWatcher(); err != nil {
			c.log.Warn("no inotify: walking the cgroup tree every cycle", "err", err)
			c.walkEvery = true
		} else {
			c.watch = w
		}
	}
	c.hostname = readHostname(opts.Root)
	if h, err := opts.Root.Open("/proc/swaps"); err == nil {
		c.swaps = h
	}
	return c, nil
}

func defaultBudget() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 512 {
		return 256
	}
	return int(lim.Cur) - 256
}

// Layout returns the detected hierarchies.
func (c *Collector) Layout() *Layout { return c.layout }

// Stats returns the collector's own figures.
func (c *Collector) Stats() Stats {
	s := c.stats
	s.Cgroups = len(c.byPath)
	s.OpenFiles = c.open
	s.FileBudget = c.budget
	s.WatchEnabled = c.watch != nil && !c.watch.full
	return s
}

// noteWalkError logs the first directory that could not be listed.
func (c *Collector) noteWalkError(dir string, err error) {
	c.walkError.Do(func() {
		c.log.Warn("cannot list a cgroup directory; its subtree is left out", "dir", dir, "err", err)
	})
}

// noteBudget logs, once, that the file budget is spent: files past it are
// opened and closed every cycle, which costs CPU but loses no figure.
func (c *Collector) noteBudget() {
	c.budgetFull.Do(func() {
		c.log.Warn("file budget reached: further cgroup files are opened and closed every cycle; raise the open-files limit (ulimit -n)",
			"budget", c.budget)
	})
}

func (c *Collector) noteWatchLimit() {
	c.watchLimit.Do(func() {
		c.log.Warn("inotify watch limit reached: walking the cgroup tree every cycle; raise fs.inotify.max_user_watches")
		c.walkEvery = true
	})
}

// refresh brings the set of cgroups up to date: a full walk the first time,
// when events were lost, when inotify is not available, and every
// RescanEvery; otherwise only the inotify events. Files found missing are
// tried again only at the RescanEvery walk (a v2 controller may have been
// enabled since), not at every walk.
func (c *Collector) refresh(now time.Time) {
	rescan := c.lastRescan.IsZero() || now.Sub(c.lastRescan) >= c.rescanEvery
	full := c.walkEvery || rescan
	if !full && c.watch != nil {
		var overflow bool
		var err error
		c.events, overflow, err = c.watch.drain(c.events)
		if err != nil {
			c.stats.WatchErrors++ // what the events would have said, a walk finds
			overflow = true
		}
		if overflow {
			full = true
		} else {
			c.applyEvents(c.events)
		}
	}
	if full {
		if c.watch != nil {
			// Events queued before the walk describe what it will see.
			if _, _, err := c.watch.drain(c.events); err != nil {
				c.stats.WatchErrors++
			}
		}
		c.walkAll(rescan)
		c.stats.Walks++
	}
	if rescan {
		if !c.lastRescan.IsZero() {
			c.hostname = readHostname(c.root)
		}
		c.lastRescan = now
	}
	c.sortStates()
}

// Collect reads every cgroup into dst, reusing its memory. Cgroups come in
// path order. A cgroup that vanishes while it is read is left out.
func (c *Collector) Collect(dst *sample.Set) error {
	now := time.Now()
	c.refresh(now)
	c.cycle++
	c.noSwap = c.readNoSwap()
	dst.Time = now
	dst.Hostname = c.hostname
	dst.Mode = string(c.layout.Mode)
	n := 0
	for i, st := range c.sorted {
		if n == len(dst.Cgroups) {
			dst.Cgroups = append(dst.Cgroups, sample.Cgroup{})
		}
		out := &dst.Cgroups[n]
		refreshLimits := c.limitRefresh < 0 || !now.Before(st.lim.due)
		if c.read(st, out, refreshLimits) {
			if refreshLimits {
				// Spread the next re-reads over half a period, so that the
				// cgroups first seen together do not all come due together.
				st.lim.due = now.Add(c.limitRefresh + c.limitRefresh/2*time.Duration(st.seq%16)/16)
			}
			n++
		} else {
			c.sorted[i] = nil // gone: dropped below
		}
	}
	dst.Cgroups = dst.Cgroups[:n]
	c.sweepGone()
	return nil
}

// sweepGone drops the cgroups found gone while reading.
func (c *Collector) sweepGone() {
	k := 0
	for _, st := range c.sorted {
		if st != nil {
			c.sorted[k] = st
			k++
		}
	}
	if k < len(c.sorted) {
		clear(c.sorted[k:])
		c.sorted = c.sorted[:k]
	}
}

// Close releases every handle.
func (c *Collector) Close() error {
	for p, st := range c.byPath {
		c.drop(p, st)
	}
	if c.swaps != nil {
		c.swaps.Close()
	}
	if c.watch != nil {
		return c.watch.close()
	}
	return nil
}

// readNoSwap reports whether the host has no swap device now. Then no
// cgroup can have swapped memory, and one read of /proc/swaps stands in for
// a swap file in every cgroup (a thousand reads at a thousand cgroups).
func (c *Collector) readNoSwap() bool {
	if c.swaps == nil {
		return false // unknown: read each cgroup's files
	}
	b, err := c.swaps.ReadAll(c.buf)
	if cap(b) > cap(c.buf) {
		c.buf = b[:0]
	}
	if err != nil {
		return false
	}
	return cgroupfs.CountLines(b) <= 1 // the header line only
}

// sinceStart is the monotonic time stamp of a read.
func (c *Collector) sinceStart() time.Duration { return time.Since(c.start) }

// PlanFile is one file the collector reads in every cgroup.
type PlanFile struct {
	MountPoint string // the hierarchy's mount point inside the root
	Base       string // the hierarchy's base path (see Hierarchy.Base)
	Name       string // file name inside each cgroup directory
	Limit      bool   // re-read every LimitRefresh only
}

// PlanFiles lists the files read in every cgroup, for tools that compare
// cgmon with a bare reader of the same files.
func (c *Collector) PlanFiles() []PlanFile {
	out := make([]PlanFile, len(c.plan.files))
	for i, f := range c.plan.files {
		h := &c.layout.Hierarchies[f.hierarchy]
		out[i] = PlanFile{MountPoint: h.MountPoint, Base: h.Base, Name: f.name, Limit: f.limit}
	}
	return out
}
