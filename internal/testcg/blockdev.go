package testcg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNoBlockDevice is returned by BlockDevice for a path on a file system
// without a block device of its own (tmpfs, overlay, proc, nfs…).
var ErrNoBlockDevice = errors.New("not on a block device")

// BlockDevice returns the block device (a whole disk or a partition, as
// mounted) holding the file system that path is on, and its kernel name
// ("vda", "sda1", "dm-0"). The device comes from the file system's st_dev;
// for file systems with an anonymous st_dev (btrfs) from the mount's source
// in /proc/self/mountinfo; and is checked against /sys/dev/block.
func BlockDevice(path string) (maj, min uint32, name string, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, "", &os.PathError{Op: "stat", Path: path, Err: err}
	}
	maj, min = unix.Major(st.Dev), unix.Minor(st.Dev)
	if maj == 0 { // anonymous device
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return 0, 0, "", err
		}
		mounts, err := parseMountinfo(mi)
		if err != nil {
			return 0, 0, "", fmt.Errorf("/proc/self/mountinfo: %w", err)
		}
		src, fsType := "", ""
		for _, m := range mounts {
			if m.major == maj && m.minor == min {
				src, fsType = m.source, m.fsType
				break
			}
		}
		var sst unix.Stat_t
		if !strings.HasPrefix(src, "/") || unix.Stat(src, &sst) != nil || sst.Mode&unix.S_IFMT != unix.S_IFBLK {
			return 0, 0, "", fmt.Errorf("%s (%s %q, device %d:%d): %w", path, fsType, src, maj, min, ErrNoBlockDevice)
		}
		maj, min = unix.Major(sst.Rdev), unix.Minor(sst.Rdev)
	}
	name, err = sysBlockName(maj, min)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return maj, min, name, nil
}

// WholeDisk returns the disk a partition belongs to, or the device itself
// when it is not a partition (/sys/dev/block/MAJ:MIN/partition). The kernel
// keys per-cgroup I/O statistics by the whole disk.
func WholeDisk(maj, min uint32) (dmaj, dmin uint32, name string, err error) {
	link := fmt.Sprintf("/sys/dev/block/%d:%d", maj, min)
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%d:%d: %w", maj, min, ErrNoBlockDevice)
	}
	if _, err := os.Stat(dir + "/partition"); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return 0, 0, "", err
		}
		return maj, min, filepath.Base(dir), nil
	}
	disk := filepath.Dir(dir)
	b, err := os.ReadFile(disk + "/dev")
	if err != nil {
		return 0, 0, "", err
	}
	dmaj, dmin, err = parseDevNumbers(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, 0, "", fmt.Errorf("%s/dev: %w", disk, err)
	}
	return dmaj, dmin, filepath.Base(disk), nil
}

func sysBlockName(maj, min uint32) (string, error) {
	target, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", maj, min))
	if err != nil {
		return "", fmt.Errorf("device %d:%d: %w", maj, min, ErrNoBlockDevice)
	}
	return filepath.Base(target), nil
}

// parseDevNumbers parses "MAJ:MIN".
func parseDevNumbers(s string) (maj, min uint32, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("bad device numbers %q", s)
	}
	x, err1 := strconv.ParseUint(a, 10, 32)
	y, err2 := strconv.ParseUint(b, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("bad device numbers %q: %w", s, err)
	}
	return uint32(x), uint32(y), nil
}
