package collectd

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/promexport"
	"github.com/cgmon/cgmon/internal/sink/collectd/collectdtest"
	"github.com/cgmon/cgmon/internal/testsvc/podmantest"
)

var _ promexport.Sink = (*Sink)(nil)

// memUsage returns podman stats' memory usage of a container: the exact
// bytes, and the figure `--format json` shows ("360.4kB / 25.28GB").
func memUsage(t *testing.T, p *podmantest.Podman, name string) (uint64, string) {
	t.Helper()
	exact, err := strconv.ParseUint(p.Must(t, "stats", "--no-stream", "--format", "{{.ContainerStats.MemUsage}}", name), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var stats []struct {
		MemUsage string `json:"mem_usage"`
	}
	if err := json.Unmarshal([]byte(p.Must(t, "stats", "--no-stream", "--format", "json", name)), &stats); err != nil || len(stats) != 1 {
		t.Fatalf("podman stats --format json: %v, %d entries", err, len(stats))
	}
	shown, _, _ := strings.Cut(stats[0].MemUsage, " / ")
	return exact, shown
}

// parseSI parses podman's human sizes: "360.4kB", "1.2MB" (powers of 1000).
func parseSI(s string) (float64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[s[i:]]
	if mult == 0 {
		return 0, fmt.Errorf("unit of %q", s)
	}
	return v * mult, nil
}

// TestCollectdPodmanContainer runs a real podman 4.3 container (runc,
// cgroupfs) and finds its values in a real collectd under the container's
// name: pod_memory with memory "raw" equals what podman stats shows.
func TestCollectdPodmanContainer(t *testing.T) {
	p := podmantest.New(t)
	name := p.Start(t, p.Image(t))
	t.Logf("container %s %s", name, p.Must(t, "inspect", "-f", "{{.Id}}", name))

	none := &collectdtest.Listen{SecurityLevel: "None"}
	srv := collectdtest.Start(t, collectdtest.Config{Hostname: "collectd-under-test", Listens: []*collectdtest.Listen{none}})
	a := runAgent(t)
	startSink(t, a, Options{Server: "127.0.0.1:" + strconv.Itoa(none.Port), Memory: "raw", Hostname: "cgmon-podman"})

	srv.WaitRows(t, 20*time.Second, 2, "cgmon-podman", Plugin+"-"+name, TypeMemory)
	before, shown := memUsage(t, p, name)
	start := float64(time.Now().UnixNano()) / 1e9
	var got float64
	srv.Proc.WaitFor(t, 10*time.Second, func() error {
		rows := srv.Rows(t, "cgmon-podman", Plugin+"-"+name, TypeMemory)
		if last := rows[len(rows)-1]; last.Time > start {
			got = last.Values[0]
			return nil
		}
		return fmt.Errorf("no pod_memory value after %.3f yet", start)
	})
	after, _ := memUsage(t, p, name)
	const page = 4096
	lo, hi := float64(min(before, after))-page, float64(max(before, after))+page
	if got < lo || got > hi {
		t.Errorf("pod_memory of %s = %.0f, podman stats %d then %d", name, got, before, after)
	}
	si, err := parseSI(shown)
	if err != nil {
		t.Fatal(err)
	}
	// The figure podman shows is read just after before: it lies in the
	// same window, within its 4 significant digits. (Compared with got
	// directly, it failed when other containers starting and stopping made
	// the kernel reclaim some of this one's memory in between.)
	if slack := max(0.001*si, 100); si < lo-slack || si > hi+slack {
		t.Errorf("podman stats --format json shows %s for %s, outside its exact figures %d then %d", shown, name, before, after)
	}
	t.Logf("pod_memory %.0f; podman stats %d, %d; json %q", got, before, after, shown)

	cpu := srv.Rows(t, "cgmon-podman", Plugin+"-"+name, TypeCPU)
	if len(cpu) == 0 || cpu[len(cpu)-1].Values[1] <= 0 {
		t.Errorf("no pod_cpu time for %s: %v", name, cpu)
	}
}
