package logging

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/cgmon/cgmon/internal/testsvc"
	"github.com/google/go-cmp/cmp"
)

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"DEBUG", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"INFO", slog.LevelInfo},
		{" Info ", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"WARNING", slog.LevelWarn},
		{"error", slog.LevelError},
		{"ERROR", slog.LevelError},
		{"critical", LevelCritical},
		{"CRITICAL", LevelCritical},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLevel(tc.in)
			if err != nil {
				t.Fatalf("ParseLevel(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "loud", "trace", "fatal", "warnings", "5"} {
		t.Run("bad_"+bad, func(t *testing.T) {
			if lv, err := ParseLevel(bad); err == nil {
				t.Errorf("ParseLevel(%q) = %v, want an error", bad, lv)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	with := func(f func(*Options)) Options { o := DefaultOptions(); f(&o); return o }
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" for valid
	}{
		{"defaults", DefaultOptions(), ""},
		{"zero value", Options{}, ""},
		{"lxc monitor", Options{Level: "WARNING", File: "/var/log/lxc_monitor.log", MaxBytes: 5242880, BackupCount: 7}, ""},
		{"json upper case", with(func(o *Options) { o.Format = "JSON" }), ""},
		{"never rotate", with(func(o *Options) { o.MaxBytes, o.BackupCount = 0, 0 }), ""},
		{"bad level", with(func(o *Options) { o.Level = "loud" }),
			`logging.log_level "loud": want debug, info, warning, error or critical`},
		{"bad format", with(func(o *Options) { o.Format = "xml" }), `logging.log_format "xml": want text or json`},
		{"negative size", with(func(o *Options) { o.MaxBytes = -1 }), "logging.log_max_bytes -1: "},
		{"negative backups", with(func(o *Options) { o.BackupCount = -2 }), "logging.log_backup_count -2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Check = nil, want %q", tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want):
				t.Fatalf("Check = %q, want it to start with %q", err, tc.want)
			}
			if tc.want != "" {
				if _, nerr := New(os.Stderr, tc.o); nerr == nil || nerr.Error() != err.Error() {
					t.Errorf("New = %v, want the error of Check", nerr)
				}
			}
		})
	}
}

func TestMaxSizeMiB(t *testing.T) {
	for _, tc := range []struct {
		bytes int64
		want  int
	}{
		{1, 1}, {1 << 20, 1}, {1<<20 + 1, 2}, {5242880, 5}, {DefaultMaxBytes, 10}, {10<<20 - 1, 10},
	} {
		if got := (Options{MaxBytes: tc.bytes}).maxSizeMiB(); got != tc.want {
			t.Errorf("maxSizeMiB(%d) = %d, want %d", tc.bytes, got, tc.want)
		}
	}
}

// newLogger returns a Logger writing to a buffer it also returns.
func newLogger(t *testing.T, o Options) (*Logger, *testsvc.Buffer) {
	t.Helper()
	var buf testsvc.Buffer
	l, err := New(&buf, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l, &buf
}

// levelsShown logs one record at each level and returns the level names
// that came out.
func levelsShown(t *testing.T, log *slog.Logger, buf *testsvc.Buffer) []string {
	t.Helper()
	before := len(buf.String())
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	log.Log(t.Context(), LevelCritical, "c")
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()[before:]), "\n") {
		if _, rest, ok := strings.Cut(line, "level="); ok {
			got = append(got, strings.Fields(rest)[0])
		}
	}
	return got
}

func TestLevels(t *testing.T) {
	all := []string{"DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"}
	for _, tc := range []struct {
		level string
		want  []string
	}{
		{"debug", all},
		{"", all[1:]},
		{"INFO", all[1:]},
		{"warn", all[2:]},
		{"WARNING", all[2:]},
		{"Error", all[3:]},
		{"CRITICAL", all[4:]},
	} {
		t.Run("level_"+tc.level, func(t *testing.T) {
			l, buf := newLogger(t, Options{Level: tc.level})
			if diff := cmp.Diff(tc.want, levelsShown(t, l.Slog(), buf)); diff != "" {
				t.Errorf("levels written (-want +got):\n%s", diff)
			}
		})
	}
}

