package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/companion"
	"github.com/cgmon/cgmon/internal/config"
	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/promexport"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/sdnotify"
	"github.com/cgmon/cgmon/internal/server"
	"github.com/cgmon/cgmon/internal/sink/jsonexport"
)

// minRunInterval keeps a typo like --interval 5ms from turning the agent
// into a busy loop.
const minRunInterval = config.MinInterval

// runExtras are run's flags that are not keys of the configuration.
type runExtras struct {
	configPath string
	hosts      []string // --host: appended to hosts:
}

// bindRunFlags defines run's flags on fl, each bound to its key in c.
// Called twice: on the command's flag set, and on a fresh set bound to
// the loaded configuration, where the flags the user gave are replayed
// (flags > environment > file > defaults).
func bindRunFlags(fl *pflag.FlagSet, c *config.Config, x *runExtras) {
	fl.StringVar(&x.configPath, "config", "", "configuration file: cgmon's YAML, LXC Monitor's YAML or cgtop_mon's environment file (default $CGMON_CONFIG)")
	fl.DurationVar(&c.Interval, "interval", c.Interval, "time between two samples, the window of every rate (key interval)")
	fl.StringVar(&c.Schedule, "schedule", c.Schedule, "sample at the times of this cron expression instead of every --interval (\"*/5 * * * *\", seconds field optional)")
	fl.StringVar(&c.Listen, "listen", c.Listen, "host:port of the HTTP API (port 0 picks a free one)")
	fl.BoolVar(&c.ListenPublic, "listen-public", c.ListenPublic, "allow a --listen address that is not loopback without TLS and authentication")
	fl.StringVar(&c.WebConfigFile, "web-config-file", c.WebConfigFile, "web configuration file of the API, as node_exporter's --web.config.file: TLS (tls_server_config) and basic authentication (basic_auth_users)")
	fl.StringVar(&c.Rootfs, "rootfs", c.Rootfs, "directory to read as the host's / (e.g. /rootfs in a container)")
	fl.StringSliceVar(&c.ExcludedDevices, "exclude-devices", c.ExcludedDevices, "block device name prefixes left out of IO figures")
	fl.StringVar(&c.Logging.Level, "log-level", c.Logging.Level, "log level: debug, info, warning, error or critical")
	fl.StringVar(&c.Logging.Format, "log-format", c.Logging.Format, "log format: text or json")
	fl.StringVar(&c.Logging.File, "log-file", c.Logging.File, "log to this file, rotated by size, instead of standard error")
	fl.BoolVar(&c.Prometheus.Enabled, "metrics", c.Prometheus.Enabled, "serve Prometheus metrics at /metrics")
	fl.BoolVar(&c.Containers.Enabled, "containers", c.Containers.Enabled, "read each container's network, filesystem, processes and start time")
	fl.StringVar(&c.JSONExport.File, "json-export", c.JSONExport.File, "write LXC Monitor's JSON export to this file (off when empty)")
	bindInfluxFlags(fl, &c.InfluxDB)
	bindCollectdFlags(fl, &c.Collectd)
	fl.StringArrayVar(&x.hosts, "host", nil, "also read this remote host over SSH, user@host:port (repeatable)")
	fl.StringVar(&c.SSH.KeyFile, "key-file", c.SSH.KeyFile, "SSH private key of the remote hosts; empty: the keys of ssh-agent (SSH_AUTH_SOCK)")
	fl.StringVar(&c.SSH.KnownHosts, "known-hosts", c.SSH.KnownHosts, "known_hosts file the remote hosts' keys are checked against (default ~/.ssh/known_hosts)")
	fl.BoolVar(&c.SSH.TrustOnFirstUse, "trust-on-first-use", c.SSH.TrustOnFirstUse, "accept and record the key of a host not in known_hosts (a changed key is refused always)")
	fl.DurationVar(&c.SSH.Timeout, "host-timeout", c.SSH.Timeout, "longest wait for a remote host in one cycle, connecting included")
}

