package remote

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/host"
	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/remote/sshdtest"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/internal/testsvc"
)

func newHost(t *testing.T, opts HostOptions) *Host {
	t.Helper()
	h, err := NewHost(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func newLocal(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Options{ExcludedDevices: []string{}, NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustNext(t *testing.T, src agent.Source) *model.Snapshot {
	t.Helper()
	s, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func paths(s *model.Snapshot) map[string]bool {
	m := map[string]bool{}
	for _, c := range s.Cgroups {
		m[c.Path] = true
	}
	return m
}

// The loopback "remote" host over a real sshd, against local collection of
// the same host: the same cgroups, and the same figures for a cgroup with a
// known load.
func TestRemoteMatchesLocal(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "ssh")
	g.SetCPUQuota(t, 50000, 100000)
	g.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	g.BusyLoop(t)
	g.Sleepers(t, 3)
	g.WriteTmpfs(t, 16)
	d := sshdtest.Start(t)
	remote := newHost(t, HostOptions{Options: options(d), ExcludedDevices: []string{}})
	local := newLocal(t)

	// Local before, remote, local after: a cgroup that another test made
	// or removed meanwhile may differ, no other. A cgroup that lived only
	// while the remote host was read shows up as a difference too, so a
	// mismatch is tried again twice.
	var r1, before *model.Snapshot
	var diffs []string
	for range 3 {
		diffs = nil
		before = mustNext(t, local)
		r1 = mustNext(t, remote)
		after := mustNext(t, local)
		lb, la, rp := paths(before), paths(after), paths(r1)
		for p := range rp {
			if !lb[p] && !la[p] {
				diffs = append(diffs, "remote has "+p+", local never had")
			}
		}
		for p := range lb {
			if la[p] && !rp[p] {
				diffs = append(diffs, "local has "+p+" before and after, remote not")
			}
		}
		t.Logf("%d cgroups remote, %d/%d local; fetch %+v", len(rp), len(lb), len(la), remote.Root().LastFetch())
		if len(diffs) == 0 {
			break
		}
	}
	for _, d := range diffs {
		t.Error(d)
	}
	if r1.Hostname != "127.0.0.1" || r1.CgroupMode != before.CgroupMode {
		t.Errorf("remote hostname %q mode %q, want 127.0.0.1 and %q", r1.Hostname, r1.CgroupMode, before.CgroupMode)
	}

	time.Sleep(2 * time.Second)
	r2 := mustNext(t, remote)
	l2 := mustNext(t, local)
	rc, lc := r2.Find(g.Path()), l2.Find(g.Path())
	if rc == nil || lc == nil {
		t.Fatalf("test cgroup %s: remote %v local %v", g.Path(), rc != nil, lc != nil)
	}
	t.Logf("remote cpu %+v mem %+v tasks %+v", rc.CPU.Percent, rc.Memory.UsageBytes, rc.Tasks)
	t.Logf("local  cpu %+v mem %+v tasks %+v", lc.CPU.Percent, lc.Memory.UsageBytes, lc.Tasks)
	for name, p := range map[string]model.Float{"remote": rc.CPU.Percent, "local": lc.CPU.Percent} {
		if !p.OK || math.Abs(p.V-50) > 5 {
			t.Errorf("%s cpu = %+v %%, want 50 ± 5 (a busy loop under a 50%% quota)", name, p)
		}
	}
	if !rc.CPU.LimitCores.Set() || rc.CPU.LimitCores.V != 0.5 {
		t.Errorf("remote cpu limit = %+v, want 0.5", rc.CPU.LimitCores)
	}
	if rc.Tasks != lc.Tasks || !rc.Tasks.OK || rc.Tasks.V != 4 {
		t.Errorf("tasks remote %+v local %+v, want 4 (a busy loop and 3 sleepers)", rc.Tasks, lc.Tasks)
	}
	ru, lu := rc.Memory.UsageBytes, lc.Memory.UsageBytes
	if !ru.OK || !lu.OK || ru.V < 16<<20 || math.Abs(float64(ru.V)-float64(lu.V)) > 2<<20 {
		t.Errorf("memory usage remote %+v local %+v, want ≥ 16 MiB and within 2 MiB", ru, lu)
	}
	// Counters grow between the two reads; the remote one was read first.
	rt, lt := rc.CPU.UsageSecondsTotal, lc.CPU.UsageSecondsTotal
	if !rt.OK || !lt.OK || rt.V > lt.V || lt.V-rt.V > 0.5 {
		t.Errorf("cpu seconds remote %+v local %+v, want remote ≤ local within 0.5 s", rt, lt)
	}
	if got, want := r2.Find("/"), l2.Find("/"); got == nil || want == nil {
		t.Error("no root cgroup")
	}
}

func TestRemoteHostKeyPolicy(t *testing.T) {
	d := sshdtest.Start(t)
	dial := func(t *testing.T, opts Options) error {
		t.Helper()
		r, err := NewHostRoot(opts, Request{Files: []string{"/proc/loadavg"}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return r.Refresh(context.Background())
	}

	t.Run("known key", func(t *testing.T) {
		if err := dial(t, options(d)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("changed key refused", func(t *testing.T) {
		opts := options(d)
		opts.KnownHosts = d.Dir + "/known_hosts.changed"
		d.WriteKnownHosts(t, opts.KnownHosts, sshdtest.WriteKey(t, d.Dir+"/other_host_key"))
		for _, tofu := range []bool{false, true} {
			opts.TrustOnFirstUse = tofu
			err := dial(t, opts)
			if !errors.Is(err, ErrHostKeyChanged) || !strings.Contains(err.Error(), "refusing to connect") {
				t.Fatalf("tofu=%v: err = %v, want a refusal for a changed key", tofu, err)
			}
			t.Logf("tofu=%v: %v", tofu, err)
		}
		b, _ := os.ReadFile(opts.KnownHosts)
		if strings.Count(string(b), "\n") != 1 {
			t.Errorf("known_hosts changed by a refused key:\n%s", b)
		}
	})
	t.Run("only the server's other key known", func(t *testing.T) {
		// The server offers Ed25519 and RSA keys; known_hosts has the RSA
		// one. The client must ask for RSA, not call Ed25519 a change.
		opts := options(d)
		opts.KnownHosts = d.Dir + "/known_hosts.rsa"
		d.WriteKnownHosts(t, opts.KnownHosts, d.RSAHostKey)
		if err := dial(t, opts); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unknown key refused", func(t *testing.T) {
		opts := options(d)
		opts.KnownHosts = d.Dir + "/known_hosts.empty"
		if err := os.WriteFile(opts.KnownHosts, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		err := dial(t, opts)
		if !errors.Is(err, ErrHostKeyUnknown) {
			t.Fatalf("err = %v, want an unknown key refused", err)
		}
		t.Log(err)
		opts.KnownHosts = d.Dir + "/no/such/known_hosts"
		if err := dial(t, opts); !errors.Is(err, ErrHostKeyUnknown) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("missing known_hosts: err = %v", err)
		}
	})
	t.Run("trust on first use", func(t *testing.T) {
		opts := options(d)
		opts.KnownHosts = d.Dir + "/tofu/known_hosts"
		opts.TrustOnFirstUse = true
		if err := dial(t, opts); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(opts.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		// The appended line must be what a later connection checks, without
		// TOFU.
		opts.TrustOnFirstUse = false
		if err := dial(t, opts); err != nil {
			t.Fatalf("second connection with the trusted key: %v\n%s", err, b)
		}
		if !strings.Contains(string(b), "[127.0.0.1]:") || strings.Count(string(b), "\n") != 1 {
			t.Errorf("known_hosts after TOFU:\n%s", b)
		}
	})
	t.Run("wrong client key", func(t *testing.T) {
		opts := options(d)
		opts.KeyFile = d.Dir + "/stranger"
		sshdtest.WriteKey(t, opts.KeyFile)
		if err := dial(t, opts); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("err = %v, want an authentication failure", err)
		}
	})
}

// A remote host that hangs (its sshd stopped) does not delay local
// collection, and is read again once it answers.
func TestRemoteHangDoesNotDelayLocal(t *testing.T) {
	testcg.Require(t)
	d := sshdtest.Start(t)
	opts := options(d)
	opts.Timeout = time.Second
	remote := newHost(t, HostOptions{Options: opts})
	local := newLocal(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const interval = 200 * time.Millisecond
	la, err := agent.New(agent.Options{Source: local, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := agent.New(agent.Options{Source: remote, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	lsub := la.Subscribe("test")
	done := make(chan struct{}, 2)
	go func() { la.Run(ctx); done <- struct{}{} }()
	go func() { ra.Run(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()

	waitCycles := func(a *agent.Agent, n uint64, within time.Duration) bool {
		deadline := time.Now().Add(within)
		for a.Stats().Cycles < n {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(10 * time.Millisecond)
		}
		return true
	}
	if !waitCycles(ra, 2, 10*time.Second) {
		t.Fatalf("remote agent: %+v", ra.Stats())
	}

	d.SignalAll(t, syscall.SIGSTOP)
	t.Cleanup(func() { d.SignalAll(t, syscall.SIGCONT) })
	stopped := time.Now()
	for len(lsub.C()) > 0 {
		<-lsub.C()
	}
	var maxGap time.Duration
	last := time.Now()
	n := 0
	for time.Since(stopped) < 4*time.Second {
		select {
		case <-lsub.C():
			now := time.Now()
			maxGap = max(maxGap, now.Sub(last))
			last = now
			n++
		case <-time.After(3 * time.Second):
			t.Fatal("no local snapshot for 3 s while the remote host hangs")
		}
	}
	rs := ra.Stats()
	t.Logf("remote hung for 4 s: %d local cycles, largest gap %s, local last cycle %s; remote %+v",
		n, maxGap, la.Stats().LastDuration, rs)
	if maxGap > 3*interval {
		t.Errorf("local snapshots up to %s apart while the remote host hung, want ≤ %s", maxGap, 3*interval)
	}
	if n < 12 {
		t.Errorf("%d local cycles in 4 s at %s, want ≥ 12", n, interval)
	}
	if rs.Errors == 0 || !errors.Is(ra.LastError(), ErrBackingOff) && !strings.Contains(ra.LastError().Error(), "no answer within") {
		t.Errorf("remote agent while hung: %+v, want errors (timeout or backing off)", rs)
	}
	if rs.LastDuration > opts.Timeout+500*time.Millisecond {
		t.Errorf("a remote cycle took %s, want ≤ the timeout %s", rs.LastDuration, opts.Timeout)
	}

	d.SignalAll(t, syscall.SIGCONT)
	resumed := time.Now()
	c0 := ra.Stats().Cycles
	if !waitCycles(ra, c0+1, MaxBackoff/4+2*opts.Timeout) {
		t.Fatalf("remote host not read again %s after SIGCONT: %+v", time.Since(resumed), ra.Stats())
	}
	t.Logf("remote host read again %s after SIGCONT", time.Since(resumed).Round(time.Millisecond))
	if s := ra.Latest(); s == nil || s.Hostname != "127.0.0.1" || len(s.Cgroups) == 0 {
		t.Errorf("remote snapshot after recovery: %+v", s)
	}
}

func options(d *sshdtest.SSHD) Options {
	return Options{Address: d.Addr, KeyFile: d.ClientKey, KnownHosts: d.KnownHosts, Timeout: 5 * time.Second}
}

// The USE report's root over SSH serves what the local host has.
func TestUSERootMatchesLocal(t *testing.T) {
	d := sshdtest.Start(t)
	r, err := NewUSERoot(options(d))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	local, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/proc/sys/kernel/hostname", "/proc/self/mountinfo"} {
		want, _ := local.ReadFile(name)
		got, err := r.ReadFile(name)
		if err != nil || (name != "/proc/self/mountinfo" && string(got) != string(want)) || len(got) == 0 {
			t.Errorf("%s: remote %q, %v; local %q", name, prefix(got, 80), err, prefix(want, 80))
		}
	}
	// MemTotal does not change; the rest of meminfo does.
	memTotal := func(b []byte) string { line, _, _ := strings.Cut(string(b), "\n"); return line }
	lm, _ := local.ReadFile("/proc/meminfo")
	rm, err := r.ReadFile("/proc/meminfo")
	if err != nil || memTotal(rm) != memTotal(lm) {
		t.Errorf("meminfo: remote %q, %v; local %q", memTotal(rm), err, memTotal(lm))
	}
	// The errors leg's files: /proc/interrupts (its first line names the
	// CPUs), and the SCSI error counts of the disks that have one.
	li, _ := local.ReadFile("/proc/interrupts")
	ri, err := r.ReadFile("/proc/interrupts")
	if err != nil || memTotal(ri) != memTotal(li) || memTotal(li) == "" {
		t.Errorf("interrupts: remote %q, %v; local %q", memTotal(ri), err, memTotal(li))
	}
	disks, _ := local.ReadDir("/sys/block")
	for _, d := range disks {
		name := "/sys/block/" + d.Name() + "/device/ioerr_cnt"
		if _, lerr := local.ReadFile(name); lerr == nil {
			if _, err := r.ReadFile(name); err != nil {
				t.Errorf("%s: remote %v, local readable", name, err)
			}
		}
	}
	for _, dir := range []string{"/sys/class/net", "/sys/block", "/proc/pressure"} {
		le, lerr := local.ReadDir(dir)
		re, rerr := r.ReadDir(dir)
		if (lerr == nil) != (rerr == nil) || len(le) != len(re) {
			t.Errorf("ReadDir(%s): remote %d entries (%v), local %d (%v)", dir, len(re), rerr, len(le), lerr)
			continue
		}
		for i := range le {
			if le[i].Name() != re[i].Name() || le[i].Type() != re[i].Type() {
				t.Errorf("ReadDir(%s)[%d]: remote %s %v, local %s %v", dir, i, re[i].Name(), re[i].Type(), le[i].Name(), le[i].Type())
			}
		}
	}
	lt, _ := local.Readlink("/sys/class/net/lo")
	if rt, err := r.Readlink("/sys/class/net/lo"); err != nil || rt != lt {
		t.Errorf("Readlink lo: remote %q %v, local %q", rt, err, lt)
	}
	// A file the kernel refuses to read (a virtual NIC's speed: EINVAL) is
	// absent, as an error locally; never an empty value.
	if _, lerr := local.ReadFile("/sys/class/net/lo/speed"); lerr != nil {
		if b, err := r.ReadFile("/sys/class/net/lo/speed"); err == nil {
			t.Errorf("lo speed: remote %q, local error %v", b, lerr)
		}
	}
	// Filesystem space and inodes, through the reader of the USE figures:
	// the same filesystems as locally, the same size and inodes; free
	// space and inodes move as other tests write meanwhile.
	rfs, lfs := readFilesystems(t, r), readFilesystems(t, local)
	if len(lfs) == 0 {
		t.Log("no real filesystem in the local mount table: only their absence compared")
	}
	if len(rfs) != len(lfs) {
		t.Errorf("%d filesystems remote, %d local:\nremote %+v\nlocal  %+v", len(rfs), len(lfs), rfs, lfs)
	}
	for i := range min(len(rfs), len(lfs)) {
		rf, lf := rfs[i], lfs[i]
		t.Logf("remote %+v\nlocal  %+v", rf, lf)
		if rf.MountPoint != lf.MountPoint || rf.Device != lf.Device || rf.FSType != lf.FSType ||
			rf.SizeBytes != lf.SizeBytes || rf.Inodes != lf.Inodes || rf.SizeBytes == 0 {
			t.Errorf("filesystem %d: remote %+v, local %+v: want the same mount point, device, type, size and inodes", i, rf, lf)
		}
		if near := func(a, b, of uint64) bool { return max(a, b)-min(a, b) <= of/100 }; !near(rf.FreeBytes, lf.FreeBytes, lf.SizeBytes) ||
			!near(rf.AvailBytes, lf.AvailBytes, lf.SizeBytes) || !near(rf.InodesFree, lf.InodesFree, lf.Inodes) {
			t.Errorf("filesystem %s: free remote %d/%d bytes %d inodes, local %d/%d bytes %d inodes: want within 1 %%",
				lf.MountPoint, rf.FreeBytes, rf.AvailBytes, rf.InodesFree, lf.FreeBytes, lf.AvailBytes, lf.InodesFree)
		}
	}
	st := r.LastFetch()
	t.Logf("USE fetch: %d files, %d bytes, %s", st.Files, st.Bytes, st.Duration)
}

// readFilesystems reads the filesystem figures of root as the USE report
// does.
func readFilesystems(t *testing.T, root rootfs.Root) []hostfs.Filesystem {
	t.Helper()
	hr, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Close()
	var s hostfs.Sample
	if err := hr.Read(&s); err != nil {
		t.Fatalf("read %s: %v", root, err)
	}
	return s.Filesystems
}

// Authentication through ssh-agent (SSH_AUTH_SOCK), with no key file.
func TestRemoteAuthBySSHAgent(t *testing.T) {
	d := sshdtest.Start(t)
	agentBin := testsvc.LookPath(t, "ssh-agent", "openssh-client")
	addBin := testsvc.LookPath(t, "ssh-add", "openssh-client")
	sock := d.Dir + "/agent.sock"
	testsvc.Start(t, "ssh-agent", agentBin, "-D", "-a", sock)
	// The socket file appears at bind(), before listen(): wait until it
	// accepts a connection, or the first dial may be refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent does not accept connections on %s: %v", sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	opts := options(d)
	opts.KeyFile = ""
	t.Setenv("SSH_AUTH_SOCK", sock)
	r, err := NewHostRoot(opts, Request{Files: []string{"/proc/loadavg"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("empty agent: err = %v, want an authentication failure", err)
	}
	r.conn.retryAt = time.Time{} // no backoff wait in the test
	cmd := exec.Command(addBin, d.ClientKey)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadFile("/proc/loadavg"); err != nil || len(b) == 0 {
		t.Fatalf("loadavg over an agent-authenticated connection: %q %v", b, err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	r2, _ := NewHostRoot(opts, Request{})
	if err := r2.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Fatalf("no agent, no key: err = %v", err)
	}
}

// Closing a host ends a fetch that waits on it, so that cgmon stops at
// once even while a host hangs.
func TestRemoteCloseEndsAHungFetch(t *testing.T) {
	d := sshdtest.Start(t)
	opts := options(d)
	opts.Timeout = 30 * time.Second
	r, err := NewHostRoot(opts, Request{Files: []string{"/proc/loadavg"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.SignalAll(t, syscall.SIGSTOP)
	t.Cleanup(func() { d.SignalAll(t, syscall.SIGCONT) })
	errc := make(chan error, 1)
	go func() { errc <- r.Refresh(context.Background()) }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	r.Close()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("Refresh after Close: %v", err)
		}
		t.Logf("hung fetch ended %s after Close: %v", time.Since(start), err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a hung fetch within 5 s")
	}
	if err := r.Refresh(context.Background()); err == nil {
		t.Error("Refresh after Close succeeded")
	}
}

// A cgroup made between two cycles appears in the next remote snapshot,
// and one removed drops out, as locally.
func TestRemoteFollowsCgroupsMadeAndRemoved(t *testing.T) {
	h := testcg.Require(t)
	g := h.NewGroup(t, "churn")
	d := sshdtest.Start(t)
	remote := newHost(t, HostOptions{Options: options(d)})
	child := g.Path() + "/child"
	if s := mustNext(t, remote); s.Find(g.Path()) == nil || s.Find(child) != nil {
		t.Fatalf("first snapshot: group %v, child %v", s.Find(g.Path()) != nil, s.Find(child) != nil)
	}
	var dirs []string
	t.Cleanup(func() {
		for _, d := range dirs {
			os.Remove(d)
		}
	})
	for _, hi := range h.Hierarchies() {
		dir := g.Dir(hi.Name) + "/child"
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	s := mustNext(t, remote)
	c := s.Find(child)
	if c == nil || !c.Tasks.OK || c.Tasks.V != 0 {
		t.Fatalf("made cgroup in the next snapshot: %+v", c)
	}
	for _, dir := range dirs {
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
	}
	if s := mustNext(t, remote); s.Find(child) != nil || s.Find(g.Path()) == nil {
		t.Fatalf("after rmdir: child %v, group %v", s.Find(child) != nil, s.Find(g.Path()) != nil)
	}
}

// A host whose sshd is gone fails fast and then backs off: no cycle waits
// on it, and it is not dialled again before the backoff ends.
func TestRemoteDeadHostBacksOff(t *testing.T) {
	d := sshdtest.Start(t)
	remote := newHost(t, HostOptions{Options: options(d)})
	mustNext(t, remote)
	// Stop the listener and the open connection's processes.
	for _, pid := range sshdtest.Descendants(d.Proc.Cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	d.Proc.Kill()
	start := time.Now()
	_, err := remote.Next()
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("dead host: err %v after %s, want a quick failure", err, time.Since(start))
	}
	t.Logf("dead host: %v", err)
	start = time.Now()
	_, err = remote.Next()
	if !errors.Is(err, ErrBackingOff) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("right after a failure: err %v after %s, want ErrBackingOff at once", err, time.Since(start))
	}
	time.Sleep(MinBackoff)
	if _, err = remote.Next(); err == nil || errors.Is(err, ErrBackingOff) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("after the backoff: err %v, want a new attempt refused", err)
	}
	if _, err = remote.Next(); !errors.Is(err, ErrBackingOff) || remote.root.conn.backoff != 2*MinBackoff {
		t.Fatalf("after a second failure: err %v, backoff %s, want ErrBackingOff and %s", err, remote.root.conn.backoff, 2*MinBackoff)
	}
}
