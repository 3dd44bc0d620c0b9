// Package config is cgmon's one configuration: the struct every command
// reads, its defaults, its validation, and the loaders that fill it — the
// native YAML file, CGMON_* environment variables, and the formats of the
// tools cgmon replaces (cgtop_mon's CGTOP_MON_* variables and environment
// file, LXC Monitor's YAML). Flags are applied last by the command.
//
// Precedence: flags > environment > file > defaults.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/logging"
	"github.com/cgmon/cgmon/internal/remote"
	"github.com/cgmon/cgmon/internal/sink/collectd"
	"github.com/cgmon/cgmon/internal/sink/influx"
)

// MinInterval keeps a typo like "interval: 5ms" from turning the agent
// into a busy loop.
const MinInterval = 100 * time.Millisecond

// Config is the whole configuration. The yaml tags are the native file's
// keys; the CGMON_* variable of a key is its path in upper case joined by
// "_" (influxdb.filter.include → CGMON_INFLUXDB_FILTER_INCLUDE).
type Config struct {
	// Interval is the time between two samples, the window of every rate.
	Interval time.Duration `yaml:"interval"`
	// Schedule, when set, samples at the times of a cron expression
	// ("*/5 * * * *", optional leading seconds field) instead.
	Schedule string `yaml:"schedule"`
	// Rootfs is the directory read as the host's "/".
	Rootfs string `yaml:"rootfs"`
	// ExcludedDevices are block device name prefixes left out of IO.
	ExcludedDevices []string `yaml:"excluded_devices"`
	// Listen is the HTTP API's host:port; ListenPublic allows an address
	// that is not loopback without TLS and authentication.
	Listen       string `yaml:"listen"`
	ListenPublic bool   `yaml:"listen_public"`
	// WebConfigFile is an exporter-toolkit web configuration file
	// (node_exporter's --web.config.file): TLS and basic authentication
	// of the API. Empty: plain HTTP, no authentication.
	WebConfigFile string `yaml:"web_config_file"`

	Logging    logging.Options `yaml:"logging"` // LXC Monitor's key names
	Prometheus Prometheus      `yaml:"prometheus"`
	InfluxDB   influx.Options  `yaml:"influxdb"`
	Collectd   Collectd        `yaml:"collectd"`
	Containers Containers      `yaml:"containers"`
	JSONExport JSONExport      `yaml:"json_export"`
	Use        Use             `yaml:"use"`
	SSH        SSH             `yaml:"ssh"`
	Hosts      []Host          `yaml:"hosts"`
}

// Prometheus is the /metrics endpoint on the API listener.
type Prometheus struct {
	Enabled bool `yaml:"enabled"`
}

// Collectd is the collectd network-protocol output.
type Collectd struct {
	Enabled bool   `yaml:"enabled"`
	Server  string `yaml:"server"`
	// SecurityLevel is none, sign or encrypt.
	SecurityLevel string `yaml:"security_level"`
	Username      string `yaml:"username"`
	Password      string `yaml:"password"` // secret
	// Memory is "current" (usage − inactive_file, podman ≥ 5.6) or "raw".
	Memory string `yaml:"memory"`
	// Hostname is collectd's host field; empty takes the host's name.
	Hostname string `yaml:"hostname"`
}

// Containers are the per-container figures: network, filesystem, swap,
// processes, start time.
type Containers struct {
	Enabled    bool   `yaml:"enabled"`
	Network    bool   `yaml:"network"`
	Filesystem bool   `yaml:"filesystem"`
	Swap       bool   `yaml:"swap"`
	Workers    int    `yaml:"workers"`
	Retries    int    `yaml:"retries"`
	DockerRoot string `yaml:"docker_root"`
}

// JSONExport is LXC Monitor's JSON file.
type JSONExport struct {
	// File is the export file; empty means none.
	File       string        `yaml:"file"`
	MaxEntries int           `yaml:"max_entries"`
	MaxAge     time.Duration `yaml:"max_age"`
}

