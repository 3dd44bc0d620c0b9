package hostfs

import (
	"maps"
	"slices"
)

// pseudoFS are filesystem types with no space of their own to run out of
// (kernel interfaces), or whose space is another filesystem's (overlay: a
// container's root, reported per container), or that are read-only images
// (squashfs: snaps, always 100 % full).
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devtmpfs": true, "devpts": true,
	"tmpfs": true, "ramfs": true, "rootfs": true, "mqueue": true, "debugfs": true, "tracefs": true, "securityfs": true,
	"pstore": true, "bpf": true, "configfs": true, "fusectl": true, "hugetlbfs": true, "autofs": true,
	"binfmt_misc": true, "nsfs": true, "overlay": true, "squashfs": true, "efivarfs": true,
	"rpc_pipefs": true, "selinuxfs": true, "nfsd": true, "fuse.lxcfs": true, "fuse.gvfsd-fuse": true,
	"fuse.portal": true, "iso9660": true,
}

// networkFS are left out because statfs(2) on a dead server blocks, and a
// monitor that hangs where df hangs helps no one; their space is the
// server's to watch.
var networkFS = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "9p": true, "afs": true,
	"ceph": true, "glusterfs": true, "fuse.sshfs": true, "fuse.glusterfs": true, "fuse.ceph": true,
}

// SkipFSType reports whether the filesystem figures (Sample.Filesystems)
// leave out filesystems of type fsType (the mountinfo type, "ext4",
// "fuse.sshfs"): pseudo filesystems and network ones. The local reader
// (internal/host) and the remote fetch script (internal/remote) both go by
// it, so a host reads the same over SSH as locally.
func SkipFSType(fsType string) bool { return pseudoFS[fsType] || networkFS[fsType] }

// SkippedFSTypes returns the types SkipFSType is true for, sorted.
func SkippedFSTypes() []string {
	types := append(slices.Collect(maps.Keys(pseudoFS)), slices.Collect(maps.Keys(networkFS))...)
	slices.Sort(types)
	return types
}