// jsonLines parses every line of s as one JSON object.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestJSONFormat(t *testing.T) {
	l, buf := newLogger(t, Options{Format: "json", Level: "debug"})
	log := l.Slog().With("cgroup", "/system.slice/a \"b\".service").WithGroup("sink")
	log.Info("write failed", "name", "influx", "retries", 3, "err", fmt.Errorf("dial: refused\nnext line"))
	log.Log(t.Context(), LevelCritical, "giving up")
	lines := jsonLines(t, buf.String())
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf)
	}
	got := lines[0]
	delete(got, "time")
	want := map[string]any{
		"level": "INFO", "msg": "write failed", "cgroup": "/system.slice/a \"b\".service",
		"sink": map[string]any{"name": "influx", "retries": 3.0, "err": "dial: refused\nnext line"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first line (-want +got):\n%s", diff)
	}
	if lines[1]["level"] != "CRITICAL" {
		t.Errorf("critical record has level %v, want CRITICAL", lines[1]["level"])
	}
}

// TestHandlerContract runs the standard library's handler tests on the
// forwarding handler, which must keep With and WithGroup as slog defines.
func TestHandlerContract(t *testing.T) {
	var buf *testsvc.Buffer
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		var l *Logger
		l, buf = newLogger(t, Options{Format: "json"})
		return l.Slog().Handler()
	}, func(t *testing.T) map[string]any {
		lines := jsonLines(t, buf.String())
		if len(lines) != 1 {
			t.Fatalf("got %d lines, want 1: %s", len(lines), buf)
		}
		return lines[0]
	})
}

func TestMasking(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			l, buf := newLogger(t, Options{Format: format})
			log := l.Slog().With("token", "w1th-t0ken", "user", "cgmon")
			log.Info("connect",
				"password", "p4ss-plain",
				"Password", "p4ss-upper",
				"INFLUXDB_PASSWORD", "p4ss-env",
				"influxdb_password", "p4ss-yaml",
				"api_token", "t0ken-api",
				"SECRET", "s3cret-upper",
				"client_secret", "s3cret-client",
				"Authorization", "Bearer abc.def",
				slog.Group("influx", "password", "p4ss-grouped", "url", "http://db:8086"),
				"password_file", "/etc/cgmon/pw",
				"tokens", 3,
			)
			out := buf.String()
			for _, secret := range []string{"w1th-t0ken", "p4ss", "t0ken-api", "s3cret", "abc.def"} {
				if strings.Contains(out, secret) {
					t.Errorf("secret %q was logged:\n%s", secret, out)
				}
			}
			for _, kept := range []string{"cgmon", "/etc/cgmon/pw", "http://db:8086", "tokens"} {
				if !strings.Contains(out, kept) {
					t.Errorf("%q is missing, but it is no secret:\n%s", kept, out)
				}
			}
			if n := strings.Count(out, Masked); n != 10 {
				t.Errorf("%d masked values, want 10:\n%s", n, out)
			}
		})
	}
}

