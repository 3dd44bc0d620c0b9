package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/logging"
	"github.com/cgmon/cgmon/internal/sink/collectd"
)

// defaultCollectdInterval is collectd's own default Interval, for when
// COLLECTD_INTERVAL is not set.
const defaultCollectdInterval = 10 * time.Second

type collectdExecFlags struct {
	rootfs    string
	memory    string
	logLevel  string
	logFormat string
}

func newCollectdExecCommand() *cobra.Command {
	var f collectdExecFlags
	cmd := &cobra.Command{
		Use:   "collectd-exec",
		Short: "Run under collectd's exec plugin: print every container's cpu and memory as PUTVAL lines",
		Long: `collectd-exec is a program for collectd's exec plugin. It samples every
cgroup every COLLECTD_INTERVAL seconds (collectd sets it; 10 when unset) and
prints, for every container, the values of collectd-libpod-stats:

  PUTVAL "HOST/libpodstats-NAME/pod_cpu" interval=10.000 TIME:PERCENT:NANOSECONDS
  PUTVAL "HOST/libpodstats-NAME/pod_memory" interval=10.000 TIME:BYTES

HOST is COLLECTD_HOSTNAME (collectd sets it), else the host's name. Load
packaging/collectd/types.db.libpodstats with TypesDB. collectd refuses to run
exec programs as root:

  LoadPlugin exec
  <Plugin exec>
    Exec "nobody" "/usr/local/bin/cgmon" "collectd-exec"
  </Plugin>

Logs go to standard error, which collectd logs.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCollectdExec(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rootfs, "rootfs", "/", "directory to read as the host's / (e.g. /rootfs in a container)")
	fl.StringVar(&f.memory, "memory", string(collectd.MemoryCurrent), "pod_memory: current (usage − inactive_file, podman ≥ 5.6) or raw (usage, podman 4.x and collectd-libpod-stats)")
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warning, error or critical")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

// collectdInterval reads COLLECTD_INTERVAL: seconds, fractions allowed.
func collectdInterval(env string) (time.Duration, error) {
	if env == "" {
		return defaultCollectdInterval, nil
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(env), 64)
	if err != nil || s*float64(time.Second) < float64(minRunInterval) || s > 86400 {
		return 0, fmt.Errorf("COLLECTD_INTERVAL %q: want seconds from %g to 86400", env, minRunInterval.Seconds())
	}
	return time.Duration(s * float64(time.Second)), nil
}

func runCollectdExec(cmd *cobra.Command, f collectdExecFlags) error {
	logger, err := newLogger(cmd.ErrOrStderr(), logging.Options{Level: f.logLevel, Format: f.logFormat})
	if err != nil {
		return usageError{err}
	}
	log := logger.Logger
	mem, err := collectd.ParseMemory(f.memory)
	if err != nil {
		return usageError{fmt.Errorf("--memory: %w", err)}
	}
	interval, err := collectdInterval(os.Getenv("COLLECTD_INTERVAL"))
	if err != nil {
		return usageError{err}
	}
	eng, err := engine.New(engine.Options{Root: f.rootfs, Logger: log})
	if err != nil {
		return err
	}
	defer eng.Close()
	ag, err := agent.New(agent.Options{Source: eng, Interval: interval, Logger: log})
	if err != nil {
		return err
	}
	sub := ag.Subscribe("collectd-exec")
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); ag.Run(ctx) }()
	defer func() { cancel(); <-done }()

	values := collectd.Values{Host: os.Getenv("COLLECTD_HOSTNAME"), Memory: mem, Interval: interval}
	out := bufio.NewWriter(cmd.OutOrStdout())
	var vls []collectd.ValueList
	var line []byte
	for snap := range sub.C() {
		vls = values.Append(vls[:0], snap)
		for i := range vls {
			line = collectd.AppendPutval(line[:0], &vls[i])
			out.Write(line)
		}
		// collectd reads line by line: each interval's lines go out at once.
		if err := out.Flush(); err != nil {
			return fmt.Errorf("write to collectd: %w", err) // collectd closed the pipe
		}
	}
	return nil
}
