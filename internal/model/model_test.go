package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/identity"
	"github.com/cgmon/cgmon/internal/sample"
)

func TestRates(t *testing.T) {
	sec := time.Second
	some := sample.Some
	tests := []struct {
		name      string
		prev, cur sample.Cgroup
		elapsed   time.Duration
		check     func(t *testing.T, r CgroupRates)
	}{
		{
			name:    "one CPU fully used is 100 percent",
			prev:    sample.Cgroup{CPU: sample.CPU{UsageNs: some(1e9), UserNs: some(4e8), SystemNs: some(1e8)}},
			cur:     sample.Cgroup{CPU: sample.CPU{UsageNs: some(3e9), UserNs: some(19e8), SystemNs: some(6e8)}},
			elapsed: 2 * sec,
			check: func(t *testing.T, r CgroupRates) {
				want := CgroupRates{CPUPercent: floatOf(100), CPUUserPercent: floatOf(75), CPUSystemPercent: floatOf(25)}
				if d := cmp.Diff(want, r); d != "" {
					t.Error(d)
				}
			},
		},
		{
			name:    "two CPUs make 200 percent",
			prev:    sample.Cgroup{CPU: sample.CPU{UsageNs: some(0)}},
			cur:     sample.Cgroup{CPU: sample.CPU{UsageNs: some(2e9)}},
			elapsed: sec,
			check: func(t *testing.T, r CgroupRates) {
				if r.CPUPercent != floatOf(200) {
					t.Errorf("cpu %v", r.CPUPercent)
				}
			},
		},
		{
			name:    "a counter that went back has no rate",
			prev:    sample.Cgroup{CPU: sample.CPU{UsageNs: some(5e9)}, IO: []sample.DeviceIO{{Major: 8, WriteBytes: 100}}},
			cur:     sample.Cgroup{CPU: sample.CPU{UsageNs: some(1e9)}, IO: []sample.DeviceIO{{Major: 8, WriteBytes: 50}}},
			elapsed: sec,
			check: func(t *testing.T, r CgroupRates) {
				if r.CPUPercent.OK || r.WriteBytes.OK || r.ReadBytes.OK {
					t.Errorf("rates after reset: %+v", r)
				}
			},
		},
		{
			name:    "absent in either sample has no rate",
			prev:    sample.Cgroup{},
			cur:     sample.Cgroup{CPU: sample.CPU{UsageNs: some(1e9)}},
			elapsed: sec,
			check: func(t *testing.T, r CgroupRates) {
				if r.CPUPercent.OK {
					t.Errorf("cpu %v", r.CPUPercent)
				}
			},
		},
		{
			name: "IO per second summed over devices, new device from zero",
			prev: sample.Cgroup{IO: []sample.DeviceIO{{Major: 8, ReadBytes: 1000, WriteBytes: 0, ReadOps: 1}}},
			cur: sample.Cgroup{IO: []sample.DeviceIO{
				{Major: 8, ReadBytes: 5000, WriteBytes: 2000, ReadOps: 5, WriteOps: 2},
				{Major: 254, WriteBytes: 4000, WriteOps: 4},
			}},
			elapsed: 2 * sec,
			check: func(t *testing.T, r CgroupRates) {
				if r.ReadBytes != floatOf(2000) || r.WriteBytes != floatOf(3000) || r.ReadOps != floatOf(2) || r.WriteOps != floatOf(3) {
					t.Errorf("io rates %+v", r)
				}
			},
		},
		{
			name:    "throttled share of periods",
			prev:    sample.Cgroup{CPU: sample.CPU{Periods: some(100), ThrottledPeriods: some(10)}},
			cur:     sample.Cgroup{CPU: sample.CPU{Periods: some(110), ThrottledPeriods: some(15)}},
			elapsed: sec,
			check: func(t *testing.T, r CgroupRates) {
				if r.ThrottledPercent != floatOf(50) {
					t.Errorf("throttled %v", r.ThrottledPercent)
				}
			},
		},
		{
			name:    "PSI stall share over the interval",
			prev:    sample.Cgroup{Pressure: sample.Pressure{IO: sample.PSI{HasSome: true, Some: sample.PSILine{TotalUs: 1e6}}}},
			cur:     sample.Cgroup{Pressure: sample.Pressure{IO: sample.PSI{HasSome: true, Some: sample.PSILine{TotalUs: 1.25e6}}}},
			elapsed: sec,
			check: func(t *testing.T, r CgroupRates) {
				if r.PSIIOSome != floatOf(25) || r.PSIIOFull.OK {
					t.Errorf("psi %v %v", r.PSIIOSome, r.PSIIOFull)
				}
			},
		},
		{
			name:    "no time elapsed, no rates",
			prev:    sample.Cgroup{CPU: sample.CPU{UsageNs: some(0)}},
			cur:     sample.Cgroup{CPU: sample.CPU{UsageNs: some(1)}},
			elapsed: 0,
			check: func(t *testing.T, r CgroupRates) {
				if r.CPUPercent.OK {
					t.Error("rate with zero elapsed")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rates(&tt.prev, &tt.cur, tt.elapsed)
			r.Devices = nil
			tt.check(t, r)
		})
	}
}

func TestBuildMatchesByPathAndGeneration(t *testing.T) {
	t0 := time.Now()
	prev := &sample.Set{Time: t0, Cgroups: []sample.Cgroup{
		{Path: "/", Generation: 1, ReadAt: time.Second, CPU: sample.CPU{UsageNs: sample.Some(0)}},
		{Path: "/a", Generation: 2, ReadAt: time.Second, CPU: sample.CPU{UsageNs: sample.Some(0)}},
		{Path: "/gone", Generation: 3, ReadAt: time.Second, CPU: sample.CPU{UsageNs: sample.Some(0)}},
		{Path: "/recreated", Generation: 4, ReadAt: time.Second, CPU: sample.CPU{UsageNs: sample.Some(0)}},
	}}
	cur := &sample.Set{Time: t0.Add(2 * time.Second), Hostname: "h", Mode: "v2", Cgroups: []sample.Cgroup{
		{Path: "/", Generation: 1, ReadAt: 3 * time.Second, CPU: sample.CPU{UsageNs: sample.Some(1e9)}},
		{Path: "/a", Generation: 2, ReadAt: 2 * time.Second, CPU: sample.CPU{UsageNs: sample.Some(1e9)}},
		{Path: "/new", Generation: 5, ReadAt: 3 * time.Second, CPU: sample.CPU{UsageNs: sample.Some(1e9)}},
		{Path: "/recreated", Generation: 6, ReadAt: 3 * time.Second, CPU: sample.CPU{UsageNs: sample.Some(1e9)}},
	}}
	s := Build(prev, cur)
	got := map[string]Float{}
	for _, c := range s.Cgroups {
		got[c.Path] = c.CPU.Percent
	}
	want := map[string]Float{
		"/":          floatOf(50),  // 1 s of CPU over the 2 s between its own reads
		"/a":         floatOf(100), // its reads were 1 s apart
		"/new":       {},           // no previous sample
		"/recreated": {},           // a new cgroup under an old path
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("cpu percent (-want +got):\n%s", d)
	}
	if s.IntervalSeconds != floatOf(2) || s.Hostname != "h" || s.CgroupMode != "v2" {
		t.Errorf("snapshot header %+v", s)
	}
	if first := Build(nil, cur); first.IntervalSeconds.OK || first.Cgroups[0].CPU.Percent.OK {
		t.Error("first snapshot has rates")
	}
}

func TestBuildConvertsFigures(t *testing.T) {
	cur := &sample.Set{Time: time.Unix(1700000000, 0), Cgroups: []sample.Cgroup{{
		Path:     "/machine.slice/libpod-abc.scope",
		Identity: identity.Identity{Kind: identity.KindPodman, Role: identity.RoleContainer, Runtime: "podman", ID: "abc", Name: "web", Unit: "libpod-abc.scope", UnitType: "scope"},
		CPU:      sample.CPU{UsageNs: sample.Some(1_500_000_000), QuotaUs: sample.LimitOf(50000), PeriodUs: sample.Some(100000)},
		Memory: sample.Memory{
			Usage: sample.Some(100), InactiveFile: sample.Some(130), Limit: sample.LimitOf(400),
			SwapLimit: sample.Unlimited,
		},
		Pids: sample.Pids{Current: sample.Some(0), Limit: sample.Unlimited},
		IO:   []sample.DeviceIO{{Major: 8, Name: "sda", ReadBytes: 10, WriteBytes: 20}, {Major: 8, Minor: 16, Name: "sdb", ReadBytes: 1}},
	}}}
	s := Build(nil, cur)
	b, err := json.Marshal(s.Cgroups[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"path":"/machine.slice/libpod-abc.scope","name":"libpod-abc.scope","prefix":"/machine.slice",` +
		`"kind":"podman","unit":"libpod-abc.scope","unit_type":"scope",` +
		`"container":{"runtime":"podman","id":"abc","name":"web","role":"container"},` +
		`"cpu":{"usage_seconds_total":1.5,"limit_cores":0.5},` +
		`"memory":{"usage_bytes":100,"working_set_bytes":0,"limit_bytes":400,"usage_percent":25,"inactive_file_bytes":130,"swap_limit_bytes":"max"},` +
		`"tasks":0,"tasks_limit":"max",` +
		`"io":{"read_bytes_total":11,"write_bytes_total":20,"read_ops_total":0,"write_ops_total":0,"devices":[` +
		`{"device":"sda","major":8,"minor":0,"read_bytes_total":10,"write_bytes_total":20,"read_ops_total":0,"write_ops_total":0},` +
		`{"device":"sdb","major":8,"minor":16,"read_bytes_total":1,"write_bytes_total":0,"read_ops_total":0,"write_ops_total":0}]}}`
	if d := cmp.Diff(want, string(b)); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}
	if !strings.HasPrefix(mustJSON(t, s), `{"timestamp":"2023-11-14T22:13:20Z"`) {
		t.Errorf("timestamp not RFC 3339 UTC: %s", mustJSON(t, s)[:60])
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCountedTasksAreHierarchical(t *testing.T) {
	counted := func(p string, n uint64) sample.Cgroup {
		return sample.Cgroup{Path: p, Pids: sample.Pids{Current: sample.Some(n), Counted: true}}
	}
	cur := &sample.Set{Cgroups: []sample.Cgroup{
		counted("/", 2), counted("/a", 1), counted("/a-b", 5), counted("/a/b", 3), counted("/a/b/c", 4),
	}}
	s := Build(nil, cur)
	got := map[string]uint64{}
	for _, c := range s.Cgroups {
		got[c.Path] = c.Tasks.V
	}
	want := map[string]uint64{"/": 15, "/a": 8, "/a-b": 5, "/a/b": 7, "/a/b/c": 4}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tasks (-want +got):\n%s", d)
	}
}

func TestSplitPath(t *testing.T) {
	for p, want := range map[string][2]string{
		"/":                          {"/", ""},
		"/init.scope":                {"init.scope", ""},
		"/system.slice/sshd.service": {"sshd.service", "/system.slice"},
		"/a/b/c":                     {"c", "/a/b"},
	} {
		name, prefix := SplitPath(p)
		if name != want[0] || prefix != want[1] {
			t.Errorf("SplitPath(%q) = %q, %q; want %q, %q", p, name, prefix, want[0], want[1])
		}
	}
}

func TestFind(t *testing.T) {
	s := &Snapshot{Cgroups: []Cgroup{{Path: "/"}, {Path: "/a"}, {Path: "/a/b"}, {Path: "/b"}}}
	for _, p := range []string{"/", "/a", "/a/b", "/b"} {
		if c := s.Find(p); c == nil || c.Path != p {
			t.Errorf("Find(%q) = %v", p, c)
		}
	}
	if s.Find("/c") != nil || s.Find("/a/") != nil {
		t.Error("Find found a missing path")
	}
}
