package hostfs

import (
	"slices"
	"testing"
)

func TestSkipFSType(t *testing.T) {
	for _, typ := range []string{"proc", "tmpfs", "overlay", "nfs4", "fuse.sshfs"} {
		if !SkipFSType(typ) {
			t.Errorf("SkipFSType(%q) = false, want true", typ)
		}
	}
	for _, typ := range []string{"ext4", "xfs", "btrfs", "vfat", "zfs", ""} {
		if SkipFSType(typ) {
			t.Errorf("SkipFSType(%q) = true, want false", typ)
		}
	}
	types := SkippedFSTypes()
	if !slices.IsSorted(types) || len(types) != len(pseudoFS)+len(networkFS) {
		t.Errorf("SkippedFSTypes() = %v: want both lists, sorted", types)
	}
	for _, typ := range types {
		if !SkipFSType(typ) {
			t.Errorf("SkippedFSTypes() has %q, which SkipFSType keeps", typ)
		}
	}
}
