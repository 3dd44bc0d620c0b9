package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/engine"
)

const (
	fixtures = "../../testdata/roots"
	podID    = "ddf9ae9b9f6846c640b12473c3e3530289a8120953197bea1dbe6f7345a4e644"
	podPath  = "/machine.slice/libpod-" + podID + ".scope"
)

// TestContainerNamesFromPodmanStorage runs the engine on a copy of the real
// v2 capture with podman's container store beside it: the podman cgroup is
// named from containers.json by the resolver, off the hot path.
func TestContainerNamesFromPodmanStorage(t *testing.T) {
	root := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, "v2")+"/.", root).CombinedOutput(); err != nil {
		t.Fatalf("copy fixture: %v %s", err, out)
	}
	store := filepath.Join(root, "var/lib/containers/storage/overlay-containers")
	if err := os.MkdirAll(store, 0o755); err != nil {
		t.Fatal(err)
	}
	js := `[{"id":"` + podID + `","names":["web-frontend"],"image":"x","layer":"y"}]`
	if err := os.WriteFile(filepath.Join(store, "containers.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		s, err := e.Snapshot(ctx, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		c := s.Find(podPath)
		if c == nil || c.Container == nil {
			t.Fatalf("no podman container at %s", podPath)
		}
		if c.Container.Name == "web-frontend" {
			return
		}
	}
	t.Fatal("the container's name never came from containers.json")
}

func TestNoNames(t *testing.T) {
	e, err := engine.New(engine.Options{Root: filepath.Join(fixtures, "v2"), NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := e.Snapshot(context.Background(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Find(podPath); c == nil || c.Container == nil || c.Container.Name != "" {
		t.Fatalf("container %+v", c)
	}
}
