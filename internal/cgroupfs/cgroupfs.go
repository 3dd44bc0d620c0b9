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

	"github.com/cgmon/cgmon/internal/kerntext"
)

// Sentinel errors wrapped by *ParseError; check them with errors.Is.
var (
	ErrSyntax  = kerntext.ErrSyntax  // text that is not the expected format
	ErrRange   = kerntext.ErrRange   // a number too large for its type
	ErrMissing = kerntext.ErrMissing // a required key or field is absent
)

// ParseError is a malformed kernel file (see kerntext.ParseError).
type ParseError = kerntext.ParseError

func newError(line int, key string, text []byte, err error) error {
	return kerntext.NewError(line, key, text, err)
}

type lines = kerntext.Lines

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

func atou(b []byte) (uint64, error) { return kerntext.Atou(b) }

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
