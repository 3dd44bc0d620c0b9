// Command measure runs one command and reports what it cost, for
// scripts/bench.sh: wall time, CPU time and peak RSS from the rusage the
// kernel returns when the child is reaped (wait4), the CPU time already
// spent at a mark shortly after start (/proc/PID/stat), and the most file
// descriptors the child held (/proc/PID/fd, sampled).
//
// The rusage CPU time is the scheduler's exact runtime of every thread of
// the child (utime+stime are scaled so that their sum is sum_exec_runtime),
// in microseconds; ru_maxrss is the child's RSS high-water mark (VmHWM) in
// KiB. /proc/PID/stat gives the same runtime in clock ticks (1/100 s).
//
// Usage: measure [-o FILE] [-mark 900ms] -- COMMAND [ARG...]
//
// The report is one line of key=value pairs, written to FILE or stderr. The
// child inherits stdin, stdout and stderr; SIGINT and SIGTERM are passed on.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on Linux.
const clockTicks = 100

func main() {
	out := flag.String("o", "", "write the report to this file instead of stderr")
	mark := flag.Duration("mark", 900*time.Millisecond, "also record the child's CPU time this long after its start")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure [-o FILE] [-mark 900ms] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	report, code, err := run(flag.Args(), *mark)
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, report)
	} else if err := os.WriteFile(*out, []byte(report+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(args []string, mark time.Duration) (string, int, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", 0, err
	}
	pid := cmd.Process.Pid
	done := make(chan struct{})
	type sampled struct {
		markCPU time.Duration // -1: the child ended before the mark
		fdsPeak int
	}
	res := make(chan sampled, 1)
	go func() {
		s := sampled{markCPU: -1}
		markAt := time.NewTimer(mark)
		every := time.NewTicker(5 * time.Second)
		defer every.Stop()
		for {
			select {
			case <-done:
				res <- s
				return
			case sig := <-sigs:
				cmd.Process.Signal(sig)
			case <-markAt.C:
				if c, err := procCPU(pid); err == nil {
					s.markCPU = c
				}
				s.fdsPeak = max(s.fdsPeak, countFDs(pid))
			case <-every.C:
				s.fdsPeak = max(s.fdsPeak, countFDs(pid))
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	s := <-res
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return "", 0, err
	}
	ps := cmd.ProcessState
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return "", 0, errors.New("no rusage for the child")
	}
	user := time.Duration(ru.Utime.Nano())
	sys := time.Duration(ru.Stime.Nano())
	markCPU := "na" // ended before the mark
	if s.markCPU >= 0 {
		markCPU = strconv.FormatFloat(s.markCPU.Seconds(), 'f', 2, 64)
	}
	report := fmt.Sprintf("exit=%d wall_s=%.6f cpu_s=%.6f user_s=%.6f sys_s=%.6f maxrss_kb=%d mark_s=%.3f mark_cpu_s=%s fds_peak=%d",
		ps.ExitCode(), wall.Seconds(), (user + sys).Seconds(), user.Seconds(), sys.Seconds(),
		ru.Maxrss, mark.Seconds(), markCPU, s.fdsPeak)
	return report, ps.ExitCode(), nil
}

// procCPU is utime+stime of every thread of a live process, from
// /proc/PID/stat (fields 14 and 15, after the parenthesised command name).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err := strconv.ParseUint(string(f[11]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat utime: %w", pid, err)
	}
	stime, err := strconv.ParseUint(string(f[12]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat stime: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// countFDs is how many descriptors a process holds; 0 when it is gone.
func countFDs(pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return len(names)
}
