package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/render"
)

type topFlags struct {
	sourceFlags
	interval   time.Duration
	iterations int
	order      string
	depth      int
	raw        bool
	batch      bool
}

func newTopCommand() *cobra.Command {
	var f topFlags
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show the busiest cgroups, refreshed every --interval (like systemd-cgtop)",
		Long: `top shows the busiest cgroups, as systemd-cgtop does, refreshed every
--interval. On a terminal it redraws one screen; keys: c, m, t, i, p order by
CPU, memory, tasks, IO, path; + and - show one level more or less; q quits.
With -b, or when standard output is not a terminal, it prints plain tables
one after another. --iterations 0 runs until interrupted; the default is 0
on a terminal (also with -b) and 1 when standard output is not a terminal,
as systemd-cgtop does.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTop(cmd, f) },
	}
	fl := cmd.Flags()
	addSourceFlags(fl, &f.sourceFlags)
	fl.DurationVar(&f.interval, "interval", time.Second, "time between refreshes (the window of every rate)")
	fl.IntVarP(&f.iterations, "iterations", "n", 0, "number of refreshes, 0 for no end (default: no end on a terminal, 1 otherwise)")
	fl.StringVar(&f.order, "order", "cpu", "order: cpu, memory, tasks, io or path")
	fl.IntVar(&f.depth, "depth", 3, "levels below the root to show (0: the root only)")
	fl.BoolVarP(&f.raw, "raw", "r", false, "plain bytes instead of 1.5G")
	fl.BoolVarP(&f.batch, "batch", "b", false, "print plain tables, read no keys")
	return cmd
}

// topState is what the keys change.
type topState struct {
	order render.SortKey
	depth int
}

// maxDepth bounds +: deeper than any real cgroup tree.
const maxDepth = 64

// key applies one key press; quit is true for q, Q and ^C (which raw mode
// delivers as a byte, not as SIGINT). Other keys change nothing.
func (s topState) key(k byte) (next topState, quit bool) {
	switch k {
	case 'q', 'Q', 3:
		return s, true
	case 'c':
		s.order = render.SortCPU
	case 'm':
		s.order = render.SortMemory
	case 't':
		s.order = render.SortTasks
	case 'i':
		s.order = render.SortIO
	case 'p':
		s.order = render.SortPath
	case '+', '=':
		s.depth = min(s.depth+1, maxDepth)
	case '-', '_':
		s.depth = max(s.depth-1, 0)
	}
	return s, false
}

func (s topState) table(raw bool) render.TableOptions {
	return render.TableOptions{Sort: s.order, Levels: s.depth + 1, Raw: raw}
}

func runTop(cmd *cobra.Command, f topFlags) error {
	if f.interval <= 0 {
		return usageError{fmt.Errorf("--interval %s: must be positive", f.interval)}
	}
	if f.iterations < 0 {
		return usageError{fmt.Errorf("--iterations %d: must be 0 (no end) or more", f.iterations)}
	}
	if f.depth < 0 || f.depth > maxDepth {
		return usageError{fmt.Errorf("--depth %d: want 0 to %d", f.depth, maxDepth)}
	}
	order, err := render.ParseSortKey(f.order)
	if err != nil {
		return usageError{fmt.Errorf("--order %q: want one of cpu, memory, tasks, io, path", f.order)}
	}
	flt, err := f.filter()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	outFile, _ := out.(*os.File)
	onTerminal := outFile != nil && term.IsTerminal(int(outFile.Fd()))
	if !cmd.Flags().Changed("iterations") && !onTerminal {
		f.iterations = 1 // as systemd-cgtop: one table for a script
	}
	// The engine reads no per-container network or filesystem: top shows
	// neither, and names come from the identity alone.
	src, closeSrc, err := f.source(cmd, nil)
	if err != nil {
		return err
	}
	defer closeSrc()

	st := topState{order: order, depth: f.depth}
	var (
		keys   <-chan byte
		resize <-chan os.Signal
		draw   func(*model.Snapshot, topState) error
	)
	if onTerminal && !f.batch {
		scr, err := openScreen(outFile, os.Stdin)
		if err != nil {
			return err
		}
		// Deferred, so it also runs while a panic unwinds and when SIGINT or
		// SIGTERM cancel the context (main's signal.NotifyContext).
		defer scr.restore()
		keys, resize = scr.keys, scr.resize
		draw = func(s *model.Snapshot, st topState) error { return scr.draw(s, st, f.raw) }
	} else {
		n := 0
		draw = func(s *model.Snapshot, st topState) error {
			if n++; n > 1 {
				if _, err := fmt.Fprintln(out); err != nil {
					return fmt.Errorf("write table: %w", err)
				}
			}
			return render.Table(out, s, st.table(f.raw))
		}
	}

	ctx := cmd.Context()
	if _, err := src.Next(); err != nil {
		return err
	}
	ticker := time.NewTicker(f.interval)
	defer ticker.Stop()
	var last *model.Snapshot
	for i := 0; f.iterations == 0 || i < f.iterations; {
		select {
		case <-ctx.Done():
			return nil // interrupted: what was printed stands
		case <-ticker.C:
			s, err := src.Next()
			if err != nil {
				return err
			}
			last = flt.Apply(s)
			i++
		case k, ok := <-keys:
			if !ok {
				keys = nil // standard input closed: no more keys, keep going
				continue
			}
			var quit bool
			if st, quit = st.key(k); quit {
				return nil
			}
		case <-resize:
		}
		if last == nil {
			continue // nothing sampled yet: a key waits for the first screen
		}
		if err := draw(last, st); err != nil {
			return err
		}
	}
	return nil
}

// screen is a terminal top draws on: standard input in raw mode (keys
// arrive one by one, unechoed), the cursor hidden.
type screen struct {
	out    *os.File
	keys   chan byte
	resize chan os.Signal
	in     *os.File
	old    *term.State // nil when standard input is not a terminal
}

// openScreen puts in (when a terminal) into raw mode and starts reading
// keys. The caller must call restore.
func openScreen(out, in *os.File) (*screen, error) {
	s := &screen{out: out, in: in, resize: make(chan os.Signal, 1)}
	signal.Notify(s.resize, syscall.SIGWINCH)
	if term.IsTerminal(int(in.Fd())) {
		old, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			signal.Stop(s.resize)
			return nil, fmt.Errorf("terminal raw mode: %w", err)
		}
		s.old = old
		s.keys = make(chan byte, 16)
		// The reader stays blocked in Read after top returns; the process
		// ends right after, and a terminal offers no way to wake it.
		go readKeys(in, s.keys)
	}
	if _, err := io.WriteString(out, "\x1b[?25l"); err != nil { // hide the cursor
		s.restore()
		return nil, fmt.Errorf("write screen: %w", err)
	}
	return s, nil
}

func readKeys(in io.Reader, keys chan<- byte) {
	defer close(keys)
	buf := make([]byte, 64)
	for {
		n, err := in.Read(buf)
		for _, b := range buf[:n] {
			keys <- b
		}
		if err != nil {
			return
		}
	}
}

// restore shows the cursor again below the last screen and gives the
// terminal back its modes.
func (s *screen) restore() {
	signal.Stop(s.resize)
	io.WriteString(s.out, "\x1b[?25h\r\n") // best effort: the terminal may be gone
	if s.old != nil {
		term.Restore(int(s.in.Fd()), s.old)
	}
}

// draw clears the terminal and writes one screen sized to it now.
func (s *screen) draw(snap *model.Snapshot, st topState, raw bool) error {
	w, h, err := term.GetSize(int(s.out.Fd()))
	if err != nil || w <= 0 || h <= 0 {
		w, h = 80, 24 // the terminal will not say: the VT100's size
	}
	lines := render.ScreenLines(snap, render.ScreenOptions{
		Table:  st.table(raw),
		Width:  w,
		Height: h,
		Status: fmt.Sprintf("order %s  depth %d  [c m t i p, + -, q]", st.order, st.depth),
	})
	// Home and clear, then lines joined by \r\n: raw mode turns off the
	// \n to \r\n translation, and no newline after the last line keeps
	// the screen from scrolling.
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	b.WriteString(strings.Join(lines, "\r\n"))
	if _, err := io.WriteString(s.out, b.String()); err != nil {
		return fmt.Errorf("write screen: %w", err)
	}
	return nil
}
