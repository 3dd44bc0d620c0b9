package container_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// podmanConf is the containers.conf the tests run Podman with, through
// CONTAINERS_CONF, so they do not depend on the machine's: runc (crun fails
// on this hybrid cgroup layout), cgroupfs (no systemd), events in a file
// (no journald), netavark, and ulimits inside what this host allows.
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
type podman struct {
	bin, conf string
}

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
	// testsvc.RunErr has no environment parameter; env(1) sets it.
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

// image imports a busybox rootfs tarball as a local image, removed at the
// end.
func (p *podman) image(t *testing.T) string {
	t.Helper()
	ref := "localhost/" + uniqueName("cgmon-busybox") + ":test"
	p.must(t, "import", busyboxTar(t), ref)
	t.Cleanup(func() {
		if out, err := p.run("rmi", "-f", ref); err != nil {
			t.Errorf("podman rmi %s: %v\n%s", ref, err, out)
		}
	})
	return ref
}

// start runs a container that sleeps, removed at the end.
func (p *podman) start(t *testing.T, image string, extra ...string) string {
	t.Helper()
	name := uniqueName("cgmon-podman")
	t.Cleanup(func() {
		if out, err := p.run("rm", "-f", "-t", "0", name); err != nil {
			t.Errorf("podman rm %s: %v\n%s", name, err, out)
		}
	})
	args := append([]string{"run", "-d", "--name", name}, extra...)
	p.must(t, append(args, image, "/bin/sleep", "100000")...)
	return name
}

// execSlackKiB is what podman and docker exec keep on disk while df runs.
const execSlackKiB = 64

func TestPodman(t *testing.T) {
	p := newPodman(t)
	img := p.image(t)
	name := p.start(t, img)
	hostNet := p.start(t, img, "--network", "host")
	run := func(args ...string) (string, error) { return p.run(append([]string{"exec", name}, args...)...) }
	ip := p.must(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)
	id := p.must(t, "inspect", "-f", "{{.Id}}", name)
	started, err := time.Parse(time.RFC3339Nano, p.must(t, "inspect", "-f", "{{.State.StartedAt.Format \"2006-01-02T15:04:05.999999999Z07:00\"}}", name))
	if err != nil {
		t.Fatal(err)
	}

	r := newRig(t, identity.ResolverOptions{})
	s, c := r.await(t, "podman", name)
	if c.Path != "/libpod_parent/libpod-"+id || c.Container.ID != id || c.Container.State != "running" {
		t.Errorf("container %s: path %s, identity %+v", name, c.Path, c.Container)
	}
	// The init process starts before runc returns and podman records the
	// time: a few tens of ms earlier. A second covers a loaded machine.
	if d := started.Sub(c.Container.StartedAt); d < -time.Second || d > time.Second {
		t.Errorf("started_at %s, podman says %s", c.Container.StartedAt, started)
	}
	checkExport(t, s, name, c)

	// podman pause freezes the cgroup (v1 freezer here).
	p.must(t, "pause", name)
	if c := find(r.next(t), "podman", name); c == nil || c.Container.State != "paused" {
		t.Errorf("paused container: %+v", c)
	}
	p.must(t, "unpause", name)
	if c := find(r.next(t), "podman", name); c == nil || c.Container.State != "running" {
		t.Errorf("unpaused container: %+v", c)
	}

	checkAgentExport(t, identity.ResolverOptions{}, name)
	checkRunning(t, r, subject{
		runtime: "podman", name: name, hostNet: hostNet, ip: ip, port: 5002, run: run, slackKiB: execSlackKiB,
		listen: func() { p.must(t, "exec", "-d", name, "sh", "-c", "nc -l -p 5002 > /dev/null") },
		kill:   func() { p.must(t, "kill", name) },
	})
}
