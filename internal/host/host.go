// Package host reads the host-wide files behind cgmon's USE report through
// a rootfs.Root — the live host, a /rootfs prefix, a fixture tree or a
// remote host — and fills a hostfs.Sample. It parses nothing itself
// (internal/hostfs does) and computes no rates (internal/model does).
//
// Files read each cycle (Files lists them for a remote root):
//
//	/proc/stat /proc/meminfo /proc/vmstat /proc/loadavg /proc/interrupts
//	/proc/pressure/cpu /proc/pressure/memory /proc/pressure/io
//	/proc/diskstats /proc/net/dev /proc/net/snmp
//	/proc/self/mountinfo (/proc/1/mountinfo under a prefix root)
//	/sys/block (directory listing: which devices are whole disks)
//	/sys/class/net/IF/speed for every interface of /proc/net/dev but lo
//	/sys/block/DISK/device/ioerr_cnt for every disk (SCSI disks have it)
//	/sys/devices/system/edac/mc (listed once) and mcN/{ce,ue}_count
//	statfs(2) of every real filesystem's mount point, when the Root is a
//	rootfs.Statfser
//
// Under a prefix root (/rootfs) the network files and the mount table are
// PID 1's when the root has them (/proc/1/net/..., /proc/1/mountinfo):
// /proc/net follows the reader's own network namespace, which in a
// container is not the host's.
package host

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

// DefaultExcludedDevices are the block device name prefixes left out of
// the disk figures: loop and device-mapper devices count again the I/O of
// the disks below them.
var DefaultExcludedDevices = []string{"loop", "dm-"}

// Options configure a Reader.
type Options struct {
	Root rootfs.Root
	// ExcludedDevices are block device name prefixes left out; nil means
	// DefaultExcludedDevices, an empty non-nil slice keeps every disk.
	ExcludedDevices []string
	// Logger receives notices about files that fail to parse. Optional.
	Logger *slog.Logger
}

// file indexes the files kept open between cycles.
type file int

const (
	fStat file = iota
	fMeminfo
	fVmstat
	fLoadavg
	fInterrupts
	fPSICPU
	fPSIMemory
	fPSIIO
	fDiskstats
	fNetDev
	fSNMP
	fMountinfo
	nFiles
)

// Reader reads a host's USE files. It keeps the per-cycle files open and
// re-reads them from offset 0 (a third of open+read+close). It is not safe
// for concurrent use.
type Reader struct {
	root      rootfs.Root
	exclude   []string
	log       *slog.Logger
	names     [nFiles]string
	handles   [nFiles]rootfs.Handle
	mountinfo string
	buf       []byte
	disks     []hostfs.Disk

	// The whole disks named in /sys/block, listed again only when
	// /proc/diskstats names a device not seen at the last listing.
	whole, listed map[string]bool
	// Per-device files (speeds, error counters), kept open while the
	// device is there.
	kept *keptFiles
	// The EDAC memory controllers (/sys/devices/system/edac/mc/mcN),
	// listed once: they do not come and go.
	edac       []string
	edacListed bool
	// The mount table last parsed, and its real filesystems.
	lastMountinfo []byte
	mounts        []mount
}

