package cgroup

import (
	"slices"
	"testing"
)

// TestExcludedDevices: the hybrid root's blkio files list vda (254:0),
// loop0 (7:0) and loop1 (7:1). By default loop and dm- devices are left out
// (they count the IO of the disk below them again); the list is a setting,
// and an empty one keeps every device. Names come from
// sys/dev/block/MAJ:MIN/uevent.
func TestExcludedDevices(t *testing.T) {
	tests := []struct {
		name     string
		excluded []string
		want     []string
	}{
		{"default", nil, []string{"vda"}},
		{"none", []string{}, []string{"loop0", "loop1", "vda"}},
		{"the disk", []string{"vd"}, []string{"loop0", "loop1"}},
		{"default spelled out", DefaultExcludedDevices, []string{"vda"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, _ := collectOnce(t, openFixture(t, "hybrid"), Options{ExcludedDevices: tt.excluded})
			var got []string
			for _, d := range find(t, set, "/").IO {
				got = append(got, d.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("devices of / with excluded %q = %q, want %q", tt.excluded, got, tt.want)
			}
		})
	}
}
