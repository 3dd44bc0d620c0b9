// Command floor is the cost floor beside cgmon in scripts/bench.sh: a bare
// reader of the same cgroup files as cgmon, with no parsing and no model.
//
// It asks cgmon's collector which files it reads in every cgroup
// (cgroup.Collector.PlanFiles) and on which hierarchies, walks each of those
// hierarchies once (from its root, or from --parent), opens every plan file
// that exists in every cgroup found, and then, every --interval for
// --duration, preads each one from offset 0 into one reused 8 KiB buffer:
// all files every cycle, limits included. Like cgmon it keeps at most the
// open-file limit less 256 handles; files past that are opened, read and
// closed each cycle.
//
// Usage: floor [--parent /cgroup/path] [--interval 1s] [--duration 60s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// bufSize is the one read buffer: larger than any per-cgroup file cgmon reads.
const bufSize = 8 << 10

// reserve is what cgmon's collector leaves free below the open-file limit.
const reserve = 256

func main() {
	parent := flag.String("parent", "", "cgroup path to read below, itself included (default: every cgroup, as cgmon)")
	interval := flag.Duration("interval", time.Second, "time between two reads of every file")
	duration := flag.Duration("duration", 60*time.Second, "how long to keep reading")
	flag.Parse()
	if flag.NArg() > 0 || *interval <= 0 || *duration < 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*parent, *interval, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// floor holds every file it reads.
type floor struct {
	fds     []int    // kept open
	reopen  []string // past the budget: opened and closed each cycle
	budget  int
	cgroups map[string]struct{}
	missing int // plan files absent in a cgroup
	buf     []byte

	cycles    int
	readErrs  int
	truncated int // reads that filled the buffer: the file is larger than bufSize
}

func run(parent string, interval, duration time.Duration) error {
	root, err := rootfs.New("/")
	if err != nil {
		return err
	}
	defer root.Close()
	col, err := cgroup.New(cgroup.Options{Root: root, NoWatch: true})
	if err != nil {
		return err
	}
	plan := col.PlanFiles()
	layout := col.Layout()
	col.Close()

	f := &floor{budget: budget(), cgroups: map[string]struct{}{}, buf: make([]byte, bufSize)}
	defer f.close()
	// Plan files grouped by hierarchy, in plan order; each hierarchy is
	// walked once.
	var mounts []string
	names := map[string][]string{}
	for _, p := range plan {
		if _, ok := names[p.MountPoint]; !ok {
			mounts = append(mounts, p.MountPoint)
		}
		names[p.MountPoint] = append(names[p.MountPoint], p.Name)
	}
	for _, mp := range mounts {
		h := hierarchy(layout, mp)
		if h == nil {
			return fmt.Errorf("plan names mount %s, not in the layout", mp)
		}
		start := h.Base
		if parent != "" {
			start = parent
		}
		dir := h.Dir(start)
		if dir == "" {
			continue // the parent is outside this mount
		}
		if err := f.walk(dir, mp, h.Base, names[mp]); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	f.cycle()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
loop:
	for i := 0; i < int(duration/interval); i++ {
		select {
		case <-ctx.Done():
			break loop
		case <-ticker.C:
		}
		f.cycle()
	}
	fmt.Printf("floor: %d cgroups, %d plan files per cgroup, %d files kept open, %d opened each cycle (budget %d), %d absent, %d cycles in %.1fs, %d read errors, %d reads filled the %d-byte buffer\n",
		len(f.cgroups), len(plan), len(f.fds), len(f.reopen), f.budget, f.missing,
		f.cycles, time.Since(began).Seconds(), f.readErrs, f.truncated, bufSize)
	return nil
}

// budget is cgmon's default file budget: the open-file limit less a reserve.
func budget() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*reserve {
		return reserve
	}
	return int(lim.Cur) - reserve
}

func hierarchy(l *cgroup.Layout, mountPoint string) *cgroup.Hierarchy {
	for i := range l.Hierarchies {
		if l.Hierarchies[i].MountPoint == mountPoint {
			return &l.Hierarchies[i]
		}
	}
	return nil
}

// walk opens the plan files of dir and of every directory below it.
func (f *floor) walk(dir, mountPoint, base string, names []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed while we walked
		}
		return err
	}
	f.cgroups[cgroupPath(dir, mountPoint, base)] = struct{}{}
	for _, name := range names {
		p := dir + "/" + name
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				f.missing++
				continue
			}
			return fmt.Errorf("open %s: %w", p, err)
		}
		if len(f.fds) >= f.budget {
			unix.Close(fd)
			f.reopen = append(f.reopen, p)
			continue
		}
		f.fds = append(f.fds, fd)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := f.walk(dir+"/"+e.Name(), mountPoint, base, names); err != nil {
				return err
			}
		}
	}
	return nil
}

// cgroupPath is the cgroup path of a directory, as cgmon names it.
func cgroupPath(dir, mountPoint, base string) string {
	rel := dir[len(mountPoint):]
	switch {
	case base == "/" && rel == "":
		return "/"
	case base == "/":
		return rel
	}
	return base + rel
}

// cycle reads every file once.
func (f *floor) cycle() {
	for _, fd := range f.fds {
		f.read(fd)
	}
	for _, p := range f.reopen {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			f.readErrs++
			continue
		}
		f.read(fd)
		unix.Close(fd)
	}
	f.cycles++
}

func (f *floor) read(fd int) {
	n, err := unix.Pread(fd, f.buf, 0)
	switch {
	case err != nil:
		f.readErrs++
	case n == len(f.buf):
		f.truncated++
	}
}

func (f *floor) close() {
	for _, fd := range f.fds {
		unix.Close(fd)
	}
}
