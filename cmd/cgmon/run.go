package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/companion"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/promexport"
	"github.com/cgmon/cgmon/internal/rootfs"
	"github.com/cgmon/cgmon/internal/server"
)

// minRunInterval keeps a typo like --interval 5ms from turning the agent
// into a busy loop.
const minRunInterval = 100 * time.Millisecond

type runFlags struct {
	interval     time.Duration
	listen       string
	listenPublic bool
	rootfs       string
	devices      []string
	logLevel     string
	logFormat    string
	metrics      bool
	collectd     collectdRunFlags
	sinks        sinkFlags
	schedule     string
	remote       hostFlags
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent: sample every cgroup at an interval and serve the HTTP API",
		Long: `run samples every cgroup every --interval and serves the latest snapshot
over HTTP on --listen (loopback only unless --listen-public is given: the API
has no authentication or TLS yet):

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
  GET /metrics                 Prometheus metrics (cAdvisor's names; --metrics=false
                               leaves it out)

With --schedule, samples are taken at the times of a cron expression
("*/5 * * * *"; a leading seconds field is allowed: "*/10 * * * * *")
instead of every --interval. Each --host user@host:port is read over SSH
on the same schedule, with its own connection and agent:

  GET /api/v1/hosts            the remote hosts: cycles, errors, last fetch
  GET /api/v1/hosts/<name>     a remote host's latest snapshot

SIGTERM or SIGINT stop it cleanly. Logs go to standard error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRun(cmd, f) },
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.interval, "interval", agent.DefaultInterval, "time between two samples (the window of every rate)")
	fl.StringVar(&f.listen, "listen", server.DefaultAddr, "host:port of the HTTP API (port 0 picks a free one)")
	fl.BoolVar(&f.listenPublic, "listen-public", false, "allow a --listen address that is not loopback (the API has no authentication or TLS yet)")
	fl.StringVar(&f.rootfs, "rootfs", "/", "directory to read as the host's / (e.g. /rootfs in a container)")
	fl.StringSliceVar(&f.devices, "exclude-devices", []string{"loop", "dm-"}, "block device name prefixes left out of IO figures")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.BoolVar(&f.metrics, "metrics", true, "serve Prometheus metrics at /metrics")
	addCollectdFlags(fl, &f.collectd)
	addSinkFlags(fl, &f.sinks)
	fl.StringVar(&f.schedule, "schedule", "", "sample at the times of this cron expression instead of every --interval (\"*/5 * * * *\", seconds field optional)")
	addHostFlags(fl, &f.remote, true)
	return cmd
}

func runRun(cmd *cobra.Command, f runFlags) error {
	if f.interval < minRunInterval {
		return usageError{fmt.Errorf("--interval %s: must be at least %s", f.interval, minRunInterval)}
	}
	log, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
	if err != nil {
		return usageError{err}
	}
	if _, _, err := f.sinks.options(); err != nil {
		return err
	}
	sched, err := parseSchedule(f.schedule)
	if err != nil {
		return usageError{err}
	}
	hostOpts, err := f.remote.options(log)
	if err != nil {
		return usageError{err}
	}
	if err := server.CheckAddr(f.listen, f.listenPublic); err != nil {
		if errors.Is(err, server.ErrNotLoopback) {
			err = fmt.Errorf("--listen: %w; pass --listen-public to serve on the network anyway", err)
		} else {
			err = fmt.Errorf("--listen: %w", err)
		}
		return usageError{err}
	}

	cd, err := newCollectdSink(f.collectd, f.interval, log)
	if err != nil {
		return err
	}
	if cd != nil {
		defer cd.Close()
	}

	eng, err := engine.New(engine.Options{Root: f.rootfs, ExcludedDevices: f.devices, Logger: log,
		Host: &engine.HostOptions{ExcludedDevices: f.devices}}) // the USE view in every snapshot
	if err != nil {
		return err
	}
	defer eng.Close()
	ln, err := server.Listen(f.listen, f.listenPublic)
	if err != nil {
		return err
	}
	if f.listenPublic && !server.IsLoopbackAddr(ln.Addr()) {
		log.Warn("serving the API on a non-loopback address: it has no authentication or TLS yet; anyone who can reach the port can read every cgroup", "addr", ln.Addr().String())
	}
	ag, err := agent.New(agent.Options{Source: eng, Interval: f.interval, Schedule: sched, Logger: log})
	if err != nil {
		return err
	}
	root, err := rootfs.New(f.rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	hist, err := companion.New(companion.Options{Root: root, Layout: eng.Collector().Layout(), Snapshots: ag, Logger: log})
	if err != nil {
		return err
	}
	var sinks sinkSet
	var promSinks []promexport.Sink
	if cd != nil {
		promSinks = append(promSinks, cd)
	}
	var metrics http.Handler
	if f.metrics {
		metrics = promexport.Handler(promexport.New(promexport.Options{Source: ag, Sinks: promSinks}), log)
	}
	srv := server.New(server.Options{Source: ag, Interval: ag.Interval(), Logger: log, Processes: hist, Metrics: metrics, Sinks: sinks.Stats})

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	collectdDone := runCollectd(ctx, cd, ag) // subscribed before the first snapshot
	if err := sinks.start(ctx, &f.sinks, ag, log); err != nil {
		return err
	}
	hosts, hostsDone, err := startHosts(ctx, hostOpts, f.interval, sched, f.devices, log)
	if err != nil {
		return err // no host agent was started
	}
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
	log.Info("serving", "addr", ln.Addr().String(), "rootfs", f.rootfs, "interval", f.interval.String(),
		"schedule", ag.Schedule().String(), "hosts", len(hosts),
		"cgroup_mode", string(eng.Collector().Layout().Mode), "version", versionString())
	err = srv.Serve(ctx, ln)
	cancel()
	<-agentDone
	<-histDone
	<-collectdDone
	sinks.wait()
	hostsDone()
	if err != nil {
		return err
	}
	st := ag.Stats()
	log.Info("stopped", "cycles", st.Cycles, "errors", st.Errors, "overruns", st.Overruns)
	return nil
}

// newLogger returns the slog logger of --log-level and --log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
