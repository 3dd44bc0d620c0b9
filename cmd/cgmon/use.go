package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/render"
	"github.com/cgmon/cgmon/internal/use"
)

type useFlags struct {
	interval      time.Duration
	iterations    int
	format        string
	rootfs        string
	devices       []string
	base          string
	anomalyWindow time.Duration
	all           bool
	pretty        bool
}

func newUseCommand() *cobra.Command {
	var f useFlags
	cmd := &cobra.Command{
		Use:   "use",
		Short: "Print the host's USE report: utilization, saturation and errors of CPU, memory, storage, network and cgroups",
		Long: `use reads the host's /proc and /sys twice, --interval apart, and prints
for every resource its utilization, saturation and errors, each with a
status (ok, warning, critical; thresholds in the README) and, once a
baseline has formed, anomaly flags: a figure far above its own median of
the last --anomaly-window. Baselines need a few minutes of history, so flags
appear in a long run (--iterations 0 runs until interrupted) or in the
agent, not in a single report.

Formats: table (one screen; cgroups only when not ok unless --all), json
(the snapshot's "host" object and the cgroups, as cgmon snapshot), names
(one "<base>.<hostname>.resources.… value unix-time" line per figure: the
Graphite plaintext protocol).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUse(cmd, f, func() (*engine.Engine, error) {
				return engine.New(engine.Options{Root: f.rootfs, ExcludedDevices: f.devices, NoNames: true,
					Host: &engine.HostOptions{ExcludedDevices: f.devices, AnomalyWindow: f.anomalyWindow}})
			})
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.interval, "interval", time.Second, "time between the two samples (the window of every rate)")
	fl.IntVarP(&f.iterations, "iterations", "n", 1, "number of reports to print, one every --interval (0: until interrupted)")
	fl.StringVar(&f.format, "format", "table", "output format: table, json or names")
	fl.StringVar(&f.rootfs, "rootfs", "/", "directory to read as the host's / (e.g. /rootfs in a container)")
	fl.StringSliceVar(&f.devices, "exclude-devices", []string{"loop", "dm-"}, "block device name prefixes left out of the disk figures")
	fl.StringVar(&f.base, "base", use.DefaultBase, "first part of every name in --format names ([0-9A-Za-z._-]; others become _)")
	fl.DurationVar(&f.anomalyWindow, "anomaly-window", time.Hour, "span of the rolling baseline behind anomaly flags (config use.anomaly_window)")
	fl.BoolVar(&f.all, "all", false, "table: also list the cgroups whose checks are all ok")
	fl.BoolVar(&f.pretty, "pretty", false, "json: indent the output")
	return cmd
}

// runUse prints USE reports from the engine newEngine returns: the local
// host here, a remote one when another command passes an engine reading
// through a different root.
func runUse(cmd *cobra.Command, f useFlags, newEngine func() (*engine.Engine, error)) error {
	switch f.format {
	case "table", "json", "names":
	default:
		return usageError{fmt.Errorf("--format %q: want table, json or names", f.format)}
	}
	if f.interval <= 0 {
		return usageError{fmt.Errorf("--interval %s: must be positive", f.interval)}
	}
	if f.iterations < 0 {
		return usageError{fmt.Errorf("--iterations %d: must be 0 (until interrupted) or more", f.iterations)}
	}
	if f.anomalyWindow < time.Minute {
		return usageError{fmt.Errorf("--anomaly-window %s: must be at least 1m", f.anomalyWindow)}
	}
	eng, err := newEngine()
	if err != nil {
		return err
	}
	defer eng.Close()
	if _, err := eng.Next(); err != nil {
		return err
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	ticker := time.NewTicker(f.interval)
	defer ticker.Stop()
	for i := 0; f.iterations == 0 || i < f.iterations; i++ {
		select {
		case <-cmd.Context().Done():
			return nil
		case <-ticker.C:
		}
		snap, err := eng.Next()
		if err != nil {
			return err
		}
		switch f.format {
		case "json":
			err = render.JSON(out, snap, f.pretty)
		case "names":
			err = writeNames(out, snap, f.base)
		default:
			if i > 0 {
				fmt.Fprintln(out)
			}
			err = writeUseTable(out, snap, f.all)
		}
		if err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeNames writes one Graphite plaintext line per check.
func writeNames(w io.Writer, s *model.Snapshot, base string) error {
	ts := strconv.FormatInt(s.Timestamp.Unix(), 10)
	for _, c := range s.Host.Checks {
		if _, err := fmt.Fprintf(w, "%s %s %s\n", use.FullName(base, s.Hostname, c.Name), strconv.FormatFloat(c.Value, 'g', 6, 64), ts); err != nil {
			return err
		}
	}
	return nil
}

// writeUseTable writes the one-screen report: a summary line, then one row
// per check, by resource. Per-CPU rows and cgroup rows are shown only when
// not ok (unless all).
func writeUseTable(w io.Writer, s *model.Snapshot, all bool) error {
	h := s.Host
	counts := map[string]int{}
	anomalies := 0
	for _, c := range h.Checks {
		counts[c.Status]++
		if c.Anomaly != "" {
			anomalies++
		}
	}
	fmt.Fprintf(w, "%s  %s  %d CPUs  interval %ss   %d ok, %d warning, %d critical, %d anomalies\n",
		s.Hostname, s.Timestamp.Format(time.DateTime), h.CPU.Count.V, strconv.FormatFloat(s.IntervalSeconds.V, 'f', 1, 64),
		counts[use.OK], counts[use.Warning], counts[use.Critical], anomalies)
	fmt.Fprintf(w, "%-8s %-11s %-44s %12s  %-8s %s\n", "RESOURCE", "USE", "FIGURE", "VALUE", "STATUS", "NOTE")
	for _, c := range h.Checks {
		hidden := c.Status == use.OK && c.Anomaly == "" && (c.Resource == "cgroup" || strings.HasPrefix(c.Name, "resources.cpu.cpu"))
		if hidden && !all {
			continue
		}
		note := c.Reason
		if c.Anomaly != "" {
			note = strings.TrimSpace(note + "  ANOMALY: " + c.Anomaly)
		}
		fmt.Fprintf(w, "%-8s %-11s %-44s %12s  %-8s %s\n", c.Resource, c.Kind, figureName(c), valueWithUnit(c), c.Status, note)
	}
	return nil
}

// figureName is the check's name without "resources.<resource>.".
func figureName(c model.Check) string {
	n := strings.TrimPrefix(c.Name, "resources.")
	if c.Resource != "cgroup" {
		n = strings.TrimPrefix(n, c.Resource+".")
	} else {
		n = c.Subject + " " + n[strings.LastIndexByte(n, '.')+1:]
	}
	if len(n) > 44 {
		n = "…" + n[len(n)-43:]
	}
	return n
}

func valueWithUnit(c model.Check) string {
	v := strconv.FormatFloat(c.Value, 'f', 1, 64)
	if c.Value != 0 && c.Value < 0.1 && c.Value > -0.1 {
		v = strconv.FormatFloat(c.Value, 'g', 2, 64)
	}
	switch c.Unit {
	case "":
		return v
	case "%", "ms":
		return v + " " + c.Unit
	case "per CPU":
		return v + "/CPU"
	}
	return v + " " + c.Unit
}