func TestIsSecret(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "PASSWORD": true, "token": true, "Secret": true, "authorization": true,
		"influxdb_password": true, "CGTOP_MON_INFLUXDB_PASSWORD": true, "api_token": true, "client_secret": true,
		"passwords": false, "password_file": false, "tokens": false, "user": false, "path": false,
		"mytoken": false, "": false, "level": false,
	} {
		if got := IsSecret(key); got != want {
			t.Errorf("IsSecret(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestReconfigure(t *testing.T) {
	l, buf := newLogger(t, Options{Level: "info"})
	root := l.Slog()
	derived := root.With("component", "influx").WithGroup("batch")

	root.Debug("hidden")
	l.SetLevel(slog.LevelDebug)
	root.Debug("shown by SetLevel")
	if err := l.Reconfigure(Options{Level: "ERROR"}); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	if l.Level() != slog.LevelError {
		t.Errorf("Level = %v after Reconfigure to ERROR", l.Level())
	}
	derived.Warn("hidden after reload")
	derived.Error("shown after reload", "points", 10)
	text := buf.String()
	for _, want := range []string{"shown by SetLevel", "level=ERROR msg=\"shown after reload\" component=influx batch.points=10"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hidden") {
		t.Errorf("a record below the level was written:\n%s", text)
	}

	// Text to JSON: the loggers handed out before switch too, attributes and
	// groups included.
	if err := l.Reconfigure(Options{Level: "info", Format: "json"}); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	before := len(buf.String())
	derived.Info("now json", "points", 11)
	lines := jsonLines(t, buf.String()[before:])
	if len(lines) != 1 || lines[0]["component"] != "influx" || lines[0]["batch"].(map[string]any)["points"] != 11.0 {
		t.Errorf("after the switch to JSON got %v", lines)
	}

	// Stderr to a file and back.
	file := filepath.Join(t.TempDir(), "cgmon.log")
	if err := l.Reconfigure(Options{Level: "info", File: file, MaxBytes: 1 << 20, BackupCount: 1}); err != nil {
		t.Fatalf("Reconfigure to a file: %v", err)
	}
	derived.Info("to the file")
	if err := l.Reconfigure(Options{}); err != nil {
		t.Fatalf("Reconfigure to stderr: %v", err)
	}
	root.Info("back on stderr")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "to the file") || strings.Contains(string(b), "back on stderr") {
		t.Errorf("log file holds:\n%s", b)
	}
	text = buf.String()
	if strings.Contains(text, "to the file") || !strings.Contains(text, "msg=\"back on stderr\"") {
		t.Errorf("stderr holds:\n%s", text)
	}
}

func TestReconfigureInvalidChangesNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cgmon.log")
	l, _ := newLogger(t, Options{Level: "warning", File: file, MaxBytes: 1 << 20, BackupCount: 2})
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{Level: "loud", File: file},
		{Level: "debug", File: filepath.Join(notDir, "x.log"), MaxBytes: 1 << 20, BackupCount: 2},
		{Level: "debug", File: filepath.Join(notDir, "x.log")},
	} {
		err := l.Reconfigure(o)
		if err == nil {
			t.Fatalf("Reconfigure(%+v) = nil, want an error", o)
		}
		if !strings.Contains(err.Error(), "logging.log_") {
			t.Errorf("Reconfigure error %q names no key", err)
		}
	}
	l.Slog().Info("still hidden")
	l.Slog().Warn("still to the file")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); strings.Contains(got, "still hidden") || !strings.Contains(got, "still to the file") {
		t.Errorf("after failed reloads the file holds:\n%s", got)
	}
}

func TestFileCannotBeOpened(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"rotating, parent is a file", Options{File: filepath.Join(plain, "cgmon.log"), MaxBytes: 1, BackupCount: 1}},
		{"plain, parent is a file", Options{File: filepath.Join(plain, "cgmon.log")}},
		{"plain, missing directory", Options{File: filepath.Join(dir, "missing", "cgmon.log")}},
		{"rotating, is a directory", Options{File: dir, MaxBytes: 1, BackupCount: 1}},
		{"plain, is a directory", Options{File: dir}},
		{"rotating, a device", Options{File: os.DevNull, MaxBytes: 1, BackupCount: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(os.Stderr, tc.o)
			if err == nil {
				l.Close()
				t.Fatalf("New(%+v) = nil error", tc.o)
			}
			if want := fmt.Sprintf("logging.log_file %q: ", tc.o.File); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want it to start with %q", err, want)
			}
			// lumberjack renames aside a path it cannot append to.
			if _, err := os.Stat(tc.o.File); err == nil && len(backups(t, tc.o.File)) != 0 {
				t.Errorf("%s was moved aside: %v", tc.o.File, backups(t, tc.o.File))
			}
		})
	}
}

