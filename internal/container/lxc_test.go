package container_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/testsvc"
)

// lxcContainer creates and starts a busybox LXC container, destroyed when
// the test ends. hostNet shares the host's network namespace
// (lxc.net.0.type = none).
func lxcContainer(t *testing.T, hostNet bool) string {
	t.Helper()
	testsvc.RequireRoot(t)
	create := testsvc.LookPath(t, "lxc-create", "lxc")
	testsvc.LookPath(t, "busybox", "busybox-static")
	name := uniqueName("cgmon-lxc")
	if out, err := testsvc.RunErr(time.Minute, create, "-t", "busybox", "-n", name); err != nil {
		testsvc.RunErr(time.Minute, "lxc-destroy", "-f", "-n", name)
		t.Fatalf("lxc-create: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := testsvc.RunErr(time.Minute, "lxc-destroy", "-f", "-n", name); err != nil {
			t.Errorf("lxc-destroy %s: %v\n%s", name, err, out)
		}
	})
	// The template's rcS runs udhcpc, which flushes the addresses of
	// eth0 before it asks for a lease: with the host's network namespace
	// that is the host's eth0 (it took this machine off the network), and
	// on lxcbr0 DHCP failed on a CI machine (no lease in 30 s) while it
	// works here. udhcpc goes; the container on lxcbr0 gets a static
	// address that LXC sets before init runs.
	rcS := "/var/lib/lxc/" + name + "/rootfs/etc/init.d/rcS"
	script, err := os.ReadFile(rcS)
	if err != nil {
		t.Fatal(err)
	}
	script = regexp.MustCompile(`(?m)^.*udhcpc.*$`).ReplaceAll(script, nil)
	if err := os.WriteFile(rcS, script, 0o744); err != nil {
		t.Fatal(err)
	}
	conf := "/var/lib/lxc/" + name + "/config"
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if hostNet {
		b = regexp.MustCompile(`(?m)^lxc\.net\.0\..*$`).ReplaceAll(b, nil)
		b = append(b, "\nlxc.net.0.type = none\n"...)
	} else {
		// dnsmasq pings an address before it leases it, so another
		// container on lxcbr0 does not get this one.
		b = fmt.Appendf(b, "\nlxc.net.0.ipv4.address = 10.0.3.%d/24\nlxc.net.0.ipv4.gateway = 10.0.3.1\n", 100+rand.IntN(150))
	}
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	testsvc.Run(t, time.Minute, "lxc-start", "-n", name)
	return name
}

func lxcExec(name string) execFunc {
	return func(args ...string) (string, error) {
		return testsvc.RunErr(30*time.Second, "lxc-attach", append([]string{"-n", name, "--"}, args...)...)
	}
}

func lxcIP(t *testing.T, name string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := testsvc.RunErr(10*time.Second, "lxc-info", "-n", name, "-iH")
		if ip := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]); ip != "" {
			return ip
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no IPv4 address 30 s after it started", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestLXC(t *testing.T) {
	testsvc.RequireRoot(t)
	lxcNet := testsvc.LookPath(t, "lxc-net", "lxc")
	// lxcbr0 and its dnsmasq; lxc-net fails saying so when they are up.
	if out, err := testsvc.RunErr(time.Minute, lxcNet, "start"); err != nil && !strings.Contains(out, "already running") {
		t.Fatalf("lxc-net start: %v\n%s", err, out)
	}
	name := lxcContainer(t, false)
	hostNet := lxcContainer(t, true)
	run := lxcExec(name)
	ip := lxcIP(t, name)

	r := newRig(t, identity.ResolverOptions{})
	s, c := r.await(t, "lxc", name)
	if c.Path != "/lxc.payload."+name || c.Container.ID != name || c.Container.State != "running" {
		t.Errorf("container %s: path %s, identity %+v", name, c.Path, c.Container)
	}
	if since := time.Since(c.Container.StartedAt); since < 0 || since > 2*time.Minute {
		t.Errorf("started_at %s is not the container's start", c.Container.StartedAt)
	}
	e := checkExport(t, s, name, c)
	t.Logf("export entry: %v", e)

	checkAgentExport(t, identity.ResolverOptions{}, name)
	checkRunning(t, r, subject{
		runtime: "lxc", name: name, hostNet: hostNet, ip: ip, port: 5001, run: run, slackKiB: 1,
		// lxc-attach stays in the foreground: the listener runs as a
		// child of the test until it ends or the container is stopped.
		listen: func() {
			testsvc.Start(t, "nc in "+name, "lxc-attach", "-n", name, "--", "sh", "-c", "nc -l -p 5001 > /dev/null")
		},
		kill: func() { testsvc.Run(t, time.Minute, "lxc-stop", "-k", "-n", name) },
	})
}

