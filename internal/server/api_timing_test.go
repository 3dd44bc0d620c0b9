package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/snaptest"
)

// bigSnapshot returns a snapshot of n cgroups: copies of the v2 fixture's
// cgroups (with rates: the engine's second snapshot) under /bench-NNN.
func bigSnapshot(b *testing.B, n int) *model.Snapshot {
	b.Helper()
	return snaptest.Replicate(snaptest.Fixture(b, fixture), n)
}

func benchRoute(b *testing.B, target string) {
	s := New(Options{Source: staticSource{snap: bigSnapshot(b, 1000)}})
	req := httptest.NewRequest("GET", target, nil)
	w := snaptest.NewDiscard()
	s.ServeHTTP(w, req)
	b.SetBytes(int64(w.N))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.ServeHTTP(w, req)
	}
}

// BenchmarkAPICgroups serves /api/v1/cgroups for 1000 cgroups (about a
// megabyte of JSON) in the handler, without the network.
func BenchmarkAPICgroups(b *testing.B) { benchRoute(b, "/api/v1/cgroups") }

// BenchmarkAPICgroupsFiltered adds a group filter that keeps 1 cgroup in 17.
func BenchmarkAPICgroupsFiltered(b *testing.B) {
	benchRoute(b, "/api/v1/cgroups?include=demo.service")
}

// BenchmarkAPICgroup serves one cgroup out of 1000.
func BenchmarkAPICgroup(b *testing.B) {
	benchRoute(b, "/api/v1/cgroups/bench-42/machine.slice/libpod-ddf9ae9b9f6846c640b12473c3e3530289a8120953197bea1dbe6f7345a4e644.scope")
}

// BenchmarkAPICgroupsHTTP is BenchmarkAPICgroups over a loopback connection,
// client included.
func BenchmarkAPICgroupsHTTP(b *testing.B) {
	addr := serve(b, New(Options{Source: staticSource{snap: bigSnapshot(b, 1000)}}))
	c := &http.Client{Transport: &http.Transport{}}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get("http://" + addr + "/api/v1/cgroups")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
		b.SetBytes(n)
	}
}
