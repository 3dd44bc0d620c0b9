package cgroup

import (
	"slices"
	"testing"
)

// The order of the hostname files: the kernel's name first on the host, or
// from the initial UTS namespace; /etc/hostname first through a prefix from
// a UTS namespace of its own (a container without --uts=host).
func TestHostnameFiles(t *testing.T) {
	kernelFirst := []string{"/proc/sys/kernel/hostname", "/etc/hostname"}
	etcFirst := []string{"/etc/hostname", "/proc/sys/kernel/hostname"}
	for _, c := range []struct {
		hostRoot bool
		uts      string
		want     []string
	}{
		{true, initUTSLink, kernelFirst},
		{true, "uts:[4026532252]", kernelFirst},
		{false, initUTSLink, kernelFirst},
		{false, "uts:[4026532252]", etcFirst},
		{false, "", etcFirst}, // no /proc of its own: not known to be the host's
	} {
		if got := hostnameFiles(c.hostRoot, c.uts); !slices.Equal(got, c.want) {
			t.Errorf("hostnameFiles(%v, %q) = %q, want %q", c.hostRoot, c.uts, got, c.want)
		}
	}
}
