package container_test

import (
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/testsvc/podmantest"
)

// execSlackKiB is what podman and docker exec keep on disk while df runs.
const execSlackKiB = 64

func TestPodman(t *testing.T) {
	p := podmantest.New(t)
	img := p.Image(t, applets...)
	name := p.Start(t, img)
	hostNet := p.Start(t, img, "--network", "host")
	run := func(args ...string) (string, error) { return p.Run(append([]string{"exec", name}, args...)...) }
	ip := p.Must(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)
	id := p.Must(t, "inspect", "-f", "{{.Id}}", name)
	started, err := time.Parse(time.RFC3339Nano, p.Must(t, "inspect", "-f", "{{.State.StartedAt.Format \"2006-01-02T15:04:05.999999999Z07:00\"}}", name))
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
	p.Must(t, "pause", name)
	if c := find(r.next(t), "podman", name); c == nil || c.Container.State != "paused" {
		t.Errorf("paused container: %+v", c)
	}
	p.Must(t, "unpause", name)
	if c := find(r.next(t), "podman", name); c == nil || c.Container.State != "running" {
		t.Errorf("unpaused container: %+v", c)
	}

	checkAgentExport(t, identity.ResolverOptions{}, name)
	checkRunning(t, r, subject{
		runtime: "podman", name: name, hostNet: hostNet, ip: ip, port: 5002, run: run, slackKiB: execSlackKiB,
		listen: func() { p.Must(t, "exec", "-d", name, "sh", "-c", "nc -l -p 5002 > /dev/null") },
		kill:   func() { p.Must(t, "kill", name) },
	})
}
