package engine_test

import (
	"testing"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// TestHostView runs the engine on the v2 cgroup fixture with the host files
// read from the hostfs fixture through a separate Root, as a remote or
// prefixed host would be: every snapshot after the first has the host view
// with its checks.
func TestHostView(t *testing.T) {
	hostRoot, err := rootfs.New("../hostfs/testdata")
	if err != nil {
		t.Fatal(err)
	}
	defer hostRoot.Close()
	e, err := engine.New(engine.Options{Root: fixtures + "/v2", NoNames: true, Host: &engine.HostOptions{Root: hostRoot}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	first, err := e.Next()
	if err != nil {
		t.Fatal(err)
	}
	if first.Host == nil || first.Host.CPU.UtilizationPercent.OK || !first.Host.Memory.UsedPercent.OK {
		t.Fatalf("first snapshot: gauges and no rates wanted: %+v", first.Host)
	}
	second, err := e.Next()
	if err != nil {
		t.Fatal(err)
	}
	h := second.Host
	// The fixture's files do not change: rates are present and 0 (the CPU
	// split has no ticks to split, so it stays absent).
	if h == nil || !h.Memory.MajorFaultsPerSecond.OK || h.CPU.UtilizationPercent.OK || len(h.Checks) == 0 {
		t.Fatalf("second snapshot: %+v", h)
	}
	names := map[string]bool{}
	for _, c := range h.Checks {
		names[c.Name] = true
	}
	for _, n := range []string{"resources.cpu.run_queue", "resources.memory.utilization", "resources.storage.vda.utilization", "resources.network.eth0.errors"} {
		if !names[n] {
			t.Errorf("no check %s", n)
		}
	}
	if files := e.HostFiles(); len(files) < 15 {
		t.Errorf("HostFiles = %q", files)
	}
	// The cgroup snapshot is unchanged by the host view.
	if len(second.Cgroups) == 0 {
		t.Error("no cgroups")
	}
	plain, err := engine.New(engine.Options{Root: fixtures + "/v2", NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if s, _ := plain.Next(); s.Host != nil {
		t.Error("host view without HostOptions")
	}
}
