package main

import (
	"io"
	"log/slog"

	"github.com/cgmon/cgmon/internal/config"
	"github.com/cgmon/cgmon/internal/logging"
)

// runLogger is a command's logger (internal/logging): Logger is handed
// out, Reconfigure changes level, format and file in place on a reload.
type runLogger struct {
	Logger *slog.Logger
	l      *logging.Logger
}

func loggingOptions(o config.Logging) logging.Options {
	return logging.Options{Level: o.Level, Format: o.Format, File: o.File, MaxBytes: o.MaxBytes, BackupCount: o.BackupCount}
}

// newLogger returns the logger of o; without a log_file it writes to w.
func newLogger(w io.Writer, o config.Logging) (*runLogger, error) {
	l, err := logging.New(w, loggingOptions(o))
	if err != nil {
		return nil, err
	}
	return &runLogger{Logger: l.Slog(), l: l}, nil
}

func (r *runLogger) Reconfigure(o config.Logging) error { return r.l.Reconfigure(loggingOptions(o)) }

func (r *runLogger) Close() error { return r.l.Close() }
