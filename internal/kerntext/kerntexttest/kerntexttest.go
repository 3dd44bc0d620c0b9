// Package kerntexttest holds the test helpers shared by the tests of the
// kernel-file parsers (cgroupfs, proc). Only tests import it.
package kerntexttest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/kerntext"
)

// Testdata returns the bytes of testdata/name in the test's package.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CheckErr fails unless err wraps want, is a *kerntext.ParseError, and its
// message contains every part of msg. want nil means no error.
func CheckErr(t *testing.T, err, want error, msg ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	var pe *kerntext.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not contain %q", err, m)
		}
	}
}

// CheckParseError fails unless err is nil or a *kerntext.ParseError wrapping
// one of the sentinels, with its quoted text capped: what a fuzz target
// asks of every parser error.
func CheckParseError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *kerntext.ParseError
	if !errors.As(err, &pe) || !(errors.Is(err, kerntext.ErrSyntax) || errors.Is(err, kerntext.ErrRange) || errors.Is(err, kerntext.ErrMissing)) {
		t.Fatalf("error %v (%T) is not a *ParseError with a sentinel", err, err)
	}
	if len(pe.Text) > kerntext.MaxErrText {
		t.Fatalf("error text is %d bytes long", len(pe.Text))
	}
	_ = err.Error()
}

// Bench runs f on the bytes of testdata/name, after checking that it
// parses them.
func Bench(b *testing.B, name string, f func(in []byte) error) {
	b.Helper()
	in := Testdata(b, name)
	if err := f(in); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_ = f(in)
	}
}

// Seed calls add with the bytes of every file under testdata/ (the fuzz
// corpus under testdata/fuzz left out) and of every extra string: the seed
// corpus of a parser's fuzz target.
func Seed(f *testing.F, add func(b []byte), extra ...string) {
	f.Helper()
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "fuzz" {
				return filepath.SkipDir
			}
			return nil
		}
		add(Testdata(f, strings.TrimPrefix(filepath.ToSlash(path), "testdata/")))
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range extra {
		add([]byte(s))
	}
}