// Use is the host's USE view in every snapshot.
type Use struct {
	Enabled bool `yaml:"enabled"`
	// AnomalyWindow is the span of the anomaly baselines.
	AnomalyWindow time.Duration `yaml:"anomaly_window"`
}

// SSH holds the defaults of every entry of hosts.
type SSH struct {
	KeyFile         string        `yaml:"key_file"`
	KnownHosts      string        `yaml:"known_hosts"`
	TrustOnFirstUse bool          `yaml:"trust_on_first_use"`
	Timeout         time.Duration `yaml:"timeout"`
}

// Host is one remote host read over SSH. Empty fields take ssh:'s.
type Host struct {
	Address         string        `yaml:"address"`
	Name            string        `yaml:"name"`
	KeyFile         string        `yaml:"key_file"`
	KnownHosts      string        `yaml:"known_hosts"`
	TrustOnFirstUse *bool         `yaml:"trust_on_first_use"`
	Timeout         time.Duration `yaml:"timeout"`
}

// Defaults returns the configuration of `cgmon run` with nothing set: the
// API and /metrics on loopback, containers and the USE view on, no push
// output.
func Defaults() Config {
	in := influx.DefaultOptions()
	return Config{
		Interval:        5 * time.Second,
		Rootfs:          "/",
		ExcludedDevices: []string{"loop", "dm-"},
		Listen:          "127.0.0.1:8801",
		Logging:         logging.DefaultOptions(),
		Prometheus:      Prometheus{Enabled: true},
		InfluxDB:        in,
		Collectd:        Collectd{Server: "127.0.0.1:25826", SecurityLevel: "none", Memory: "current"},
		Containers:      Containers{Enabled: true, Network: true, Filesystem: true, Swap: true, Workers: 4, Retries: 3, DockerRoot: "/var/lib/docker"},
		JSONExport:      JSONExport{MaxEntries: 10000, MaxAge: 24 * time.Hour},
		Use:             Use{Enabled: true, AnomalyWindow: time.Hour},
		SSH:             SSH{Timeout: remote.DefaultTimeout},
	}
}

// Secrets are the keys whose values are never printed or logged.
var Secrets = []string{"influxdb.password", "influxdb.token", "collectd.password"}

// Masked returns a copy with every secret that is set replaced by
// "********", for `cgmon config check` and logs.
func (c Config) Masked() Config {
	m := func(s string) string {
		if s == "" {
			return ""
		}
		return "********"
	}
	c.InfluxDB.Password = m(c.InfluxDB.Password)
	if u, err := url.Parse(c.InfluxDB.URL); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			c.InfluxDB.URL = u.Redacted() // http://user:pass@host is v1 basic auth
		}
	}
	c.InfluxDB.Token = m(c.InfluxDB.Token)
	c.Collectd.Password = m(c.Collectd.Password)
	c.Hosts = append([]Host(nil), c.Hosts...)
	c.ExcludedDevices = append([]string(nil), c.ExcludedDevices...)
	return c
}

