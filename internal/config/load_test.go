package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// writeFile writes a configuration file named name in a new directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// warnings renders warnings with the file's base name, so that the test
// does not depend on the temporary directory.
func warnings(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		w.Source = filepath.Base(w.Source)
		out = append(out, w.String())
	}
	return out
}

// wantErrors checks that err holds each of the wanted messages (the file
// named by its base name) and no more lines than those.
func wantErrors(t *testing.T, err error, dir string, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	got := err.Error()
	if dir != "" {
		got = strings.ReplaceAll(got, dir+string(filepath.Separator), "")
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("error %q\ndoes not contain %q", got, w)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != len(want) {
		t.Errorf("error has %d lines, want %d: %q", n, len(want), got)
	}
}

func TestLoadNative(t *testing.T) {
	tru := true
	for _, tc := range []struct {
		name     string
		file     string
		env      []string
		want     func(c *Config) // changes to Defaults()
		warnings []string
		errs     []string
	}{
		{name: "empty file", file: "", want: func(*Config) {}},
		{name: "comments only", file: "# nothing\n\n", want: func(*Config) {}},
		{
			name: "every kind of key",
			file: `interval: 10s
excluded_devices: [loop, dm-, zram]
listen: 0.0.0.0:9000
listen_public: yes
logging:
  log_level: DEBUG
  log_max_bytes: 1048576
influxdb:
  enabled: true
  url: https://influx.example.org:8086
  database: systemd
  password: hunter2
  filter:
    include: ["*.service", "db-*"]
json_export:
  file: /var/log/lxc_metrics.json
  max_age: 2h30m
hosts:
  - address: root@db1:22
    trust_on_first_use: true
    timeout: 30
  - root@db2
`,
			want: func(c *Config) {
				c.Interval = 10 * time.Second
				c.ExcludedDevices = []string{"loop", "dm-", "zram"}
				c.Listen, c.ListenPublic = "0.0.0.0:9000", true
				c.Logging.Level, c.Logging.MaxBytes = "DEBUG", 1<<20
				c.InfluxDB.Enabled, c.InfluxDB.URL, c.InfluxDB.Database, c.InfluxDB.Password = true, "https://influx.example.org:8086", "systemd", "hunter2"
				c.InfluxDB.Filter.Include = []string{"*.service", "db-*"}
				c.JSONExport.File, c.JSONExport.MaxAge = "/var/log/lxc_metrics.json", 150*time.Minute
				c.Hosts = []Host{{Address: "root@db1:22", TrustOnFirstUse: &tru, Timeout: 30 * time.Second}, {Address: "root@db2"}}
			},
		},
		{name: "integer is seconds", file: "interval: 60\n", want: func(c *Config) { c.Interval = time.Minute }},
		{name: "decimal is seconds", file: "interval: 0.5\n", want: func(c *Config) { c.Interval = 500 * time.Millisecond }},
		{name: "quoted duration", file: "use:\n  anomaly_window: \"90m\"\n", want: func(c *Config) { c.Use.AnomalyWindow = 90 * time.Minute }},
		{name: "list as one string", file: "excluded_devices: loop, sr\n", want: func(c *Config) { c.ExcludedDevices = []string{"loop", "sr"} }},
		{name: "empty list", file: "excluded_devices: []\n", want: func(c *Config) { c.ExcludedDevices = []string{} }},
		{name: "null list empties it", file: "excluded_devices:\n", want: func(c *Config) { c.ExcludedDevices = []string{} }},
		{name: "null scalar keeps the default", file: "interval:\nrootfs: ~\n", want: func(*Config) {}},
		{
			name: "anchors, aliases and merge keys",
			file: `ssh: &ssh
  timeout: 20s
hosts:
  - &h1
    address: root@db1
    key_file: /k
  - <<: *h1
    address: root@db2
`,
			want: func(c *Config) {
				c.SSH.Timeout = 20 * time.Second
				c.Hosts = []Host{{Address: "root@db1", KeyFile: "/k"}, {Address: "root@db2", KeyFile: "/k"}}
			},
		},
		{
			name: "unknown keys warn",
			file: "interval: 5s\nintervall: 6s\nlogging:\n  level: debug\nhosts:\n  - address: a\n    port: 22\n",
			want: func(c *Config) { c.Hosts = []Host{{Address: "a"}} },
			warnings: []string{
				"cgmon.yaml:2: unknown key intervall",
				"cgmon.yaml:4: unknown key logging.level",
				"cgmon.yaml:7: unknown key hosts[0].port",
			},
		},
		{
			name: "wrong types fail with line and key",
			file: "interval: abc\nlisten_public: maybe\ncontainers:\n  workers: four\nlogging: info\nexcluded_devices: {a: b}\ninfluxdb:\n  filter:\n    include: [[x]]\n",
			errs: []string{
				`cgmon.yaml:1: interval: cannot use "abc" as a duration`,
				`cgmon.yaml:2: listen_public: cannot use "maybe" as a boolean`,
				`cgmon.yaml:4: containers.workers: cannot use "four" as an integer`,
				`cgmon.yaml:5: logging: want a mapping of keys, not "info"`,
				`cgmon.yaml:6: excluded_devices: cannot use a mapping as a list`,
				`cgmon.yaml:9: influxdb.filter.include[0]: cannot use a list as a string`,
			},
		},
		{name: "mapping for a scalar", file: "rootfs:\n  a: b\n", errs: []string{"cgmon.yaml:2: rootfs: cannot use a mapping as a string"}},
		{name: "integer out of range", file: "logging:\n  log_backup_count: 99999999999999999999\n", errs: []string{"cgmon.yaml:2: logging.log_backup_count: \"99999999999999999999\" is out of range"}},
		{name: "duration out of range", file: "interval: 1e300\n", errs: []string{"cgmon.yaml:1: interval: \"1e300\" seconds is out of range"}},
		{
			name:     "an anchor that merges itself",
			file:     "x: &a {<<: *a}\n<<: *a\n",
			warnings: []string{"cgmon.yaml:1: unknown key x"},
			errs:     []string{"cgmon.yaml:1: merge keys (<<) nested more than 16 deep: does an anchor merge itself?"},
		},
		{
			name: "an exponential alias expansion is bounded",
			file: aliasBomb(),
			warnings: []string{
				"cgmon.yaml:1: unknown key a0", "cgmon.yaml:2: unknown key a1", "cgmon.yaml:3: unknown key a2",
				"cgmon.yaml:4: unknown key a3", "cgmon.yaml:5: unknown key a4", "cgmon.yaml:6: unknown key a5",
				"cgmon.yaml:7: unknown key a6", "cgmon.yaml:8: unknown key a7", "cgmon.yaml:9: unknown key a8",
			},
			errs: []string{"cgmon.yaml:1: too many nodes once aliases are expanded (more than 100000)"},
		},
		{name: "key given twice", file: "interval: 5s\nrootfs: /\ninterval: 6s\n", errs: []string{"cgmon.yaml:3: interval: given twice (first on line 1)"}},
		{name: "syntax error", file: "interval: 5s\n  rootfs: /\n", errs: []string{"cgmon.yaml:2: mapping values are not allowed"}},
		{name: "not a mapping", file: "- interval\n", errs: []string{"cgmon.yaml:1: want a mapping of keys (key: value) at the top, not a list"}},
		{name: "two documents", file: "interval: 5s\n---\ninterval: 6s\n", errs: []string{"cgmon.yaml:2: a second YAML document"}},
		{
			name: "invalid values name the key and the line it was set on",
			file: "rootfs: /\ninterval: 10ms\nlogging:\n  log_level: loud\n",
			errs: []string{
				"cgmon.yaml:2: interval: 10ms: must be at least 100ms",
				`cgmon.yaml:4: logging.log_level: "loud": want debug`,
			},
		},
		{
			name: "invalid host names its entry",
			file: "hosts:\n  - address: \"\"\n",
			errs: []string{"cgmon.yaml:2: hosts[0].address:"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "cgmon.yaml", tc.file)
			got, ws, err := Load(Sources{File: path, Env: tc.env})
			wantErrors(t, err, filepath.Dir(path), tc.errs)
			if diff := cmp.Diff(tc.warnings, warnings(ws)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			want := Defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// aliasBomb is a file whose merge keys expand to 10^8 nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 {interval: 5s}\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("<<: [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]\n")
	return b.String()
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := writeFile(t, "big.yaml", "# "+strings.Repeat("x", MaxFileSize)+"\n")
	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.yaml"), "no such file or directory"},
		{"directory", dir, "is a directory"},
		{"too big", big, "larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(Sources{File: tc.path})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %v, want one naming %s and saying %q", err, tc.path, tc.want)
			}
		})
	}
}

