package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/model"
)

// fakeClock advances by every delay asked for, at once: backoff sequences
// run without sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	delays []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delays = append(c.delays, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) Delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.delays)
}

// fakeSender answers each Send with the next error the test feeds it and
// records what it was given.
type fakeSender struct {
	results chan error
	mu      sync.Mutex
	sent    [][]string // every batch tried
	ok      []string   // points of batches that succeeded
	resets  int
}

func newFakeSender() *fakeSender { return &fakeSender{results: make(chan error, 1000)} }

func (s *fakeSender) Send(ctx context.Context, points [][]byte) error {
	var batch []string
	for _, p := range points {
		batch = append(batch, string(p))
	}
	s.mu.Lock()
	s.sent = append(s.sent, batch)
	s.mu.Unlock()
	select {
	case err := <-s.results:
		if err == nil {
			s.mu.Lock()
			s.ok = append(s.ok, batch...)
			s.mu.Unlock()
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fakeSender) Reset() {
	s.mu.Lock()
	s.resets++
	s.mu.Unlock()
}

func (s *fakeSender) snapshot() (sent [][]string, ok []string, resets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent), slices.Clone(s.ok), s.resets
}

// nameEncoder makes one point per cgroup: its path.
type nameEncoder struct{}

func (nameEncoder) Encode(s *model.Snapshot) [][]byte {
	var out [][]byte
	for _, c := range s.Cgroups {
		out = append(out, []byte(c.Path))
	}
	return out
}

type fakeSnaps struct{ c chan *model.Snapshot }

func (f fakeSnaps) C() <-chan *model.Snapshot { return f.c }
func (f fakeSnaps) Missed() uint64            { return 0 }

// logRecorder keeps every log record's level and message.
type logRecorder struct {
	mu   sync.Mutex
	recs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var attrs []string
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
	l.mu.Lock()
	l.recs = append(l.recs, r.Level.String()+" "+r.Message+" "+strings.Join(attrs, " "))
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// count returns how many records start with prefix ("WARN write failed").
func (l *logRecorder) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (l *logRecorder) find(prefix string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if strings.HasPrefix(r, prefix) {
			return r
		}
	}
	return ""
}

type harness struct {
	t      *testing.T
	r      *Runner
	snd    *fakeSender
	clock  *fakeClock
	logs   *logRecorder
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, snd: newFakeSender(), clock: newFakeClock(), logs: &logRecorder{}, done: make(chan struct{})}
	opts.Name = "test"
	opts.Sender, opts.Encoder, opts.Clock = h.snd, nameEncoder{}, h.clock
	opts.Logger = slog.New(h.logs)
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 0.5 } // no jitter
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		r.Run(ctx, fakeSnaps{c: make(chan *model.Snapshot)})
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

func points(prefix string, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, "%s%03d", prefix, i))
	}
	return out
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var errDown = errors.New("connection refused")

func TestBackoffSequenceResetsAndSingleLogLines(t *testing.T) {
	h := start(t, Options{BatchSize: 10})
	for range 9 {
		h.snd.results <- errDown
	}
	h.snd.results <- nil
	h.r.Enqueue(points("p", 10))
	waitFor(t, "the batch to be written", func() bool { return h.r.Stats().PointsWritten == 10 })

	s := time.Second
	want := []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s, 60 * s}
	if got := h.clock.Delays(); !slices.Equal(got, want) {
		t.Errorf("backoff delays = %v, want %v", got, want)
	}
	sent, ok, resets := h.snd.snapshot()
	if len(sent) != 10 {
		t.Errorf("%d sends, want 10 (9 failures and the success)", len(sent))
	}
	for i := range sent {
		if !slices.Equal(sent[i], sent[0]) {
			t.Errorf("send %d was %v, want the same batch retried %v", i, sent[i], sent[0])
		}
	}
	if len(ok) != 10 {
		t.Errorf("%d points written, want 10", len(ok))
	}
	if resets != 3 {
		t.Errorf("%d client resets after 9 consecutive failures, want 3 (every %d)", resets, ResetAfter)
	}
	if n := h.logs.count("WARN write failed; entering degraded mode"); n != 1 {
		t.Errorf("%d degraded-mode warnings, want 1", n)
	}
	if n := h.logs.count("WARN"); n != 1 {
		t.Errorf("%d warnings in all, want 1:\n%s", n, strings.Join(h.logs.recs, "\n"))
	}
	rec := h.logs.find("INFO write recovered")
	if rec == "" || h.logs.count("INFO write recovered") != 1 {
		t.Fatalf("want one recovery message, got:\n%s", strings.Join(h.logs.recs, "\n"))
	}
	// The fake clock moved by the delays: the outage lasted their sum.
	if !strings.Contains(rec, "outage=4m3s") || !strings.Contains(rec, "dropped_points=0") || !strings.Contains(rec, "failures=9") {
		t.Errorf("recovery message %q: want outage=4m3s failures=9 dropped_points=0", rec)
	}
	st := h.r.Stats()
	if st.Degraded || st.ConsecutiveFailures != 0 || st.Failures != 9 || st.Requests != 10 || st.ClientResets != 3 {
		t.Errorf("stats after recovery: %+v", st)
	}
	if st.OutageSecondsTotal != 243 || st.LastError != "connection refused" {
		t.Errorf("outage total %v s, last error %q; want 243 s and the error", st.OutageSecondsTotal, st.LastError)
	}
}

