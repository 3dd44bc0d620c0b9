package container_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/sink/jsonexport"
	"github.com/cgmon/cgmon/internal/sink/jsonexport/jsonexporttest"
	"github.com/cgmon/cgmon/internal/testsvc/podmantest"
)

// uniqueName is a container name no other test run uses: pid + random.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%04x", prefix, os.Getpid(), rand.IntN(1<<16))
}

// syncLog is a log buffer safe for the engine's workers and the test.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rig is an engine with the container figures on, on the live host.
type rig struct {
	e   *engine.Engine
	log *syncLog
}

func newRig(t *testing.T, res identity.ResolverOptions) *rig {
	t.Helper()
	co := container.DefaultOptions()
	r := &rig{log: &syncLog{}}
	e, err := engine.New(engine.Options{
		Containers: &co,
		Resolver:   res,
		Logger:     slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	r.e = e
	return r
}

func (r *rig) next(t *testing.T) *model.Snapshot {
	t.Helper()
	s, err := r.e.Next()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// find returns the running container's own cgroup with this name.
func find(s *model.Snapshot, runtime, name string) *model.Cgroup {
	for i := range s.Cgroups {
		c := &s.Cgroups[i]
		k := c.Container
		if k == nil || k.Role != "container" || k.Runtime != runtime {
			continue
		}
		if k.Name == name || (runtime == "lxc" && k.ID == name) {
			return c
		}
	}
	return nil
}

// await reads snapshots until the container shows up by name with its
// container figures (names come from the resolver a cycle or two late).
func (r *rig) await(t *testing.T, runtime, name string) (*model.Snapshot, *model.Cgroup) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := r.next(t)
		if c := find(s, runtime, name); c != nil && c.Processes.OK && c.CPU.Percent.OK {
			return s, c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s container %s not in the snapshot after 20 s; log:\n%s", runtime, name, r.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// applets are the busybox commands the tests run inside containers,
// besides sh and sleep.
var applets = []string{"ps", "df", "nc", "cat", "ip", "wc"}

// busyboxTar builds the root filesystem tarball the Docker test imports:
// the same as the Podman test's image.
func busyboxTar(t *testing.T) string {
	t.Helper()
	return podmantest.BusyboxTar(t, applets...)
}

// exec runs a command inside the container, for the runtime's CLI.
type execFunc func(args ...string) (string, error)

// df returns used and total KiB of / as busybox df shows them inside.
func df(t *testing.T, run execFunc) (total, used uint64) {
	t.Helper()
	out, err := run("df", "-k", "/")
	if err != nil {
		t.Fatalf("df inside: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 4 {
		t.Fatalf("df output: %q", out)
	}
	total, _ = strconv.ParseUint(f[1], 10, 64)
	used, _ = strconv.ParseUint(f[2], 10, 64)
	return total, used
}

// checkFilesystem compares the root filesystem with df inside. The root is
// the host's disk (LXC's dir backend) or an overlay on it, where other
// processes write all the time, so df is run before and after the snapshot
// and cgmon's used must lie between the two, give or take slackKiB: 1 for
// df's rounding down to whole KiB, and for podman and docker exec the
// session files (exit, pid, log: 4 KiB blocks) the runtime keeps on the
// same disk while df runs and removes when it ends, which the snapshot
// between two execs does not see. A few tries ride out a deletion in
// between.
func checkFilesystem(t *testing.T, r *rig, runtime, name string, run execFunc, slackKiB uint64) {
	t.Helper()
	var last string
	for range 5 {
		total1, used1 := df(t, run)
		s := r.next(t)
		total2, used2 := df(t, run)
		c := find(s, runtime, name)
		if c == nil || c.Filesystem == nil {
			t.Fatalf("%s: no filesystem figures", name)
		}
		f := c.Filesystem
		lo, hi := min(used1, used2), max(used1, used2)
		gotTotal, gotUsed := f.TotalBytes/1024, f.UsedBytes/1024
		if total1 == total2 && gotTotal == total1 && gotUsed+slackKiB >= lo && gotUsed <= hi+slackKiB {
			t.Logf("%s filesystem: total %d KiB, used %d KiB (df: %d..%d KiB)", name, gotTotal, gotUsed, used1, used2)
			return
		}
		last = fmt.Sprintf("cgmon total %d used %d KiB; df total %d/%d used %d..%d KiB", gotTotal, gotUsed, total1, total2, used1, used2)
	}
	t.Errorf("%s filesystem differs from df inside: %s", name, last)
}

// checkProcesses compares the process count with ps inside (less its
// header and ps itself), read between two snapshots that agree, and
// returns it.
func checkProcesses(t *testing.T, r *rig, runtime, name string, run execFunc) uint64 {
	t.Helper()
	var last string
	for range 5 {
		a := find(r.next(t), runtime, name)
		out, err := run("ps")
		if err != nil {
			t.Fatalf("ps inside: %v\n%s", err, out)
		}
		b := find(r.next(t), runtime, name)
		inside := uint64(strings.Count(strings.TrimSpace(out), "\n") - 1) // header, and ps itself
		if a != nil && b != nil && a.Processes == b.Processes && a.Processes.V == inside {
			t.Logf("%s: %d processes, as ps inside", name, inside)
			return inside
		}
		last = fmt.Sprintf("cgmon %v then %v, ps inside %d:\n%s", a.Processes, b.Processes, inside, out)
	}
	t.Errorf("%s process count: %s", name, last)
	return 0
}

// checkNetwork sends n bytes over TCP to a listener inside the container and
// wants the container's received bytes to grow by at least n.
func checkNetwork(t *testing.T, r *rig, runtime, name, ip string, port int) {
	t.Helper()
	const n = 1 << 20
	before := find(r.next(t), runtime, name)
	if before == nil || before.Network == nil || before.Network.HostNetwork || !before.Network.RxBytesTotal.OK {
		t.Fatalf("%s: no network figures: %+v", name, before)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err = net.DialTimeout("tcp", addr, time.Second); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connect to %s in %s: %v", addr, name, err)
	}
	w := bufio.NewWriter(conn)
	if _, err := io.CopyN(w, zeros{}, n); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	conn.Close()
	time.Sleep(300 * time.Millisecond)
	after := find(r.next(t), runtime, name)
	got := after.Network.RxBytesTotal.V - before.Network.RxBytesTotal.V
	if got < n {
		t.Errorf("%s received %d bytes while %d were sent to it", name, got, n)
	}
	if !after.Network.RxBytesPerSecond.OK || after.Network.RxBytesPerSecond.V <= 0 {
		t.Errorf("%s: no receive rate: %+v", name, after.Network.RxBytesPerSecond)
	}
	t.Logf("%s: sent %d bytes, rx_bytes_total grew by %d", name, n, got)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// checkHostNetwork wants a host-network container flagged, with no traffic.
func checkHostNetwork(t *testing.T, c *model.Cgroup) {
	t.Helper()
	n := c.Network
	if n == nil || !n.HostNetwork || n.RxBytesTotal.OK || n.TxBytesTotal.OK || n.Interfaces != nil {
		t.Errorf("host-network container %s: network %+v, want host_network and no counters", c.Path, n)
	}
}

// checkExport writes the snapshot with the JSON export and checks the
// file against the seed's shape and the container's figures.
func checkExport(t *testing.T, s *model.Snapshot, id string, c *model.Cgroup) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lxc_metrics.json")
	x, err := jsonexport.New(jsonexport.Options{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Add(s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := jsonexporttest.Shape(b)
	if err != nil {
		t.Fatalf("export is not the seed's shape: %v\n%s", err, b)
	}
	i := slices.IndexFunc(entries, func(e map[string]any) bool { return e["container_id"] == id })
	if i < 0 {
		t.Fatalf("no entry with container_id %q in\n%s", id, b)
	}
	e := entries[i]
	if e["process_count"] != float64(c.Processes.V) {
		t.Errorf("export process_count %v, snapshot %d", e["process_count"], c.Processes.V)
	}
	return e
}

// checkKilledMidCycle reads snapshots as fast as it can while kill stops
// the container: the container must leave the snapshot and nothing may be
// logged at warning level or above.
func checkKilledMidCycle(t *testing.T, r *rig, runtime, name string, kill func()) {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := r.e.Next(); err != nil {
				t.Errorf("cycle failed while %s was killed: %v", name, err)
				return
			}
			n++
		}
	}()
	time.Sleep(100 * time.Millisecond)
	kill()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	cycles := <-done
	deadline := time.Now().Add(15 * time.Second)
	for find(r.next(t), runtime, name) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s still in the snapshot 15 s after it was killed", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs := r.log.String()
	if strings.Contains(logs, "level=WARN") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("warnings while %s was killed:\n%s", name, logs)
	}
	st, _ := r.e.Containers()
	t.Logf("%s killed during %d back-to-back cycles; enricher: %+v", name, cycles, st)
}

// subject is a running container under test, with a second one of the same
// runtime in the host's network namespace.
type subject struct {
	runtime, name, hostNet string
	ip                     string
	port                   int
	run                    execFunc
	listen                 func() // starts "nc -l -p port" inside
	slackKiB               uint64 // see checkFilesystem
	kill                   func()
}

// checkRunning runs the checks every runtime must pass, the kill last.
func checkRunning(t *testing.T, r *rig, c subject) {
	t.Helper()
	c.listen()
	checkNetwork(t, r, c.runtime, c.name, c.ip, c.port)
	checkFilesystem(t, r, c.runtime, c.name, c.run, c.slackKiB)
	// Two more processes than the container started with, left running
	// after the exec that started them ends.
	if out, err := c.run("sh", "-c", "sleep 1001 </dev/null >/dev/null 2>&1 & sleep 1002 </dev/null >/dev/null 2>&1 &"); err != nil {
		t.Fatalf("start sleeps in %s: %v\n%s", c.name, err, out)
	}
	if n := checkProcesses(t, r, c.runtime, c.name, c.run); n < 3 {
		t.Errorf("%s: %d processes, want at least the init and two sleeps", c.name, n)
	}
	_, hc := r.await(t, c.runtime, c.hostNet)
	checkHostNetwork(t, hc)
	checkKilledMidCycle(t, r, c.runtime, c.name, c.kill)
}

// checkAgentExport runs the whole pipeline as `cgmon run` does — an engine
// with the container figures, the agent, the JSON export subscribed to it —
// until the export file holds an entry for the container.
func checkAgentExport(t *testing.T, res identity.ResolverOptions, id string) {
	t.Helper()
	r := newRig(t, res)
	ag, err := agent.New(agent.Options{Source: r.e, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "lxc_metrics.json")
	done, err := jsonexport.Start(ctx, jsonexport.Options{Path: path}, ag, nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- ag.Run(ctx) }()
	defer func() { cancel(); <-ran; <-done }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if len(b) > 0 {
			entries, err := jsonexporttest.Shape(b)
			if err != nil {
				t.Fatalf("export written by the agent: %v\n%s", err, b)
			}
			if slices.ContainsFunc(entries, func(e map[string]any) bool { return e["container_id"] == id }) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no entry for %s in the agent's export after 20 s:\n%s\nlog:\n%s", id, b, r.log.String())
		}
	}
}
