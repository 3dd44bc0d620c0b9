// Package logging builds cgmon's one *slog.Logger from the `logging:`
// settings (LXC Monitor's keys): level, text or JSON, stderr or a rotating
// file, with secrets masked, and lets a config reload (SIGHUP) change all of
// that in place while every logger handed out keeps working.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Logger owns cgmon's logger, its level and its log file.
type Logger struct {
	log    *slog.Logger
	level  slog.LevelVar
	out    switchWriter
	inner  atomic.Pointer[inner] // the text or JSON handler in use
	stderr io.Writer

	mu   sync.Mutex // serializes Reconfigure and Close
	opts Options
	lj   *lumberjack.Logger // the rotating file in use, kept to reuse on reload
}

// inner is one handler; a new one (a new pointer) replaces it when the format
// changes, which tells the forwarding handlers to rebuild their With chain.
type inner struct{ h slog.Handler }

// New checks o and returns a Logger that writes to o.File, or to stderr when
// o.File is empty. A log file that cannot be opened is an error now, not a
// silent loss of every line later.
func New(stderr io.Writer, o Options) (*Logger, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	l := &Logger{stderr: stderr}
	w, c, lj, err := l.open(o)
	if err != nil {
		return nil, err
	}
	l.out.set(w, c) // nothing was open before: no close to fail
	l.lj = lj
	l.apply(o)
	l.log = slog.New(&forward{l: l})
	return l, nil
}

// Slog returns the logger. It stays valid across Reconfigure, and so do the
// loggers derived from it with With and WithGroup.
func (l *Logger) Slog() *slog.Logger { return l.log }

// SetLevel changes the level at once for every logger handed out.
func (l *Logger) SetLevel(level slog.Level) { l.level.Set(level) }

// Level returns the level in force.
func (l *Logger) Level() slog.Level { return l.level.Level() }

// Reconfigure applies o in place, as a config reload does: level, format and
// file change for every logger handed out. The log file is closed and opened
// again even when its name is the same, so a file moved away by logrotate is
// followed by a new one. If o is invalid or its file cannot be opened,
// nothing changes and the error says why.
func (l *Logger) Reconfigure(o Options) error {
	if err := o.Check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	// Reuse the rotating writer when only a reopen is needed: lumberjack
	// starts a goroutine per writer that its Close does not stop.
	var reuse *lumberjack.Logger
	if l.lj != nil && o.File == l.opts.File && o.rotates() &&
		l.lj.MaxSize == o.maxSizeMiB() && l.lj.MaxBackups == o.BackupCount {
		reuse = l.lj
	}
	var (
		w   io.Writer
		c   io.Closer
		lj  *lumberjack.Logger
		err error
	)
	if reuse != nil {
		// Close under the writer's lock, so no record goes to the old
		// file, then open again at once to report an error now.
		err = l.out.reopen(func() error {
			if err := reuse.Close(); err != nil {
				return err
			}
			_, err := reuse.Write(nil)
			return err
		})
		if err != nil {
			return fmt.Errorf("logging.log_file %q: %w", o.File, err)
		}
	} else {
		if w, c, lj, err = l.open(o); err != nil {
			return err
		}
		// The new writer is in place even if the old one fails to close.
		if cerr := l.out.set(w, c); cerr != nil {
			err = fmt.Errorf("logging: close the previous log file: %w", cerr)
		}
		l.lj = lj
	}
	l.apply(o)
	return err
}

// Close closes the log file. Records logged after Close go to stderr, so
// the last words of a shutting-down agent are not lost.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lj = nil
	l.opts.File = ""
	return l.out.set(l.stderr, nil)
}

// open opens the writer o asks for: stderr, a plain file, or a rotating
// file. lj is the rotating file, if that is what it is.
func (l *Logger) open(o Options) (w io.Writer, c io.Closer, lj *lumberjack.Logger, err error) {
	if o.File == "" {
		return l.stderr, nil, nil, nil
	}
	if !o.rotates() {
		f, err := os.OpenFile(o.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("logging.log_file %q: %w", o.File, err)
		}
		return f, f, nil, nil
	}
	// lumberjack renames aside whatever it cannot open for appending, a
	// directory or a device included: refuse those first.
	if fi, err := os.Stat(o.File); err == nil && !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.IsDir() {
			what = "a directory"
		}
		return nil, nil, nil, fmt.Errorf("logging.log_file %q: %s, which cannot be rotated", o.File, what)
	}
	lj = &lumberjack.Logger{
		Filename:   o.File,
		MaxSize:    o.maxSizeMiB(),
		MaxBackups: o.BackupCount,
	}
	// lumberjack opens on the first write; an empty write opens now, so a
	// bad path is reported here.
	if _, err := lj.Write(nil); err != nil {
		return nil, nil, nil, fmt.Errorf("logging.log_file %q: %w", o.File, err)
	}
	return lj, lj, lj, nil
}

