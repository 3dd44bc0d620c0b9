package proc

import (
	"github.com/cgmon/cgmon/internal/cgroupfs"
	"github.com/cgmon/cgmon/internal/kerntext"
)

// Parse errors are the cgroupfs ones, so that every kernel-file parser of
// cgmon fails the same way: a *cgroupfs.ParseError naming the line, the key
// and the bad text (not the file: the reader adds the path), wrapping
// cgroupfs.ErrSyntax, ErrRange or ErrMissing.

func newError(line int, key string, text []byte, err error) error {
	return kerntext.NewError(line, key, text, err)
}

type lines = kerntext.Lines

func atou(b []byte) (uint64, error) { return kerntext.Atou(b) }

// atoi parses an optionally negative decimal int64 ("-1").
func atoi(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, err := atou(b)
	if err != nil {
		return 0, err
	}
	if neg {
		if u > 1<<63 {
			return 0, cgroupfs.ErrRange
		}
		return -int64(u), nil
	}
	if u > 1<<63-1 {
		return 0, cgroupfs.ErrRange
	}
	return int64(u), nil
}

// xtou parses a non-empty run of hexadecimal digits (either case) that fits
// in bits bits.
func xtou(b []byte, bits uint) (uint64, error) {
	if len(b) == 0 {
		return 0, cgroupfs.ErrSyntax
	}
	var n uint64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, cgroupfs.ErrSyntax
		}
		if n>>(bits-4) != 0 {
			return 0, cgroupfs.ErrRange
		}
		n = n<<4 | uint64(d)
	}
	return n, nil
}

// isSpace reports the blanks the kernel puts between a key and its value.
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// trimSpace removes leading and trailing spaces and tabs.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// nextField returns the first field of b, fields being separated by runs of
// spaces and tabs, and the rest after it. f is empty when b holds only
// blanks.
func nextField(b []byte) (f, rest []byte) {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	i := 0
	for i < len(b) && !isSpace(b[i]) {
		i++
	}
	return b[:i], b[i:]
}