func TestJitterBounds(t *testing.T) {
	for _, tc := range []struct {
		rand     float64
		n        int
		min, max time.Duration
	}{
		{0, 1, 800 * time.Millisecond, 800 * time.Millisecond},
		{0.999999, 1, 1199 * time.Millisecond, 1200 * time.Millisecond},
		{0, 4, 6400 * time.Millisecond, 6400 * time.Millisecond},
		{0.999999, 4, 9599 * time.Millisecond, 9600 * time.Millisecond},
		{0, 7, 48 * time.Second, 48 * time.Second},
		{0.999999, 7, MaxBackoff, MaxBackoff}, // never above the cap
		{0.999999, 100, MaxBackoff, MaxBackoff},
	} {
		r := &Runner{rand: func() float64 { return tc.rand }}
		if d := r.backoff(tc.n); d < tc.min || d > tc.max {
			t.Errorf("backoff(%d) with rand %v = %v, want %v…%v", tc.n, tc.rand, d, tc.min, tc.max)
		}
	}
	// The real source stays within ±20 % and the cap.
	r := &Runner{rand: func() float64 { return 0 }}
	for n := 1; n <= 10; n++ {
		nominal := min(InitialBackoff<<(n-1), MaxBackoff)
		for range 200 {
			r.rand = rand.Float64
			d := r.backoff(n)
			if d < time.Duration(float64(nominal)*0.8) || d > min(time.Duration(float64(nominal)*1.2), MaxBackoff) {
				t.Fatalf("backoff(%d) = %v outside ±20 %% of %v", n, d, nominal)
			}
		}
	}
}

func TestDropOldestCountsEveryLostPoint(t *testing.T) {
	h := start(t, Options{BatchSize: 2, MaxPendingPoints: 5})
	h.snd.results <- errDown // the first batch fails; the next Send waits for a result
	h.r.Enqueue(points("a", 2))
	waitFor(t, "degraded mode", func() bool { return h.r.Stats().Degraded })
	waitFor(t, "the retry to be under way", func() bool { s, _, _ := h.snd.snapshot(); return len(s) == 2 })
	h.r.Enqueue(points("b", 10)) // 2 in flight + 10 new, room for 5
	st := h.r.Stats()
	if st.PointsDropped != 7 || st.PointsQueued != 5 {
		t.Fatalf("dropped %d queued %d, want 7 dropped (oldest) and 5 queued", st.PointsDropped, st.PointsQueued)
	}
	for range 10 {
		h.snd.results <- nil
	}
	waitFor(t, "everything to be written", func() bool { return h.r.Stats().PointsQueued == 0 })
	_, ok, _ := h.snd.snapshot()
	want := []string{"a000", "a001", "b007", "b008", "b009"}
	if !slices.Equal(ok, want) {
		t.Errorf("written %v, want the batch in flight and the newest points %v", ok, want)
	}
	if n := h.logs.count("WARN backlog full"); n != 1 {
		t.Errorf("%d backlog-full warnings, want 1", n)
	}
	rec := h.logs.find("INFO write recovered")
	if !strings.Contains(rec, "dropped_points=7") {
		t.Errorf("recovery message %q lacks dropped_points=7", rec)
	}
	if st := h.r.Stats(); st.PointsWritten+st.PointsDropped != 12 {
		t.Errorf("written %d + dropped %d != 12 enqueued", st.PointsWritten, st.PointsDropped)
	}
}

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		degraded bool   // after the failure
		retried  bool   // the same batch is sent again
		log      string // the warning
	}{
		{"bad data drops the batch", Classify(BadData, errors.New("400 partial write")), false, false, "WARN the server rejected a batch as bad data"},
		{"auth keeps the data", Classify(Auth, errors.New("401 authorization failed")), true, true, "WARN write failed; entering degraded mode: the server refused the credentials"},
		{"config keeps the data", Classify(Config, errors.New("404 database not found")), true, true, "WARN write failed; entering degraded mode: the server says the target is wrong"},
		{"5xx retries", Classify(Retry, errors.New("503 service unavailable")), true, true, "WARN write failed; entering degraded mode: retrying"},
		{"network retries", errDown, true, true, "WARN write failed; entering degraded mode: retrying"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, Options{BatchSize: 3})
			h.snd.results <- tc.err
			h.r.Enqueue(points("x", 3))
			waitFor(t, "the first send", func() bool { return h.r.Stats().Requests == 1 })
			st := h.r.Stats()
			if st.Degraded != tc.degraded {
				t.Errorf("degraded = %v, want %v", st.Degraded, tc.degraded)
			}
			if h.logs.count(tc.log) != 1 {
				t.Errorf("want one %q, got:\n%s", tc.log, strings.Join(h.logs.recs, "\n"))
			}
			h.r.Enqueue(points("y", 3))
			h.snd.results <- nil
			h.snd.results <- nil
			waitFor(t, "the queue to empty", func() bool { return h.r.Stats().PointsQueued == 0 })
			_, ok, _ := h.snd.snapshot()
			st = h.r.Stats()
			if tc.retried {
				if len(ok) != 6 || st.PointsRejected != 0 {
					t.Errorf("written %v, rejected %d; want all 6 points written", ok, st.PointsRejected)
				}
			} else if len(ok) != 3 || ok[0] != "y000" || st.PointsRejected != 3 {
				t.Errorf("written %v, rejected %d; want only y*, 3 rejected", ok, st.PointsRejected)
			}
		})
	}
}

