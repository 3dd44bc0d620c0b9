package proc

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
)

// Fixture processes in testdata/root/proc, copied from this project's
// machine (kernel 6.18, Debian 12):
const (
	pidOdd     = 1580 // /tmp/a b)c 1000: a copy of sleep whose name has a space and a ")"
	pidSleep   = 1581 // sleep 1000
	pidZombie  = 1583 // a sleep that exited and was not reaped
	pidThreads = 1642 // a Go program with 4 threads and 8 MiB touched
	pidKthread = 2    // kthreadd
)

// fixturePIDs are every process of the fixture root.
var fixturePIDs = []int{pidKthread, pidOdd, pidSleep, pidZombie, pidThreads}

// procFile returns a fixture process's file.
func procFile(t testing.TB, pid int, name string) []byte {
	t.Helper()
	return testdata(t, filepath.Join("root/proc", strconv.Itoa(pid), name))
}

// Shared with the other parser tests (internal/kerntext/kerntexttest).
var (
	testdata        = kerntexttest.Testdata
	checkErr        = kerntexttest.CheckErr
	checkParseError = kerntexttest.CheckParseError
	bench           = kerntexttest.Bench
)
