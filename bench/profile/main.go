// Command profile drives cgmon's engine as `cgmon snapshot --format json`
// does — one Next every --interval for --duration, each snapshot encoded as
// JSON — under runtime/pprof, to find what dominates cgmon's CPU time on a
// real host without adding anything to cgmon itself. Read the result with
// `go tool pprof -top FILE`.
//
// Usage: profile [--interval 1s] [--duration 60s] [--cpuprofile cpu.pprof] [--memprofile mem.pprof] [--render=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/render"
)

func main() {
	interval := flag.Duration("interval", time.Second, "time between two snapshots")
	duration := flag.Duration("duration", 60*time.Second, "how long to run")
	cpuProfile := flag.String("cpuprofile", "cpu.pprof", "write the CPU profile here")
	memProfile := flag.String("memprofile", "", "write a heap profile here at the end")
	doRender := flag.Bool("render", true, "encode each snapshot as JSON to io.Discard, as the CLI does")
	flag.Parse()
	if err := run(*interval, *duration, *cpuProfile, *memProfile, *doRender); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run(interval, duration time.Duration, cpuProfile, memProfile string, doRender bool) error {
	f, err := os.Create(cpuProfile)
	if err != nil {
		return err
	}
	defer f.Close()
	// The profile covers start-up too, as the benchmark's CPU time does.
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()

	eng, err := engine.New(engine.Options{})
	if err != nil {
		return err
	}
	defer eng.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := eng.Next(); err != nil {
		return err
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	n := 0
	for i := 0; i < int(duration/interval); i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		snap, err := eng.Next()
		if err != nil {
			return err
		}
		n = len(snap.Cgroups)
		if doRender {
			if err := render.JSON(io.Discard, snap, false); err != nil {
				return err
			}
		}
	}
	st := eng.Collector().Stats()
	fmt.Printf("profile: %d cgroups in the last snapshot; collector: %d cgroups, %d files kept open (budget %d), %d walks, %d read errors, %d parse errors\n",
		n, st.Cgroups, st.OpenFiles, st.FileBudget, st.Walks, st.ReadErrors, st.ParseErrors)
	if memProfile != "" {
		runtime.GC()
		m, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer m.Close()
		if err := pprof.WriteHeapProfile(m); err != nil {
			return err
		}
	}
	return nil
}
