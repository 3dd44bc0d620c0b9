package logging

import (
	"fmt"
	"log/slog"
	"strings"
)

// Options are the logging settings, under the same keys as LXC Monitor's
// `logging:` section so its YAML files keep working.
type Options struct {
	// Level is the lowest level written: debug, info, warn/warning, error or
	// critical, in any case ("INFO" and "WARNING" as LXC Monitor writes them).
	// Empty means info.
	Level string `yaml:"log_level"`
	// Format is "text" (slog's key=value lines) or "json" (one object a
	// line). Empty means text.
	Format string `yaml:"log_format"`
	// File is the log file; empty means stderr, which is what the journal
	// keeps when cgmon runs under systemd.
	File string `yaml:"log_file"`
	// MaxBytes is the size in bytes past which File is rotated. The rotation
	// works in whole MiB: the value is rounded up to a MiB, at least 1 MiB.
	// 0 means never rotate, as in Python's RotatingFileHandler.
	MaxBytes int64 `yaml:"log_max_bytes"`
	// BackupCount is how many rotated files are kept beside File. 0 means
	// never rotate, as in Python's RotatingFileHandler (which LXC Monitor
	// uses): with no backups to keep there is nothing to rotate into.
	BackupCount int `yaml:"log_backup_count"`
}

// Defaults of Options.
const (
	DefaultLevel       = "info"
	DefaultFormat      = "text"
	DefaultMaxBytes    = 10 << 20 // 10 MiB
	DefaultBackupCount = 5
)

// DefaultOptions returns info level, text format on stderr, and for a log
// file 10 MiB per file with 5 backups.
func DefaultOptions() Options {
	return Options{
		Level:       DefaultLevel,
		Format:      DefaultFormat,
		MaxBytes:    DefaultMaxBytes,
		BackupCount: DefaultBackupCount,
	}
}

// LevelCritical is Python's CRITICAL, one step of 4 above slog.LevelError
// as slog spaces its levels. Records at this level print as "CRITICAL"
// (not slog's default "ERROR+4"), so LXC Monitor users' greps keep working.
const LevelCritical = slog.LevelError + 4

// ParseLevel parses a level name in any case: debug, info, warn, warning,
// error or critical.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "critical":
		return LevelCritical, nil
	}
	return 0, fmt.Errorf("logging.log_level %q: want debug, info, warning, error or critical", s)
}

// Check reports the first invalid setting, naming its key.
func (o Options) Check() error {
	_, err := o.level()
	if err != nil {
		return err
	}
	if _, err := o.json(); err != nil {
		return err
	}
	if o.MaxBytes < 0 {
		return fmt.Errorf("logging.log_max_bytes %d: want 0 (never rotate) or a size in bytes", o.MaxBytes)
	}
	if o.BackupCount < 0 {
		return fmt.Errorf("logging.log_backup_count %d: want 0 (never rotate) or more", o.BackupCount)
	}
	return nil
}

// level is Level parsed, with empty meaning info.
func (o Options) level() (slog.Level, error) {
	if o.Level == "" {
		return slog.LevelInfo, nil
	}
	return ParseLevel(o.Level)
}

// json reports whether Format asks for JSON, with empty meaning text.
func (o Options) json() (bool, error) {
	switch strings.ToLower(strings.TrimSpace(o.Format)) {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("logging.log_format %q: want text or json", o.Format)
}

// rotates reports whether File is rotated (see MaxBytes and BackupCount).
func (o Options) rotates() bool { return o.MaxBytes > 0 && o.BackupCount > 0 }

// maxSizeMiB is MaxBytes in lumberjack's unit, whole MiB, rounded up and at
// least 1: lumberjack cannot rotate at a byte count.
func (o Options) maxSizeMiB() int {
	const mib = 1 << 20
	n := (o.MaxBytes + mib - 1) / mib
	if n < 1 {
		n = 1
	}
	return int(n)
}
