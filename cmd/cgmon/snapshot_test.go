package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const fixtures = "../../testdata/roots"

// run runs the command line and returns its standard output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// unstable are the fields that change from run to run on a frozen tree.
var unstable = regexp.MustCompile(`("timestamp": )"[^"]*"|("interval_seconds": )[0-9.e-]+`)

func normalize(s string) string {
	return unstable.ReplaceAllString(s, `$1$2"X"`)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got); if the change is meant, run go test -update:\n%s", path, d)
	}
}

func TestSnapshotGolden(t *testing.T) {
	for _, fixture := range []string{"v2", "hybrid", "v1", "v1-comounted"} {
		t.Run(fixture, func(t *testing.T) {
			root := filepath.Join(fixtures, fixture)
			out, err := run(t, "snapshot", "--rootfs", root, "--format", "json", "--pretty", "--interval", "10ms")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "snapshot-"+fixture+".json", normalize(out))
			if fixture == "hybrid" {
				table, err := run(t, "snapshot", "--rootfs", root, "--interval", "10ms", "--sort", "path")
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "snapshot-"+fixture+".table", table)
			}
		})
	}
}

func TestSnapshotFilters(t *testing.T) {
	root := filepath.Join(fixtures, "v2")
	out, err := run(t, "snapshot", "--rootfs", root, "--interval", "1ms", "--sort", "path",
		"--group", "system.slice", "--include", "*.service,*.scope", "--exclude", "sshd.*")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		paths = append(paths, strings.Fields(line)[0])
	}
	want := []string{"/system.slice/demo.service", "/system.slice/docker-a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7.scope"}
	if d := cmp.Diff(want, paths); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestSnapshotBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"snapshot", "--format", "xml"},
		{"snapshot", "--interval", "-1s"},
		{"snapshot", "--interval", "soon"},
		{"snapshot", "--iterations", "0"},
		{"snapshot", "--sort", "disk"},
		{"snapshot", "--include", "a/b"},
		{"snapshot", "--group", "a//b"},
		{"snapshot", "--no-such-flag"},
		{"snapshot", "extra-arg"},
	} {
		_, err := run(t, args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%q: error %v, want a usage error (exit code 2)", args, err)
		}
	}
	if _, err := run(t, "snapshot", "--rootfs", "/nonexistent-cgmon-root", "--interval", "1ms"); err == nil {
		t.Error("missing root: no error")
	}
	if _, err := run(t, "snapshot", "--rootfs", t.TempDir(), "--interval", "1ms"); err == nil || !strings.Contains(err.Error(), "mountinfo") {
		t.Errorf("empty root: error %v, want one naming mountinfo", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "cgmon ") {
		t.Fatalf("version: %q %v", out, err)
	}
}
