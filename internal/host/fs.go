package host

import (
	"bytes"
	"fmt"

	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// mount is a real filesystem of the mount table.
type mount struct{ point, device, fsType string }

// filesystems fills s.Filesystems: one entry per device of a real
// filesystem (the first mount of it in mount order, so bind mounts of the
// same filesystem do not repeat it), with statfs of its mount point. A root
// that cannot statfs leaves the list empty. The mount table is parsed
// again only when it changed.
func (r *Reader) filesystems(s *hostfs.Sample) error {
	st, ok := r.root.(rootfs.Statfser)
	if !ok {
		return nil
	}
	b, err := r.read(fMountinfo)
	if err != nil {
		if rootfs.IsGone(err) {
			return nil
		}
		return fmt.Errorf("read %s: %w", r.mountinfo, err)
	}
	if r.lastMountinfo == nil || !bytes.Equal(b, r.lastMountinfo) {
		if err := r.parseMounts(b); err != nil {
			return err
		}
		r.lastMountinfo = append(r.lastMountinfo[:0], b...)
	}
	for _, m := range r.mounts {
		sf, err := st.Statfs(m.point)
		if err != nil {
			continue // unmounted meanwhile, or a mount we may not enter
		}
		if sf.Blocks == 0 {
			continue // no space of its own (a pseudo filesystem hostfs.SkipFSType does not know)
		}
		bs := uint64(sf.Frsize)
		if bs == 0 {
			bs = uint64(sf.Bsize)
		}
		s.Filesystems = append(s.Filesystems, hostfs.Filesystem{
			MountPoint: m.point, Device: m.device, FSType: m.fsType,
			SizeBytes: sf.Blocks * bs, FreeBytes: sf.Bfree * bs, AvailBytes: sf.Bavail * bs,
			Inodes: sf.Files, InodesFree: sf.Ffree,
		})
	}
	return nil
}

func (r *Reader) parseMounts(b []byte) error {
	all, err := cgroupfs.ParseMountinfo(b)
	if err != nil {
		r.mounts = nil
		return fmt.Errorf("parse %s in root %s: %w", r.mountinfo, r.root, err)
	}
	type dev struct{ major, minor uint32 }
	seen := make(map[dev]bool, len(all))
	r.mounts = r.mounts[:0]
	for _, m := range all {
		if hostfs.SkipFSType(m.FSType) || seen[dev{m.Major, m.Minor}] {
			continue
		}
		seen[dev{m.Major, m.Minor}] = true
		r.mounts = append(r.mounts, mount{point: m.MountPoint, device: m.Source, fsType: m.FSType})
	}
	return nil
}
