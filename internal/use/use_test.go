package use

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/sample"
)

func TestFullName(t *testing.T) {
	for _, tc := range []struct{ base, host, name, want string }{
		{"pkg.kpack_linux", "db1", "resources.cpu.utilization", "pkg.kpack_linux.db1.resources.cpu.utilization"},
		{"cgmon", "db1.example.com", "resources.storage.vda.await", "cgmon.db1_example_com.resources.storage.vda.await"},
		{"my base!", "h ö", "resources.x", "my_base_.h___.resources.x"},
		{"", "h", "resources.x", "h.resources.x"},
		{".a.", "", "resources.x.", "a.resources.x"},
	} {
		if got := FullName(tc.base, tc.host, tc.name); got != tc.want {
			t.Errorf("FullName(%q, %q, %q) = %q, want %q", tc.base, tc.host, tc.name, got, tc.want)
		}
	}
	for in, want := range map[string]string{"/": "root", "/var/lib": "var_lib", "/system.slice/sshd.service": "system_slice_sshd_service", "": "_", "eth0": "eth0"} {
		if got := Segment(in); got != want {
			t.Errorf("Segment(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzFullName(f *testing.F) {
	f.Add("cgmon", "db1.example.com", "resources.cpu.utilization")
	f.Add("", "\xff/..", "a..b")
	f.Fuzz(func(t *testing.T, base, host, name string) {
		got := FullName(base, host, name)
		for _, c := range []byte(got) {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
				t.Fatalf("FullName(%q, %q, %q) = %q has %q", base, host, name, got, c)
			}
		}
		if strings.Count(FullName("b", host, "n"), ".") != 2 && strings.Trim(sanitize(host, false), ".") != "" {
			t.Fatalf("hostname %q changes the depth: %q", host, FullName("b", host, "n"))
		}
	})
}

func f(v float64) model.Float { return model.Float{V: v, OK: true} }

// snapshot is a host at t with the given CPU utilization and vda await.
func snapshot(t time.Time, cpu, await float64) *model.Snapshot {
	return &model.Snapshot{
		Timestamp: t, Hostname: "h",
		Host: &model.Host{
			CPU:    model.HostCPU{CPUTimesPercent: model.CPUTimesPercent{UtilizationPercent: f(cpu), StealPercent: f(0)}, Count: model.Count{V: 2, OK: true}, RunQueuePerCPU: f(0.5), Load1: f(9), MachineChecks: model.Count{V: 0, OK: true}},
			Memory: model.HostMemory{UsedPercent: f(96), OOMKills: model.Count{V: 1, OK: true}},
			Disks:  []model.HostDisk{{Device: "vda", UtilizationPercent: f(10), QueueSize: f(0.1), AwaitMs: f(await)}},
			Network: model.HostNetwork{Interfaces: []model.HostInterface{
				{Interface: "eth0", RxErrorsPerSecond: f(0), TxErrorsPerSecond: f(0)},                              // unknown speed: no utilization
				{Interface: "veth0", UtilizationPercent: f(85), RxDropsPerSecond: f(0.5), RxErrorsPerSecond: f(2)}, // known speed
			}},
		},
		Cgroups: []model.Cgroup{
			{Path: "/limited", CPU: model.CPU{Percent: f(48), LimitCores: model.Limit{V: 0.5, State: sample.LimitSet}, ThrottledPercent: f(60)},
				Memory: model.Memory{UsageBytes: model.Count{V: 100, OK: true}, WorkingSetBytes: model.Count{V: 40, OK: true}, LimitBytes: model.Limit{V: 100, State: sample.LimitSet}, OOMKillsTotal: model.Count{V: 3, OK: true}}},
			{Path: "/free", CPU: model.CPU{Percent: f(300)}},
		},
	}
}

func TestStatuses(t *testing.T) {
	a := New(Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.Analyze(snapshot(t0, 50, 2))
	s := snapshot(t0.Add(time.Second), 99, 60)
	s.Cgroups[0].Memory.OOMKillsTotal.V = 5
	a.Analyze(s)
	got := map[string]string{}
	for _, c := range s.Host.Checks {
		got[c.Name] = c.Status + " " + c.Reason
	}
	want := map[string]string{
		"resources.cpu.utilization":                          "critical ≥ 98 %",
		"resources.cpu.steal":                                "ok ",
		"resources.cpu.run_queue":                            "ok ",
		"resources.cpu.load1_per_cpu":                        "critical ≥ 4 per CPU",
		"resources.cpu.machine_checks":                       "ok ",
		"resources.memory.utilization":                       "critical ≥ 95 %",
		"resources.memory.oom_kills":                         "critical > 0",
		"resources.storage.vda.utilization":                  "ok ",
		"resources.storage.vda.queue_size":                   "ok ",
		"resources.storage.vda.await":                        "warning ≥ 50 ms",
		"resources.network.eth0.errors":                      "ok ",
		"resources.network.veth0.utilization":                "warning ≥ 80 %",
		"resources.network.veth0.drops":                      "ok ",
		"resources.network.veth0.errors":                     "warning > 0/s",
		"resources.cgroups.limited.cpu_quota_utilization":    "critical ≥ 95 %",
		"resources.cgroups.limited.throttled":                "critical ≥ 50 %",
		"resources.cgroups.limited.memory_limit_utilization": "ok ",
		"resources.cgroups.limited.oom_kills":                "critical > 0",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestAnomalyFlag(t *testing.T) {
	a := New(Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// An hour of steady figures, one a second: await 5–6 ms.
	for i := 0; i < 3600; i++ {
		s := snapshot(t0.Add(time.Duration(i)*time.Second), 40+float64(i%3), 5+float64(i%2))
		a.Analyze(s)
		for _, c := range s.Host.Checks {
			if c.Anomaly != "" {
				t.Fatalf("steady figure flagged at %d s: %s: %s", i, c.Name, c.Anomaly)
			}
		}
	}
	s := snapshot(t0.Add(3600*time.Second), 41, 48)
	a.Analyze(s)
	var flags []string
	for _, c := range s.Host.Checks {
		if c.Anomaly != "" {
			flags = append(flags, c.Anomaly)
		}
	}
	if d := cmp.Diff([]string{"disk vda await 48 ms, 9× its 1-hour median"}, flags); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if n := a.Series(); n == 0 || n > 40 {
		t.Errorf("%d series", n)
	}
}

func TestWindowWords(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1-hour", 2 * time.Hour: "2-hour", 30 * time.Minute: "30-minute", 90 * time.Second: "90-second"} {
		if got := windowWords(d); got != want {
			t.Errorf("windowWords(%v) = %q, want %q", d, got, want)
		}
	}
}
