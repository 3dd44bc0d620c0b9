// Package podmantest runs real Podman containers for integration tests:
// podman with a containers.conf of the test's own (through CONTAINERS_CONF,
// so the machine's does not matter), a local busybox image built from a
// tarball (no registry), and sleeping containers, each removed when the
// test ends, even on failure. Tests skip (or fail under CGMON_TEST_REQUIRE=1)
// when they are not root or podman, runc, netavark or a static busybox is
// missing; scripts/setup-containers.sh installs them.
package podmantest

import (
	"archive/tar"
	"debug/elf"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testsvc"
)

// conf is the containers.conf the tests run Podman with: runc (crun fails
// on this hybrid cgroup layout), cgroupfs (no systemd), events in a file
// (no journald), netavark, and ulimits inside what this host allows.
const conf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"

[network]
network_backend = "netavark"
`

// netavark is where Debian's netavark package puts the network backend
// podman looks for.
const netavark = "/usr/lib/podman/netavark"

// timeout bounds one podman command: an import or a first run on a loaded
// machine takes seconds, a hung one must not hold the test forever.
const timeout = 2 * time.Minute

// Podman runs the podman CLI with the test's containers.conf.
type Podman struct {
	bin, conf string
}

// New checks for root, podman, runc and netavark, skipping t when one is
// missing, and writes the containers.conf in t's temp directory.
func New(t testing.TB) *Podman {
	t.Helper()
	testsvc.RequireRoot(t)
	p := &Podman{bin: testsvc.LookPath(t, "podman", "podman")}
	testsvc.LookPath(t, "runc", "runc")
	if _, err := os.Stat(netavark); err != nil {
		testsvc.Skip(t, "netavark not found: apt-get install netavark (scripts/test.sh does)")
	}
	p.conf = filepath.Join(t.TempDir(), "containers.conf")
	if err := os.WriteFile(p.conf, []byte(conf), 0o644); err != nil {
		t.Fatalf("podmantest: %v", err)
	}
	return p
}

// Run runs podman with args and returns its combined output.
func (p *Podman) Run(args ...string) (string, error) {
	// testsvc.RunErr has no environment parameter; env(1) sets it.
	return testsvc.RunErr(timeout, "env", append([]string{"CONTAINERS_CONF=" + p.conf, p.bin}, args...)...)
}

// Must runs podman with args and returns its output without the
// surrounding white space; an error fails t with the output.
func (p *Podman) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := p.Run(args...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// Image imports BusyboxTar(t, applets...) as a local image and returns its
// reference; the image is removed when t ends.
func (p *Podman) Image(t testing.TB, applets ...string) string {
	t.Helper()
	ref := "localhost/" + UniqueName("cgmon-busybox") + ":test"
	p.Must(t, "import", BusyboxTar(t, applets...), ref)
	t.Cleanup(func() {
		if out, err := p.Run("rmi", "-f", ref); err != nil {
			t.Errorf("podman rmi %s: %v\n%s", ref, err, out)
		}
	})
	return ref
}

// Start runs a container of image that sleeps, with extra podman run
// options (such as "--network", "host"), and returns its name. The
// container is removed when t ends, before an image made earlier by Image.
func (p *Podman) Start(t testing.TB, image string, extra ...string) string {
	t.Helper()
	name := UniqueName("cgmon-podman")
	// Registered before the run: a container created but not started is
	// removed too.
	t.Cleanup(func() {
		if out, err := p.Run("rm", "-f", "-t", "0", name); err != nil {
			t.Errorf("podman rm %s: %v\n%s", name, err, out)
		}
	})
	args := append([]string{"run", "-d", "--name", name}, extra...)
	p.Must(t, append(args, image, "/bin/sleep", "100000")...)
	return name
}

// BusyboxTar writes, in t's temp directory, a root filesystem tarball
// holding only the static busybox, the links sh and sleep to it plus one
// for each of applets, and the empty directories a runtime mounts on; it
// returns the tarball's path. Podman and Docker import it as an image.
func BusyboxTar(t testing.TB, applets ...string) string {
	t.Helper()
	bb := testsvc.LookPath(t, "busybox", "busybox-static")
	// A dynamic busybox would find no libc in the image and every
	// container would fail to start with a puzzling error.
	if f, err := elf.Open(bb); err == nil {
		dynamic := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		f.Close()
		if dynamic {
			testsvc.Skip(t, "%s is dynamically linked: apt-get install busybox-static", bb)
		}
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatalf("podmantest: %v", err)
	}
	headers := []*tar.Header{}
	for _, d := range []string{"bin", "dev", "etc", "proc", "sys", "tmp"} {
		headers = append(headers, &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755})
	}
	headers = append(headers, &tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(b))})
	for _, applet := range append([]string{"sh", "sleep"}, applets...) {
		headers = append(headers, &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777})
	}

	path := filepath.Join(t.TempDir(), "busybox-rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("podmantest: %v", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, h := range headers {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("podmantest: %s: %s: %v", path, h.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(b); err != nil {
				t.Fatalf("podmantest: %s: %s: %v", path, h.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("podmantest: %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("podmantest: %s: %v", path, err)
	}
	return path
}

// UniqueName is a container or image name no other test run uses: prefix,
// the test binary's pid and a random number.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%04x", prefix, os.Getpid(), rand.IntN(1<<16))
}