// apply sets the level and, when the format changes, the handler.
func (l *Logger) apply(o Options) {
	level, _ := o.level() // checked by the caller
	json, _ := o.json()
	l.level.Set(level)
	if cur := l.inner.Load(); cur == nil || json != isJSON(cur.h) {
		hopts := &slog.HandlerOptions{Level: &l.level, ReplaceAttr: replaceAttr}
		var h slog.Handler = slog.NewTextHandler(&l.out, hopts)
		if json {
			h = slog.NewJSONHandler(&l.out, hopts)
		}
		l.inner.Store(&inner{h: h})
	}
	l.opts = o
}

func isJSON(h slog.Handler) bool { _, ok := h.(*slog.JSONHandler); return ok }

// forward is the handler behind Logger.Slog: it forwards each record to the
// handler in use, replaying on it the With and WithGroup calls that made
// this handler, so derived loggers follow a format change too.
type forward struct {
	l     *Logger
	ops   []op // WithAttrs and WithGroup calls, oldest first
	cache atomic.Pointer[built]
}

// op is one WithAttrs (attrs) or WithGroup (group) call.
type op struct {
	group string
	attrs []slog.Attr
}

// built is ops applied to one inner handler.
type built struct {
	base *inner
	h    slog.Handler
}

func (f *forward) handler() slog.Handler {
	base := f.l.inner.Load()
	if b := f.cache.Load(); b != nil && b.base == base {
		return b.h
	}
	h := base.h
	for _, o := range f.ops {
		if o.attrs != nil {
			h = h.WithAttrs(o.attrs)
		} else {
			h = h.WithGroup(o.group)
		}
	}
	f.cache.Store(&built{base: base, h: h})
	return h
}

func (f *forward) Enabled(_ context.Context, level slog.Level) bool {
	return level >= f.l.level.Level()
}

func (f *forward) Handle(ctx context.Context, r slog.Record) error {
	return f.handler().Handle(ctx, r)
}

func (f *forward) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return f
	}
	return &forward{l: f.l, ops: append(slices.Clip(f.ops), op{attrs: slices.Clone(attrs)})}
}

func (f *forward) WithGroup(name string) slog.Handler {
	if name == "" {
		return f
	}
	return &forward{l: f.l, ops: append(slices.Clip(f.ops), op{group: name})}
}

// switchWriter is the writer both handlers write to; Reconfigure and Close
// swap what is behind it. Its lock also keeps a record from being written
// to a file while it is being closed.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
	c  io.Closer // closes w; nil for stderr
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// set makes w (closed by c) the destination and closes the one before, unless
// it is the same.
func (s *switchWriter) set(w io.Writer, c io.Closer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.c
	s.w, s.c = w, c
	if old != nil && old != c {
		return old.Close()
	}
	return nil
}

// reopen runs fn with writes held off.
func (s *switchWriter) reopen(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn()
}

// Masked is what replaces the value of a secret attribute.
const Masked = "********"

// replaceAttr masks secrets and names LevelCritical.
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if lv, ok := a.Value.Any().(slog.Level); ok && lv >= LevelCritical {
			name := "CRITICAL"
			if lv > LevelCritical {
				name = fmt.Sprintf("CRITICAL+%d", lv-LevelCritical)
			}
			return slog.String(a.Key, name)
		}
		return a
	}
	if IsSecret(a.Key) {
		return slog.String(a.Key, Masked)
	}
	return a
}

// IsSecret reports whether an attribute with this key holds a secret whose
// value must never be logged: password, token, secret or authorization, or
// a key ending in _password, _token or _secret (influxdb_password,
// api_token, client_secret), in any case. The message text itself is not
// searched: never put a secret in it.
func IsSecret(key string) bool {
	k := strings.ToLower(key)
	switch k {
	case "password", "token", "secret", "authorization":
		return true
	}
	return strings.HasSuffix(k, "_password") || strings.HasSuffix(k, "_token") || strings.HasSuffix(k, "_secret")
}
