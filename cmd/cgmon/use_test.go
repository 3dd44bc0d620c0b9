package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/remote/sshdtest"
	"github.com/cgmon/cgmon/internal/rootfs"
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

// useReport is the part of `cgmon use --format json` the remote tests
// check.
type useReport struct {
	Hostname        string
	IntervalSeconds float64 `json:"interval_seconds"`
	Cgroups         []struct{ Path string }
	Host            struct {
		CPU struct {
			Count uint64
		}
		Memory struct {
			TotalBytes uint64 `json:"total_bytes"`
		}
		Disks       []struct{ Device string }
		Filesystems []struct {
			MountPoint string `json:"mount_point"`
			SizeBytes  uint64 `json:"size_bytes"`
		}
		// Network interfaces are not compared: the sshd's connection
		// is on lo, which the report leaves out, but others may come
		// and go (containers of other tests).
		Checks []struct{ Name, Status string }
	}
}

// The report of the loopback host over SSH has the figures this machine's
// /proc and /sys have: the sshd runs here, so the local files are the
// ground truth.
func TestUseRemoteHost(t *testing.T) {
	d := sshdtest.Start(t)
	out, err := run(t, "use", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", d.KnownHosts,
		"--format", "json", "--interval", "500ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep useReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%.600s", err, out)
	}
	// Named after the address, not after this machine: the report is the
	// remote host's.
	if rep.Hostname != "127.0.0.1" {
		t.Errorf("hostname %q, want 127.0.0.1", rep.Hostname)
	}
	if rep.IntervalSeconds < 0.4 || rep.IntervalSeconds > 5 {
		t.Errorf("interval %v s, want about 0.5", rep.IntervalSeconds)
	}
	if len(rep.Cgroups) == 0 || rep.Cgroups[0].Path != "/" {
		t.Errorf("%d cgroups, want the remote host's, / first", len(rep.Cgroups))
	}
	if want := localCPUs(t); rep.Host.CPU.Count != want {
		t.Errorf("CPU count %d, want %d (cpuN lines of /proc/stat)", rep.Host.CPU.Count, want)
	}
	if want := localMemTotal(t); rep.Host.Memory.TotalBytes != want {
		t.Errorf("memory total %d bytes, want %d (/proc/meminfo MemTotal)", rep.Host.Memory.TotalBytes, want)
	}
	var disks []string
	for _, d := range rep.Host.Disks {
		disks = append(disks, d.Device)
	}
	if d := cmp.Diff(localDisks(t), disks); d != "" {
		t.Errorf("disks (-/sys/block and /proc/diskstats, less loop and dm- +report):\n%s", d)
	}
	// Filesystems by statfs on the host: the local reader's, same size.
	var fss, want []string
	for _, f := range rep.Host.Filesystems {
		fss = append(fss, f.MountPoint+" "+strconv.FormatUint(f.SizeBytes, 10))
	}
	for _, f := range localFilesystems(t) {
		want = append(want, f.MountPoint+" "+strconv.FormatUint(f.SizeBytes, 10))
	}
	if d := cmp.Diff(want, fss); d != "" {
		t.Errorf("filesystems (-local +report):\n%s", d)
	}
	checks := map[string]string{}
	for _, c := range rep.Host.Checks {
		checks[c.Name] = c.Status
	}
	for _, name := range []string{"resources.cpu.utilization", "resources.memory.utilization"} {
		if checks[name] == "" {
			t.Errorf("no check %s among %d", name, len(checks))
		}
	}

	// The table is the same report, headed by the remote host's name.
	out, err = run(t, "use", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", d.KnownHosts, "--interval", "200ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if m := useHeader.FindStringSubmatch(out); m == nil || m[1] != "127.0.0.1" || m[2] != strconv.FormatUint(localCPUs(t), 10)+" CPUs" {
		t.Errorf("table header %q, want 127.0.0.1 and %d CPUs:\n%.400s", m, localCPUs(t), out)
	}
	for _, f := range localFilesystems(t) {
		if !regexp.MustCompile(`(?m)^fs ` + regexp.QuoteMeta(f.MountPoint) + ` `).MatchString(out) {
			t.Errorf("no row fs %s in the table:\n%s", f.MountPoint, out)
		}
	}
}

// localFilesystems are this host's filesystems as the local USE report
// reads them.
func localFilesystems(t *testing.T) []hostfs.Filesystem {
	t.Helper()
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	r, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s hostfs.Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	return s.Filesystems
}

// localCPUs counts the cpuN lines of /proc/stat: the online CPUs.
func localCPUs(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && len(f[0]) > 3 && strings.HasPrefix(f[0], "cpu") {
			n++
		}
	}
	return n
}

func localMemTotal(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}

