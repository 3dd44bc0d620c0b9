package testcg

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Memory returns the group's memory usage and its working set (usage −
// inactive_file, floored at 0) as the kernel gives them: memory.current and
// memory.stat inactive_file on cgroup2, memory.usage_in_bytes and
// memory.stat total_inactive_file on v1. It skips the test when the host
// has no memory controller.
func (g *Group) Memory(t testing.TB) (usage, workingSet uint64) {
	t.Helper()
	dir, v2 := g.controller(t, "memory")
	usageFile, inactiveKey := dir+"/memory.usage_in_bytes", "total_inactive_file"
	if v2 {
		usageFile, inactiveKey = dir+"/memory.current", "inactive_file"
	}
	usage = readKernelUint(t, usageFile, "")
	inactive := readKernelUint(t, dir+"/memory.stat", inactiveKey)
	return usage, usage - min(usage, inactive)
}

// readKernelUint reads a one-number file, or the value of key in a flat
// keyed file ("key value" lines).
func readKernelUint(t testing.TB, file, key string) uint64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("testcg: %v", err)
	}
	s, found := strings.TrimSpace(string(b)), key == ""
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			s, found = v, true
			break
		}
	}
	if !found {
		t.Fatalf("testcg: %s has no %s", file, key)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("testcg: %s %s: %v", file, key, err)
	}
	return v
}
