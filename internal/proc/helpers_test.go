package proc

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/kerntext"
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

// testdata returns the bytes of testdata/name.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// procFile returns a fixture process's file.
func procFile(t testing.TB, pid int, name string) []byte {
	t.Helper()
	return testdata(t, filepath.Join("root/proc", strconv.Itoa(pid), name))
}

// checkErr fails unless err wraps want and its message contains every part
// of msg. want nil means no error.
func checkErr(t *testing.T, err, want error, msg ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	var pe *cgroupfs.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *cgroupfs.ParseError", err, err)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not contain %q", err, m)
		}
	}
}

// checkParseError fails unless err is nil or a *cgroupfs.ParseError
// wrapping one of the sentinels, with its text capped.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *cgroupfs.ParseError
	if !errors.As(err, &pe) || !(errors.Is(err, cgroupfs.ErrSyntax) || errors.Is(err, cgroupfs.ErrRange) || errors.Is(err, cgroupfs.ErrMissing)) {
		t.Fatalf("error %v (%T) is not a *ParseError with a sentinel", err, err)
	}
	if len(pe.Text) > kerntext.MaxErrText {
		t.Fatalf("error text is %d bytes long", len(pe.Text))
	}
	_ = err.Error()
}
