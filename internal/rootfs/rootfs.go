// Package rootfs is the one place where cgmon opens files of the host it
// watches. Every reader goes through a Root: the live host ("/"), a prefix
// such as /rootfs (cgmon in a container with the host's / mounted read-only),
// or a fixture tree under testdata/. Names are absolute slash paths as they are
// on the watched host ("/sys/fs/cgroup/cpu.stat"); a Root never lets a name,
// "..", or a symlink reach a file outside it.
package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxFileSize caps ReadFile and Handle reads. Kernel files that cgmon reads
// are small; the largest (cgroup.procs of a busy root, mountinfo on a host
// with many containers) stay far below it. The size reported by stat lies for
// kernel files, so reads never trust it.
const MaxFileSize = 16 << 20

// ErrTooLarge is returned when a file exceeds MaxFileSize.
var ErrTooLarge = errors.New("file exceeds the read limit")

// Root reads the files of one watched host.
type Root interface {
	// Open opens a file for repeated whole-file reads.
	Open(name string) (Handle, error)
	// ReadFile reads a whole file once.
	ReadFile(name string) ([]byte, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(name string) ([]fs.DirEntry, error)
	// Readlink returns the target of a symbolic link.
	Readlink(name string) (string, error)
	// String names the root for messages ("/", "/rootfs", a fixture path).
	String() string
}

// Handle is a file kept open and re-read from offset 0 each cycle. Re-reading
// an open cgroup file with pread costs about a third of open+read+close.
type Handle interface {
	// ReadAll reads the whole file from offset 0 into buf, growing it as
	// needed, and returns the filled slice (which may alias buf).
	ReadAll(buf []byte) ([]byte, error)
	Close() error
}

// Dir is a Root backed by a local directory.
type Dir struct {
	dir   string // absolute and clean; "/" for the live host
	dirfd int    // open O_PATH descriptor of dir when dir != "/"
}

// New returns the Root for a local directory: "/" (or "") for the live host,
// anything else is treated as the host's "/" (for example /rootfs or a
// fixture tree).
func New(dir string) (*Dir, error) {
	if dir == "" {
		dir = "/"
	}
	abs, err := absClean(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", abs, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("root %s: not a directory", abs)
	}
	d := &Dir{dir: abs, dirfd: -1}
	if abs != "/" {
		fd, err := unix.Open(abs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open root %s: %w", abs, err)
		}
		d.dirfd = fd
	}
	return d, nil
}

func absClean(dir string) (string, error) {
	if strings.IndexByte(dir, 0) >= 0 {
		return "", fmt.Errorf("root %q: contains a NUL byte", dir)
	}
	if !path.IsAbs(dir) {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("root %s: %w", dir, err)
		}
		dir = path.Join(wd, dir)
	}
	return path.Clean(dir), nil
}

// String implements Root.
func (d *Dir) String() string { return d.dir }

// IsHost reports whether this root is the live host's "/".
func (d *Dir) IsHost() bool { return d.dir == "/" }

// HostPath returns where name lives on the machine cgmon runs on, for
// messages. It does not resolve symlinks, so it is not for opening.
func (d *Dir) HostPath(name string) string {
	rel, err := cleanName(name)
	if err != nil {
		return d.dir + name
	}
	if d.dir == "/" {
		return "/" + rel
	}
	return d.dir + "/" + rel
}

// cleanName turns an absolute name into a clean path relative to the root.
// ".." cannot climb above "/": path.Clean drops it there, and openat2
// RESOLVE_IN_ROOT holds symlinks inside the root as well.
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("name %q: contains a NUL byte", name)
	}
	if !strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("name %q: not absolute", name)
	}
	rel := strings.TrimPrefix(path.Clean(name), "/")
	if rel == "" {
		rel = "."
	}
	return rel, nil
}

// openFD opens name read-only and returns a raw descriptor.
func (d *Dir) openFD(name string, flags int) (int, error) {
	rel, err := cleanName(name)
	if err != nil {
		return -1, err
	}
	flags |= unix.O_RDONLY | unix.O_CLOEXEC
	if d.dirfd < 0 {
		fd, err := unix.Open("/"+rel, flags, 0)
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: "/" + rel, Err: err}
		}
		return fd, nil
	}
	for {
		fd, err := unix.Openat2(d.dirfd, rel, &unix.OpenHow{
			Flags:   uint64(flags),
			Resolve: unix.RESOLVE_IN_ROOT,
		})
		if err == unix.EINTR || err == unix.EAGAIN {
			continue // openat2 asks for a retry when a rename raced the lookup
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: d.HostPath(name), Err: err}
		}
		return fd, nil
	}
}