// flagKeys names the configuration key of each flag whose name is not the
// key's, so that an error about the key says which flag set it.
var flagKeys = map[string]string{
	"exclude-devices": "excluded_devices", "log-level": "logging.log_level", "log-format": "logging.log_format",
	"log-file": "logging.log_file", "host-timeout": "ssh.timeout", "host": "hosts", "web-config-file": "web_config_file",
	"influxdb-url": "influxdb.url", "influxdb-api": "influxdb.api", "influxdb-database": "influxdb.database",
	"influxdb-precision": "influxdb.precision", "influxdb-schema": "influxdb.schema", "influxdb-batch-size": "influxdb.batch_size",
	"collectd-server": "collectd.server", "collectd-security-level": "collectd.security_level", "collectd-memory": "collectd.memory",
}

func newRunCommand() *cobra.Command {
	cfg := config.Defaults()
	var x runExtras
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent: sample every cgroup at an interval, serve the HTTP API, feed the outputs",
		Long: `run samples every cgroup every --interval and serves the latest snapshot
over HTTP on --listen. --web-config-file adds TLS and basic authentication
with node_exporter's web configuration file (tls_server_config,
basic_auth_users). A --listen address that is not loopback needs both, or
--listen-public to serve it without them:

  GET /healthz                 200 when a recent snapshot is published, else 503
  GET /api/v1/cgroups          the latest snapshot (cgmon snapshot --format json);
                               query: group, include, exclude as the flags
  GET /api/v1/cgroups/<path>   one cgroup
  GET /api/v1.0/<cgroup>/processes
                               the cAdvisor-companion API: the processes of a
                               cgroup ("/docker/ID" finds its systemd scope)
                               with goprocinfo's status and stat, cmdline and
                               relativecpuusage; query: count (1..60),
                               interval (s, 1..60, count×interval ≤ 60),
                               sort (cpu|mem), limit (with sort, default 1).
                               A cgroup asked for is sampled every second and
                               kept (60 s of history, 16 cgroups at most) until
                               10 minutes after its last request.
  GET /api/v1/sinks            the outputs' counters
  GET /metrics                 Prometheus metrics (cAdvisor's names; --metrics=false
                               leaves it out)

Everything can also come from a configuration file (--config: cgmon's YAML,
LXC Monitor's YAML or cgtop_mon's environment file) and from CGMON_* and
CGTOP_MON_* environment variables; flags win over the environment, which
wins over the file. "cgmon config check" prints the result.

With --schedule, samples are taken at the times of a cron expression
("*/5 * * * *"; a leading seconds field is allowed: "*/10 * * * * *")
instead of every --interval. Each --host user@host:port is read over SSH
on the same schedule, with its own connection and agent:

  GET /api/v1/hosts            the remote hosts: cycles, errors, last fetch
  GET /api/v1/hosts/<name>     a remote host's latest snapshot

SIGHUP reloads the configuration: a bad one is logged and the running one
kept. SIGTERM or SIGINT stop it cleanly.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRun(cmd, x.configPath) },
	}
	bindRunFlags(cmd.Flags(), &cfg, &x)
	return cmd
}

// loadRunConfig builds run's configuration: defaults, the file, the
// environment, then the flags given on the command line.
func loadRunConfig(flags *pflag.FlagSet, path string, log *slog.Logger) (config.Config, error) {
	if path == "" {
		path = os.Getenv("CGMON_CONFIG")
	}
	cfg, warnings, err := config.Load(config.Sources{File: path, Env: os.Environ()})
	if err != nil {
		return cfg, err
	}
	for _, w := range warnings {
		log.Warn("configuration: " + w.String())
	}
	if err := applyFlags(flags, &cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nameFlags(err, flags)
	}
	if _, err := parseSchedule(cfg.Schedule); err != nil {
		return cfg, nameFlags(err, flags)
	}
	acc, err := listenAccess(cfg)
	if err != nil {
		return cfg, nameFlags(err, flags)
	}
	if err := server.CheckAddr(cfg.Listen, acc); err != nil {
		if errors.Is(err, server.ErrNotLoopback) {
			err = fmt.Errorf("listen: %w; give web_config_file (--web-config-file) with tls_server_config and basic_auth_users, "+
				"or set listen_public (--listen-public) to serve on the network without them", err)
		} else {
			err = fmt.Errorf("listen: %w", err)
		}
		return cfg, nameFlags(err, flags)
	}
	return cfg, nil
}

// listenAccess reads what guards the API: the web configuration file,
// read again at every start (and so at every reload), and listen_public.
func listenAccess(cfg config.Config) (server.Access, error) {
	acc := server.Access{Public: cfg.ListenPublic}
	if cfg.WebConfigFile == "" {
		return acc, nil
	}
	wc, err := config.ReadWebConfig(cfg.WebConfigFile)
	if err != nil {
		return acc, fmt.Errorf("web_config_file: %w", err)
	}
	acc.TLS, acc.Auth = wc.TLS, wc.Auth
	return acc, nil
}

// applyFlags replays the flags the user gave onto cfg.
func applyFlags(given *pflag.FlagSet, cfg *config.Config) error {
	fresh := pflag.NewFlagSet("run", pflag.ContinueOnError)
	var x runExtras
	bindRunFlags(fresh, cfg, &x)
	var errs []error
	given.Visit(func(f *pflag.Flag) {
		to := fresh.Lookup(f.Name)
		if to == nil {
			return
		}
		if from, ok := f.Value.(pflag.SliceValue); ok {
			errs = append(errs, to.Value.(pflag.SliceValue).Replace(from.GetSlice()))
			return
		}
		if err := to.Value.Set(f.Value.String()); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.Name, err))
		}
	})
	if given.Changed("influxdb-url") {
		cfg.InfluxDB.Enabled = cfg.InfluxDB.URL != ""
	}
	if given.Changed("collectd-server") {
		cfg.Collectd.Enabled = cfg.Collectd.Server != ""
	}
	for _, h := range x.hosts {
		cfg.Hosts = append(cfg.Hosts, config.Host{Address: h})
	}
	return errors.Join(errs...)
}

// nameFlags adds to each error about a key the flag that set it.
func nameFlags(err error, given *pflag.FlagSet) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		msg := e.Error()
		given.Visit(func(f *pflag.Flag) {
			key, ok := flagKeys[f.Name]
			if !ok {
				key = f.Name
			}
			if strings.HasPrefix(msg, key+":") || strings.HasPrefix(msg, key+" ") || (key == "hosts" && strings.HasPrefix(msg, "hosts[")) {
				msg = "--" + f.Name + ": " + msg
			}
		})
		out = append(out, errors.New(msg))
	}
	return errors.Join(out...)
}

func runRun(cmd *cobra.Command, configPath string) error {
	boot, err := newLogger(cmd.ErrOrStderr(), config.Defaults().Logging)
	if err != nil {
		return err
	}
	cfg, err := loadRunConfig(cmd.Flags(), configPath, boot.Logger)
	if err != nil {
		return usageError{err}
	}
	log, err := newLogger(cmd.ErrOrStderr(), cfg.Logging)
	if err != nil {
		return usageError{err}
	}
	defer log.Close()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// waitReload returns the next good configuration after a SIGHUP, having
	// called stop, or nil when ctx ends. A bad one is logged and the
	// running one kept.
	waitReload := func(ctx context.Context, stop context.CancelFunc) *config.Config {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hup:
			}
			log.Logger.Info("SIGHUP: reloading the configuration")
			sdnotify.Reloading()
			c, err := loadRunConfig(cmd.Flags(), configPath, log.Logger)
			if err == nil {
				err = log.Reconfigure(c.Logging)
			}
			if err != nil {
				log.Logger.Error("reload failed; the running configuration stays", "err", err)
				sdnotify.Ready() // systemd waits for READY=1 after RELOADING=1
				continue
			}
			stop()
			return &c
		}
	}
	running := cfg
	var previous *config.Config // the configuration before the last reload
	for {
		next, cycles, err := runAgent(cmd.Context(), running, log.Logger, waitReload)
		switch {
		case err != nil && previous != nil && cycles == 0:
			// The reloaded configuration does not start (its port is
			// taken, say): back to the one that ran.
			log.Logger.Error("the reloaded configuration failed to start; going back to the one before", "err", err)
			running, previous = *previous, nil
			if err := log.Reconfigure(running.Logging); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		case next == nil:
			sdnotify.Stopping()
			return nil // stopped by SIGTERM or SIGINT
		}
		log.Logger.Info("configuration reloaded; the collection and the outputs restart with it")
		prev := running
		running, previous = *next, &prev
	}
}

// runAgent runs the agent, its API and its outputs on cfg until ctx ends
// or waitReload returns a new configuration (after stopping it), which it
// returns. cycles counts the samples taken.
func runAgent(ctx context.Context, cfg config.Config, log *slog.Logger,
	waitReload func(ctx context.Context, stop context.CancelFunc) *config.Config) (next *config.Config, cycles uint64, err error) {
	sched, _ := parseSchedule(cfg.Schedule) // checked by loadRunConfig
	cd, err := newCollectdSink(cfg.Collectd, cfg.Interval, log)
	if err != nil {
		return nil, 0, err
	}
	if cd != nil {
		defer cd.Close()
	}
	eo := engine.Options{Root: cfg.Rootfs, ExcludedDevices: cfg.ExcludedDevices, Logger: log}
	if cfg.Use.Enabled {
		eo.Host = &engine.HostOptions{ExcludedDevices: cfg.ExcludedDevices, AnomalyWindow: cfg.Use.AnomalyWindow}
	}
	if cfg.Containers.Enabled {
		c := cfg.Containers
		eo.Containers = &container.Options{Network: c.Network, Filesystem: c.Filesystem, Swap: c.Swap,
			Workers: c.Workers, Retries: c.Retries, DockerRoot: c.DockerRoot, Logger: log}
		if c.Retries == 0 {
			eo.Containers.Retries = -1 // container.Options: 0 is the default, negative none
		}
	}
	eng, err := engine.New(eo)
	if err != nil {
		return nil, 0, err
	}
	defer eng.Close()
	// The web configuration file is read again here: on a reload it may
	// have changed since loadRunConfig checked it.
	acc, err := listenAccess(cfg)
	if err != nil {
		return nil, 0, err
	}
	ln, err := server.Listen(cfg.Listen, acc)
	if err != nil {
		return nil, 0, err
	}
	var guard func() error
	switch {
	case server.IsLoopbackAddr(ln.Addr()):
	case !acc.Guarded():
		log.Warn("serving the API on a non-loopback address (listen_public): "+acc.Lacks(), "addr", ln.Addr().String())
	case !acc.Public:
		// Served only because the file guards it: keep it so.
		guard = config.WebConfigGuard(cfg.WebConfigFile)
	}
	ag, err := agent.New(agent.Options{Source: eng, Interval: cfg.Interval, Schedule: sched, Logger: log})
	if err != nil {
		ln.Close()
		return nil, 0, err
	}
	root, err := rootfs.New(cfg.Rootfs)
	if err != nil {
		ln.Close()
		return nil, 0, err
	}
	defer root.Close()
	hist, err := companion.New(companion.Options{Root: root, Layout: eng.Collector().Layout(), Snapshots: ag, Logger: log})
	if err != nil {
		ln.Close()
		return nil, 0, err
	}
	hostOpts := cfg.RemoteOptions()
	for i := range hostOpts {
		hostOpts[i].Logger = log
	}
	hosts, err := newHosts(hostOpts, cfg.Interval, sched, cfg.ExcludedDevices, log)
	if err != nil {
		ln.Close()
		return nil, 0, err
	}
	// The push sinks write every host, local and remote, each under its
	// own name; the JSON export is LXC Monitor's, of the local containers.
	agents := []*agent.Agent{ag}
	for _, rh := range hosts {
		agents = append(agents, rh.agent)
	}
	var sinks sinkSet
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Everything subscribes before the first snapshot.
	collectdDone := runCollectd(ctx, cd, agents)
	if err := sinks.start(ctx, cfg, agents, log); err != nil {
		ln.Close()
		closeHosts(hosts)
		return nil, 0, err
	}
	var exportDone <-chan struct{} = closedChan()
	if cfg.JSONExport.File != "" {
		exportDone, err = jsonexport.Start(ctx, jsonexport.Options{Path: cfg.JSONExport.File,
			MaxEntries: cfg.JSONExport.MaxEntries, MaxAge: cfg.JSONExport.MaxAge}, ag, log)
		if err != nil {
			ln.Close()
			closeHosts(hosts)
			cancel()
			sinks.wait()
			<-collectdDone
			return nil, 0, fmt.Errorf("json_export: %w", err)
		}
	}
	var promSinks []promexport.Sink
	if cd != nil {
		promSinks = append(promSinks, cd)
	}
	for _, sk := range sinks.sinks {
		promSinks = append(promSinks, sk)
	}
	var metrics http.Handler
	if cfg.Prometheus.Enabled {
		metrics = promexport.Handler(promexport.New(promexport.Options{Source: ag, Sinks: promSinks}), log)
		for _, rh := range hosts {
			rh.metrics = promexport.Handler(promexport.New(promexport.Options{Source: rh.agent}), log.With("host", rh.host.Name()))
		}
	}
	srv := server.New(server.Options{Source: ag, Interval: ag.Interval(), Logger: log, Processes: hist, Metrics: metrics,
		Sinks: sinks.Stats, WebConfigFile: cfg.WebConfigFile, Guard: guard})
	hostsDone := runHosts(ctx, hosts)
	registerHostRoutes(srv, hosts)
	agentDone := make(chan struct{})
	go func() {
		defer close(agentDone)
		ag.Run(ctx) // returns only when ctx is done
	}()
	histDone := make(chan struct{})
	go func() {
		defer close(histDone)
		hist.Run(ctx) // returns only when ctx is done
	}()
	reloaded := make(chan *config.Config, 1)
	go func() { reloaded <- waitReload(ctx, cancel) }()
	// systemd's watchdog (WatchdogSec) restarts an agent whose cycle hangs;
	// a long wait for the next time of a cron schedule is not a hang.
	hang := max(3*cfg.Interval, time.Minute)
	go func() {
		if err := sdnotify.Watchdog(ctx, func() bool { return ag.Busy() < hang }); err != nil {
			log.Warn("systemd watchdog: off", "err", err)
		}
	}()
	log.Info("serving", "addr", ln.Addr().String(), "tls", acc.TLS, "auth", acc.Auth, "rootfs", cfg.Rootfs, "interval", cfg.Interval.String(),
		"schedule", ag.Schedule().String(), "hosts", len(hosts), "containers", cfg.Containers.Enabled,
		"cgroup_mode", string(eng.Collector().Layout().Mode), "version", versionString())
	go func() {
		// READY=1 once the first cycle is done, so that units ordered after
		// cgmon find data in the API.
		for ag.Stats().Cycles+ag.Stats().Errors == 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		sdnotify.Ready()
		sdnotify.Status(fmt.Sprintf("serving on %s, sampling every %s", ln.Addr(), ag.Interval()))
	}()
	err = srv.Serve(ctx, ln)
	cancel()
	<-agentDone
	<-histDone
	<-collectdDone
	<-exportDone
	sinks.wait()
	hostsDone()
	next = <-reloaded
	st := ag.Stats()
	if err != nil {
		return nil, st.Cycles, err
	}
	log.Info("stopped", "cycles", st.Cycles, "errors", st.Errors, "overruns", st.Overruns)
	return next, st.Cycles, nil
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
