package proc

import (
	"bytes"
	"iter"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// Status is /proc/PID/status: its "Key:\tvalue" lines, in the kernel's
// order, with values as the kernel wrote them (units and all: "1234 kB",
// "S (sleeping)", "0000000000000000"). Keys are kept whatever they are, so
// a kernel that adds or drops keys never breaks the parser; typed views
// (UIDs, Companion) pick the keys they know.
//
// A Status owns a copy of the file. The byte slices its methods return
// alias it and stay valid until the Status is parsed into again.
type Status struct {
	raw    []byte
	fields []span
}

// span locates one key and its value in Status.raw.
type span struct{ k0, k1, v0, v1 uint32 }

// StatusField is one line of /proc/PID/status.
type StatusField struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseStatus parses /proc/PID/status (proc(5); Documentation/filesystems/
// proc.rst, table 1-2) into s, replacing what it held. Each non-empty line is
// "Key:" followed by the value; blanks around the value are dropped. The
// key runs to the first ":", so a value may hold colons ("Name:\ta:b"). A
// line with no ":" or an empty key is malformed. It does not allocate when
// s has room from an earlier parse of a file as large.
func ParseStatus(b []byte, s *Status) error {
	if len(b) > 1<<31 {
		return newError(0, "", nil, cgroupfs.ErrRange)
	}
	s.raw = append(s.raw[:0], b...)
	s.fields = s.fields[:0]
	l := lines{Rest: s.raw}
	off := 0
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		start := off
		off += len(line) + 1
		if len(line) == 0 {
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			s.fields = s.fields[:0]
			return newError(l.N, "", line, cgroupfs.ErrSyntax)
		}
		v0, v1 := i+1, len(line)
		for v0 < v1 && isSpace(line[v0]) {
			v0++
		}
		for v1 > v0 && isSpace(line[v1-1]) {
			v1--
		}
		s.fields = append(s.fields, span{
			k0: uint32(start), k1: uint32(start + i),
			v0: uint32(start + v0), v1: uint32(start + v1),
		})
	}
	return nil
}

// Len is the number of lines.
func (s *Status) Len() int { return len(s.fields) }

// Field returns line i (0-based): its key and value.
func (s *Status) Field(i int) (key, value []byte) {
	f := s.fields[i]
	return s.raw[f.k0:f.k1], s.raw[f.v0:f.v1]
}

// All iterates over the lines in the kernel's order.
func (s *Status) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		for i := range s.fields {
			if !yield(s.Field(i)) {
				return
			}
		}
	}
}

// Lookup returns the value of the first line with key.
func (s *Status) Lookup(key string) (value []byte, ok bool) {
	for i := range s.fields {
		k, v := s.Field(i)
		if string(k) == key {
			return v, true
		}
	}
	return nil, false
}

// Fields returns a copy of the lines, in the kernel's order.
func (s *Status) Fields() []StatusField {
	out := make([]StatusField, len(s.fields))
	for i := range s.fields {
		k, v := s.Field(i)
		out[i] = StatusField{Key: string(k), Value: string(v)}
	}
	return out
}

// Bytes returns a size line such as "VmRSS:\t1888 kB" in bytes. ok is false
// when there is no such line (kernel threads have no Vm* lines) or it is not
// a number of kB.
func (s *Status) Bytes(key string) (n uint64, ok bool) {
	v, ok := s.Lookup(key)
	if !ok {
		return 0, false
	}
	num, rest := nextField(v)
	unit, rest := nextField(rest)
	kb, err := atou(num)
	if err != nil || string(unit) != "kB" || len(rest) != 0 || kb > (1<<64-1)/1024 {
		return 0, false
	}
	return kb * 1024, true
}

// UIDs returns the real, effective, saved set and filesystem user IDs of the
// "Uid:" line. ok is false when there is no such line or it is malformed.
func (s *Status) UIDs() (ids [4]uint64, ok bool) { return s.ids("Uid") }

// GIDs returns the four group IDs of the "Gid:" line.
func (s *Status) GIDs() (ids [4]uint64, ok bool) { return s.ids("Gid") }

func (s *Status) ids(key string) (ids [4]uint64, ok bool) {
	v, ok := s.Lookup(key)
	if !ok {
		return ids, false
	}
	for i := range ids {
		var f []byte
		f, v = nextField(v)
		n, err := atou(f)
		if err != nil || n > 1<<32-1 {
			return [4]uint64{}, false
		}
		ids[i] = n
	}
	if len(trimSpace(v)) != 0 {
		return [4]uint64{}, false
	}
	return ids, true
}
