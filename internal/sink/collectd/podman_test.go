package collectd

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/promexport"
	"github.com/cgmon/cgmon/internal/sink/collectd/collectdtest"
	"github.com/cgmon/cgmon/internal/testsvc"
)

var _ promexport.Sink = (*Sink)(nil)

// podman runs podman with the test's containers.conf.
type podman struct {
	bin, conf string
}

func (p podman) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.runErr(args...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func (p podman) runErr(args ...string) (string, error) {
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// newPodman checks for podman, runc and busybox (as root) and writes a
// containers.conf that needs neither systemd nor journald.
func newPodman(t *testing.T) podman {
	t.Helper()
	testsvc.RequireRoot(t)
	bin := testsvc.LookPath(t, "podman", "podman")
	testsvc.LookPath(t, "runc", "runc")
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testsvc.Skip(t, "no /bin/busybox: apt-get install busybox-static")
	}
	conf := filepath.Join(t.TempDir(), "containers.conf")
	err := os.WriteFile(conf, []byte(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return podman{bin: bin, conf: conf}
}

// busyboxImage imports a one-binary image (/bin/busybox, sh and sleep) and
// removes it when the test ends.
func (p podman) busyboxImage(t *testing.T, name string) string {
	t.Helper()
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bb))},
		{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777},
		{Name: "bin/sleep", Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Name == "bin/busybox" {
			if _, err := tw.Write(bb); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	image := "localhost/" + name + ":test"
	t.Cleanup(func() {
		if out, err := p.runErr("rmi", "-f", image); err != nil {
			t.Errorf("podman rmi %s: %v\n%s", image, err, out)
		}
	})
	p.run(t, "import", tarball, image)
	return image
}

// runContainer starts `sleep 1000` in a new container and removes it when
// the test ends; it returns the container's full ID.
func (p podman) runContainer(t *testing.T, name, image string) string {
	t.Helper()
	t.Cleanup(func() {
		if out, err := p.runErr("rm", "-f", "-t", "0", name); err != nil {
			t.Errorf("podman rm %s: %v\n%s", name, err, out)
		}
	})
	return p.run(t, "run", "-d", "--runtime", "runc", "--name", name, image, "sleep", "1000")
}

// memUsage returns podman stats' memory usage of a container: the exact
// bytes, and the figure `--format json` shows ("360.4kB / 25.28GB").
func (p podman) memUsage(t *testing.T, name string) (uint64, string) {
	t.Helper()
	exact, err := strconv.ParseUint(p.run(t, "stats", "--no-stream", "--format", "{{.ContainerStats.MemUsage}}", name), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var stats []struct {
		MemUsage string `json:"mem_usage"`
	}
	if err := json.Unmarshal([]byte(p.run(t, "stats", "--no-stream", "--format", "json", name)), &stats); err != nil || len(stats) != 1 {
		t.Fatalf("podman stats --format json: %v, %d entries", err, len(stats))
	}
	shown, _, _ := strings.Cut(stats[0].MemUsage, " / ")
	return exact, shown
}

// parseSI parses podman's human sizes: "360.4kB", "1.2MB" (powers of 1000).
func parseSI(s string) (float64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[s[i:]]
	if mult == 0 {
		return 0, fmt.Errorf("unit of %q", s)
	}
	return v * mult, nil
}

// TestCollectdPodmanContainer runs a real podman 4.3 container (runc,
// cgroupfs) and finds its values in a real collectd under the container's
// name: pod_memory with memory "raw" equals what podman stats shows.
func TestCollectdPodmanContainer(t *testing.T) {
	p := newPodman(t)
	name := fmt.Sprintf("cgmon-collectd-%d-%04x", os.Getpid(), rand.Uint32()&0xffff)
	image := p.busyboxImage(t, name)
	id := p.runContainer(t, name, image)
	t.Logf("container %s %s", name, id)

	none := &collectdtest.Listen{SecurityLevel: "None"}
	srv := collectdtest.Start(t, collectdtest.Config{Hostname: "collectd-under-test", Listens: []*collectdtest.Listen{none}})
	a := runAgent(t)
	startSink(t, a, Options{Server: "127.0.0.1:" + strconv.Itoa(none.Port), Memory: "raw", Hostname: "cgmon-podman"})

	srv.WaitRows(t, 20*time.Second, 2, "cgmon-podman", Plugin+"-"+name, TypeMemory)
	before, shown := p.memUsage(t, name)
	start := float64(time.Now().UnixNano()) / 1e9
	var got float64
	srv.Proc.WaitFor(t, 10*time.Second, func() error {
		rows := srv.Rows(t, "cgmon-podman", Plugin+"-"+name, TypeMemory)
		if last := rows[len(rows)-1]; last.Time > start {
			got = last.Values[0]
			return nil
		}
		return fmt.Errorf("no pod_memory value after %.3f yet", start)
	})
	after, _ := p.memUsage(t, name)
	const page = 4096
	lo, hi := float64(min(before, after))-page, float64(max(before, after))+page
	if got < lo || got > hi {
		t.Errorf("pod_memory of %s = %.0f, podman stats %d then %d", name, got, before, after)
	}
	si, err := parseSI(shown)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(si-got) > max(0.001*got, 100) {
		t.Errorf("pod_memory of %s = %.0f, podman stats --format json shows %s", name, got, shown)
	}
	t.Logf("pod_memory %.0f; podman stats %d, %d; json %q", got, before, after, shown)

	cpu := srv.Rows(t, "cgmon-podman", Plugin+"-"+name, TypeCPU)
	if len(cpu) == 0 || cpu[len(cpu)-1].Values[1] <= 0 {
		t.Errorf("no pod_cpu time for %s: %v", name, cpu)
	}
}
