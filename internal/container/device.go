package container

import (
	"strings"
	"sync"
	"time"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// rootDevice names the block device a container's root filesystem is on,
// as cAdvisor's container_fs_* device label does ("/dev/vda1"), from the
// container's mount table (its root mount, the last mount on "/") and,
// for an overlay root, the host's mount table (the filesystem that holds
// the overlay's upper directory: the runtime's storage). "" when no block
// device backs it (tmpfs, an overlay on tmpfs).
//
// devName names a device number as /dev/NAME, or "" when it is no block
// device.
func rootDevice(container, host []cgroupfs.Mount, devName func(major, minor uint32) string) string {
	root := -1
	for i := range container {
		if container[i].MountPoint == "/" {
			root = i
		}
	}
	if root < 0 {
		return ""
	}
	m := &container[root]
	if m.FSType == "overlay" {
		upper := ""
		for _, o := range m.SuperOptions {
			if v, ok := strings.CutPrefix(o, "upperdir="); ok {
				upper = v
			}
		}
		m = mountOf(host, upper)
		if m == nil {
			return ""
		}
	}
	if strings.HasPrefix(m.Source, "/dev/") {
		return m.Source // device-mapper's /dev/mapper/NAME, btrfs's device under an anonymous number
	}
	if m.Major == 0 {
		return ""
	}
	return devName(m.Major, m.Minor)
}

// mountOf returns the mount of mounts that holds the absolute path p: the
// last one whose mount point is p or a parent directory of p.
func mountOf(mounts []cgroupfs.Mount, p string) *cgroupfs.Mount {
	if !strings.HasPrefix(p, "/") {
		return nil
	}
	var best *cgroupfs.Mount
	for i := range mounts {
		mp := mounts[i].MountPoint
		under := mp == "/" || p == mp || strings.HasPrefix(p, mp+"/")
		if under && (best == nil || len(mp) >= len(best.MountPoint)) {
			best = &mounts[i]
		}
	}
	return best
}

// hostMounts caches the host's mount table (the root's /proc/1/mountinfo)
// for the containers of a cycle: read again when older than a few seconds.
type hostMounts struct {
	mu     sync.Mutex
	at     time.Time
	mounts []cgroupfs.Mount
}

const hostMountsTTL = 5 * time.Second

func (h *hostMounts) get(read func() ([]cgroupfs.Mount, error)) []cgroupfs.Mount {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mounts != nil && time.Since(h.at) < hostMountsTTL {
		return h.mounts
	}
	m, err := read()
	if err != nil {
		return h.mounts // the last good one, or none
	}
	h.mounts, h.at = m, time.Now()
	return m
}