// New returns a Reader of opts.Root. It opens nothing yet.
func New(opts Options) (*Reader, error) {
	if opts.Root == nil {
		return nil, errors.New("host: no root")
	}
	r := &Reader{root: opts.Root, exclude: opts.ExcludedDevices, log: opts.Logger, buf: make([]byte, 0, 16<<10)}
	if r.exclude == nil {
		r.exclude = DefaultExcludedDevices
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	net := "/proc/net"
	r.mountinfo = "/proc/self/mountinfo"
	if d, ok := opts.Root.(*rootfs.Dir); ok && !d.IsHost() {
		// PID 1's, when the root has a PID 1 (a fixture tree may not).
		if _, err := opts.Root.ReadFile("/proc/1/net/dev"); err == nil {
			net = "/proc/1/net"
		}
		if _, err := opts.Root.ReadFile("/proc/1/mountinfo"); err == nil {
			r.mountinfo = "/proc/1/mountinfo"
		}
	}
	r.names = [nFiles]string{
		fStat: "/proc/stat", fMeminfo: "/proc/meminfo", fVmstat: "/proc/vmstat", fLoadavg: "/proc/loadavg",
		fInterrupts: "/proc/interrupts", fPSICPU: "/proc/pressure/cpu", fPSIMemory: "/proc/pressure/memory",
		fPSIIO: "/proc/pressure/io", fDiskstats: "/proc/diskstats", fNetDev: net + "/dev", fSNMP: net + "/snmp",
		fMountinfo: r.mountinfo,
	}
	r.kept = newKeptFiles(opts.Root)
	return r, nil
}

// Files returns every file and directory the reader reads in a cycle, with
// the speed files of the interfaces s (a sample it filled) has. Mount
// points are statfs'ed, not read.
func (r *Reader) Files(s *hostfs.Sample) []string {
	out := append([]string(nil), r.names[:]...)
	out = append(out, "/sys/block")
	if s != nil {
		for _, n := range s.Interfaces {
			out = append(out, "/sys/class/net/"+n.Name+"/speed")
		}
		for _, d := range s.Disks {
			out = append(out, "/sys/block/"+d.Name+"/device/ioerr_cnt")
		}
	}
	out = append(out, edacDir)
	for _, mc := range r.edac {
		out = append(out, mc+"/ce_count", mc+"/ue_count")
	}
	return out
}

// read returns the bytes of a kept-open file (valid until the next read),
// or an error; a file the host lacks gives an error for which
// rootfs.IsGone is true.
func (r *Reader) read(f file) ([]byte, error) {
	if r.handles[f] == nil {
		h, err := r.root.Open(r.names[f])
		if err != nil {
			if rootfs.IsGone(err) {
				return nil, err
			}
			// A root that cannot keep files open (a remote one) may still
			// read them whole.
			b, rerr := r.root.ReadFile(r.names[f])
			if rerr != nil {
				return nil, rerr
			}
			return b, nil
		}
		r.handles[f] = h
	}
	b, err := r.handles[f].ReadAll(r.buf)
	if err != nil {
		r.handles[f].Close()
		r.handles[f] = nil
		return nil, err
	}
	r.buf = b[:0]
	return b, nil
}

// Read reads every file into s, reusing its slices. A file the host lacks
// leaves its part of s absent. A file that fails to read or parse leaves
// its part absent too and is reported in the returned error, which joins
// every such failure; the rest of s is still filled.
func (r *Reader) Read(s *hostfs.Sample) error {
	*s = hostfs.Sample{
		Time:         time.Now(),
		Stat:         hostfs.Stat{CPUs: s.Stat.CPUs[:0]},
		Disks:        s.Disks[:0],
		Interfaces:   s.Interfaces[:0],
		Speeds:       s.Speeds[:0],
		DiskIOErrors: s.DiskIOErrors[:0],
		Filesystems:  s.Filesystems[:0],
	}
	var errs []error
	parse := func(f file, p func(b []byte) error) {
		b, err := r.read(f)
		if err != nil {
			if !rootfs.IsGone(err) {
				errs = append(errs, fmt.Errorf("read %s: %w", r.names[f], err))
			}
			return
		}
		if err := p(b); err != nil {
			errs = append(errs, fmt.Errorf("parse %s in root %s: %w", r.names[f], r.root, err))
		}
	}
	parse(fStat, func(b []byte) error { return hostfs.ParseStat(b, &s.Stat) })
	parse(fMeminfo, func(b []byte) (err error) { s.Meminfo, err = hostfs.ParseMeminfo(b); return })
	parse(fVmstat, func(b []byte) (err error) { s.Vmstat, err = hostfs.ParseVmstat(b); return })
	parse(fLoadavg, func(b []byte) (err error) {
		s.Loadavg, err = hostfs.ParseLoadavg(b)
		s.HasLoadavg = err == nil
		return
	})
	parse(fInterrupts, func(b []byte) (err error) { s.MachineChecks, err = hostfs.ParseMachineChecks(b); return })
	parse(fPSICPU, func(b []byte) (err error) { s.Pressure.CPU, err = hostfs.ParsePSI(b); return })
	parse(fPSIMemory, func(b []byte) (err error) { s.Pressure.Memory, err = hostfs.ParsePSI(b); return })
	parse(fPSIIO, func(b []byte) (err error) { s.Pressure.IO, err = hostfs.ParsePSI(b); return })
	parse(fDiskstats, func(b []byte) (err error) {
		r.disks, err = hostfs.ParseDiskstats(b, r.disks)
		if err == nil {
			s.Disks = r.wholeDisks(s.Disks, r.disks)
		}
		return
	})
	parse(fNetDev, func(b []byte) (err error) {
		s.Interfaces, err = hostfs.ParseNetDev(b, s.Interfaces)
		if err != nil {
			return err
		}
		// lo's traffic never leaves the host; it is no resource to watch.
		out := s.Interfaces[:0]
		for _, n := range s.Interfaces {
			if n.Name != "lo" {
				out = append(out, n)
			}
		}
		s.Interfaces = out
		return nil
	})
	parse(fSNMP, func(b []byte) (err error) { s.SNMP, err = hostfs.ParseSNMP(b); return })
	for _, n := range s.Interfaces {
		s.Speeds = append(s.Speeds, r.speed(n.Name))
	}
	for _, d := range s.Disks {
		s.DiskIOErrors = append(s.DiskIOErrors, r.ioErrors(d.Name))
	}
	s.MemoryCorrected, s.MemoryUncorrected = r.edacCounts()
	r.kept.sweep()
	if err := r.filesystems(s); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// speed reads an interface's link speed; any failure (EINVAL for a link
// that is down or has no speed) means unknown.
func (r *Reader) speed(name string) hostfs.Speed {
	b, err := r.kept.read("/sys/class/net/" + name + "/speed")
	if err != nil {
		return hostfs.Speed{}
	}
	mbps, known, err := hostfs.ParseSpeed(b)
	if err != nil {
		return hostfs.Speed{}
	}
	return hostfs.Speed{Mbps: mbps, Known: known}
}

// ioErrors reads the SCSI error count of a disk; absent for disks that are
// not SCSI (virtio, NVMe) or a count that does not parse.
func (r *Reader) ioErrors(disk string) sample.Value {
	b, err := r.kept.read("/sys/block/" + disk + "/device/ioerr_cnt")
	if err != nil {
		return sample.Value{}
	}
	n, err := hostfs.ParseIOErrorCount(b)
	if err != nil {
		return sample.Value{}
	}
	return sample.Some(n)
}

// edacCounts sums the corrected and uncorrected memory errors of every
// EDAC memory controller; absent without EDAC (most VMs, desktops).
func (r *Reader) edacCounts() (corrected, uncorrected sample.Value) {
	if !r.edacListed {
		r.edacListed = true
		if entries, err := r.root.ReadDir(edacDir); err == nil {
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "mc") {
					r.edac = append(r.edac, edacDir+"/"+e.Name())
				}
			}
		}
	}
	for _, mc := range r.edac {
		for _, c := range [...]struct {
			file string
			dst  *sample.Value
		}{{"/ce_count", &corrected}, {"/ue_count", &uncorrected}} {
			b, err := r.kept.read(mc + c.file)
			if err != nil {
				continue
			}
			if n, err := hostfs.ParseCount(b); err == nil {
				*c.dst = sample.Some(c.dst.V + n)
			}
		}
	}
	return corrected, uncorrected
}

