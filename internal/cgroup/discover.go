package cgroup

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// cgState is what the collector keeps about one cgroup between cycles.
type cgState struct {
	path  string
	in    uint32 // bit i set: the cgroup exists in hierarchy i
	seen  uint32 // presence found by the walk in progress
	gen   uint64
	ident identity.Identity
	slots []slot   // one per plan file
	dirs  []string // directory in each hierarchy, made when first needed
	lim   limits
	seq   int // staggers limit re-reads across cgroups
}

// watchDir is what an inotify watch descriptor stands for.
type watchDir struct {
	hierarchy int
	path      string
}

// watcher tells the collector, through inotify, that a cgroup was created or
// removed, so that the tree is walked once at start and not every cycle:
// listing a cgroup directory costs about ten times a kept-open read.
type watcher struct {
	fd   int
	wds  map[int32]watchDir
	buf  []byte
	full bool // the kernel's watch limit was hit: stop adding watches
}

func newWatcher() (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &watcher{fd: fd, wds: map[int32]watchDir{}, buf: make([]byte, 64<<10)}, nil
}

func (w *watcher) add(hostPath string, wd watchDir) error {
	if w.full {
		return errWatchLimit
	}
	id, err := unix.InotifyAddWatch(w.fd, hostPath, unix.IN_CREATE|unix.IN_DELETE|unix.IN_ONLYDIR)
	if err != nil {
		if errors.Is(err, unix.ENOSPC) {
			w.full = true
			return errWatchLimit
		}
		return err
	}
	w.wds[int32(id)] = wd
	return nil
}

var errWatchLimit = errors.New("inotify watch limit reached (fs.inotify.max_user_watches)")

// event is one change in a watched directory.
type event struct {
	dir     watchDir
	name    string
	created bool
}

// drain returns the pending events without blocking. overflow means events
// were lost and the tree must be walked again.
func (w *watcher) drain(events []event) ([]event, bool, error) {
	events = events[:0]
	overflow := false
	for {
		n, err := unix.Read(w.fd, w.buf)
		if err == unix.EAGAIN || n == 0 {
			return events, overflow, nil
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return events, true, fmt.Errorf("read inotify: %w", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&w.buf[off]))
			nameEnd := off + unix.SizeofInotifyEvent + int(ev.Len)
			if nameEnd > n {
				break
			}
			name := w.buf[off+unix.SizeofInotifyEvent : nameEnd]
			if i := strings.IndexByte(string(name), 0); i >= 0 {
				name = name[:i]
			}
			off = nameEnd
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0:
				overflow = true
			case ev.Mask&unix.IN_IGNORED != 0:
				delete(w.wds, ev.Wd)
			case ev.Mask&unix.IN_ISDIR != 0 && ev.Mask&(unix.IN_CREATE|unix.IN_DELETE) != 0:
				dir, ok := w.wds[ev.Wd]
				if !ok {
					continue
				}
				events = append(events, event{dir: dir, name: string(name), created: ev.Mask&unix.IN_CREATE != 0})
			}
		}
	}
}

func (w *watcher) close() error { return unix.Close(w.fd) }

// childPath joins a cgroup path and a directory name.
func childPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// walkAll lists every used hierarchy and sets the presence bits from
// scratch. It adds inotify watches on the way; a directory created while the
// walk runs is either listed or reported by its parent's watch. retry
// forgets which files were missing, so they are tried again.
func (c *Collector) walkAll(retry bool) {
	for _, st := range c.byPath {
		st.seen = 0
	}
	for _, h := range c.used {
		hier := &c.layout.Hierarchies[h]
		c.walk(h, hier.Base, false)
	}
	for p, st := range c.byPath {
		if st.seen == 0 {
			c.drop(p, st)
			continue
		}
		if st.seen != st.in {
			// Present in other hierarchies than before: reopen everything.
			st.closeSlots(c)
			st.in = st.seen
		}
		if retry {
			st.retryMissing()
		}
	}
	c.resort = true
}

// walk lists one cgroup directory and everything below it in hierarchy h.
// A full walk marks what it finds in seen, to be swept afterwards; a walk
// for a created directory (direct) marks presence at once.
func (c *Collector) walk(h int, cgPath string, direct bool) {
	hier := &c.layout.Hierarchies[h]
	dir := hier.Dir(cgPath)
	if c.watch != nil {
		if hp, ok := c.root.(interface{ HostPath(string) string }); ok {
			if err := c.watch.add(hp.HostPath(dir), watchDir{hierarchy: h, path: cgPath}); err != nil {
				if errors.Is(err, errWatchLimit) {
					c.noteWatchLimit()
				} else if !rootfs.IsGone(err) {
					// Unwatched, this directory's new children are found by
					// the next rescan instead.
					c.stats.WatchErrors++
				}
			}
		}
	}
	entries, err := c.root.ReadDir(dir)
	if err != nil {
		if !rootfs.IsGone(err) { // gone: removed while we walked
			// One unreadable directory (permissions, a symlink loop in a
			// copied tree) costs its subtree, not the whole cycle.
			c.stats.ReadErrors++
			c.noteWalkError(dir, err)
		}
		return
	}
	st := c.state(cgPath)
	bit := uint32(1) << h
	if !direct {
		st.seen |= bit
	} else if st.in&bit == 0 {
		st.closeSlots(c)
		st.in |= bit
		c.resort = true
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c.walk(h, childPath(cgPath, e.Name()), direct)
	}
}

// state returns the state of a path, creating it.
func (c *Collector) state(p string) *cgState {
	st := c.byPath[p]
	if st == nil {
		c.nextGen++
		st = &cgState{
			path:  p,
			gen:   c.nextGen,
			ident: identity.Classify(p),
			slots: make([]slot, len(c.plan.files)),
			seq:   int(c.nextGen),
		}
		c.byPath[p] = st
		c.resort = true
	}
	return st
}

func (c *Collector) drop(p string, st *cgState) {
	st.closeSlots(c)
	delete(c.byPath, p)
	c.resort = true
}

// applyEvents updates the tree from inotify events.
func (c *Collector) applyEvents(events []event) {
	for _, ev := range events {
		p := childPath(ev.dir.path, ev.name)
		bit := uint32(1) << ev.dir.hierarchy
		if ev.created {
			c.walk(ev.dir.hierarchy, p, true)
			continue
		}
		for q, s := range c.byPath {
			if q == p || strings.HasPrefix(q, p+"/") {
				if s.in&bit == 0 {
					continue
				}
				s.in &^= bit
				s.closeSlots(c)
				if s.in == 0 {
					c.drop(q, s)
				}
			}
		}
	}
}

// sortStates rebuilds the path-ordered list when the set changed.
func (c *Collector) sortStates() {
	if !c.resort {
		return
	}
	c.sorted = c.sorted[:0]
	for _, st := range c.byPath {
		if st.in != 0 {
			c.sorted = append(c.sorted, st)
		}
	}
	slices.SortFunc(c.sorted, func(a, b *cgState) int { return strings.Compare(a.path, b.path) })
	c.resort = false
}
