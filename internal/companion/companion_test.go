package companion

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/proc"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/server"
	"github.com/cgmon/cgmon/internal/testcg"
)

var client = &http.Client{Timeout: 40 * time.Second}

// live runs an engine, an agent (interval 1 s), a History and the server on
// 127.0.0.1:0 against the live host until the test ends, and returns the
// address once the agent has published a snapshot that satisfies ready
// (nil: any).
func live(t testing.TB, ready func(*model.Snapshot) bool) (addr string, h *History) {
	t.Helper()
	eng, err := engine.New(engine.Options{Root: "/", NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	ag, err := agent.New(agent.Options{Source: eng, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	h, err = New(Options{Root: root, Layout: eng.Collector().Layout(), Snapshots: ag})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Options{Source: ag, Interval: time.Second, Processes: h})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 3)
	go func() { ag.Run(ctx); done <- struct{}{} }()
	go func() { h.Run(ctx); done <- struct{}{} }()
	go func() { srv.Serve(ctx, ln); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s := ag.Latest(); s != nil && (ready == nil || ready(s)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no suitable snapshot 15 s after the agent started")
		}
	}
	return ln.Addr().String(), h
}

func get(t testing.TB, addr, path string) (int, []byte) {
	t.Helper()
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func has(path string) func(*model.Snapshot) bool {
	return func(s *model.Snapshot) bool { return s.Find(path) != nil }
}

func processesURL(cgroup, query string) string {
	u := "/api/v1.0" + (&url.URL{Path: cgroup}).EscapedPath() + "/processes"
	if query != "" {
		u += "?" + query
	}
	return u
}

func decode(t testing.TB, body []byte) []Entry {
	t.Helper()
	var es []Entry
	if err := json.Unmarshal(body, &es); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return es
}

// TestBusyFirst: a busy loop and a sleeper in a fresh cgroup; sort=cpu
// puts the busy loop first at ~100 % and the sleeper at ~0.
func TestBusyFirst(t *testing.T) {
	hc := testcg.Require(t)
	g := hc.NewGroup(t, "companion")
	g.SetCPUWeight(t, 10000) // other tests may keep every CPU busy
	busy := g.BusyLoop(t)
	sleeper := g.Sleepers(t, 1)[0]
	addr, _ := live(t, has(g.Path()))

	code, body := get(t, addr, processesURL(g.Path(), "sort=cpu&limit=2"))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	es := decode(t, body)
	if len(es) != 1 || len(es[0].Processes) != 2 {
		t.Fatalf("want 1 entry of 2 processes, got %s", body)
	}
	ps := es[0].Processes
	// testcg runs the command through exec: the PIDs are the commands'.
	if int(ps[0].Stat.Pid) != busy.Process.Pid || int(ps[1].Stat.Pid) != sleeper.Process.Pid {
		t.Fatalf("want busy %d then sleeper %d, got %d, %d", busy.Process.Pid, sleeper.Process.Pid, ps[0].Stat.Pid, ps[1].Stat.Pid)
	}
	if c := ps[0].RelativeCPUUsage; math.Abs(c-100) > 15 {
		t.Errorf("busy loop relativecpuusage %.1f, want 100 ± 15", c)
	}
	if c := ps[1].RelativeCPUUsage; c > 5 {
		t.Errorf("sleeper relativecpuusage %.1f, want ~0", c)
	}
	for _, p := range ps {
		if p.Cgroup != g.Path() {
			t.Errorf("pid %d: cgroup %q, want %q", p.Stat.Pid, p.Cgroup, g.Path())
		}
	}
	t.Logf("busy %.1f %%, sleeper %.1f %%", ps[0].RelativeCPUUsage, ps[1].RelativeCPUUsage)

	// sort=mem&limit=1 gives one process; no sort gives both, PID order.
	if _, body = get(t, addr, processesURL(g.Path(), "sort=mem")); len(decode(t, body)[0].Processes) != 1 {
		t.Errorf("sort=mem: want 1 process (limit defaults to 1): %s", body)
	}
	if _, body = get(t, addr, processesURL(g.Path(), "")); len(decode(t, body)[0].Processes) != 2 {
		t.Errorf("no sort: want every process: %s", body)
	}
}

// TestCountInterval: count=3&interval=1 gives three entries ~1 s apart,
// oldest first.
func TestCountInterval(t *testing.T) {
	hc := testcg.Require(t)
	g := hc.NewGroup(t, "count")
	g.Sleepers(t, 1)
	addr, _ := live(t, has(g.Path()))
	start := time.Now()
	code, body := get(t, addr, processesURL(g.Path(), "count=3&interval=1"))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	t.Logf("first request for an untracked cgroup answered in %s", time.Since(start).Round(time.Millisecond))
	es := decode(t, body)
	if len(es) != 3 {
		t.Fatalf("want 3 entries, got %d: %s", len(es), body)
	}
	var prev time.Time
	for i, e := range es {
		ts, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if d := ts.Sub(prev); d < 700*time.Millisecond || d > 1300*time.Millisecond {
				t.Errorf("entries %d and %d are %s apart, want 1 s ± 0.3 s", i-1, i, d)
			}
		}
		if len(e.Processes) != 1 {
			t.Errorf("entry %d: %d processes, want 1", i, len(e.Processes))
		}
		prev = ts
	}
	// Tracked now: a second request is answered from the history at once.
	start = time.Now()
	if code, body = get(t, addr, processesURL(g.Path(), "count=2&interval=1")); code != http.StatusOK || len(decode(t, body)) != 2 {
		t.Fatalf("second request: %d %s", code, body)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a tracked cgroup's answer took %s", d)
	}
}

// TestDockerNames: a cgroup named as Docker's systemd driver names its
// containers (docker-ID.scope) answers under cAdvisor's name /docker/ID,
// under the short ID and under its own path, with the same processes.
func TestDockerNames(t *testing.T) {
	hc := testcg.Require(t)
	var raw [32]byte
	crand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	g := hc.NewGroup(t, "docker-"+id+".scope")
	pid := g.Sleepers(t, 1)[0].Process.Pid
	addr, _ := live(t, has(g.Path()))
	for _, name := range []string{g.Path(), "/docker/" + id, "/docker/" + id[:12]} {
		code, body := get(t, addr, processesURL(name, ""))
		if code != http.StatusOK {
			t.Errorf("%s: status %d: %s", name, code, body)
			continue
		}
		es := decode(t, body)
		if len(es) != 1 || len(es[0].Processes) != 1 {
			t.Errorf("%s: want 1 entry of 1 process, got %s", name, body)
			continue
		}
		if p := es[0].Processes[0]; int(p.Stat.Pid) != pid || p.Cgroup != g.Path() {
			t.Errorf("%s: pid %d in %q, want the sleeper %d in %q", name, p.Stat.Pid, p.Cgroup, pid, g.Path())
		}
	}
	// Another ID is not found, even one sharing the short ID's length.
	other := strings.Repeat("0", 64)
	if id == other {
		other = strings.Repeat("1", 64)
	}
	if code, body := get(t, addr, processesURL("/docker/"+other, "")); code != http.StatusNotFound {
		t.Errorf("/docker/%s: status %d, want 404: %s", other, code, body)
	}
}

// TestGoneCgroup: a tracked cgroup that is removed answers 404 with a JSON
// error, within a few seconds, never a 500 or its old samples for good.
func TestGoneCgroup(t *testing.T) {
	hc := testcg.Require(t)
	var path, addr string
	t.Run("there", func(st *testing.T) {
		g := hc.NewGroup(st, "gone") // removed when this subtest ends
		g.Sleepers(st, 1)
		path = g.Path()
		addr, _ = live(t, has(path))
		if code, body := get(st, addr, processesURL(path, "count=2&interval=1")); code != http.StatusOK {
			st.Fatalf("status %d: %s", code, body)
		}
	})
	if addr == "" {
		t.Fatal("the cgroup was never served")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := get(t, addr, processesURL(path, ""))
		if code == http.StatusNotFound {
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Errorf("404 without a JSON error: %s", body)
			}
			t.Logf("%s", body)
			return
		}
		if code != http.StatusOK {
			t.Fatalf("status %d after the cgroup was removed, want 200 then 404: %s", code, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still 200 5 s after the cgroup was removed: %.300s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSeedShape checks every key of the seed's example response (made valid
// JSON in testdata) against our answer, with the same JSON type.
func TestSeedShape(t *testing.T) {
	hc := testcg.Require(t)
	g := hc.NewGroup(t, "shape")
	g.Sleepers(t, 1)
	addr, _ := live(t, has(g.Path()))

	seed, err := os.ReadFile("testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(seed, &want); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, addr, processesURL(g.Path(), "interval=1&count=1&sort=mem&limit=1"))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var got any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	sameShape(t, "$", want, got)
}

// sameShape reports each key of want missing from got, and each value whose
// JSON type differs. Arrays are compared element by element on the first
// element of want.
func sameShape(t *testing.T, at string, want, got any) {
	t.Helper()
	kind := func(v any) string { return fmt.Sprintf("%T", v) }
	if kind(want) != kind(got) {
		t.Errorf("%s: want a %s, got %s (%v)", at, kind(want), kind(got), got)
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s: no key %q", at, k)
				continue
			}
			sameShape(t, at+"."+k, wv, gv)
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 {
			if len(g) == 0 {
				t.Errorf("%s: empty array, want elements like %v", at, w[0])
				return
			}
			for i := range g {
				sameShape(t, fmt.Sprintf("%s[%d]", at, i), w[0], g[i])
			}
		}
	}
}

// TestBadRequests: bad queries give 400 and a JSON error saying what is
// allowed; unknown cgroups 404.
func TestBadRequests(t *testing.T) {
	hc := testcg.Require(t)
	g := hc.NewGroup(t, "bad")
	g.Sleepers(t, 1)
	addr, _ := live(t, has(g.Path()))
	for _, tc := range []struct {
		query string
		code  int
		say   string
	}{
		{"count=-1", 400, "1 to 60"},
		{"count=0", 400, "1 to 60"},
		{"count=61", 400, "1 to 60"},
		{"count=99999999999999999999", 400, "1 to 60"},
		{"count=abc", 400, "1 to 60"},
		{"count=1.5", 400, "1 to 60"},
		{"count=+1", 400, "1 to 60"},
		{"count=", 400, "1 to 60"},
		{"count=1&count=2", 400, "once"},
		{"interval=0", 400, "1 to 60"},
		{"interval=61", 400, "1 to 60"},
		{"count=7&interval=10", 400, "≤ 60"},
		{"sort=disk", 400, "cpu or mem"},
		{"sort=", 400, "cpu or mem"},
		{"limit=2", 400, "only with sort"},
		{"sort=cpu&limit=abc", 400, "1 to 10000"},
		{"sort=cpu&limit=0", 400, "1 to 10000"},
		{"sort=cpu&limit=10001", 400, "1 to 10000"},
		{"foo=1", 400, "allowed"},
		{"count=%zz", 400, "allowed"},
		{"sort=cpu&limit=10000", 200, ""},
		{"count=6&interval=10", 0, ""}, // valid; not waited for here
	} {
		if tc.code == 0 {
			if _, err := parseQuery(tc.query); err != nil {
				t.Errorf("%s: %v", tc.query, err)
			}
			continue
		}
		code, body := get(t, addr, processesURL(g.Path(), tc.query))
		if code != tc.code {
			t.Errorf("?%s: status %d, want %d: %s", tc.query, code, tc.code, body)
			continue
		}
		if tc.code == 200 {
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tc.say) {
			t.Errorf("?%s: want a JSON error saying %q, got %s (%v)", tc.query, tc.say, body, err)
		}
	}
	for _, p := range []string{"/no/such/cgroup", g.Path() + "-not", "/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		code, body := get(t, addr, processesURL(p, ""))
		var e struct{ Error string }
		if code != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s: want 404 with a JSON error, got %d %s", p, code, body)
		}
	}
}

// TestHistoryBounds: at most MaxTracked cgroups, the least recently
// requested dropped first.
func TestHistoryBounds(t *testing.T) {
	h := &History{wake: make(chan struct{}, 1), tracked: map[string]*track{}}
	for i := range MaxTracked + 3 {
		h.request(fmt.Sprintf("/g%d", i))
		time.Sleep(time.Millisecond)
	}
	// /g0, /g1, /g2 were dropped for /g16, /g17, /g18; /g0 tracked anew
	// drops /g3.
	h.request("/g0")
	got := h.Tracked()
	if len(got) != MaxTracked {
		t.Fatalf("%d tracked, want %d", len(got), MaxTracked)
	}
	for _, p := range got {
		if p == "/g1" || p == "/g2" || p == "/g3" {
			t.Errorf("%s is still tracked", p)
		}
	}
	// Expiry.
	h.mu.Lock()
	h.tracked["/g0"].lastReq = time.Now().Add(-TrackFor - time.Second)
	h.mu.Unlock()
	h.due(time.Now())
	if len(h.Tracked()) != MaxTracked-1 {
		t.Errorf("an expired cgroup is still tracked: %v", h.Tracked())
	}
}

// TestRingBound: a tracked cgroup keeps at most MaxSamples samples.
func TestRingBound(t *testing.T) {
	eng, err := engine.New(engine.Options{Root: "/", NoNames: true})
	if err != nil {
		t.Skip(err)
	}
	defer eng.Close()
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	h, err := New(Options{Root: root, Layout: eng.Collector().Layout(), Snapshots: &agent.Agent{}})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(self)), "\n")
	cg := lines[len(lines)-1][strings.LastIndexByte(lines[len(lines)-1], ':')+1:]
	tr := h.request(cg)
	var buf proc.Buffers
	for range MaxSamples + 5 {
		h.sample(tr, &buf)
	}
	if n := len(tr.samples); n != MaxSamples {
		t.Errorf("%d samples kept, want %d", n, MaxSamples)
	}
}

// TestBytesPerProcessSample measures what one process costs in one sample
// of the ring (the figure in MaxSamples's comment).
func TestBytesPerProcessSample(t *testing.T) {
	root, err := rootfs.New("/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	const n = 2000
	members := make([]proc.Member, n)
	for i := range members {
		members[i] = proc.Member{PID: os.Getpid(), Cgroup: "/some/cgroup"}
	}
	var buf proc.Buffers
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	ps, err := proc.ReadProcesses(root, members, files, &buf)
	if err != nil {
		t.Fatal(err)
	}
	s := &proc.Sample{Time: time.Now(), Processes: ps}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	per := float64(ms.HeapAlloc-before) / n
	runtime.KeepAlive(s)
	runtime.KeepAlive(&buf)
	t.Logf("%.0f bytes per process sample (sizeof proc.Process and its status text, cmdline %q): history ≤ %.1f MiB per process of a tracked cgroup",
		per, ps[0].Cmdline[:min(len(ps[0].Cmdline), 40)], per*MaxTracked*MaxSamples/(1<<20))
	if per > 4096 {
		t.Errorf("%.0f bytes per process sample; the MaxSamples comment says ~3.3 KiB", per)
	}
}

// BenchmarkServe1000 serves a cgroup of 1000 sleepers (every process, no
// sort) from the history, over real HTTP.
func BenchmarkServe1000(b *testing.B) {
	hc := testcg.Require(b)
	g := hc.NewGroup(b, "bench")
	g.Sleepers(b, 1000)
	addr, _ := live(b, has(g.Path()))
	u := processesURL(g.Path(), "count=1&interval=1")
	if code, body := get(b, addr, u); code != http.StatusOK || len(decode(b, body)[0].Processes) != 1000 {
		b.Fatalf("warm-up: %d, %d entries, %d processes", code, len(decode(b, body)), len(decode(b, body)[0].Processes))
	}
	var size int
	for b.Loop() {
		_, body := get(b, addr, u)
		size = len(body)
	}
	b.ReportMetric(float64(size), "bytes/answer")
}

// TestWaitStopsWithClient: a request waiting for samples stops when its
// context is done, and at its deadline.
func TestWaitStopsWithClient(t *testing.T) {
	h := &History{wake: make(chan struct{}, 1), tracked: map[string]*track{}}
	tr := h.request("/x") // Run is not running: no sample ever comes
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := h.samplesOf(ctx, tr, 2, time.Now().Add(time.Minute)); err == nil {
		t.Error("no error from a cancelled wait")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s after the client went away", d)
	}
	start = time.Now()
	h.samplesOf(context.Background(), tr, 2, time.Now().Add(100*time.Millisecond))
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s past a 100 ms deadline", d)
	}
}

func TestTrimKeepsTheWholeHistoryUnderBudget(t *testing.T) {
	h := &History{wake: make(chan struct{}, 1), tracked: map[string]*track{}}
	t0 := time.Unix(1000, 0)
	fill := func(name string, samples, procs int) *track {
		tr := &track{path: name}
		for i := range samples {
			tr.samples = append(tr.samples, &proc.Sample{Time: t0.Add(time.Duration(i) * time.Second), Processes: make([]proc.Process, procs)})
		}
		h.tracked[name] = tr
		return tr
	}
	big := fill("/big", MaxSamples, 300) // 18 300 process samples
	small := fill("/small", 5, 10)       // 50
	h.trim()
	if n := len(big.samples) * 300; n+50 > MaxStoredProcesses || n+50 <= MaxStoredProcesses-300 {
		t.Errorf("big keeps %d samples (%d process samples with small's 50), want the most that fit in %d", len(big.samples), n+50, MaxStoredProcesses)
	}
	if want := t0.Add(time.Duration(MaxSamples-len(big.samples)) * time.Second); !big.samples[0].Time.Equal(want) {
		t.Errorf("oldest kept sample at %v, want %v: the oldest go first", big.samples[0].Time, want)
	}
	if len(small.samples) != 5 {
		t.Errorf("the small cgroup lost samples: %d", len(small.samples))
	}
	huge := fill("/huge", 4, 20000)
	h.trim()
	if len(huge.samples) != 2 {
		t.Errorf("a cgroup over the whole budget keeps %d samples, want 2 (relativecpuusage needs two)", len(huge.samples))
	}
}
