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

// TableOptions shape the table.
type TableOptions struct {
	Sort SortKey
	// Raw prints bytes and bytes per second as plain numbers, as
	// systemd-cgtop --raw does, instead of 1.5G.
	Raw bool
}

// Table writes systemd-cgtop's columns: control group, tasks, %CPU, memory,
// input/s, output/s. Rows are sorted by the key, largest first, then by
// path; rows without the key come last. Absent values print as "-".
func Table(w io.Writer, s *model.Snapshot, opts TableOptions) error {
	rows := make([]*model.Cgroup, len(s.Cgroups))
	for i := range s.Cgroups {
		rows[i] = &s.Cgroups[i]
	}
	sortRows(rows, opts.Sort)
	width := len("Control Group")
	for _, r := range rows {
		width = max(width, len(r.Path))
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-*s %7s %6s %8s %8s %8s\n", width, "Control Group", "Tasks", "%CPU", "Memory", "Input/s", "Output/s")
	for _, r := range rows {
		fmt.Fprintf(bw, "%-*s %7s %6s %8s %8s %8s\n", width, r.Path,
			count(r.Tasks),
			percent(r.CPU.Percent),
			bytesCount(r.Memory.UsageBytes, opts.Raw),
			bytesRate(r.IO.ReadBytesPerSecond, opts.Raw),
			bytesRate(r.IO.WriteBytesPerSecond, opts.Raw))
	}
	return bw.Flush()
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
