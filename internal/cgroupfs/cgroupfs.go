// Package cgroupfs parses the files of the cgroup filesystems (v1 and v2) and
// the few proc/sys files needed to find them. Parsers are pure: bytes in,
// typed values out; only the reader opens files.
//
// The per-cycle parsers (ParseUint, ParseLimit, ParseCPU*, ParseCpuacct*,
// ParseMemory*, ParseOOMControl, ParseIOStat, ParseBlkio, ParsePSI,
// CountLines) make no allocations on success when their destination slice has
// room. They follow the formats of Documentation/admin-guide/cgroup-v2.rst
// ("Interface Files": single value, flat keyed, nested keyed) and
// Documentation/admin-guide/cgroup-v1/*.rst:
//
//   - Lines of keys the parser does not use are skipped without being looked
//     at, so new kernel keys never break a parser.
//   - A used key whose value is missing or malformed, a number that does not
//     fit in 64 bits, and a line whose structure the file's format fixes (a
//     device row, a PSI line, a table row) that does not match it are errors
//     of type *ParseError, which name the line, the key and the bad text but
//     not the file: the caller adds the path.
//   - Only a single trailing "\n" is allowed after a value; "\r", NUL bytes,
//     signs and spaces inside a value are malformed.
//   - Parsers that fill a struct set only the fields whose keys are present
//     (sample.Some); a key that is not in the file leaves its field as it was,
//     so absent stays absent.
package cgroupfs

import (
	"bytes"
	"errors"
	"strconv"
)

// Sentinel errors wrapped by *ParseError; check them with errors.Is.
var (
	ErrSyntax  = errors.New("malformed")    // text that is not the expected format
	ErrRange   = errors.New("out of range") // a number too large for its type
	ErrMissing = errors.New("missing")      // a required key or field is absent
)

// maxErrText caps the bad text quoted in a ParseError.
const maxErrText = 64

// ParseError is a malformed kernel file. It does not carry the path: the
// reader that opened the file wraps it with that.
type ParseError struct {
	Line int    // 1-based line number; 0 for a file that holds one value
	Key  string // the key or field whose value is bad ("nr_periods", "some avg10", "device"); may be empty
	Text string // the offending text, cut to 64 bytes; empty for ErrMissing
	Err  error  // ErrSyntax, ErrRange or ErrMissing
}

func (e *ParseError) Error() string {
	var b []byte
	if e.Line > 0 {
		b = append(b, "line "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
		b = append(b, ": "...)
	}
	if e.Key != "" {
		b = append(b, e.Key...)
		b = append(b, ": "...)
	}
	b = append(b, e.Err.Error()...)
	if e.Err != ErrMissing {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.Text)
	}
	return string(b)
}

func (e *ParseError) Unwrap() error { return e.Err }

// newError builds a *ParseError. It allocates, so it runs only on failure.
func newError(line int, key string, text []byte, err error) error {
	if len(text) > maxErrText {
		text = text[:maxErrText]
	}
	return &ParseError{Line: line, Key: key, Text: string(text), Err: err}
}

// lines iterates over the lines of a file without allocating.
type lines struct {
	rest []byte
	n    int // number of the line last returned, 1-based
}

// next returns the next line without its "\n". ok is false at the end. A
// final line without "\n" is returned; the empty text after a final "\n" is
// not.
func (l *lines) next() (line []byte, ok bool) {
	if len(l.rest) == 0 {
		return nil, false
	}
	l.n++
	if i := bytes.IndexByte(l.rest, '\n'); i >= 0 {
		line, l.rest = l.rest[:i], l.rest[i+1:]
		return line, true
	}
	line, l.rest = l.rest, nil
	return line, true
}

// nextField returns the first field of b, fields being separated by runs of
// spaces, and the text after the space that ends it. f is empty when b holds
// only spaces.
func nextField(b []byte) (f, rest []byte) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// isBlank reports whether b holds only spaces.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' {
			return false
		}
	}
	return true
}

// keyValue splits a flat keyed line "KEY VALUE". value is everything after
// the first run of spaces following the key, so a value with trailing junk
// stays malformed instead of being cut.
func keyValue(line []byte) (key, value []byte) {
	key, rest := nextField(line)
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return key, rest
}

// trimNL removes one trailing "\n".
func trimNL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// atou parses a non-empty run of decimal digits. It returns ErrSyntax or
// ErrRange (unwrapped, so it does not allocate).
func atou(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, ErrSyntax
	}
	var n uint64
	overflow := false
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, ErrSyntax
		}
		if n > (1<<64-1-uint64(d))/10 {
			overflow = true
		}
		n = n*10 + uint64(d)
	}
	if overflow {
		return 0, ErrRange
	}
	return n, nil
}

// atou32 parses a decimal uint32.
func atou32(b []byte) (uint32, error) {
	n, err := atou(b)
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, ErrRange
	}
	return uint32(n), nil
}

// mulCheck returns v*m or ErrRange.
func mulCheck(v, m uint64) (uint64, error) {
	if m != 0 && v > (1<<64-1)/m {
		return 0, ErrRange
	}
	return v * m, nil
}

// parseDevice parses "MAJ:MIN".
func parseDevice(b []byte) (major, minor uint32, err error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return 0, 0, ErrSyntax
	}
	if major, err = atou32(b[:i]); err != nil {
		return 0, 0, err
	}
	if minor, err = atou32(b[i+1:]); err != nil {
		return 0, 0, err
	}
	return major, minor, nil
}