// Open implements Root.
func (d *Dir) Open(name string) (Handle, error) {
	fd, err := d.openFD(name, 0)
	if err != nil {
		return nil, err
	}
	return &fileHandle{fd: fd, root: d, name: name}, nil
}

// ReadFile implements Root. It reads until a read returns nothing: it is
// not on a hot path, and it reads files such as mountinfo, whose records
// (an overlay mount's options) can be longer than half a page.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	fd, err := d.openFD(name, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readAllFD(fd, d.HostPath(name), make([]byte, 0, 4096), 0)
}

// ReadDir implements Root.
func (d *Dir) ReadDir(name string) ([]fs.DirEntry, error) {
	fd, err := d.openFD(name, unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d.HostPath(name))
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	sortEntries(entries)
	return entries, nil
}

// Readlink implements Root.
func (d *Dir) Readlink(name string) (string, error) {
	rel, err := cleanName(name)
	if err != nil {
		return "", err
	}
	dir, base := path.Split("/" + rel)
	fd, err := d.openFD(dir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, base, buf)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: d.HostPath(name), Err: err}
	}
	return string(buf[:n]), nil
}

// Close releases the root's directory descriptor.
func (d *Dir) Close() error {
	if d.dirfd >= 0 {
		err := unix.Close(d.dirfd)
		d.dirfd = -1
		return err
	}
	return nil
}

func sortEntries(e []fs.DirEntry) {
	// os.File.ReadDir does not sort; callers want stable order.
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].Name() < e[j-1].Name(); j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

// fileHandle is a raw descriptor re-read with pread. It holds no *os.File so
// that thousands of handles cost no finalizers and no poller registration.
type fileHandle struct {
	fd   int
	root *Dir
	name string // inside the root; the host path is built only for errors
}

func (h *fileHandle) ReadAll(buf []byte) ([]byte, error) {
	b, err := ReadAllFD(h.fd, "", buf)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			pe.Path = h.root.HostPath(h.name)
		}
	}
	return b, err
}

func (h *fileHandle) Close() error {
	if h.fd < 0 {
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	return err
}

// ReadAllFD reads a whole file through fd with pread from offset 0. A short
// read of less than half a page is the end, so a small file costs one
// system call, not the two of read-until-EOF: cgroupfs and procfs render
// their files as seq_files, which hand out at most a page per read but
// every record that fits in it, so a read that stops short while records
// remain has filled more than half a page unless a record is longer than
// half a page, which none of the files cgmon reads again and again has
// (cgroup.procs, /proc/diskstats and /proc/net/dev have records of tens of
// bytes; single-record files such as memory.stat come whole whatever
// their size). A longer short read is confirmed by reading on until a read
// returns nothing: cgroup.procs of 700 processes or more is more than a
// page, and taking its first page for the whole file loses processes.
func ReadAllFD(fd int, name string, buf []byte) ([]byte, error) {
	return readAllFD(fd, name, buf, shortReadEnd)
}

// shortReadEnd is half of the smallest page size.
const shortReadEnd = 2048

// readAllFD reads fd whole; a short read of fewer than endBelow bytes is
// the end (0: only a read that returns nothing is).
func readAllFD(fd int, name string, buf []byte, endBelow int) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) < 512 {
		buf = make([]byte, 0, 512)
	}
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= MaxFileSize {
				return buf[:0], &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
			}
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		free := buf[len(buf):cap(buf)]
		n, err := pread(fd, free, int64(len(buf)))
		if err != nil {
			return buf[:0], &fs.PathError{Op: "read", Path: name, Err: err}
		}
		buf = buf[:len(buf)+n]
		if n == 0 || n < len(free) && n < endBelow {
			return buf, nil
		}
	}
}

func pread(fd int, p []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(fd, p, off)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, err
	}
}

// IsGone reports whether err means the file or its cgroup no longer exists:
// the normal end of a cgroup or process, not a failure worth a warning.
// A removed cgroup's open files fail with ENODEV; a vanished process's /proc
// files with ESRCH or ENOENT.
func IsGone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENODEV) ||
		errors.Is(err, unix.ESRCH)
}
