package podmantest

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBusyboxTar reads the tarball back: the directories, busybox itself
// byte for byte, and a link for sh, sleep and each applet asked for.
func TestBusyboxTar(t *testing.T) {
	path := BusyboxTar(t, "nc", "df")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		entry := h.Name
		switch h.Typeflag {
		case tar.TypeSymlink:
			entry += " -> " + h.Linkname
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("%s: %s: %v", path, h.Name, err)
			}
			if len(b) == 0 || int64(len(b)) != h.Size || h.Mode&0o111 == 0 {
				t.Errorf("%s: %s: %d bytes of %d, mode %o", path, h.Name, len(b), h.Size, h.Mode)
			}
		}
		got = append(got, entry)
	}
	want := []string{
		"bin/", "dev/", "etc/", "proc/", "sys/", "tmp/",
		"bin/busybox",
		"bin/sh -> busybox", "bin/sleep -> busybox", "bin/nc -> busybox", "bin/df -> busybox",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s entries (-want +got):\n%s", path, diff)
	}
}

// TestCleanup starts a container in a subtest, checks that it runs with
// the image's shell and that it is gone once the subtest has ended (while
// its image is still there: podman rmi -f would remove it too); then the
// same for an image made in a subtest.
func TestCleanup(t *testing.T) {
	p := New(t)
	image := p.Image(t)
	var name string
	ok := t.Run("container", func(t *testing.T) {
		name = p.Start(t, image, "--network", "none")
		if got := p.Must(t, "inspect", "-f", "{{.State.Running}}", name); got != "true" {
			t.Errorf("container %s running: %s", name, got)
		}
		if got := p.Must(t, "exec", name, "sh", "-c", "echo ok"); got != "ok" {
			t.Errorf("sh inside %s: %q", name, got)
		}
	})
	if ok && exists(t, p, "container", name) {
		t.Errorf("container %s left after its test", name)
		p.Run("rm", "-f", "-t", "0", name) // not for the next run either
	}

	var image2 string
	ok = t.Run("image", func(t *testing.T) { image2 = p.Image(t) })
	if ok && exists(t, p, "image", image2) {
		t.Errorf("image %s left after its test", image2)
		p.Run("rmi", "-f", image2)
	}
}

// exists asks podman whether the container or image (kind) exists.
func exists(t *testing.T, p *Podman, kind, name string) bool {
	t.Helper()
	out, err := p.Run(kind, "exists", name)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ee) && ee.ExitCode() == 1: // podman's "no such"
		return false
	}
	t.Fatalf("podman %s exists %s: %v\n%s", kind, name, err, out)
	return false
}