func TestCGMONConfigNamesTheFile(t *testing.T) {
	path := writeFile(t, "cgmon.yaml", "interval: 7s\n")
	for _, src := range []Sources{
		{Env: []string{"CGMON_CONFIG=" + path}},
		{File: path, Env: []string{"CGMON_CONFIG=/nonexistent"}}, // --config wins
	} {
		c, ws, err := Load(src)
		if err != nil || len(ws) > 0 || c.Interval != 7*time.Second {
			t.Errorf("Load(%+v) = interval %s, %v, %v; want 7s from %s", src, c.Interval, ws, err, path)
		}
	}
}

// lxcMonitorWant is the seed's example file in our keys.
func lxcMonitorWant() Config {
	c := Defaults()
	c.Logging.File = "/var/log/lxc_monitor.log"
	c.Logging.MaxBytes = 5242880
	c.Logging.BackupCount = 7
	c.Logging.Level = "INFO"
	c.JSONExport.File = "/var/log/lxc_metrics.json"
	c.Interval = 60 * time.Second
	c.Containers.Swap, c.Containers.Network, c.Containers.Filesystem = true, true, true
	c.Containers.Workers = 8
	c.ExcludedDevices = []string{"loop", "dm-"}
	return c
}

func TestLoadLXCMonitor(t *testing.T) {
	got, ws, err := Load(Sources{File: "testdata/lxc_monitor.yaml"})
	if err != nil || len(ws) > 0 {
		t.Fatalf("Load: %v, warnings %q", err, warnings(ws))
	}
	if diff := cmp.Diff(lxcMonitorWant(), got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadLXCMonitorCases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string
		want     func(c *Config)
		warnings []string
		errs     []string
	}{
		{
			name: "parallel_processing false is one worker",
			file: "monitoring:\n  parallel_processing: false\n  max_workers: 8\n  enable_swap: false\n",
			want: func(c *Config) { c.Containers.Workers, c.Containers.Swap = 1, false },
		},
		{
			name: "max_workers without parallel_processing",
			file: "monitoring:\n  max_workers: 2\n",
			want: func(c *Config) { c.Containers.Workers = 2 },
		},
		{
			name:     "native keys in an LXC Monitor file warn",
			file:     "interval: 5s\nmonitoring:\n  check_interval: 30\n  retry: 3\n",
			want:     func(c *Config) { c.Interval = 30 * time.Second },
			warnings: []string{"lxc.yaml:1: unknown key interval (a file with monitoring: is read as LXC Monitor's, which has logging: and monitoring: only)", "lxc.yaml:4: unknown key monitoring.retry"},
		},
		{
			name: "wrong types fail with the line",
			file: "logging:\n  log_max_bytes: 5MB\nmonitoring:\n  check_interval: often\n  enable_network: 2\n",
			errs: []string{
				`lxc.yaml:2: logging.log_max_bytes: cannot use "5MB" as an integer`,
				`lxc.yaml:4: monitoring.check_interval: cannot use "often" as a duration`,
				`lxc.yaml:5: monitoring.enable_network: cannot use "2" as a boolean`,
			},
		},
		{
			name: "invalid values are found on their line",
			file: "monitoring:\n  check_interval: 0\n  max_workers: 1000\n",
			errs: []string{"lxc.yaml:2: interval: 0s: must be at least 100ms", "lxc.yaml:3: containers.workers: 1000: want 1 to 256"},
		},
		{name: "monitoring not a mapping", file: "monitoring: yes\n", errs: []string{`lxc.yaml:1: monitoring: want a mapping of keys, not "yes"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "lxc.yaml", tc.file)
			got, ws, err := Load(Sources{File: path})
			wantErrors(t, err, filepath.Dir(path), tc.errs)
			if diff := cmp.Diff(tc.warnings, warnings(ws)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			want := Defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// cgtopMonWant is the seed's example configuration in our keys.
func cgtopMonWant() Config {
	c := Defaults()
	in := &c.InfluxDB
	in.Enabled = true
	in.URL = "https://influxdb.example.org:8086"
	in.API, in.Schema = "v1", "cgtop"
	in.Username, in.Password, in.Database = "cgtop_mon", "secret", "systemd"
	in.TLSVerify = true
	c.Interval = 5 * time.Second
	in.Filter.Group = "system.slice"
	in.Filter.Exclude = []string{"*.scope"}
	in.Filter.Include = []string{"*.service"}
	in.BatchSize, in.MaxPendingPoints = 10, 1000
	in.Measurement = "node-01"
	return c
}

// envLines returns the NAME=value lines of a file, as a process
// environment holds them.
func envLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for l := range strings.Lines(string(data)) {
		if l = strings.TrimSpace(l); l != "" {
			env = append(env, l)
		}
	}
	return env
}

func TestLoadCgtopMon(t *testing.T) {
	for name, src := range map[string]Sources{
		"file":        {File: "testdata/cgtop_mon.conf"},
		"environment": {Env: append([]string{"PATH=/bin", "HOME=/root"}, envLines(t, "testdata/cgtop_mon.conf")...)},
	} {
		t.Run(name, func(t *testing.T) {
			got, ws, err := Load(src)
			if err != nil || len(ws) > 0 {
				t.Fatalf("Load: %v, warnings %q", err, warnings(ws))
			}
			if diff := cmp.Diff(cgtopMonWant(), got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCgtopMonVariables(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		want     func(c *Config)
		warnings []string
		errs     []string
	}{
		{
			name: "host alone: http, port 8086, no verification",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=influx", "CGTOP_MON_INFLUXDB_DATABASE=db"},
			want: func(c *Config) {
				c.InfluxDB.Enabled, c.InfluxDB.URL, c.InfluxDB.Database, c.InfluxDB.TLSVerify = true, "http://influx:8086", "db", false
			},
		},
		{
			name: "SSL on: https and verification by default",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=influx", "CGTOP_MON_INFLUXDB_DATABASE=db", "CGTOP_MON_INFLUXDB_SSL=On", "CGTOP_MON_INFLUXDB_PORT=8443"},
			want: func(c *Config) {
				c.InfluxDB.Enabled, c.InfluxDB.URL, c.InfluxDB.Database, c.InfluxDB.TLSVerify = true, "https://influx:8443", "db", true
			},
		},
		{
			name: "SSL on, verification off",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=influx", "CGTOP_MON_INFLUXDB_DATABASE=db", "CGTOP_MON_INFLUXDB_SSL=1", "CGTOP_MON_INFLUXDB_VERIFY_SSL=no"},
			want: func(c *Config) {
				c.InfluxDB.Enabled, c.InfluxDB.URL, c.InfluxDB.Database, c.InfluxDB.TLSVerify = true, "https://influx:8086", "db", false
			},
		},
		{
			name: "IPv6 host is bracketed",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=fd00::1", "CGTOP_MON_INFLUXDB_DATABASE=db"},
			want: func(c *Config) {
				c.InfluxDB.Enabled, c.InfluxDB.URL, c.InfluxDB.Database, c.InfluxDB.TLSVerify = true, "http://[fd00::1]:8086", "db", false
			},
		},
		{
			name: "bracketed IPv6 host",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=[::1]", "CGTOP_MON_INFLUXDB_DATABASE=db"},
			want: func(c *Config) {
				c.InfluxDB.Enabled, c.InfluxDB.URL, c.InfluxDB.Database, c.InfluxDB.TLSVerify = true, "http://[::1]:8086", "db", false
			},
		},
		{
			name: "empty variables are unset",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=", "CGTOP_MON_INFLUXDB_USER=", "CGTOP_MON_DELAY="},
			want: func(*Config) {},
		},
		{
			name: "no InfluxDB variable: the other ones still apply",
			env:  []string{"CGTOP_MON_DELAY=2", "CGTOP_MON_BLACKLIST=a.scope, b.scope"},
			want: func(c *Config) { c.Interval, c.InfluxDB.Filter.Exclude = 2*time.Second, []string{"a.scope", "b.scope"} },
		},
		{
			name:     "unknown variable warns",
			env:      []string{"CGTOP_MON_DELAYS=2"},
			want:     func(*Config) {},
			warnings: []string{"environment: unknown variable CGTOP_MON_DELAYS"},
		},
		{
			name: "host required",
			env:  []string{"CGTOP_MON_INFLUXDB_USER=u", "CGTOP_MON_INFLUXDB_PASSWORD=p"},
			errs: []string{"environment: CGTOP_MON_INFLUXDB_HOST: required when CGTOP_MON_INFLUXDB_USER is set"},
		},
		{
			name: "bad values name the variable",
			env: []string{"CGTOP_MON_INFLUXDB_HOST=http://influx", "CGTOP_MON_INFLUXDB_PORT=99999", "CGTOP_MON_INFLUXDB_SSL=maybe",
				"CGTOP_MON_INFLUXDB_VERIFY_SSL=si", "CGTOP_MON_DELAY=soon", "CGTOP_MON_SEND_BUFSIZE=ten"},
			errs: []string{
				`environment: CGTOP_MON_INFLUXDB_HOST: "http://influx": want a host name or an IP address`,
				`environment: CGTOP_MON_INFLUXDB_PORT: "99999": want a port number`,
				`environment: CGTOP_MON_INFLUXDB_SSL: cannot use "maybe" as a boolean`,
				`environment: CGTOP_MON_INFLUXDB_VERIFY_SSL: cannot use "si" as a boolean`,
				`environment: CGTOP_MON_DELAY: cannot use "soon" as a duration`,
				`environment: CGTOP_MON_SEND_BUFSIZE: cannot use "ten" as an integer`,
			},
		},
		{
			name: "database required by validation, located at the host",
			env:  []string{"CGTOP_MON_INFLUXDB_HOST=influx", "CGTOP_MON_SEND_BUFSIZE=0"},
			errs: []string{"influxdb.database: required with api v1", "environment (CGTOP_MON_SEND_BUFSIZE): influxdb.batch_size: 0: must be at least 1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ws, err := Load(Sources{Env: tc.env})
			wantErrors(t, err, "", tc.errs)
			if diff := cmp.Diff(tc.warnings, warnings(ws)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			want := Defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCGMONVariables(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		want     func(c *Config)
		warnings []string
		errs     []string
	}{
		{
			name: "one of each type",
			env: []string{"CGMON_INTERVAL=30", "CGMON_LOGGING_LOG_LEVEL=debug", "CGMON_INFLUXDB_FILTER_INCLUDE=a,b",
				"CGMON_JSON_EXPORT_FILE=/x.json", "CGMON_INFLUXDB_PASSWORD= sp ace ", "CGMON_COLLECTD_PASSWORD=pw",
				"CGMON_PROMETHEUS_ENABLED=off", "CGMON_CONTAINERS_WORKERS=16", "CGMON_USE_ANOMALY_WINDOW=2h",
				"CGMON_HOSTS=root@db1, root@db2:2222"},
			want: func(c *Config) {
				c.Interval = 30 * time.Second
				c.Logging.Level = "debug"
				c.InfluxDB.Filter.Include = []string{"a", "b"}
				c.JSONExport.File = "/x.json"
				c.InfluxDB.Password = " sp ace "
				c.Collectd.Password = "pw"
				c.Prometheus.Enabled = false
				c.Containers.Workers = 16
				c.Use.AnomalyWindow = 2 * time.Hour
				c.Hosts = []Host{{Address: "root@db1"}, {Address: "root@db2:2222"}}
			},
		},
		{
			name: "empty values",
			env:  []string{"CGMON_EXCLUDED_DEVICES=", "CGMON_PROMETHEUS_ENABLED="},
			want: func(c *Config) { c.ExcludedDevices, c.Prometheus.Enabled = []string{}, false },
		},
		{
			name:     "unknown variables warn, CGMON_TEST_ and CGMON_CONFIG are not keys",
			env:      []string{"CGMON_INTERVALL=5s", "CGMON_TEST_ROOT=1", "CGMON_CONFIG=", "CGMONX=1"},
			want:     func(*Config) {},
			warnings: []string{"environment: unknown variable CGMON_INTERVALL"},
		},
		{
			name: "wrong types",
			env:  []string{"CGMON_INTERVAL=fast", "CGMON_LISTEN_PUBLIC=perhaps", "CGMON_CONTAINERS_RETRIES=", "CGMON_INFLUXDB_BATCH_SIZE=1.5"},
			errs: []string{
				`environment: CGMON_INTERVAL: cannot use "fast" as a duration`,
				`environment: CGMON_LISTEN_PUBLIC: cannot use "perhaps" as a boolean`,
				`environment: CGMON_CONTAINERS_RETRIES: cannot use "" as an integer`,
				`environment: CGMON_INFLUXDB_BATCH_SIZE: cannot use "1.5" as an integer`,
			},
		},
		{
			name: "not UTF-8",
			env:  []string{"CGMON_ROOTFS=/\xff", "CGTOP_MON_GROUP=\xfe"},
			errs: []string{"environment: CGMON_ROOTFS: the value is not UTF-8 text", "environment: CGTOP_MON_GROUP: the value is not UTF-8 text"},
		},
		{
			name: "invalid values are located",
			env:  []string{"CGMON_INTERVAL=1ms", "CGMON_HOSTS=a@b:0x"},
			errs: []string{"environment (CGMON_INTERVAL): interval: 1ms: must be at least 100ms", "environment (CGMON_HOSTS): hosts[0].address:"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ws, err := Load(Sources{Env: tc.env})
			wantErrors(t, err, "", tc.errs)
			if diff := cmp.Diff(tc.warnings, warnings(ws)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			want := Defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryKeyHasAVariable sets every CGMON_* variable of Keys() to a
// value other than its default and checks that the key changed: a field
// added to Config gets its variable by reflection.
func TestEveryKeyHasAVariable(t *testing.T) {
	for _, k := range Keys() {
		if k.Env == "" {
			continue
		}
		value := map[string]string{"duration": "17s", "bool": "yes", "int": "7", "list": "x,y", "hosts": "root@h1"}[k.Type]
		if k.Type == "bool" && k.Default == "true" {
			value = "no"
		}
		if k.Type == "string" {
			value = k.Default + "x"
		}
		var c Config
		l := &loader{origins: map[string]string{}}
		c = Defaults()
		l.environment(&c, nil, []string{k.Env + "=" + value})
		if len(l.errs) > 0 || len(l.warns) > 0 {
			t.Errorf("%s=%s: %v %v", k.Env, value, l.errs, l.warns)
			continue
		}
		if l.origins[k.Path] == "" {
			t.Errorf("%s=%s did not set %s", k.Env, value, k.Path)
		}
		if cmp.Equal(c, Defaults()) {
			t.Errorf("%s=%s left the configuration as the defaults", k.Env, value)
		}
	}
}

func TestEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string
		want     func(c *Config)
		warnings []string
		errs     []string
	}{
		{
			name: "quotes, export, comments, both prefixes",
			file: "# cgtop_mon\n; systemd comment\nexport CGTOP_MON_GROUP=\"system.slice\"\n  CGTOP_MON_HOSTNAME='node # 1'\nCGMON_INFLUXDB_PASSWORD=\"a\\\"b\\\\c\"\nCGMON_LOGGING_LOG_FILE=/var/log/cgmon.log # not a comment\r\n",
			want: func(c *Config) {
				c.InfluxDB.Filter.Group = "system.slice"
				c.InfluxDB.Measurement = "node # 1"
				c.InfluxDB.Password = `a"b\c`
				c.Logging.File = "/var/log/cgmon.log # not a comment"
			},
		},
		{
			name:     "other variables warn",
			file:     "PATH=/bin\nCGMON_CONFIG=/x\nCGMON_INTERVAL=5s\n",
			want:     func(*Config) {},
			warnings: []string{"cgmon.env:1: unknown variable PATH (want CGMON_* or CGTOP_MON_*)", "cgmon.env:2: CGMON_CONFIG in a configuration file has no effect"},
		},
		{
			name: "unknown variables warn with their line",
			file: "CGMON_INTERVAL=5s\n\nCGTOP_MON_DELAYS=5\nCGMON_NOPE=1\n",
			want: func(*Config) {},
			warnings: []string{
				"cgmon.env:3: unknown variable CGTOP_MON_DELAYS",
				"cgmon.env:4: unknown variable CGMON_NOPE",
			},
		},
		{
			name: "bad values with their line",
			file: "CGTOP_MON_INFLUXDB_HOST=influx\nCGTOP_MON_INFLUXDB_DATABASE=db\nCGTOP_MON_INFLUXDB_SSL=maybe\nCGMON_INTERVAL=abc\n",
			errs: []string{
				`cgmon.env:3: CGTOP_MON_INFLUXDB_SSL: cannot use "maybe" as a boolean`,
				`cgmon.env:4: CGMON_INTERVAL: cannot use "abc" as a duration`,
			},
		},
		{
			name: "invalid values with their line",
			file: "CGTOP_MON_DELAY=0.01\n",
			errs: []string{"cgmon.env:1 (CGTOP_MON_DELAY): interval: 10ms: must be at least 100ms"},
		},
		{name: "not UTF-8", file: "CGMON_INFLUXDB_DATABASE=0\xd30\n", errs: []string{"cgmon.env:1: CGMON_INFLUXDB_DATABASE: the value is not UTF-8 text"}},
		{name: "unclosed quote", file: "CGMON_ROOTFS=\"/x\n", errs: []string{"cgmon.env:1: CGMON_ROOTFS: no closing \" quote"}},
		{name: "text after quote", file: "CGMON_ROOTFS='/x' y\n", errs: []string{"cgmon.env:1: CGMON_ROOTFS: text after the closing quote"}},
		{name: "a line that is not an assignment", file: "CGMON_ROOTFS=/x\nCGMON_INTERVAL 5\n", errs: []string{"cgmon.env:2: want NAME=value (the file looks like an environment file) or a YAML mapping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "cgmon.env", tc.file)
			got, ws, err := Load(Sources{File: path})
			wantErrors(t, err, filepath.Dir(path), tc.errs)
			if diff := cmp.Diff(tc.warnings, warnings(ws)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			want := Defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	yamlFile := writeFile(t, "cgmon.yaml", "interval: 1s\nrootfs: /file\nlisten: 127.0.0.1:1\n")
	envFile := writeFile(t, "cgmon.env", "CGTOP_MON_DELAY=1\nCGMON_ROOTFS=/file\nCGMON_LISTEN=127.0.0.1:1\nCGMON_INFLUXDB_MEASUREMENT=file\n")
	env := []string{"CGTOP_MON_DELAY=2", "CGMON_ROOTFS=/env", "CGTOP_MON_HOSTNAME=cgtop"}
	for _, tc := range []struct {
		name string
		src  Sources
		want func(c *Config)
	}{
		{"yaml file only", Sources{File: yamlFile}, func(c *Config) {
			c.Interval, c.Rootfs, c.Listen = time.Second, "/file", "127.0.0.1:1"
		}},
		{"yaml file < CGTOP_MON < CGMON", Sources{File: yamlFile, Env: env}, func(c *Config) {
			c.Interval, c.Rootfs, c.Listen, c.InfluxDB.Measurement = 2*time.Second, "/env", "127.0.0.1:1", "cgtop"
		}},
		{"CGMON beats CGTOP_MON on the same key", Sources{Env: []string{"CGMON_INTERVAL=3s", "CGTOP_MON_DELAY=2"}}, func(c *Config) {
			c.Interval = 3 * time.Second
		}},
		{"environment file < environment", Sources{File: envFile, Env: env}, func(c *Config) {
			// CGMON_INFLUXDB_MEASUREMENT of the file beats the
			// environment's CGTOP_MON_HOSTNAME: every CGMON_ beats every
			// CGTOP_MON_.
			c.Interval, c.Rootfs, c.Listen, c.InfluxDB.Measurement = 2*time.Second, "/env", "127.0.0.1:1", "file"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ws, err := Load(tc.src)
			if err != nil || len(ws) > 0 {
				t.Fatalf("Load: %v %q", err, warnings(ws))
			}
			want := Defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{
		"yes": true, "YES": true, "on": true, "On": true, "true": true, "TRUE": true, "1": true, " true ": true,
		"no": false, "NO": false, "off": false, "false": false, "False": false, "0": false, "": false,
	} {
		got, err := parseBool(in)
		if err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"y", "n", "2", "enabled", "truee", "-1"} {
		if _, err := parseBool(in); err == nil {
			t.Errorf("parseBool(%q): no error", in)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"5": 5 * time.Second, "0": 0, "60": time.Minute, "0.25": 250 * time.Millisecond, "1e3": 1000 * time.Second,
		"5s": 5 * time.Second, "1h": time.Hour, "1m30s": 90 * time.Second, "100ms": 100 * time.Millisecond, " 5s ": 5 * time.Second,
	} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "five", "5 s", "NaN", "Inf", "0x10", "1e20", "5d"} {
		if d, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v: no error", in, d)
		}
	}
}

func TestYAMLMasksSecretsAndReadsBack(t *testing.T) {
	c := Defaults()
	c.InfluxDB.Enabled = true
	c.InfluxDB.URL = "http://admin:urlsecret@influx:8086/prefix"
	c.InfluxDB.Database = "db"
	c.InfluxDB.Password = "pwsecret"
	c.InfluxDB.Token = "tokensecret"
	c.Collectd.Password = "cdsecret"
	c.Schedule = "*/5 * * * *"
	c.InfluxDB.Measurement = "8086" // a string that reads as a number must be quoted
	tru := false
	c.Hosts = []Host{{Address: "root@db1", TrustOnFirstUse: &tru, Timeout: 90 * time.Second}, {Address: "[::1]:2222", Name: "local"}}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"pwsecret", "tokensecret", "cdsecret", "urlsecret"} {
		if strings.Contains(string(out), s) {
			t.Errorf("YAML() shows the secret %s:\n%s", s, out)
		}
	}
	for _, want := range []string{"  measurement: \"8086\"\n", "    trust_on_first_use: false\n", "    timeout: 1m30s\n", "excluded_devices: [loop, dm-]\n", "interval: 5s\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("YAML() has no %q:\n%s", want, out)
		}
	}
	if n := strings.Count(string(out), "********"); n != 3 {
		t.Errorf("YAML() has %d masked values, want 3:\n%s", n, out)
	}
	path := writeFile(t, "effective.yaml", string(out))
	l := &loader{origins: map[string]string{}}
	got := Defaults()
	data, _ := os.ReadFile(path)
	l.yaml(&got, path, data)
	if len(l.errs) > 0 || len(l.warns) > 0 {
		t.Fatalf("reading back: %v %v\n%s", l.errs, l.warns, out)
	}
	if diff := cmp.Diff(c.Masked(), got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	// Masked must not change the original.
	if c.InfluxDB.Password != "pwsecret" || !strings.Contains(c.InfluxDB.URL, "urlsecret") {
		t.Errorf("Masked changed its receiver: %+v", c.InfluxDB)
	}
}

func TestKeysHaveDocs(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if k.Doc == "" {
			t.Errorf("key %s has no entry in keyDocs", k.Path)
		}
		if seen[k.Env] && k.Env != "" {
			t.Errorf("two keys have the variable %s", k.Env)
		}
		seen[k.Env] = true
		seen[k.Path] = true
	}
	for path := range keyDocs {
		if !seen[path] {
			t.Errorf("keyDocs has %s, which is no key", path)
		}
	}
	for _, s := range Secrets {
		if !seen[s] {
			t.Errorf("Secrets has %s, which is no key", s)
		}
	}
}
