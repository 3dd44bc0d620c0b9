package sample

import (
	"time"

	"github.com/cgmon/cgmon/internal/netdev"
)

// Container is what is read about a running container beyond its cgroup
// files: through a process inside it (its network namespace, its root
// filesystem, its start time). Nil for every cgroup that is not a
// container's own, and for a container with no process left.
type Container struct {
	// PID is the process the namespaces were read through: the container's
	// oldest process (its init).
	PID int
	// Processes counts the processes (not threads) in the container's
	// cgroup and its descendants, as `ps -e` inside the container counts
	// them.
	Processes uint64
	// State is "running", or "paused" when the cgroup is frozen.
	State string
	// StartedAt is when the container's init process started; zero when
	// unknown.
	StartedAt time.Time

	// Network is nil when network reading is off or failed this cycle.
	Network *Network
	// Filesystem is nil when filesystem reading is off or failed.
	Filesystem *Filesystem
}

// Network is the counters of a container's network namespace.
type Network struct {
	// Netns is the inode of the namespace (/proc/PID/ns/net): containers
	// that share it share these counters.
	Netns uint64
	// HostNetwork is true when the namespace is the host's: the counters
	// are the host's, so none are kept.
	HostNetwork bool
	Interfaces  []netdev.Interface
}

// Filesystem is statfs(2) of a filesystem, in bytes and inodes.
type Filesystem struct {
	TotalBytes  uint64 // f_blocks × f_frsize
	FreeBytes   uint64 // f_bfree × f_frsize: free to root
	AvailBytes  uint64 // f_bavail × f_frsize: free to others, df's "Available"
	TotalInodes uint64 // f_files
	FreeInodes  uint64 // f_ffree
	// Storage is the host filesystem the container's storage lives on
	// (the runtime's data directory), when it is another filesystem than
	// the container's root; nil otherwise.
	Storage *Filesystem
	// Path is where Storage was found (on the host); empty for the root.
	Path string
	// Device is the block device of the container's root filesystem
	// ("/dev/vda1"; for an overlay, the one under its upper directory), or
	// "" when none backs it or it cannot be told.
	Device string
}
