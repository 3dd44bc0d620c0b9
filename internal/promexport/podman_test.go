package promexport

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/snaptest"
	"github.com/cgmon/cgmon/internal/testsvc"
	"github.com/cgmon/cgmon/internal/testsvc/podmantest"
)

// TestPodmanNetworkThroughExporter runs a real Podman container (runc,
// netavark) and the agent with the container figures on the live host,
// and scrapes /metrics: the container's eth0 series are there (its lo is
// not), and container_network_receive_bytes_total grows by at least the
// bytes sent to a listener inside it. A second container in the host's
// network namespace has cgmon_container_host_network 1 and no network
// series. The scrape passes `promtool check metrics`.
func TestPodmanNetworkThroughExporter(t *testing.T) {
	p := podmantest.New(t)
	img := p.Image(t, "nc")
	name := p.Start(t, img)
	hostNet := p.Start(t, img, "--network", "host")
	ip := p.Must(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)
	started, err := time.Parse(time.RFC3339Nano, p.Must(t, "inspect", "-f", `{{.State.StartedAt.Format "2006-01-02T15:04:05.999999999Z07:00"}}`, name))
	if err != nil {
		t.Fatal(err)
	}
	const port = 5003
	p.Must(t, "exec", "-d", name, "sh", "-c", fmt.Sprintf("nc -l -p %d > /dev/null", port))

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
	// An overlay root: the device is the one podman's storage is on, by
	// stat(2) of the storage directory and the kernel's name for it.
	storage := testsvc.BlockDevice(t, "/var/lib/containers/storage")
	if storage == "" {
		storage = "/" // no block device: the label is the mount point
	}
	if v, ok := f.find("container_fs_limit_bytes", "name", name, "device", storage); !ok || v <= 0 {
		t.Errorf("container_fs_limit_bytes{name=%q,device=%q} = %v, %v; want > 0\n%s", name, storage, v, ok,
			strings.Join(series(f, "container_fs_limit_bytes"), "\n"))
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
