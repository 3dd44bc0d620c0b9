package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/filter"
	"github.com/cgmon/cgmon/internal/remote"
	"github.com/cgmon/cgmon/internal/render"
)

type snapshotFlags struct {
	sourceFlags
	format     string
	interval   time.Duration
	iterations int
	sort       string
	raw        bool
	pretty     bool
	containers bool
}

// sourceFlags say which host is read and which cgroups are kept; snapshot
// and top share them.
type sourceFlags struct {
	rootfs  string
	group   string
	include []string
	exclude []string
	devices []string
	remote  hostFlags
}

func addSourceFlags(fl *pflag.FlagSet, f *sourceFlags) {
	fl.StringVar(&f.rootfs, "rootfs", "/", "directory to read as the host's / (e.g. /rootfs in a container)")
	fl.StringVar(&f.group, "group", "", "only this cgroup and its subgroups (e.g. system.slice)")
	fl.StringSliceVar(&f.include, "include", nil, "only cgroups whose final name matches one of these patterns (* is a wildcard)")
	fl.StringSliceVar(&f.exclude, "exclude", nil, "leave out cgroups whose final name matches one of these patterns; wins over --include")
	fl.StringSliceVar(&f.devices, "exclude-devices", []string{"loop", "dm-"}, "block device name prefixes left out of IO figures")
	addHostFlags(fl, &f.remote, false)
}

// filter is --group, --include and --exclude.
func (f sourceFlags) filter() (filter.Filter, error) {
	flt, err := filter.New(f.group, f.include, f.exclude)
	if err != nil {
		return filter.Filter{}, usageError{err}
	}
	return flt, nil
}

func newSnapshotCommand() *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Print every cgroup with its rates, from two samples --interval apart",
		Long: `snapshot reads every cgroup twice, --interval apart, and prints each one
with its counters and its rates over the interval (CPU % as systemd-cgtop:
100 = one CPU fully used). With --iterations N it keeps going, printing N
snapshots, each --interval after the one before (JSON: one document a line).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSnapshot(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "output format: table or json")
	fl.DurationVar(&f.interval, "interval", time.Second, "time between the two samples (the window of every rate)")
	fl.IntVarP(&f.iterations, "iterations", "n", 1, "number of snapshots to print")
	addSourceFlags(fl, &f.sourceFlags)
	fl.StringVar(&f.sort, "sort", "cpu", "table order: cpu, memory, tasks, io or path")
	fl.BoolVar(&f.raw, "raw", false, "table: plain bytes instead of 1.5G")
	fl.BoolVar(&f.pretty, "pretty", false, "json: indent the output")
	fl.BoolVar(&f.containers, "containers", true, "read each container's network, filesystem, processes and start time (json)")
	return cmd
}

func runSnapshot(cmd *cobra.Command, f snapshotFlags) error {
	if f.format != "table" && f.format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", f.format)}
	}
	if f.interval <= 0 {
		return usageError{fmt.Errorf("--interval %s: must be positive", f.interval)}
	}
	if f.iterations < 1 {
		return usageError{fmt.Errorf("--iterations %d: must be at least 1", f.iterations)}
	}
	sortKey, err := render.ParseSortKey(f.sort)
	if err != nil {
		return usageError{fmt.Errorf("--%w", err)}
	}
	flt, err := f.filter()
	if err != nil {
		return err
	}
	var co *container.Options
	if f.containers {
		o := container.DefaultOptions()
		co = &o
	}
	src, closeSrc, err := f.source(cmd, co)
	if err != nil {
		return err
	}
	defer closeSrc()

	ctx := cmd.Context()
	if _, err := src.Next(); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	ticker := time.NewTicker(f.interval)
	defer ticker.Stop()
	for i := 0; i < f.iterations; i++ {
		select {
		case <-ctx.Done():
			return nil // interrupted: what was printed stands
		case <-ticker.C:
		}
		snap, err := src.Next()
		if err != nil {
			return err
		}
		snap = flt.Apply(snap)
		if f.format == "json" {
			err = render.JSON(out, snap, f.pretty)
		} else {
			if i > 0 {
				fmt.Fprintln(out)
			}
			err = render.Table(out, snap, render.TableOptions{Sort: sortKey, Raw: f.raw})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// source is the local engine, or with --host the remote host. Containers,
// when not nil, turns on the engine's per-container figures.
func (f sourceFlags) source(cmd *cobra.Command, containers *container.Options) (agent.Source, func() error, error) {
	if len(f.remote.hosts) == 0 {
		o := engine.Options{Root: f.rootfs, ExcludedDevices: f.devices, Containers: containers}
		eng, err := engine.New(o)
		if err != nil {
			return nil, nil, err
		}
		return eng, eng.Close, nil
	}
	return oneRemoteHost(cmd, f.remote, remote.HostOptions{ExcludedDevices: f.devices})
}
