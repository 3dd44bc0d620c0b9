// Package render writes a snapshot for people and scripts: JSON (the public
// contract documented in the README) and a table laid out like
// systemd-cgtop's.
package render

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cgmon/cgmon/internal/model"
)

// jsonBuffers keeps encoding buffers between snapshots: at a thousand
// cgroups a snapshot is about a megabyte of JSON.
var jsonBuffers = sync.Pool{New: func() any { return new(jsonBuffer) }}

type jsonBuffer struct{ plain, indented []byte }

// JSON writes the snapshot as one JSON document followed by a newline.
func JSON(w io.Writer, s *model.Snapshot, indent bool) error {
	jb := jsonBuffers.Get().(*jsonBuffer)
	defer jsonBuffers.Put(jb)
	jb.plain = s.AppendJSON(jb.plain[:0])
	out := jb.plain
	if indent {
		var b bytes.Buffer
		b.Grow(2 * len(jb.plain))
		if err := json.Indent(&b, jb.plain, "", "  "); err != nil {
			return fmt.Errorf("indent snapshot: %w", err)
		}
		jb.indented = b.Bytes()
		out = jb.indented
	}
	out = append(out, '\n')
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// SortKey orders table rows.
type SortKey string

const (
	SortCPU    SortKey = "cpu"
	SortMemory SortKey = "memory"
	SortTasks  SortKey = "tasks"
	SortIO     SortKey = "io"
	SortPath   SortKey = "path"
)

// ParseSortKey checks a sort key given by a user.
func ParseSortKey(s string) (SortKey, error) {
	switch k := SortKey(s); k {
	case SortCPU, SortMemory, SortTasks, SortIO, SortPath:
		return k, nil
	}
	return "", fmt.Errorf("sort %q: want one of cpu, memory, tasks, io, path", s)
}

// TableOptions shape the table. The zero value prints every row, uncut.
type TableOptions struct {
	Sort SortKey
	// Raw prints bytes and bytes per second as plain numbers, as
	// systemd-cgtop --raw does, instead of 1.5G.
	Raw bool
	// Levels is how many levels of the tree are shown: 1 the root only, 2
	// the root and its children (such as /system.slice), and so on; 0 shows
	// every level. systemd-cgtop --depth=N is Levels N+1.
	Levels int
	// Limit keeps the first Limit rows after sorting (the busiest); 0 keeps
	// them all.
	Limit int
	// Width, when positive, is the most characters a line may have: the
	// control group column shrinks and long names lose their middle to "…",
	// and a line still too long is cut, so nothing wraps on a terminal.
	Width int
	// Containers adds the runtime and name (or short ID) after the path of
	// a container's cgroup: "/system.slice/docker-a5d7….scope [docker web]".
	Containers bool
}

// numericColumns is the width of the columns after the control group one,
// with their separating spaces.
const numericColumns = 1 + 7 + 1 + 6 + 1 + 8 + 1 + 8 + 1 + 8

// minPathColumn is the narrowest control group column Width shrinks to;
// narrower terminals get lines cut at the end instead.
const minPathColumn = len("Control Group")

// Table writes systemd-cgtop's columns: control group, tasks, %CPU, memory,
// input/s, output/s. Rows are sorted by the key, largest first, then by
// path; rows without the key come last. Absent values print as "-".
func Table(w io.Writer, s *model.Snapshot, opts TableOptions) error {
	rows := tableRows(s, opts)
	labels := make([]string, len(rows))
	width := len("Control Group")
	for i, r := range rows {
		labels[i] = r.Path
		if opts.Containers {
			labels[i] += containerLabel(r.Container)
		}
		width = max(width, utf8.RuneCountInString(labels[i]))
	}
	if opts.Width > 0 {
		width = min(width, max(minPathColumn, opts.Width-numericColumns))
	}
	bw := bufio.NewWriter(w)
	line := make([]byte, 0, 256)
	writeLine := func(format string, args ...any) {
		line = fmt.Appendf(line[:0], format, args...)
		if opts.Width > 0 {
			line = cutRunes(line, opts.Width)
		}
		line = append(line, '\n')
		bw.Write(line)
	}
	writeLine("%-*s %7s %6s %8s %8s %8s", width, "Control Group", "Tasks", "%CPU", "Memory", "Input/s", "Output/s")
	for i, r := range rows {
		writeLine("%s %7s %6s %8s %8s %8s", padRunes(ellipsize(labels[i], width), width),
			count(r.Tasks),
			percent(r.CPU.Percent),
			bytesCount(r.Memory.UsageBytes, opts.Raw),
			bytesRate(r.IO.ReadBytesPerSecond, opts.Raw),
			bytesRate(r.IO.WriteBytesPerSecond, opts.Raw))
	}
	return bw.Flush()
}

// tableRows are the rows of the table: deep enough, sorted, limited.
func tableRows(s *model.Snapshot, opts TableOptions) []*model.Cgroup {
	rows := make([]*model.Cgroup, 0, len(s.Cgroups))
	for i := range s.Cgroups {
		if opts.Levels > 0 && Depth(s.Cgroups[i].Path) >= opts.Levels {
			continue
		}
		rows = append(rows, &s.Cgroups[i])
	}
	sortRows(rows, opts.Sort)
	if opts.Limit > 0 && len(rows) > opts.Limit {
		rows = rows[:opts.Limit]
	}
	return rows
}

// Depth is the number of levels a cgroup path is below the root: 0 for "/",
// 1 for "/system.slice", 2 for "/system.slice/sshd.service".
func Depth(path string) int {
	p := strings.Trim(path, "/")
	if p == "" {
		return 0
	}
	return strings.Count(p, "/") + 1
}

// containerLabel names a container's runtime and name, or the first 12
// characters of its ID when it has no name (as docker ps does).
func containerLabel(c *model.Container) string {
	if c == nil {
		return ""
	}
	name := c.Name
	if name == "" {
		name = c.ID
		if len(name) > 12 {
			name = name[:12]
		}
	}
	if name == "" {
		return " [" + c.Runtime + "]"
	}
	return " [" + c.Runtime + " " + name + "]"
}

// ellipsize fits s in width characters by replacing its middle with "…":
// the start says where a cgroup is, the end which one it is. A third of the
// room goes to the start, as systemd-cgtop does.
func ellipsize(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n <= width {
		return s
	}
	if width < 2 {
		return string([]rune(s)[:width])
	}
	r := []rune(s)
	head := (width - 1) / 3
	tail := width - 1 - head
	return string(r[:head]) + "…" + string(r[n-tail:])
}

// padRunes pads s with spaces to width characters (fmt pads by bytes,
// which is short for a name with "…" or non-ASCII letters).
func padRunes(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// cutRunes cuts b to at most width characters, never inside one.
func cutRunes(b []byte, width int) []byte {
	for i := range string(b) {
		if width == 0 {
			return b[:i]
		}
		width--
	}
	return b
}

func sortRows(rows []*model.Cgroup, key SortKey) {
	value := func(c *model.Cgroup) (float64, bool) {
		switch key {
		case SortMemory:
			return float64(c.Memory.UsageBytes.V), c.Memory.UsageBytes.OK
		case SortTasks:
			return float64(c.Tasks.V), c.Tasks.OK
		case SortIO:
			r, w := c.IO.ReadBytesPerSecond, c.IO.WriteBytesPerSecond
			return r.V + w.V, r.OK || w.OK
		case SortPath:
			return 0, false
		}
		return c.CPU.Percent.V, c.CPU.Percent.OK
	}
	slices.SortStableFunc(rows, func(a, b *model.Cgroup) int {
		va, oka := value(a)
		vb, okb := value(b)
		if oka != okb {
			if oka {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(vb, va); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
}

func count(c model.Count) string {
	if !c.OK {
		return "-"
	}
	return strconv.FormatUint(c.V, 10)
}

func percent(f model.Float) string {
	if !f.OK {
		return "-"
	}
	return strconv.FormatFloat(f.V, 'f', 1, 64)
}

func bytesCount(c model.Count, raw bool) string {
	if !c.OK {
		return "-"
	}
	if raw {
		return strconv.FormatUint(c.V, 10)
	}
	return HumanBytes(float64(c.V))
}

func bytesRate(f model.Float, raw bool) string {
	if !f.OK {
		return "-"
	}
	if raw {
		return strconv.FormatFloat(f.V, 'f', 0, 64)
	}
	return HumanBytes(f.V)
}

// HumanBytes formats a byte count with a binary unit as systemd does:
// "512B", "1.5K", "12.0M", "3.2G".
func HumanBytes(v float64) string {
	const units = "KMGTPE"
	if v < 1024 {
		return strconv.FormatFloat(v, 'f', 0, 64) + "B"
	}
	u := -1
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + string(units[u])
}

// ScreenOptions shape a screen of the busiest cgroups.
type ScreenOptions struct {
	// Table is the table's order, levels and units; its Limit and Width are
	// set from the screen's size, and container names are shown.
	Table TableOptions
	// Width and Height are the terminal's size in characters; 0 is unknown
	// (no cut).
	Width, Height int
	// Status is added to the first line, e.g. the order and the keys.
	Status string
}

// ScreenLines lays out one screen: a status line with the time, the host,
// the cgroup mode and the number of cgroups, then the table's header and
// its busiest rows. There are at most Height lines of at most Width
// characters, none ending in a newline, so the caller decides how lines
// end (a terminal in raw mode needs "\r\n") and the last one never
// scrolls the screen.
func ScreenLines(s *model.Snapshot, opts ScreenOptions) []string {
	status := fmt.Sprintf("%s  %s  cgroup %s  %d cgroups", s.Timestamp.Format(time.TimeOnly), s.Hostname, s.CgroupMode, len(s.Cgroups))
	if opts.Status != "" {
		status += "  " + opts.Status
	}
	if opts.Width > 0 {
		status = string(cutRunes([]byte(status), opts.Width))
	}
	lines := []string{status}
	if opts.Height == 1 {
		return lines
	}
	to := opts.Table
	to.Width = opts.Width
	to.Containers = true
	to.Limit = 0
	if opts.Height > 2 {
		to.Limit = opts.Height - 2 // the status line and the table's header
	}
	var b strings.Builder
	_ = Table(&b, s, to) // a strings.Builder does not fail
	table := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if opts.Height == 2 {
		table = table[:1]
	}
	return append(lines, table...)
}