const edacDir = "/sys/devices/system/edac/mc"

// wholeDisks keeps the disks listed in /sys/block (partitions are not)
// and not excluded. Without /sys/block every disk not excluded is kept.
func (r *Reader) wholeDisks(dst, all []hostfs.Disk) []hostfs.Disk {
	for _, d := range all {
		if !r.listed[d.Name] {
			r.listWholeDisks(all)
			break
		}
	}
	for _, d := range all {
		if r.whole != nil && !r.whole[d.Name] || excluded(d.Name, r.exclude) {
			continue
		}
		dst = append(dst, d)
	}
	return dst
}

// listWholeDisks reads /sys/block again, for the devices of all.
func (r *Reader) listWholeDisks(all []hostfs.Disk) {
	r.whole = nil
	if entries, err := r.root.ReadDir("/sys/block"); err == nil {
		r.whole = make(map[string]bool, len(entries))
		for _, e := range entries {
			r.whole[e.Name()] = true
		}
	}
	r.listed = make(map[string]bool, len(all))
	for _, d := range all {
		r.listed[d.Name] = true
	}
}

func excluded(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Close releases the kept-open files.
func (r *Reader) Close() error {
	var errs []error
	for i, h := range r.handles {
		if h != nil {
			errs = append(errs, h.Close())
			r.handles[i] = nil
		}
	}
	r.kept.close()
	return errors.Join(errs...)
}