// Validate checks every key and returns all the problems at once, each
// naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Interval < MinInterval {
		bad("interval", "%s: must be at least %s", c.Interval, MinInterval)
	}
	if c.Rootfs == "" {
		bad("rootfs", "empty: give a directory (/ for the live host)")
	}
	for _, d := range c.ExcludedDevices {
		if d == "" || strings.ContainsAny(d, "/ \t\n") {
			bad("excluded_devices", "%q: want a device name prefix such as loop or dm-", d)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q: want host:port (%v)", c.Listen, err)
	}
	if c.WebConfigFile != "" {
		if _, err := ReadWebConfig(c.WebConfigFile); err != nil {
			bad("web_config_file", "%v", err)
		}
	}
	if err := c.Logging.Check(); err != nil {
		// internal/logging says `logging.log_level "loud": …`; here every
		// error starts "key: ", which the loader reads to add the line.
		key, rest, _ := strings.Cut(err.Error(), " ")
		errs = append(errs, fmt.Errorf("%s: %s", key, rest))
	}
	if c.InfluxDB.Enabled {
		if err := c.InfluxDB.Check(); err != nil {
			errs = append(errs, err) // influx's errors name influxdb.<key>
		}
	}
	if c.Collectd.Enabled {
		if _, _, err := net.SplitHostPort(c.Collectd.Server); err != nil {
			bad("collectd.server", "%q: want host:port (%v)", c.Collectd.Server, err)
		}
		// The sink's own parsers decide what is accepted; the messages name
		// the keys as every error here does.
		if lvl, err := collectd.ParseSecurityLevel(c.Collectd.SecurityLevel); err != nil {
			bad("collectd.security_level", "%q: want none, sign or encrypt", c.Collectd.SecurityLevel)
		} else if lvl != collectd.None && (c.Collectd.Username == "" || c.Collectd.Password == "") {
			bad("collectd.security_level", "%s needs collectd.username and collectd.password", c.Collectd.SecurityLevel)
		}
		if _, err := collectd.ParseMemory(c.Collectd.Memory); err != nil {
			bad("collectd.memory", "%q: want current or raw", c.Collectd.Memory)
		}
	}
	if c.Containers.Workers < 1 || c.Containers.Workers > 256 {
		bad("containers.workers", "%d: want 1 to 256", c.Containers.Workers)
	}
	if c.Containers.Retries < 0 || c.Containers.Retries > 10 {
		bad("containers.retries", "%d: want 0 to 10", c.Containers.Retries)
	}
	if c.JSONExport.MaxEntries < 1 {
		bad("json_export.max_entries", "%d: must be at least 1", c.JSONExport.MaxEntries)
	}
	if c.JSONExport.MaxAge < 0 {
		bad("json_export.max_age", "%s: must not be negative", c.JSONExport.MaxAge)
	}
	if c.Use.AnomalyWindow < time.Minute {
		bad("use.anomaly_window", "%s: must be at least 1m", c.Use.AnomalyWindow)
	}
	if c.SSH.Timeout <= 0 {
		bad("ssh.timeout", "%s: must be positive", c.SSH.Timeout)
	}
	seen := map[string]bool{}
	for i, h := range c.Hosts {
		key := fmt.Sprintf("hosts[%d]", i)
		a, err := remote.ParseAddress(h.Address)
		if err != nil {
			bad(key+".address", "%v", err)
			continue
		}
		name := h.Name
		if name == "" {
			name = a.Host
		}
		if seen[name] {
			bad(key+".name", "%q: two hosts have this name", name)
		}
		seen[name] = true
		if h.Timeout < 0 {
			bad(key+".timeout", "%s: must not be negative", h.Timeout)
		}
	}
	return errors.Join(errs...)
}

// RemoteOptions returns one remote.Options per host, empty fields filled
// from ssh:.
func (c *Config) RemoteOptions() []remote.Options {
	out := make([]remote.Options, 0, len(c.Hosts))
	for _, h := range c.Hosts {
		o := remote.Options{Address: h.Address, Name: h.Name, KeyFile: h.KeyFile, KnownHosts: h.KnownHosts,
			TrustOnFirstUse: c.SSH.TrustOnFirstUse, Timeout: h.Timeout}
		if o.KeyFile == "" {
			o.KeyFile = c.SSH.KeyFile
		}
		if o.KnownHosts == "" {
			o.KnownHosts = c.SSH.KnownHosts
		}
		if h.TrustOnFirstUse != nil {
			o.TrustOnFirstUse = *h.TrustOnFirstUse
		}
		if o.Timeout == 0 {
			o.Timeout = c.SSH.Timeout
		}
		out = append(out, o)
	}
	return out
}
