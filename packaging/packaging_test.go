package packaging_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/testsvc"
	"github.com/google/go-cmp/cmp"
)

var units = []string{"cgmon.service", "cgtop_mon.service"}

// installedBinary is where the units expect cgmon.
const installedBinary = "/usr/local/bin/cgmon"

// verify copies unit (its text) into a temp dir under its name, with
// ExecStart pointing at a copy of /bin/true there, since systemd-analyze
// checks that the binary exists, and returns the lines systemd-analyze
// verify printed about it.
func verify(t *testing.T, analyze, name, unit string) []string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "cgmon")
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatalf("a binary to stand in for cgmon: %v", err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(unit, "ExecStart="+installedBinary+" ") {
		t.Fatalf("%s: no ExecStart=%s", name, installedBinary)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, installedBinary, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify %s: %v", name, err)
	}
	var about []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case line == "":
		case strings.Contains(line, name) || strings.Contains(line, dir):
			about = append(about, line)
		default:
			// Complaints about the host's own units are not ours.
			t.Logf("systemd-analyze: %s", line)
		}
	}
	return about
}

func TestUnitsVerify(t *testing.T) {
	analyze := testsvc.LookPath(t, "systemd-analyze", "systemd")
	for _, name := range units {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range verify(t, analyze, name, string(b)) {
				t.Errorf("warning: %s", w)
			}
		})
	}
	// The check itself must see a broken unit.
	t.Run("a typo is caught", func(t *testing.T) {
		b, err := os.ReadFile("cgmon.service")
		if err != nil {
			t.Fatal(err)
		}
		bad := strings.Replace(string(b), "LockPersonality=yes", "LockPersonalty=yes", 1)
		if got := verify(t, analyze, "cgmon.service", bad); len(got) == 0 {
			t.Error("systemd-analyze printed no warning for LockPersonalty=yes")
		}
	})
}

// directives returns a unit's key=value lines (comments and blank lines
// left out), by key.
func directives(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is no key=value", name, line)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("%s: %s twice", name, k)
		}
		m[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUnitsAgree keeps the cgtop_mon unit's sandbox and restart policy the
// same as cgmon.service's: only how it is configured differs.
func TestUnitsAgree(t *testing.T) {
	a, b := directives(t, "cgmon.service"), directives(t, "cgtop_mon.service")
	for _, m := range []map[string]string{a, b} {
		for _, k := range []string{"Description", "EnvironmentFile", "ExecStart"} {
			delete(m, k)
		}
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("cgtop_mon.service differs from cgmon.service (-cgmon +cgtop_mon):\n%s", diff)
	}
	for k, want := range map[string]string{
		"Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s",
		"CapabilityBoundingSet": "CAP_SYS_PTRACE CAP_DAC_READ_SEARCH",
	} {
		if a[k] != want {
			t.Errorf("cgmon.service: %s=%s, want %s", k, a[k], want)
		}
	}
}