// backups lists the rotated files beside file.
func backups(t *testing.T, file string) []string {
	t.Helper()
	ext := filepath.Ext(file)
	m, err := filepath.Glob(strings.TrimSuffix(file, ext) + "-*" + ext)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRotation(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cgmon.log")
	const keep = 2
	// 1000 bytes: below the 1 MiB minimum, so rotation is at 1 MiB.
	l, _ := newLogger(t, Options{File: file, MaxBytes: 1000, BackupCount: keep})
	log := l.Slog()
	filler := strings.Repeat("x", 100<<10)
	// 4.5 MiB in 100 KiB records: four rotations. Backups are named to the
	// millisecond, so records are spaced to give each rotation its own name.
	for i := range 46 {
		log.Info("filler", "i", i, "data", filler)
		time.Sleep(2 * time.Millisecond)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 {
		t.Errorf("%s is %d bytes, past the 1 MiB limit", file, fi.Size())
	}
	// lumberjack removes old backups in a goroutine of its own.
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = backups(t, file); len(got) == keep {
			break
		}
	}
	if len(got) != keep {
		t.Fatalf("%d backups %v, want %d", len(got), got, keep)
	}
	for _, b := range got {
		fi, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1<<20 || fi.Size() < 900<<10 {
			t.Errorf("backup %s is %d bytes, want just under 1 MiB", b, fi.Size())
		}
	}
	// The newest record is in the current file, the oldest are gone.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "i=45 ") {
		t.Errorf("the last record is not in %s", file)
	}
}

func TestNoRotationWithoutBackups(t *testing.T) {
	// log_backup_count 0 never rotates, as Python's RotatingFileHandler.
	file := filepath.Join(t.TempDir(), "cgmon.log")
	l, _ := newLogger(t, Options{File: file, MaxBytes: 1, BackupCount: 0})
	filler := strings.Repeat("y", 100<<10)
	for i := range 12 {
		l.Slog().Info("filler", "i", i, "data", filler)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 12*100<<10 {
		t.Errorf("%s is %d bytes, want every record in it", file, fi.Size())
	}
	if b := backups(t, file); len(b) != 0 {
		t.Errorf("backups %v, want none", b)
	}
}

// TestReconfigureReopens checks that a reload follows a file moved away, as
// logrotate's copy-less rotation does before it sends SIGHUP.
func TestReconfigureReopens(t *testing.T) {
	for _, o := range []Options{
		{MaxBytes: 1 << 20, BackupCount: 3},
		{MaxBytes: 0},
	} {
		t.Run(fmt.Sprintf("rotates=%v", o.rotates()), func(t *testing.T) {
			dir := t.TempDir()
			o.File = filepath.Join(dir, "cgmon.log")
			l, _ := newLogger(t, o)
			l.Slog().Info("before")
			moved := filepath.Join(dir, "cgmon.log.1")
			if err := os.Rename(o.File, moved); err != nil {
				t.Fatal(err)
			}
			if err := l.Reconfigure(o); err != nil {
				t.Fatalf("Reconfigure: %v", err)
			}
			l.Slog().Info("after")
			for file, want := range map[string]string{moved: "msg=before", o.File: "msg=after"} {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], want) {
					t.Errorf("%s holds %q, want one line with %q", file, b, want)
				}
			}
		})
	}
}

func TestCloseFallsBackToStderr(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cgmon.log")
	l, buf := newLogger(t, Options{File: file, MaxBytes: 1 << 20, BackupCount: 1})
	l.Slog().Info("in the file")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	l.Slog().Info("after close")
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "after close") || !strings.Contains(buf.String(), "after close") {
		t.Errorf("file:\n%s\nstderr:\n%s", b, buf)
	}
}

// TestConcurrentReload logs from several goroutines while reloads switch
// format and file, and checks that no record is lost or torn.
func TestConcurrentReload(t *testing.T) {
	dir := t.TempDir()
	l, buf := newLogger(t, Options{})
	const workers, each = 4, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			log := l.Slog().With("worker", w)
			for i := range each {
				log.Info("tick", "i", i)
			}
		})
	}
	var files []string
	for i := range 20 {
		o := Options{Format: []string{"text", "json"}[i%2]}
		if i%3 != 0 {
			o.File = filepath.Join(dir, fmt.Sprintf("f%d.log", i%4))
			o.MaxBytes, o.BackupCount = 1<<20, 1
			files = append(files, o.File)
		}
		if err := l.Reconfigure(o); err != nil {
			t.Fatalf("Reconfigure: %v", err)
		}
	}
	wg.Wait()
	all := buf.String()
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all += string(b)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(all), "\n") {
		if !strings.HasSuffix(line, "}") && !strings.Contains(line, " msg=tick ") {
			t.Errorf("torn line %q", line)
		}
		n++
	}
	if n != workers*each {
		t.Errorf("%d lines, want %d", n, workers*each)
	}
}
