package container_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// docker is a dockerd of the test's own: its socket, data root and exec
// root in a temporary directory, no default bridge and no iptables rules,
// so it touches nothing of the host's and needs no network set-up.
type docker struct {
	cli, sock, root string
}

func startDocker(t *testing.T) *docker {
	t.Helper()
	testsvc.RequireRoot(t)
	dockerd := testsvc.LookPath(t, "dockerd", "docker.io")
	d := &docker{cli: testsvc.LookPath(t, "docker", "docker.io")}
	// Not t.TempDir: dockerd leaves mounts (its netns files) there, which
	// are unmounted before the directory is removed.
	dir, err := os.MkdirTemp("", "cgmon-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove dockerd's directory: %v", err)
		}
	})
	d.sock = filepath.Join(dir, "docker.sock")
	d.root = filepath.Join(dir, "data")
	p := testsvc.Start(t, "dockerd", dockerd,
		"--host", "unix://"+d.sock, "--data-root", d.root, "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"), "--bridge", "none", "--iptables=false", "--ip6tables=false")
	p.WaitFor(t, 60*time.Second, func() error {
		out, err := d.run("version", "--format", "{{.Server.Version}}")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	return d
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Error(err)
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	slices.Sort(points)
	for _, p := range slices.Backward(points) {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			t.Logf("unmount %s: %v", p, err)
		}
	}
}

func (d *docker) run(args ...string) (string, error) {
	return testsvc.RunErr(2*time.Minute, d.cli, append([]string{"--host", "unix://" + d.sock}, args...)...)
}

func (d *docker) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := d.run(args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func (d *docker) start(t *testing.T, image string, extra ...string) string {
	t.Helper()
	name := uniqueName("cgmon-docker")
	t.Cleanup(func() {
		if out, err := d.run("rm", "-f", name); err != nil {
			t.Errorf("docker rm %s: %v\n%s", name, err, out)
		}
	})
	args := append([]string{"run", "-d", "--name", name}, extra...)
	d.must(t, append(args, image, "/bin/sleep", "100000")...)
	return name
}

func TestDocker(t *testing.T) {
	d := startDocker(t)
	img := uniqueName("cgmon-busybox") + ":test"
	d.must(t, "import", busyboxTar(t), img)
	// A user-defined bridge: dockerd runs without its default one.
	network := uniqueName("cgmon-net")
	subnet := fmt.Sprintf("172.31.%d.0/24", 100+rand.IntN(150))
	d.must(t, "network", "create", "--driver", "bridge", "--subnet", subnet, network)
	t.Cleanup(func() { d.run("network", "rm", network) })
	name := d.start(t, img, "--network", network)
	hostNet := d.start(t, img, "--network", "host")
	run := func(args ...string) (string, error) { return d.run(append([]string{"exec", name}, args...)...) }
	id := d.must(t, "inspect", "-f", "{{.Id}}", name)
	ip := d.must(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+network+"\").IPAddress}}", name)
	started, err := time.Parse(time.RFC3339Nano, d.must(t, "inspect", "-f", "{{.State.StartedAt}}", name))
	if err != nil {
		t.Fatal(err)
	}

	r := newRig(t, identity.ResolverOptions{DockerRoot: d.root, DockerSocket: d.sock})
	s, c := r.await(t, "docker", name)
	if c.Path != "/docker/"+id || c.Container.ID != id || c.Container.State != "running" {
		t.Errorf("container %s: path %s, identity %+v", name, c.Path, c.Container)
	}
	if d := started.Sub(c.Container.StartedAt); d < -time.Second || d > time.Second {
		t.Errorf("started_at %s, docker says %s", c.Container.StartedAt, started)
	}
	if f := c.Filesystem; f == nil || f.Storage == nil || f.Storage.Path != d.root {
		t.Errorf("no storage filesystem at the data root %s: %+v", d.root, f)
	} else if want := testsvc.BlockDevice(t, d.root); f.Device != want {
		t.Errorf("root filesystem device %q, want %q: the device of the data root %s (overlay2's upper directories)", f.Device, want, d.root)
	}
	checkExport(t, s, name, c)

	checkAgentExport(t, identity.ResolverOptions{DockerRoot: d.root, DockerSocket: d.sock}, name)
	checkRunning(t, r, subject{
		runtime: "docker", name: name, hostNet: hostNet, ip: ip, port: 5003, run: run, slackKiB: execSlackKiB,
		listen: func() { d.must(t, "exec", "-d", name, "sh", "-c", "nc -l -p 5003 > /dev/null") },
		kill:   func() { d.must(t, "kill", name) },
	})
}
