package promexport

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/snaptest"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// podmanConf is the containers.conf the test runs Podman with, through
// CONTAINERS_CONF, so that it does not depend on the machine's; the same
// as internal/container's tests: runc (crun fails on this hybrid cgroup
// layout), cgroupfs (no systemd), events in a file (no journald),
// netavark, and ulimits inside what this host allows.
const podmanConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"

[network]
network_backend = "netavark"
`

// podman runs the podman CLI with the test's containers.conf.
type podman struct{ bin, conf string }

func newPodman(t *testing.T) *podman {
	t.Helper()
	testsvc.RequireRoot(t)
	p := &podman{bin: testsvc.LookPath(t, "podman", "podman")}
	testsvc.LookPath(t, "runc", "runc")
	if _, err := os.Stat("/usr/lib/podman/netavark"); err != nil {
		testsvc.Skip(t, "netavark not found: apt-get install netavark (scripts/test.sh does)")
	}
	p.conf = filepath.Join(t.TempDir(), "containers.conf")
	if err := os.WriteFile(p.conf, []byte(podmanConf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *podman) run(args ...string) (string, error) {
	return testsvc.RunErr(2*time.Minute, "env", append([]string{"CONTAINERS_CONF=" + p.conf, p.bin}, args...)...)
}

func (p *podman) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.run(args...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%04x", prefix, os.Getpid(), rand.IntN(1<<16))
}

// image imports a root filesystem holding only a static busybox as a
// local image, removed at the end: no registry needed.
func (p *podman) image(t *testing.T) string {
	t.Helper()
	bb := testsvc.LookPath(t, "busybox", "busybox-static")
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "busybox-rootfs.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, d := range []string{"bin", "dev", "etc", "proc", "sys", "tmp"} {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}))
	}
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(b))}))
	_, err = tw.Write(b)
	must(t, err)
	for _, applet := range []string{"sh", "sleep", "nc"} {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox"}))
	}
	must(t, tw.Close())
	must(t, f.Close())

	ref := "localhost/" + uniqueName("cgmon-prom-busybox") + ":test"
	p.must(t, "import", tarball, ref)
	t.Cleanup(func() {
		if out, err := p.run("rmi", "-f", ref); err != nil {
			t.Errorf("podman rmi %s: %v\n%s", ref, err, out)
		}
	})
	return ref
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// start runs a container that sleeps, removed at the end.
func (p *podman) start(t *testing.T, image string, extra ...string) string {
	t.Helper()
	name := uniqueName("cgmon-prom")
	t.Cleanup(func() {
		if out, err := p.run("rm", "-f", "-t", "0", name); err != nil {
			t.Errorf("podman rm %s: %v\n%s", name, err, out)
		}
	})
	args := append([]string{"run", "-d", "--name", name}, extra...)
	p.must(t, append(args, image, "/bin/sleep", "100000")...)
	return name
}

// TestPodmanNetworkThroughExporter runs a real Podman container (runc,
// netavark) and the agent with the container figures on the live host,
// and scrapes /metrics: the container's eth0 series are there (its lo is
// not), and container_network_receive_bytes_total grows by at least the
// bytes sent to a listener inside it. A second container in the host's
// network namespace has cgmon_container_host_network 1 and no network
// series. The scrape passes `promtool check metrics`.
func TestPodmanNetworkThroughExporter(t *testing.T) {
	p := newPodman(t)
	img := p.image(t)
	name := p.start(t, img)
	hostNet := p.start(t, img, "--network", "host")
	ip := p.must(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)
	started, err := time.Parse(time.RFC3339Nano, p.must(t, "inspect", "-f", `{{.State.StartedAt.Format "2006-01-02T15:04:05.999999999Z07:00"}}`, name))
	if err != nil {
		t.Fatal(err)
	}
	const port = 5003
	p.must(t, "exec", "-d", name, "sh", "-c", fmt.Sprintf("nc -l -p %d > /dev/null", port))

	co := container.DefaultOptions()
	a := snaptest.RunAgent(t, engine.Options{Containers: &co}, 300*time.Millisecond)
	c := New(Options{Source: a})
	eth0 := []string{"name", name, "runtime", "podman", "interface", "eth0"}

	// Names come from the runtime's files a cycle or two after the
	// cgroup shows up.
	var f families
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		f = parse(t, scrape(t, c))
		_, ok1 := f.find("container_network_receive_bytes_total", eth0...)
		_, ok2 := f.find("cgmon_container_host_network", "name", hostNet)
		if ok1 && ok2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no container_network_receive_bytes_total{name=%q,interface=\"eth0\"} or cgmon_container_host_network{name=%q} after 30 s", name, hostNet)
		}
	}
	before, _ := f.find("container_network_receive_bytes_total", eth0...)

	body := scrape(t, c)
	promtoolCheck(t, body)
	f = parse(t, body)
	if _, ok := f.find("container_network_receive_bytes_total", "name", name, "interface", "lo"); ok {
		t.Errorf("container %s has a series for lo: cAdvisor leaves it out", name)
	}
	if v, ok := f.find("cgmon_container_host_network", "name", name); !ok || v != 0 {
		t.Errorf("cgmon_container_host_network{name=%q} = %v, %v; want 0", name, v, ok)
	}
	if v, ok := f.find("cgmon_container_host_network", "name", hostNet); !ok || v != 1 {
		t.Errorf("cgmon_container_host_network{name=%q} = %v, %v; want 1", hostNet, v, ok)
	}
	if _, ok := f.find("container_network_receive_bytes_total", "name", hostNet); ok {
		t.Errorf("host-network container %s has network series: they would be the host's", hostNet)
	}
	if v, ok := f.find("container_processes", "name", name); !ok || v < 2 {
		t.Errorf("container_processes{name=%q} = %v, %v; want ≥ 2 (sleep and nc)", name, v, ok)
	}
	// The init process starts a few tens of ms before podman records the
	// time; a second covers a loaded machine.
	if v, ok := f.find("container_start_time_seconds", "name", name); !ok || math.Abs(v-float64(started.UnixNano())/1e9) > 1 {
		t.Errorf("container_start_time_seconds{name=%q} = %v, %v; podman says %s", name, v, ok, started)
	}
	if v, ok := f.find("container_fs_limit_bytes", "name", name, "device", rootDevice); !ok || v <= 0 {
		t.Errorf("container_fs_limit_bytes{name=%q} = %v, %v; want > 0", name, v, ok)
	}

	const n = 1 << 20
	sendZeros(t, net.JoinHostPort(ip, fmt.Sprint(port)), n)
	var after float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		after, _ = parse(t, scrape(t, c)).find("container_network_receive_bytes_total", eth0...)
		if after-before >= n || time.Now().After(deadline) {
			break
		}
	}
	if after-before < n {
		t.Errorf("container_network_receive_bytes_total{name=%q,interface=\"eth0\"} grew by %.0f while %d bytes were sent to it", name, after-before, n)
	} else {
		t.Logf("sent %d bytes to %s; container_network_receive_bytes_total{interface=\"eth0\"} grew by %.0f", n, name, after-before)
	}
}

// sendZeros connects to addr, retrying while the listener starts, and
// writes n zero bytes.
func sendZeros(t *testing.T, addr string, n int64) {
	t.Helper()
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if conn, err = net.DialTimeout("tcp", addr, time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	if _, err := io.CopyN(w, zeros{}, n); err != nil {
		t.Fatalf("send to %s: %v", addr, err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("send to %s: %v", addr, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
