package main

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// useRoot is a fixture host: the hostfs capture (proc, sys/class/net,
// sys/block) under the v2 cgroup tree. Its files do not change, so every
// rate is 0 and the report is the same each run.
func useRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, src := range []string{"../../internal/hostfs/testdata", fixtures + "/v2"} {
		if out, err := exec.Command("cp", "-a", src+"/.", root).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v %s", src, err, out)
		}
	}
	return root
}

var (
	useHeader = regexp.MustCompile(`(?m)^(\S+)  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (\d+ CPUs)  interval [0-9.]+s`)
	nameTime  = regexp.MustCompile(`(?m) \d+$`)
)

func TestUseTable(t *testing.T) {
	out, err := run(t, "use", "--rootfs", useRoot(t), "--interval", "20ms")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "use.table", useHeader.ReplaceAllString(out, "$1  TIME  $2  interval X"))
}

func TestUseNames(t *testing.T) {
	out, err := run(t, "use", "--rootfs", useRoot(t), "--interval", "20ms", "--format", "names", "--base", "pkg.kpack_linux")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !regexp.MustCompile(`^pkg\.kpack_linux\.[0-9A-Za-z._-]+$`).MatchString(f[0]) {
			t.Errorf("bad line %q", line)
		}
	}
	golden(t, "use.names", nameTime.ReplaceAllString(out, " TIME"))
}

func TestUseJSONHasHost(t *testing.T) {
	out, err := run(t, "use", "--rootfs", useRoot(t), "--interval", "20ms", "--format", "json", "-n", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"host":{"cpu":{"count":2,`) || !strings.Contains(lines[1], `"checks":[`) {
		t.Errorf("want two documents with a host view, got:\n%.600s", out)
	}
}

func TestUseBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"use", "--format", "xml"},
		{"use", "--interval", "0s"},
		{"use", "-n", "-1"},
		{"use", "--anomaly-window", "10s"},
		{"use", "extra"},
	} {
		_, err := run(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}
