package container

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// TestRootDevice: the device of a container's root, from its mount table
// and the host's. The host's table and the overlay line are a real podman
// container's (internal/proc/testdata/cgroupns/private: the host's
// mountinfo read through /rootfs; the container sees its overlay mount on
// "/" with the same super options).
func TestRootDevice(t *testing.T) {
	b, err := os.ReadFile("../proc/testdata/cgroupns/private/1-mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	host := mounts(t, string(b))
	var overlay string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, " - overlay ") && strings.Contains(line, "upperdir=") {
			f := strings.Fields(line)
			f[4] = "/" // its mount point, as the container sees it
			overlay = strings.Join(f, " ")
			break
		}
	}
	if overlay == "" {
		t.Fatal("no overlay mount in the fixture")
	}
	devName := func(major, minor uint32) string {
		return map[string]string{"254:0": "/dev/vda", "8:1": "/dev/sda1"}[fmt.Sprintf("%d:%d", major, minor)]
	}
	tmpfsHost := mounts(t, "27 1 254:0 / / rw - ext4 /dev/vda rw\n40 27 0:30 / /run rw - tmpfs tmpfs rw\n")
	for _, tc := range []struct {
		name, container string
		host            []cgroupfs.Mount
		want            string
	}{
		{"podman overlay: the device under the upper directory", "22 1 0:21 / /proc rw - proc proc rw\n" + overlay + "\n", host, "/dev/vda"},
		{"LXC dir backend: a bind of the rootfs directory", "60 58 254:0 /var/lib/lxc/c1/rootfs / rw,relatime - ext4 /dev/vda rw\n", nil, "/dev/vda"},
		{"device-mapper source kept as mount shows it", "60 58 253:1 / / rw - xfs /dev/mapper/vg-root rw\n", nil, "/dev/mapper/vg-root"},
		{"btrfs subvolume: anonymous number, the device from the source", "60 58 0:45 /@/lxc/c1 / rw - btrfs /dev/sda2 rw,subvol=/@/lxc/c1\n", nil, "/dev/sda2"},
		{"a source that is no path: named by the number", "60 58 8:1 / / rw - ext4 rootfs rw\n", nil, "/dev/sda1"},
		{"the last mount on / wins", "60 58 8:1 / / rw - ext4 /dev/sda1 rw\n61 60 254:0 / / rw - ext4 /dev/vda rw\n", nil, "/dev/vda"},
		{"tmpfs root: no device", "60 58 0:50 / / rw - tmpfs tmpfs rw\n", nil, ""},
		{"overlay with its upper directory on tmpfs", "60 58 0:51 / / rw - overlay overlay rw,lowerdir=/run/l,upperdir=/run/u/diff,workdir=/run/u/work\n", tmpfsHost, ""},
		{"overlay with no upper directory", "60 58 0:51 / / ro - overlay overlay ro,lowerdir=/a:/b\n", host, ""},
		{"overlay, host table unknown", overlay + "\n", nil, ""},
		{"no root mount", "22 1 0:21 / /proc rw - proc proc rw\n", host, ""},
	} {
		if got := rootDevice(mounts(t, tc.container), tc.host, devName); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func mounts(t *testing.T, s string) []cgroupfs.Mount {
	t.Helper()
	m, err := cgroupfs.ParseMountinfo([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
