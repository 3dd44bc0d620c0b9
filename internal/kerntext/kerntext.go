// Package kerntext holds the byte-level helpers shared by cgmon's parsers
// of kernel text files (cgroupfs, /proc): a line iterator and decimal number
// parsing that do not allocate, and the ParseError they report.
package kerntext

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

// MaxErrText caps the bad text quoted in a ParseError.
const MaxErrText = 64

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

// NewError builds a *ParseError. It allocates, so it runs only on failure.
func NewError(line int, key string, text []byte, err error) error {
	if len(text) > MaxErrText {
		text = text[:MaxErrText]
	}
	return &ParseError{Line: line, Key: key, Text: string(text), Err: err}
}

// Lines iterates over the lines of a file without allocating.
type Lines struct {
	Rest []byte
	N    int // number of the line last returned, 1-based
}

// Next returns the next line without its "\n". ok is false at the end. A
// final line without "\n" is returned; the empty text after a final "\n" is
// not.
func (l *Lines) Next() (line []byte, ok bool) {
	if len(l.Rest) == 0 {
		return nil, false
	}
	l.N++
	if i := bytes.IndexByte(l.Rest, '\n'); i >= 0 {
		line, l.Rest = l.Rest[:i], l.Rest[i+1:]
		return line, true
	}
	line, l.Rest = l.Rest, nil
	return line, true
}

// Atou parses a non-empty run of decimal digits. It returns ErrSyntax or
// ErrRange (unwrapped, so it does not allocate).
func Atou(b []byte) (uint64, error) {
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
