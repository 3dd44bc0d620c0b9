package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/sink/collectd"
	"github.com/cgmon/cgmon/internal/sink/collectd/collectdtest"
	"github.com/cgmon/cgmon/internal/testcg"
)

func TestRunCollectdBadInput(t *testing.T) {
	t.Setenv("CGMON_COLLECTD_PASSWORD", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--collectd-server", "127.0.0.1:1", "--collectd-security-level", "sign", "--collectd-username", "u"}, "needs collectd.username and collectd.password"},
		{[]string{"--collectd-server", "127.0.0.1:1", "--collectd-security-level", "hmac"}, "want none, sign or encrypt"},
		{[]string{"--collectd-server", "127.0.0.1:1", "--collectd-memory", "rss"}, "want current or raw"},
		{[]string{"--collectd-server", "no-port"}, "missing port"},
	} {
		_, err := run(t, append([]string{"run", "--listen", "127.0.0.1:0"}, tc.args...)...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}

// TestRunCollectd runs the binary's agent with the collectd output to a
// real collectd: a cgroup cgmon takes for an LXC container reaches the csv
// plugin, and /metrics counts what the sink sent.
func TestRunCollectd(t *testing.T) {
	name := fmt.Sprintf("cgmonrun%d-%04x", os.Getpid(), rand.Uint32()&0xffff)
	g := testcg.Require(t).NewGroup(t, "lxc.payload."+name)
	g.Sleepers(t, 1)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	none := &collectdtest.Listen{SecurityLevel: "None"}
	srv := collectdtest.Start(t, collectdtest.Config{Hostname: "collectd-under-test", Listens: []*collectdtest.Listen{none}})

	p := startCgmon(t, buildCgmon(t), "run", "--listen", "127.0.0.1:0", "--interval", "1s", "--log-format", "json",
		"--collectd-server", "127.0.0.1:"+strconv.Itoa(none.Port), "--collectd-memory", "raw")
	addr := p.waitServing(t)
	mem := srv.WaitRows(t, 20*time.Second, 2, host, collectd.Plugin+"-"+name, collectd.TypeMemory)
	usage, _ := g.Memory(t)
	if got := mem[len(mem)-1].Values[0]; usage == 0 || math.Abs(got-float64(usage)) > 256<<10 {
		t.Errorf("pod_memory %v, kernel usage %d: want equal within 256 KiB (one sleeping process)", got, usage)
	}

	code, body, err := getOK(addr, "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	m := regexp.MustCompile(`(?m)^cgmon_sink_sent_total\{sink="collectd"\} (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no cgmon_sink_sent_total{sink=\"collectd\"} in /metrics")
	}
	if sent, _ := strconv.ParseFloat(string(m[1]), 64); sent < 2 {
		t.Errorf("cgmon_sink_sent_total{sink=\"collectd\"} = %s, want ≥ 2", m[1])
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, p.stderr())
	}
}
