package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// MaxFileSize bounds the configuration file: anything bigger is not one
// (a log or a binary named by mistake).
const MaxFileSize = 1 << 20

// Sources are the inputs of Load.
type Sources struct {
	// File is the configuration file; empty takes CGMON_CONFIG from Env,
	// and no file when that is empty too.
	File string
	// Env is the environment as os.Environ returns it: "NAME=value".
	Env []string
}

// Path is the file Load reads: File, else CGMON_CONFIG, else "".
func (s Sources) Path() string {
	if s.File != "" {
		return s.File
	}
	v, _ := lookupEnv(s.Env, envPrefix+"CONFIG")
	return v
}

// Warning is a problem that does not stop cgmon: an unknown key or
// variable, which is most often a typo.
type Warning struct {
	// Source is the file, or "environment".
	Source string
	// Line is the line in Source; 0 for the environment.
	Line int
	Msg  string
}

func (w Warning) String() string { return where(w.Source, w.Line) + ": " + w.Msg }

// Error is one problem with a key or a variable that stops cgmon, with
// where it was found.
type Error struct {
	Source string
	Line   int
	// Key is the key path or the variable's name.
	Key string
	Err error
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %v", where(e.Source, e.Line), e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", where(e.Source, e.Line), e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func where(source string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", source, line)
	}
	return source
}

// envSource names the process environment in messages.
const envSource = "environment"

// Load builds the configuration: Defaults(), then the file (native YAML,
// LXC Monitor's YAML or cgtop_mon's environment file, told apart by their
// content), then the CGTOP_MON_* variables, then the CGMON_* variables,
// and validates the result. Unknown keys and variables are warnings; any
// error (unreadable file, wrong type, invalid value) is returned with the
// file, line and key it concerns, all of them joined, and a zero Config.
func Load(src Sources) (Config, []Warning, error) {
	l := &loader{origins: map[string]string{}}
	c := Defaults()
	var fileVars []envVar
	if path := src.Path(); path != "" {
		data, err := readFile(path)
		if err != nil {
			return Config{}, nil, err
		}
		fileVars = l.file(&c, path, data)
	}
	l.environment(&c, fileVars, src.Env)
	if len(l.errs) > 0 {
		return Config{}, l.warns, errors.Join(l.errs...)
	}
	if err := c.Validate(); err != nil {
		return Config{}, l.warns, l.locate(err)
	}
	return c, l.warns, nil
}

// readFile reads the configuration file with a size cap.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("configuration file %s: is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("configuration file %s: larger than %d bytes: not a configuration file", path, MaxFileSize)
	}
	return data, nil
}

// loader gathers what Load finds along the way.
type loader struct {
	errs  []error
	warns []Warning
	// origins is where each key was last set ("cgmon.yaml:3",
	// "environment (CGMON_INTERVAL)"), so that Validate's errors, which
	// name keys, can say where to look.
	origins map[string]string
	// budget bounds the YAML nodes visited, which aliases could multiply.
	budget int
}

func (l *loader) fail(source string, line int, key string, err error) {
	l.errs = append(l.errs, &Error{Source: source, Line: line, Key: key, Err: err})
}

func (l *loader) warn(source string, line int, format string, args ...any) {
	l.warns = append(l.warns, Warning{Source: source, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// file decodes the file's content into c, or returns its variables when
// it is an environment file.
func (l *loader) file(c *Config, path string, data []byte) []envVar {
	if looksLikeEnvFile(data) {
		vars, err := parseEnvFile(path, data)
		if err != nil {
			l.errs = append(l.errs, err)
		}
		return vars
	}
	l.yaml(c, path, data)
	return nil
}

// locate prefixes each of Validate's errors, which start with the key,
// with where that key was set.
func (l *loader) locate(err error) error {
	var out []error
	for _, e := range flatten(err) {
		key, _, _ := strings.Cut(e.Error(), ": ")
		if o, ok := l.origins[key]; ok {
			e = fmt.Errorf("%s: %w", o, e)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// flatten returns the errors joined in err, joins in joins included.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// looksLikeEnvFile tells cgtop_mon's environment file from YAML: every
// line that is not blank or a comment is NAME=value, NAME in upper case
// (with an optional "export "). A YAML mapping never looks like that.
func looksLikeEnvFile(data []byte) bool {
	n := 0
	for line := range bytes.Lines(data) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		if !isEnvAssignment(s) {
			return false
		}
		n++
	}
	return n > 0
}

// isEnvAssignment is ^(export )?[A-Z_][A-Z0-9_]*= on a trimmed line.
func isEnvAssignment(s string) bool {
	if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimLeft(rest, " \t")
	}
	name, _, ok := strings.Cut(s, "=")
	if !ok || name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_'
	})
}

// lookupEnv is os.LookupEnv on a list; the last entry wins, as with
// duplicates in a real environment.
func lookupEnv(env []string, name string) (string, bool) {
	for _, kv := range slices.Backward(env) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}
