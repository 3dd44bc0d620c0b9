package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/proc"
	"github.com/cgmon/cgmon/internal/render"
	"github.com/cgmon/cgmon/internal/rootfs"
)

type psFlags struct {
	recursive bool
	sort      string
	limit     int
	interval  time.Duration
	format    string
	rootfs    string
}

func newPsCommand() *cobra.Command {
	var f psFlags
	cmd := &cobra.Command{
		Use:   "ps CGROUP",
		Short: "List the processes of a cgroup with CPU % and memory % that count the cgroup's limits",
		Long: `ps lists the processes of one cgroup (with --recursive, of its subgroups too),
reading each twice --interval apart: CPU % over the interval (100 = one CPU
fully used, as systemd-cgtop), resident memory, and memory % of what the
cgroup may use (its smallest memory limit up the tree, or the host's memory).

CGROUP is a path ("/system.slice/sshd.service"; the leading / may be left
out) or a container named as cAdvisor names it: "/docker/ID" finds the
container wherever its cgroup is ("/system.slice/docker-ID.scope").`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("want one CGROUP, have %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runPs(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.recursive, "recursive", "r", false, "also list the processes of every cgroup below CGROUP")
	fl.StringVar(&f.sort, "sort", model.SortProcessesCPU, "order, largest first: cpu or mem")
	fl.IntVar(&f.limit, "limit", 0, "print at most N processes (0: all)")
	fl.DurationVar(&f.interval, "interval", time.Second, "time between the two readings (the window of CPU %)")
	fl.StringVar(&f.format, "format", "table", "output format: table or json")
	fl.StringVar(&f.rootfs, "rootfs", "/", "directory to read as the host's / (e.g. /rootfs in a container)")
	return cmd
}

func runPs(cmd *cobra.Command, f psFlags, name string) error {
	if f.format != "table" && f.format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", f.format)}
	}
	if f.sort != model.SortProcessesCPU && f.sort != model.SortProcessesMem {
		return usageError{fmt.Errorf("--sort %q: want %s or %s", f.sort, model.SortProcessesCPU, model.SortProcessesMem)}
	}
	if f.limit < 0 {
		return usageError{fmt.Errorf("--limit %d: must be 0 (all) or more", f.limit)}
	}
	if f.interval <= 0 {
		return usageError{fmt.Errorf("--interval %s: must be positive", f.interval)}
	}

	// The engine gives the cgroups that exist, their identities (for
	// "/docker/ID") and their memory limits.
	eng, err := engine.New(engine.Options{Root: f.rootfs, NoNames: true})
	if err != nil {
		return err
	}
	defer eng.Close()
	snap, err := eng.Next()
	if err != nil {
		return err
	}
	cg, err := snap.ResolveCgroup(name)
	if err != nil {
		return fmt.Errorf("%w (root %s)", err, f.rootfs)
	}
	paths := []string{cg}
	if f.recursive {
		paths = snap.Subtree(cg)
	}

	root, err := rootfs.New(f.rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	layout := eng.Collector().Layout()
	memTotal, err := proc.ReadMemTotal(root)
	if err != nil && !rootfs.IsGone(err) {
		return err
	}
	var buf proc.Buffers
	read := func() (*proc.Sample, error) {
		s := &proc.Sample{Time: time.Now()}
		members, err := proc.PIDsRecursive(root, layout, paths)
		if err != nil {
			return nil, err
		}
		// No io: nothing here shows it, and it costs a fifth of a reading.
		s.Processes, err = proc.ReadProcesses(root, members, proc.FileStatus|proc.FileCmdline|proc.FileCgroup, &buf)
		if err != nil {
			// Those processes are left out; the others are worth printing.
			fmt.Fprintln(cmd.ErrOrStderr(), "cgmon: warning:", err)
		}
		return s, nil
	}

	prev, err := read()
	if err != nil {
		return err
	}
	t := time.NewTimer(f.interval)
	defer t.Stop()
	select {
	case <-cmd.Context().Done():
		return nil // interrupted before there was anything to print
	case <-t.C:
	}
	cur, err := read()
	if err != nil {
		return err
	}

	rows := model.BuildProcesses(prev, cur, model.ProcessOptions{
		PageSize: proc.PageSize(),
		MemTotal: memTotal,
		Snapshot: snap,
	})
	if err := model.SortProcesses(rows, f.sort); err != nil {
		return usageError{err}
	}
	if f.limit > 0 && len(rows) > f.limit {
		rows = rows[:f.limit]
	}
	out := cmd.OutOrStdout()
	if f.format == "json" {
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = out.Write(append(b, '\n'))
		return err
	}
	return psTable(out, rows, f.recursive)
}

// psTable writes ps-like columns. RSS is in binary units as in the snapshot
// table; absent figures print as "-". With recursive, each row also names
// its cgroup.
func psTable(w io.Writer, rows []model.Process, recursive bool) error {
	bw := bufio.NewWriter(w)
	width := 0
	if recursive {
		width = len("CGROUP")
		for _, r := range rows {
			width = max(width, len(r.Cgroup))
		}
	}
	cgroupCol := func(s string) string {
		if !recursive {
			return ""
		}
		return fmt.Sprintf("%-*s ", width, s)
	}
	fmt.Fprintf(bw, "%7s %6s %6s %8s %6s %5s %sCOMMAND\n", "PID", "UID", "%CPU", "RSS", "%MEM", "STATE", cgroupCol("CGROUP"))
	for _, r := range rows {
		fmt.Fprintf(bw, "%7d %6s %6s %8s %6s %5s %s%s\n", r.PID, psUint(r.UID), psPercent(r.CPUPercent),
			render.HumanBytes(float64(r.RSSBytes)), psPercent(r.MemPercent), r.State, cgroupCol(r.Cgroup), psCommand(r))
	}
	return bw.Flush()
}

// psCommand is the command line, or [comm] for a process without one
// (kernel threads, zombies), as ps shows them.
func psCommand(r model.Process) string {
	if r.Cmdline != "" {
		return r.Cmdline
	}
	return "[" + r.Comm + "]"
}

func psUint(c model.Count) string {
	if !c.OK {
		return "-"
	}
	return strconv.FormatUint(c.V, 10)
}

func psPercent(f model.Float) string {
	if !f.OK {
		return "-"
	}
	return strconv.FormatFloat(f.V, 'f', 1, 64)
}
