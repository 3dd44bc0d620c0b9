package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/cgmon/cgmon/internal/config"
)

// runLogger is the agent's logger; Reconfigure changes its level on
// reload. TEMPORARY until internal/logging lands (file, rotation, format
// change on reload).
type runLogger struct {
	Logger *slog.Logger
	level  *slog.LevelVar
}

func newLogger(w io.Writer, o config.Logging) (*runLogger, error) {
	lv, err := parseLevel(o.Level)
	if err != nil {
		return nil, err
	}
	l := &runLogger{level: new(slog.LevelVar)}
	l.level.Set(lv)
	opts := &slog.HandlerOptions{Level: l.level}
	switch o.Format {
	case "text":
		l.Logger = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		l.Logger = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return nil, fmt.Errorf("logging.log_format %q: want text or json", o.Format)
	}
	return l, nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "critical":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("logging.log_level %q: want debug, info, warning, error or critical", s)
}

func (l *runLogger) Reconfigure(o config.Logging) error {
	lv, err := parseLevel(o.Level)
	if err != nil {
		return err
	}
	l.level.Set(lv)
	return nil
}

func (l *runLogger) Close() error { return nil }
