package cgroup

import (
	"os"
	"strings"

	"github.com/cgmon/cgmon/internal/rootfs"
)

// initUTSLink is what /proc/self/ns/uts reads in the initial UTS namespace:
// its inode is fixed, PROC_UTS_INIT_INO (0xEFFFFFFE) of
// include/linux/proc_ns.h.
const initUTSLink = "uts:[4026531838]"

// hostnameFiles returns the files that give the watched host's name, in
// order. /proc/sys/kernel/hostname is the hostname of the UTS namespace of
// the process that reads it, even read through /rootfs/proc: in a
// container without --uts=host it is the container's (its ID). The host's
// own kernel name cannot be read from there without ptrace rights over a
// host process (/proc/1/root and /proc/1/ns are refused), so when cgmon
// reads through a prefix from a UTS namespace other than the initial one,
// the host's /etc/hostname (its static name, which the kernel's is set
// from at boot) comes first. Otherwise the kernel's name comes first, and
// /etc/hostname only when it is empty.
func hostnameFiles(hostRoot bool, utsLink string) []string {
	if !hostRoot && utsLink != initUTSLink {
		return []string{"/etc/hostname", "/proc/sys/kernel/hostname"}
	}
	return []string{"/proc/sys/kernel/hostname", "/etc/hostname"}
}

func readHostname(root rootfs.Root) string {
	hostRoot := true
	if d, ok := root.(*rootfs.Dir); ok {
		hostRoot = d.IsHost()
	}
	uts, _ := os.Readlink("/proc/self/ns/uts") // cgmon's own namespace
	for _, name := range hostnameFiles(hostRoot, uts) {
		if b, err := root.ReadFile(name); err == nil {
			if h := strings.TrimSpace(string(b)); h != "" {
				return h
			}
		}
	}
	return ""
}
