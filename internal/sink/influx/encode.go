package influx

import (
	"math"
	"strings"
	"sync/atomic"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/cgmon/cgmon/internal/filter"
	"github.com/cgmon/cgmon/internal/model"
)

// CgtopDepth is systemd-cgtop's default --depth, which cgtop_mon never
// changes: cgroups deeper than this below the group are not shown, so the
// cgtop schema leaves them out too.
const CgtopDepth = 3

// encoder turns a snapshot into line-protocol points, one line each. Each
// Encode returns lines in one fresh buffer (the runner keeps them until
// they are sent); its size is the previous snapshot's, so a steady state
// costs one allocation for the bytes and one for the line slices.
type encoder struct {
	schema      string
	measurement string // "" = the snapshot's host name (cgtop) or "cgroup" (native)
	precision   lineprotocol.Precision
	filter      filter.Filter
	groupDepth  int

	sizeHint atomic.Int64
	skipped  atomic.Uint64 // cgroups whose names line protocol cannot carry
}

func newEncoder(o Options, c checked) *encoder {
	e := &encoder{schema: o.Schema, measurement: o.Measurement, precision: c.precision, filter: c.filter}
	if g := strings.Trim(o.Filter.Group, "/ "); g != "" {
		e.groupDepth = strings.Count(g, "/") + 1
	}
	return e
}

// Encode implements delivery.Encoder.
func (e *encoder) Encode(s *model.Snapshot) [][]byte {
	var enc lineprotocol.Encoder
	enc.SetBuffer(make([]byte, 0, e.sizeHint.Load()+512))
	enc.SetPrecision(e.precision)
	ends := e.encode(&enc, s, make([]int, 0, len(s.Cgroups)))
	buf := enc.Bytes()
	e.sizeHint.Store(int64(len(buf)))
	lines := make([][]byte, len(ends))
	start := 0
	for i, end := range ends {
		lines[i] = buf[start:end:end]
		start = end
	}
	return lines
}

// encode appends s's points to enc and the end offset of each to ends.
func (e *encoder) encode(enc *lineprotocol.Encoder, s *model.Snapshot, ends []int) []int {
	m := e.measurement
	if m == "" {
		m = s.Hostname
		if e.schema == "native" {
			m = "cgroup"
		}
	}
	for i := range s.Cgroups {
		c := &s.Cgroups[i]
		if !e.filter.Match(c.Path, c.Name) {
			continue
		}
		start := len(enc.Bytes())
		var ok bool
		if e.schema == "native" {
			ok = encodeNative(enc, m, s.Hostname, c)
		} else {
			ok = depth(c.Path)-e.groupDepth <= CgtopDepth && encodeCgtop(enc, m, c)
		}
		if ok {
			enc.EndLine(s.Timestamp)
		}
		if !ok || enc.Err() != nil {
			if ok {
				// A name line protocol cannot carry (a control
				// character): skip that cgroup.
				e.skipped.Add(1)
			}
			// Drop the partial line and reset the encoder's state.
			enc.SetBuffer(enc.Bytes()[:start])
			continue
		}
		ends = append(ends, len(enc.Bytes()))
	}
	return ends
}

func depth(path string) int {
	if path == "/" {
		return 0
	}
	return strings.Count(path, "/")
}

// encodeCgtop writes cgtop_mon's point for c, or nothing and false when c
// has none of its figures (a row of dashes in systemd-cgtop). The figures
// are those `systemd-cgtop -b -r` prints and cgtop_mon converts:
//
//	cpu      float  % (100 = one CPU), one decimal as cgtop prints it
//	memory   int    bytes; cgtop shows no 0 (a dash), so neither do we
//	tasks    int    count; likewise no 0
//	io_read  int    bytes/s, truncated to an integer as cgtop does
//	io_write int    bytes/s
func encodeCgtop(enc *lineprotocol.Encoder, m string, c *model.Cgroup) bool {
	cpu := c.CPU.Percent
	mem := c.Memory.UsageBytes
	tasks := c.Tasks
	rd, wr := c.IO.ReadBytesPerSecond, c.IO.WriteBytesPerSecond
	hasMem, hasTasks := mem.OK && mem.V > 0, tasks.OK && tasks.V > 0
	if !cpu.OK && !hasMem && !hasTasks && !rd.OK && !wr.OK {
		return false
	}
	enc.StartLine(m)
	enc.AddTag("name", c.Name)
	if c.Prefix != "" {
		enc.AddTag("prefix", c.Prefix)
	}
	// Fields in key order, as the influxdb Python client writes them.
	if cpu.OK {
		addFloat(enc, "cpu", math.Round(cpu.V*10)/10)
	}
	if rd.OK {
		enc.AddField("io_read", lineprotocol.IntValue(int64(rd.V)))
	}
	if wr.OK {
		enc.AddField("io_write", lineprotocol.IntValue(int64(wr.V)))
	}
	if hasMem {
		addCount(enc, "memory", mem)
	}
	if hasTasks {
		addCount(enc, "tasks", tasks)
	}
	return true
}

func addFloat(enc *lineprotocol.Encoder, key string, v float64) {
	if fv, ok := lineprotocol.FloatValue(v); ok { // NaN and ±Inf cannot be written
		enc.AddField(key, fv)
	}
}

// addCount writes a count as an integer field (InfluxDB 1.x has no
// unsigned type); a count beyond int64 cannot happen in a cgroup file.
func addCount(enc *lineprotocol.Encoder, key string, v model.Count) {
	if v.OK && v.V <= math.MaxInt64 {
		enc.AddField(key, lineprotocol.IntValue(int64(v.V)))
	}
}
