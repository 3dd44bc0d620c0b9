package main

import (
	"io"
	"log/slog"

	"github.com/cgmon/cgmon/internal/logging"
)

// runLogger is a command's logger (internal/logging): Logger is handed
// out, Reconfigure changes level, format and file in place on a reload.
type runLogger struct {
	Logger *slog.Logger
	l      *logging.Logger
}

// newLogger returns the logger of o; without a log_file it writes to w.
func newLogger(w io.Writer, o logging.Options) (*runLogger, error) {
	l, err := logging.New(w, o)
	if err != nil {
		return nil, err
	}
	return &runLogger{Logger: l.Slog(), l: l}, nil
}

func (r *runLogger) Reconfigure(o logging.Options) error { return r.l.Reconfigure(o) }

func (r *runLogger) Close() error { return r.l.Close() }
