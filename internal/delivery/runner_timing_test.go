package delivery

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/cgmon/cgmon/internal/model"
)

// nopSender accepts every batch at once.
type nopSender struct{ points atomic.Int64 }

func (s *nopSender) Send(_ context.Context, p [][]byte) error {
	s.points.Add(int64(len(p)))
	return nil
}
func (s *nopSender) Reset() {}

type fixedEncoder struct{ points [][]byte }

func (e fixedEncoder) Encode(*model.Snapshot) [][]byte { return e.points }

// BenchmarkRunner measures the runner's own cost per point (queueing and
// batching, no encoding, no network): snapshots of 1000 points in batches
// of 10, as cgtop_mon's default.
func BenchmarkRunner(b *testing.B) {
	snd := &nopSender{}
	r, err := New(Options{Name: "bench", Sender: snd, Encoder: fixedEncoder{points("p", 1000)}, MaxPendingPoints: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	c := make(chan *model.Snapshot)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, fakeSnaps{c: c}) }()
	snap := &model.Snapshot{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c <- snap
	}
	for r.Stats().PointsWritten < uint64(b.N)*1000 { // until the sender has sent everything
		runtime.Gosched()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "points/s")
	cancel()
	<-done
}
