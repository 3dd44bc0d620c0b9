package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/remote"
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
	remote        hostFlags
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
Graphite plaintext protocol).

With --host user@host:port the report is of that host, read over SSH
(agentless: one connection, one command per reading, nothing installed
there), named after the host part of the address. Its host key must be in
--known-hosts unless --trust-on-first-use; no wait for it lasts longer than
--host-timeout.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUse(cmd, f) },
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
	addHostFlags(fl, &f.remote, false)
	return cmd
}

// runUse prints USE reports of the local host, or with --host of a remote
// one.
func runUse(cmd *cobra.Command, f useFlags) error {
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
	src, closeSrc, err := useSource(cmd, f)
	if err != nil {
		return err
	}
	defer closeSrc()
	if _, err := src.Next(); err != nil {
		return interrupted(cmd, err)
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
		snap, err := src.Next()
		if err != nil {
			return interrupted(cmd, err)
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

// useSource is the local engine with its host view, or with --host the
// remote host with its USE view: both make the same report.
func useSource(cmd *cobra.Command, f useFlags) (agent.Source, func() error, error) {
	if len(f.remote.hosts) == 0 {
		eng, err := engine.New(engine.Options{Root: f.rootfs, ExcludedDevices: f.devices, NoNames: true,
			Host: &engine.HostOptions{ExcludedDevices: f.devices, AnomalyWindow: f.anomalyWindow}})
		if err != nil {
			return nil, nil, err
		}
		return eng, eng.Close, nil
	}
	return oneRemoteHost(cmd, f.remote, remote.HostOptions{ExcludedDevices: f.devices,
		USE: &remote.USEOptions{AnomalyWindow: f.anomalyWindow}})
}

// interrupted turns the error of a reading cut short by an interrupt into
// a quiet end: what was printed stands.
func interrupted(cmd *cobra.Command, err error) error {
	if cmd.Context().Err() != nil {
		return nil
	}
	return err
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

// writeUseTable writes the one-screen report: the USE matrix — one row per
// resource (CPU, memory, each disk, filesystem and interface, TCP, UDP),
// with its utilization, saturation and errors figures and the worst status
// — then a line for each figure that is not ok or is flagged. A figure
// marked ! is at warning, !! critical, * anomalous. Per-CPU and cgroup
// figures get rows only with --all; otherwise they show in the lines below
// when not ok.
func writeUseTable(w io.Writer, s *model.Snapshot, all bool) error {
	h := s.Host
	counts := map[string]int{}
	anomalies := 0
	type row struct {
		name   string
		cells  [3][]string // utilization, saturation, errors
		status string
	}
	var rows []*row
	byName := map[string]*row{}
	var notes []string
	for _, c := range h.Checks {
		counts[c.Status]++
		if c.Anomaly != "" {
			anomalies++
			notes = append(notes, "ANOMALY  "+c.Anomaly)
		}
		if c.Status != use.OK {
			notes = append(notes, fmt.Sprintf("%-8s %s %s %s", strings.ToUpper(c.Status), rowName(c), figureLabel(c), valueWithUnit(c)+" ("+c.Reason+")"))
		}
		if !all && (c.Resource == "cgroup" || strings.HasPrefix(c.Name, "resources.cpu.cpu")) {
			continue
		}
		name := rowName(c)
		r := byName[name]
		if r == nil {
			r = &row{name: name, status: use.OK}
			byName[name] = r
			rows = append(rows, r)
		}
		cell := valueWithUnit(c)
		if l := figureLabel(c); l != "" {
			cell = l + " " + cell
		}
		switch c.Status {
		case use.Warning:
			cell += "!"
		case use.Critical:
			cell += "!!"
		}
		if c.Anomaly != "" {
			cell += "*"
		}
		k := map[string]int{use.Utilization: 0, use.Saturation: 1, use.Errors: 2}[c.Kind]
		r.cells[k] = append(r.cells[k], cell)
		if rank(c.Status) > rank(r.status) {
			r.status = c.Status
		}
	}
	fmt.Fprintf(w, "%s  %s  %d CPUs  interval %ss   %d ok, %d warning, %d critical, %d anomalies\n",
		s.Hostname, s.Timestamp.Format(time.DateTime), h.CPU.Count.V, strconv.FormatFloat(s.IntervalSeconds.V, 'f', 1, 64),
		counts[use.OK], counts[use.Warning], counts[use.Critical], anomalies)
	fmt.Fprintf(w, "%-16s %-20s %-50s %-12s %s\n", "RESOURCE", "UTILIZATION", "SATURATION", "ERRORS", "STATUS")
	for _, r := range rows {
		fmt.Fprintf(w, "%-16s %-20s %-50s %-12s %s\n", r.name, cell(r.cells[0]), cell(r.cells[1]), cell(r.cells[2]), r.status)
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	return nil
}

func cell(parts []string) string {
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func rank(status string) int {
	switch status {
	case use.Critical:
		return 2
	case use.Warning:
		return 1
	}
	return 0
}

// rowName names the resource a check belongs to: "cpu", "memory",
// "disk vda", "fs /var", "net eth0", "tcp", "io" (the host's IO pressure),
// "cpu1", or the cgroup path.
func rowName(c model.Check) string {
	parts := strings.Split(strings.TrimPrefix(c.Name, "resources."), ".")
	switch {
	case c.Resource == "cgroup":
		return c.Subject
	case c.Resource == "cpu" && c.Subject != "":
		return c.Subject
	case c.Resource == "storage" && len(parts) > 1 && parts[1] == "fs":
		return "fs " + c.Subject
	case c.Resource == "storage" && c.Subject != "":
		return "disk " + c.Subject
	case c.Resource == "storage":
		return "io"
	case c.Resource == "network" && c.Subject != "":
		return "net " + c.Subject
	case c.Resource == "network" && len(parts) > 1:
		return parts[1] // tcp, udp
	}
	return c.Resource
}

// shortLabels name figures in a matrix cell; the utilization figures need
// none.
var shortLabels = map[string]string{
	"run_queue": "runq", "load1_per_cpu": "load", "pressure": "psi", "pressure_full": "psi full",
	"steal": "steal", "machine_checks": "mce", "swap_utilization": "swap", "swap_in": "si", "swap_out": "so",
	"major_faults": "majflt", "direct_scan": "scan", "oom_kills": "oom", "ecc_corrected": "ecc",
	"ecc_uncorrected": "ecc fatal", "io_errors": "err", "queue_size": "aqu",
	"await": "await", "space": "", "inodes": "inodes", "drops": "drops", "errors": "err",
	"retransmits": "retrans", "throttled": "throttled", "cpu_quota_utilization": "cpu/quota",
	"memory_limit_utilization": "mem/limit", "cpu_pressure": "psi cpu", "memory_pressure": "psi mem",
	"io_pressure": "psi io",
}

func figureLabel(c model.Check) string {
	last := c.Name[strings.LastIndexByte(c.Name, '.')+1:]
	if l, ok := shortLabels[last]; ok {
		return l
	}
	if last == "utilization" {
		return ""
	}
	return last
}

func valueWithUnit(c model.Check) string {
	v := strconv.FormatFloat(c.Value, 'f', 1, 64)
	if c.Value == 0 {
		v = "0"
	} else if math.Abs(c.Value) < 0.1 {
		v = strconv.FormatFloat(c.Value, 'g', 2, 64)
	}
	switch c.Unit {
	case "":
		return v
	case "%":
		return v + "%"
	case "per CPU":
		return v + "/cpu"
	case "pages/s":
		return v + "/s"
	}
	if strings.HasPrefix(c.Unit, "/") {
		return v + c.Unit
	}
	return v + " " + c.Unit
}