// A sender that never answers must not stop the runner from taking
// snapshots: the collector's channel is emptied at once.
func TestSlowSenderNeverBlocksIntake(t *testing.T) {
	snd := newFakeSender() // no results: every Send blocks until shutdown
	r, err := New(Options{Name: "slow", Sender: snd, Encoder: nameEncoder{}, MaxPendingPoints: 50, ShutdownTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := make(chan *model.Snapshot) // unbuffered: a send succeeds only when the runner takes it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, fakeSnaps{c: c}) }()
	snap := &model.Snapshot{Cgroups: []model.Cgroup{{Path: "/a"}, {Path: "/b"}}}
	for i := range 100 {
		select {
		case c <- snap:
		case <-time.After(5 * time.Second):
			t.Fatalf("snapshot %d not taken within 5 s while the sender hangs", i)
		}
	}
	// The last snapshot taken may still be being queued.
	waitFor(t, "200 points queued or dropped", func() bool { st := r.Stats(); return st.PointsQueued+int(st.PointsDropped) == 200 })
	if st := r.Stats(); st.PointsQueued != 50 || st.PointsDropped != 150 {
		t.Errorf("queued %d dropped %d, want 50 and 150", st.PointsQueued, st.PointsDropped)
	}
	cancel()
	<-done
	if st := r.Stats(); st.PointsDropped != 200 || st.PointsWritten != 0 {
		t.Errorf("after shutdown without a spool: dropped %d written %d, want 200 and 0", st.PointsDropped, st.PointsWritten)
	}
}

func TestShutdownFlushesWhatItCan(t *testing.T) {
	h := start(t, Options{BatchSize: 4})
	for range 10 {
		h.snd.results <- nil
	}
	// Points arrive and the context ends before the sender gets them all:
	// the flush sends the rest.
	h.r.Enqueue(points("s", 20))
	h.stop()
	if st := h.r.Stats(); st.PointsWritten != 20 || st.PointsDropped != 0 {
		t.Errorf("written %d dropped %d, want 20 and 0", st.PointsWritten, st.PointsDropped)
	}
}

func TestSpoolCarriesPointsAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	h := start(t, Options{BatchSize: 5, MaxPendingPoints: 10, SpoolDir: dir})
	h.snd.results <- errDown
	h.r.Enqueue(points("a", 5))
	waitFor(t, "degraded mode", func() bool { return h.r.Stats().Degraded })
	// While degraded, points go to disk, not to the 10-point memory backlog.
	for i := range 10 {
		h.r.Enqueue(points(fmt.Sprintf("b%02d-", i), 5))
	}
	waitFor(t, "the spool to hold everything", func() bool { return h.r.Stats().PointsSpooled == 55 })
	h.stop()
	st := h.r.Stats()
	if st.PointsDropped != 0 || st.PointsWritten != 0 {
		t.Fatalf("first run: dropped %d written %d, want 0 and 0", st.PointsDropped, st.PointsWritten)
	}

	h2 := start(t, Options{BatchSize: 5, MaxPendingPoints: 10, SpoolDir: dir})
	if got := h2.r.Stats().PointsSpooled; got != 55 {
		t.Fatalf("second run found %d spooled points, want 55", got)
	}
	for range 20 {
		h2.snd.results <- nil
	}
	h2.r.Enqueue(points("c", 5))
	waitFor(t, "everything to be written", func() bool { return h2.r.Stats().PointsWritten == 60 })
	_, ok, _ := h2.snd.snapshot()
	if ok[0] != "a000" || ok[len(ok)-1] != "c004" || len(ok) != 60 {
		t.Errorf("written %d points from %s to %s, want 60, oldest (spooled) first", len(ok), ok[0], ok[len(ok)-1])
	}
	if st := h2.r.Stats(); st.PointsSpooled != 0 || st.SpoolBytes != 0 {
		t.Errorf("spool not emptied: %+v", st)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "seg-*")); len(files) != 0 {
		t.Errorf("spool files left: %v", files)
	}
}

