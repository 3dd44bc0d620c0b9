package rootfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Statfser is a Root that can report the filesystem a path lives on. Dir is
// one; a remote root may not be.
type Statfser interface {
	Statfs(name string) (unix.Statfs_t, error)
}

// Statfs returns statfs(2) of the filesystem that name lives on. On the
// live host name may go through a magic link such as /proc/PID/root (a
// container's root filesystem). Under a prefix root it cannot: openat2's
// RESOLVE_IN_ROOT refuses magic links, so /proc/PID/root fails with ELOOP
// or EXDEV there.
func (d *Dir) Statfs(name string) (unix.Statfs_t, error) {
	var st unix.Statfs_t
	fd, err := d.openFD(name, unix.O_PATH)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if err := unix.Fstatfs(fd, &st); err != nil {
		return st, &fs.PathError{Op: "statfs", Path: d.HostPath(name), Err: err}
	}
	return st, nil
}