// TestLXCProxmoxLayout runs an LXC container as Proxmox VE does: named by
// a number (its VMID), in cgroup lxc/VMID with the payload in lxc/VMID/ns,
// and its hostname in /etc/pve/lxc/VMID.conf.
func TestLXCProxmoxLayout(t *testing.T) {
	testsvc.RequireRoot(t)
	create := testsvc.LookPath(t, "lxc-create", "lxc")
	testsvc.LookPath(t, "busybox", "busybox-static")
	vmid := strconv.Itoa(900000 + (os.Getpid()*7919+rand.IntN(1000))%99999)
	if out, err := testsvc.RunErr(time.Minute, create, "-t", "busybox", "-n", vmid); err != nil {
		testsvc.RunErr(time.Minute, "lxc-destroy", "-f", "-n", vmid)
		t.Fatalf("lxc-create: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := testsvc.RunErr(time.Minute, "lxc-destroy", "-f", "-n", vmid); err != nil {
			t.Errorf("lxc-destroy %s: %v\n%s", vmid, err, out)
		}
		// The parents Proxmox's layout made, when no other container uses them.
		for _, p := range []string{"lxc", "lxc.monitor"} {
			dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + p)
			for _, d := range dirs {
				os.Remove(d)
			}
		}
	})
	f, err := os.OpenFile("/var/lib/lxc/"+vmid+"/config", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "lxc.cgroup.dir.container = lxc/%s\nlxc.cgroup.dir.monitor = lxc.monitor/%s\nlxc.cgroup.dir.container.inner = ns\n", vmid, vmid)
	f.Close()
	writePVEConf(t, vmid, "arch: amd64\nhostname: web-"+vmid+"\nmemory: 512\n\n[snap1]\nhostname: old\n")
	testsvc.Run(t, time.Minute, "lxc-start", "-n", vmid)

	r := newRig(t, identity.ResolverOptions{})
	var s *model.Snapshot
	var c *model.Cgroup
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s, c = r.await(t, "lxc", vmid)
		if c.Container.Name != "" || time.Now().After(deadline) {
			break
		}
	}
	if c.Path != "/lxc/"+vmid || c.Container.ID != vmid || c.Container.Name != "web-"+vmid {
		t.Errorf("Proxmox container: path %s, identity %+v", c.Path, c.Container)
	}
	// The processes are in lxc/VMID/ns: counted with the container.
	checkProcesses(t, r, "lxc", vmid, lxcExec(vmid))
	if e := checkExport(t, s, vmid, c); e["container_id"] != vmid {
		t.Errorf("container_id %v, want the VMID %s", e["container_id"], vmid)
	}
}

// writePVEConf writes /etc/pve/lxc/VMID.conf, and removes it and the
// directories it had to make when the test ends.
func writePVEConf(t *testing.T, vmid, conf string) {
	t.Helper()
	var made []string
	for _, d := range []string{"/etc/pve", "/etc/pve/lxc"} {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			made = append(made, d)
		}
	}
	path := "/etc/pve/lxc/" + vmid + ".conf"
	t.Cleanup(func() {
		os.Remove(path)
		for _, d := range slices.Backward(made) {
			os.Remove(d)
		}
	})
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}
