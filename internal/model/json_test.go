package model_test

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroup"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sample"
)

func stdJSON(t testing.TB, s *model.Snapshot) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixtureSnapshot reads a fixture twice and builds the second snapshot, with
// rates, as the engine does.
func fixtureSnapshot(t testing.TB, name string) *model.Snapshot {
	t.Helper()
	root, err := rootfs.New(filepath.Join("../../testdata/roots", name))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	c, err := cgroup.New(cgroup.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var a, b sample.Set
	if err := c.Collect(&a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if err := c.Collect(&b); err != nil {
		t.Fatal(err)
	}
	return model.Build(&a, &b)
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, name := range []string{"v2", "hybrid", "v1", "v1-comounted"} {
		t.Run(name, func(t *testing.T) {
			s := fixtureSnapshot(t, name)
			if d := cmp.Diff(stdJSON(t, s), string(s.AppendJSON(nil))); d != "" {
				t.Errorf("AppendJSON differs from encoding/json (-want +got):\n%s", d)
			}
		})
	}
	t.Run("odd values", func(t *testing.T) {
		s := &model.Snapshot{
			Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
			Hostname:  "h<&>\"\\\n\x01\u2028é\xff",
			Cgroups: []model.Cgroup{{
				Path: "/a b/\t", Container: &model.Container{Runtime: "lxc"},
				CPU:    model.CPU{Percent: model.Float{V: math.NaN(), OK: true}, LimitCores: model.Limit{V: 1e-7, State: sample.LimitSet}},
				Memory: model.Memory{LimitBytes: model.Limit{State: sample.LimitUnlimited}, UsageBytes: model.Count{OK: true}},
				IO:     model.IO{Devices: []model.DeviceIO{{Device: "sda", ReadBytesPerSecond: model.Float{V: 1e300, OK: true}}}},
				PSI:    model.Pressure{IO: model.PSI{Full: model.PSILine{OK: true, Avg10: 1e-9, Avg60: 1e21, Avg300: 12.5, TotalSeconds: 3}}},
			}, {Path: "/"}, {
				Path:      "/lxc.payload.c1",
				Container: &model.Container{Runtime: "lxc", ID: "c1", Name: "c1", Role: "container", State: "running", StartedAt: time.Date(2026, 11, 22, 5, 44, 28, 219902968, time.UTC)},
				Processes: model.Count{V: 5, OK: true},
				Network: &model.Network{Netns: 4026532182, RxBytesTotal: model.Count{V: 2896, OK: true}, TxBytesTotal: model.Count{OK: true},
					RxBytesPerSecond: model.Float{V: 12.5, OK: true},
					Interfaces:       []model.NetInterface{{Name: "lo"}, {Name: "eth<0>", RxBytesTotal: 2896, RxDroppedTotal: 1, TxBytesPerSecond: model.Float{V: 1e-7, OK: true}}}},
				Filesystem: &model.Filesystem{TotalBytes: 270553174016, UsedBytes: 14792, FreeBytes: 3, TotalInodes: 9,
					Storage: &model.Filesystem{Path: "/var/lib/lxc", TotalBytes: 1}},
			}, {Path: "/docker/x", Container: &model.Container{Runtime: "docker", State: "paused"}, Network: &model.Network{Netns: 1, HostNetwork: true}, Processes: model.Count{OK: true}}},
		}
		if d := cmp.Diff(stdJSON(t, s), string(s.AppendJSON(nil))); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if d := cmp.Diff(stdJSON(t, &model.Snapshot{}), string((&model.Snapshot{}).AppendJSON(nil))); d != "" {
			t.Errorf("empty snapshot (-want +got):\n%s", d)
		}
	})
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("host", "/system.slice/sshd.service", "podman", 12.5, 0.001, uint64(7), uint8(2), true)
	f.Add("\xff\x00<>", "/\u2028", "", 1e-9, 1e22, uint64(0), uint8(1), false)
	f.Fuzz(func(t *testing.T, host, path, runtime string, a, b float64, n uint64, state uint8, ok bool) {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return // encoding/json refuses these in plain float fields
		}
		c := model.Cgroup{Path: path, Name: path, Kind: runtime, Unit: runtime}
		if ok {
			c.Container = &model.Container{Runtime: runtime, ID: path, Name: host}
		}
		c.CPU.Percent = model.Float{V: a, OK: ok}
		c.CPU.LimitCores = model.Limit{V: a, State: sample.LimitState(state % 3)}
		c.Memory.UsageBytes = model.Count{V: n, OK: !ok}
		c.Tasks = model.Count{V: n, OK: ok}
		c.TasksLimit = model.Limit{V: float64(n), State: sample.LimitState((state + 1) % 3)}
		if state%2 == 0 {
			c.IO.Devices = []model.DeviceIO{{Device: host, ReadOpsTotal: n, WriteBytesPerSecond: model.Float{V: a, OK: true}}}
		}
		c.PSI.Memory.Some = model.PSILine{OK: ok, Avg10: b, TotalSeconds: b, Percent: model.Float{V: a, OK: true}}
		if state%3 == 1 {
			c.Processes = model.Count{V: n, OK: ok}
			c.Network = &model.Network{Netns: n, HostNetwork: ok, RxBytesTotal: model.Count{V: n, OK: !ok},
				TxBytesPerSecond: model.Float{V: a, OK: true}, Interfaces: []model.NetInterface{{Name: host, TxDroppedTotal: n, RxBytesPerSecond: model.Float{V: a, OK: ok}}}}
			c.Filesystem = &model.Filesystem{TotalBytes: n, Path: path}
			if ok {
				c.Filesystem.Storage = &model.Filesystem{UsedInodes: n, Path: host}
				c.Container.State = runtime
				c.Container.StartedAt = time.Unix(int64(n%1e10), 0).UTC()
			}
		}
		s := &model.Snapshot{Timestamp: time.Unix(int64(n%1e10), int64(n%1e9)).UTC(), Hostname: host, CgroupMode: runtime,
			IntervalSeconds: model.Float{V: b, OK: !ok}, Cgroups: []model.Cgroup{c}}
		if got, want := string(s.AppendJSON(nil)), stdJSON(t, s); got != want {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	s := fixtureSnapshot(b, "v2")
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = s.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodingJSON(b *testing.B) {
	s := fixtureSnapshot(b, "v2")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}
