package v2vm_test

import (
	"strings"
	"testing"

	"github.com/cgmon/cgmon/test/v2vm"
)

func TestGuestSmoke(t *testing.T) {
	log := v2vm.RunGuestTests(t, "./guesttest")
	// the guest tests must have run, not skipped
	for _, name := range []string{"TestCgroup2Root", "TestCgroupWithProcess"} {
		if !strings.Contains(log, "--- PASS: "+name) {
			t.Errorf("guest: no PASS line for %s", name)
		}
	}
	if strings.Contains(log, "V2VM-WORKLOAD-READY") {
		t.Error("the demo workload ran although RunGuestTests asks for a clean tree")
	}
}

func TestGuestTestRunFilter(t *testing.T) {
	log := v2vm.RunGuestTests(t, "./guesttest", "-test.run=^TestCgroup2Root$")
	if !strings.Contains(log, "--- PASS: TestCgroup2Root") || strings.Contains(log, "TestCgroupWithProcess") {
		t.Error("guest arguments were not passed to the test binary")
	}
}
