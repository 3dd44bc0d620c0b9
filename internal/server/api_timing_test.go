package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
)

// bigSnapshot returns a snapshot of n cgroups: copies of the v2 fixture's
// cgroups (with rates: the engine's second snapshot) under /bench-NNN.
func bigSnapshot(b *testing.B, n int) *model.Snapshot {
	b.Helper()
	e, err := engine.New(engine.Options{Root: fixture, NoNames: true})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Next(); err != nil {
		b.Fatal(err)
	}
	base, err := e.Next()
	if err != nil {
		b.Fatal(err)
	}
	big := *base
	big.Cgroups = make([]model.Cgroup, 0, n)
	for i := 0; len(big.Cgroups) < n; i++ {
		for _, c := range base.Cgroups {
			if len(big.Cgroups) == n {
				break
			}
			c.Path = "/bench-" + strconv.Itoa(i) + strings.TrimSuffix(c.Path, "/")
			c.Name, c.Prefix = model.SplitPath(c.Path)
			big.Cgroups = append(big.Cgroups, c)
		}
	}
	slices.SortFunc(big.Cgroups, func(a, b model.Cgroup) int { return strings.Compare(a.Path, b.Path) })
	return &big
}

// discard is a ResponseWriter that keeps nothing: the benchmarks measure
// the server's time, not a recorder's copying.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func benchRoute(b *testing.B, target string) {
	s := New(Options{Source: staticSource{snap: bigSnapshot(b, 1000)}})
	req := httptest.NewRequest("GET", target, nil)
	w := &discard{h: http.Header{}}
	s.ServeHTTP(w, req)
	b.SetBytes(int64(w.n))
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