func TestSpoolDropsOldestWhenFull(t *testing.T) {
	dir := t.TempDir()
	h := start(t, Options{BatchSize: 10, SpoolDir: dir, SpoolMaxBytes: 16 << 10})
	h.snd.results <- errDown
	h.r.Enqueue(points("first", 10))
	waitFor(t, "degraded mode", func() bool { return h.r.Stats().Degraded })
	for i := range 200 {
		h.r.Enqueue(points(fmt.Sprintf("n%03d-", i), 10)) // 200 × 10 × ~13 bytes: about 26 KiB
	}
	st := h.r.Stats()
	if st.SpoolBytes > 16<<10+8<<10 || st.PointsDropped == 0 {
		t.Fatalf("spool %d bytes, %d dropped: want it bounded near 16 KiB with drops", st.SpoolBytes, st.PointsDropped)
	}
	h.stop()
	st = h.r.Stats()
	if int(st.PointsDropped)+st.PointsSpooled != 2010 {
		t.Errorf("dropped %d + spooled %d != 2010 enqueued", st.PointsDropped, st.PointsSpooled)
	}
	if h.logs.count("WARN spool full") != 1 {
		t.Errorf("want one spool-full warning")
	}
}

func TestSpoolTornTailIsSkipped(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	sp, err := openSpool(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := sp.append(points(fmt.Sprintf("r%d-", i), 4)); err != nil {
			t.Fatal(err)
		}
	}
	sp.close()
	files, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	if len(files) != 1 {
		t.Fatalf("segments %v, want 1", files)
	}
	full, _ := os.ReadFile(files[0])
	for _, tc := range []struct {
		name   string
		mangle func([]byte) []byte
		points int
	}{
		{"intact", func(b []byte) []byte { return b }, 12},
		{"cut inside the last record", func(b []byte) []byte { return b[:len(b)-3] }, 8},
		{"cut inside a header", func(b []byte) []byte { return b[:len(b)*2/3+2] }, 8},
		{"garbage appended", func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5) }, 12},
		{"a flipped byte in the second record", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }, 4},
		{"empty file", func([]byte) []byte { return nil }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, filepath.Base(files[0])), tc.mangle(slices.Clone(full)), 0o600); err != nil {
				t.Fatal(err)
			}
			sp, err := openSpool(d, 1<<20, log)
			if err != nil {
				t.Fatal(err)
			}
			if sp.points != tc.points {
				t.Errorf("%d points recovered, want %d", sp.points, tc.points)
			}
			if tc.points == 0 {
				return
			}
			_, pts, err := sp.readHead()
			if err != nil || len(pts) != tc.points || string(pts[0]) != "r0-000" {
				t.Errorf("readHead: %d points (%v), want %d from r0-000", len(pts), err, tc.points)
			}
			// New points go to a new segment after the torn one.
			if _, err := sp.append(points("new", 1)); err != nil {
				t.Fatal(err)
			}
			if len(sp.segs) != 2 {
				t.Errorf("%d segments, want 2", len(sp.segs))
			}
		})
	}
}

func TestSpoolIsForOneProcessAtATime(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	a, err := openSpool(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openSpool(dir, 1<<20, log); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second open: %v, want an in-use error", err)
	}
	a.close()
	b, err := openSpool(dir, 1<<20, log)
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	b.close()
}

func FuzzDecodeSegment(f *testing.F) {
	sp, err := openSpool(f.TempDir(), 1<<20, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	sp.append(points("p", 3))
	sp.append([][]byte{[]byte("x y=1i 1\n"), {}})
	sp.close()
	b, _ := os.ReadFile(sp.segs[0].path)
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pts, valid, n := decodeSegment(nil, b)
		if valid > int64(len(b)) || n != len(pts) {
			t.Fatalf("valid %d of %d bytes, %d points counted, %d returned", valid, len(b), n, len(pts))
		}
		// The valid prefix decodes to the same points on its own.
		again, v2, _ := decodeSegment(nil, b[:valid])
		if v2 != valid || len(again) != len(pts) {
			t.Fatalf("the valid prefix decodes differently")
		}
	})
}
