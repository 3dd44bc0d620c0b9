package remote

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/remote/sshdtest"
	"github.com/cgmon/cgmon/internal/testcg"
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
	// or removed meanwhile may differ, no other.
	before := mustNext(t, local)
	r1 := mustNext(t, remote)
	after := mustNext(t, local)
	lb, la, rp := paths(before), paths(after), paths(r1)
	for p := range rp {
		if !lb[p] && !la[p] {
			t.Errorf("remote has %s, local never had", p)
		}
	}
	for p := range lb {
		if la[p] && !rp[p] {
			t.Errorf("local has %s before and after, remote not", p)
		}
	}
	if r1.Hostname != "127.0.0.1" || r1.CgroupMode != before.CgroupMode {
		t.Errorf("remote hostname %q mode %q, want 127.0.0.1 and %q", r1.Hostname, r1.CgroupMode, before.CgroupMode)
	}
	t.Logf("%d cgroups remote, %d/%d local; fetch %+v", len(rp), len(lb), len(la), remote.Root().LastFetch())

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
		if err := dial(t, opts); err == nil || !strings.Contains(err.Error(), "does not exist") {
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