// localDisks are the whole disks of /sys/block that /proc/diskstats counts,
// less the default --exclude-devices (loop, dm-), in diskstats order.
func localDisks(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/sys/block")
	if err != nil {
		t.Fatal(err)
	}
	whole := map[string]bool{}
	for _, e := range entries {
		whole[e.Name()] = true
	}
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !whole[f[2]] || strings.HasPrefix(f[2], "loop") || strings.HasPrefix(f[2], "dm-") {
			continue
		}
		out = append(out, f[2])
	}
	return out
}

// cgmonExit runs the binary and returns its exit code, its standard error
// and how long it took.
func cgmonExit(t *testing.T, bin string, args ...string) (int, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String(), took
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		return ee.ExitCode(), stderr.String(), took
	}
	t.Fatalf("cgmon %q: %v\n%s", args, err, stderr.String())
	return 0, "", 0
}

// A remote host that cannot be read ends `cgmon use --host` with exit code 1
// and a message saying why, within --host-timeout; bad flags with 2.
func TestUseHostErrors(t *testing.T) {
	bin := buildCgmon(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	sshdtest.WriteKey(t, key)
	emptyKnown := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(emptyKnown, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// want runs cgmon and checks its exit code and that its standard
	// error says each of says. A command that ends at the first error has
	// no retry to announce.
	want := func(t *testing.T, args []string, code int, says ...string) (string, time.Duration) {
		t.Helper()
		got, stderr, took := cgmonExit(t, bin, args...)
		if strings.Contains(stderr, "retry_in") {
			t.Errorf("stderr announces a retry that never comes:\n%s", stderr)
		}
		if got != code {
			t.Errorf("exit code %d, want %d; stderr:\n%s", got, code, stderr)
		}
		for _, s := range says {
			if !strings.Contains(stderr, s) {
				t.Errorf("stderr does not say %q:\n%s", s, stderr)
			}
		}
		return stderr, took
	}

	t.Run("bad flags", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			says string
		}{
			{[]string{"--host", "a@x", "--host", "b@y"}, "one host"},
			{[]string{"--host", "a@x", "--rootfs", "/"}, "--rootfs and --host"},
			{[]string{"--host", "db1:99999"}, "bad port"},
			{[]string{"--host", "db1", "--host-timeout", "0s"}, "--host-timeout"},
			{[]string{"--host", "db1", "--format", "xml"}, "--format"},
		} {
			want(t, append([]string{"use"}, tc.args...), 2, tc.says)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		want(t, []string{"use", "--host", "root@" + addr, "--key-file", key, "--known-hosts", emptyKnown},
			1, "connect root@"+addr, "refused")
	})

	t.Run("silent host", func(t *testing.T) {
		// Accepts the connection and never says a word, as a hung sshd
		// (or a firewall that drops after the SYN-ACK of a proxy).
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var held []net.Conn
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					break
				}
				held = append(held, c)
			}
			for _, c := range held {
				c.Close()
			}
		}()
		defer func() { l.Close(); <-done }()
		_, took := want(t, []string{"use", "--host", "root@" + l.Addr().String(), "--key-file", key, "--known-hosts", emptyKnown,
			"--host-timeout", "1s"}, 1, "no answer within 1s")
		if took > 3*time.Second {
			t.Errorf("took %s with --host-timeout 1s", took)
		}
	})

	t.Run("sshd", func(t *testing.T) {
		d := sshdtest.Start(t)
		t.Run("unknown host key", func(t *testing.T) {
			want(t, []string{"use", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", emptyKnown},
				1, "host key unknown", "refusing to connect", "--trust-on-first-use")
		})
		t.Run("no known_hosts file", func(t *testing.T) {
			want(t, []string{"use", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", filepath.Join(dir, "nothing")},
				1, "does not exist", "--trust-on-first-use")
		})
		t.Run("key not authorized", func(t *testing.T) {
			want(t, []string{"use", "--host", d.Addr, "--key-file", key, "--known-hosts", d.KnownHosts},
				1, "unable to authenticate", "--key-file")
		})
		t.Run("trust on first use", func(t *testing.T) {
			known := filepath.Join(dir, "tofu_known_hosts")
			// The one note that stays: a key was trusted.
			want(t, []string{"use", "--host", d.Addr, "--key-file", d.ClientKey, "--known-hosts", known,
				"--trust-on-first-use", "--interval", "100ms", "--format", "names"}, 0, "trusting a host key on first use")
			b, err := os.ReadFile(known)
			if err != nil || !slices.ContainsFunc(strings.Split(string(b), "\n"), func(l string) bool {
				return strings.Contains(l, d.HostPort[len("127.0.0.1:"):]) && strings.Contains(l, "ssh-")
			}) {
				t.Errorf("known_hosts after first use: %q, %v", b, err)
			}
		})
	})
}
