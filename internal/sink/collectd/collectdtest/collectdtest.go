// Package collectdtest starts a real collectd (Debian's collectd-core) for
// tests: in the foreground, as a child of the test, with the network plugin
// listening on loopback and the csv plugin writing every value it receives
// under a temporary directory. Only tests import it.
package collectdtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testsvc"
)

// Listen is one <Listen> block of the network plugin.
type Listen struct {
	// Port is filled by Start with a free UDP port.
	Port int
	// SecurityLevel is None, Sign or Encrypt (collectd's spelling).
	SecurityLevel string
	// Users are the AuthFile's user: password lines.
	Users map[string]string
}

// Config is what the collectd under test does.
type Config struct {
	// Hostname is collectd's own host name (COLLECTD_HOSTNAME of exec
	// children).
	Hostname string
	Listens  []*Listen
	// Exec are Exec lines of the exec plugin: user, program, arguments.
	Exec [][]string
}

// Server is a running collectd.
type Server struct {
	Proc *testsvc.Process
	// CSVDir is the csv plugin's DataDir: CSVDir/HOST/PLUGIN-INSTANCE/TYPE-DATE.
	CSVDir string
}

// TypesDB is the repository's types.db.libpodstats.
func TypesDB(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("collectdtest: no caller")
	}
	p := filepath.Join(filepath.Dir(file), "../../../../packaging/collectd/types.db.libpodstats")
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Start writes a configuration, starts collectd in the foreground and waits
// until it has loaded its plugins. It skips the test without collectd.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin := testsvc.LookPath(t, "collectd", "collectd-core")
	dir := t.TempDir()
	s := &Server{CSVDir: filepath.Join(dir, "csv")}
	var b strings.Builder
	fmt.Fprintf(&b, "Hostname %q\nFQDNLookup false\nInterval 1\nBaseDir %q\nPIDFile %q\n", cfg.Hostname, dir, dir+"/collectd.pid")
	fmt.Fprintf(&b, "TypesDB \"/usr/share/collectd/types.db\" %q\n", TypesDB(t))
	b.WriteString("LoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  File STDOUT\n  Timestamp false\n</Plugin>\n")
	fmt.Fprintf(&b, "LoadPlugin csv\n<Plugin csv>\n  DataDir %q\n  StoreRates false\n</Plugin>\n", s.CSVDir)
	if len(cfg.Listens) > 0 {
		b.WriteString("LoadPlugin network\n<Plugin network>\n")
		for i, l := range cfg.Listens {
			l.Port = testsvc.FreeUDPPort(t)
			fmt.Fprintf(&b, "  <Listen \"127.0.0.1\" \"%d\">\n    SecurityLevel %s\n", l.Port, l.SecurityLevel)
			if len(l.Users) > 0 {
				auth := filepath.Join(dir, "auth"+strconv.Itoa(i))
				var a strings.Builder
				for u, p := range l.Users {
					fmt.Fprintf(&a, "%s: %s\n", u, p)
				}
				if err := os.WriteFile(auth, []byte(a.String()), 0o600); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "    AuthFile %q\n", auth)
			}
			b.WriteString("  </Listen>\n")
		}
		b.WriteString("</Plugin>\n")
	}
	if len(cfg.Exec) > 0 {
		b.WriteString("LoadPlugin exec\n<Plugin exec>\n")
		for _, e := range cfg.Exec {
			b.WriteString("  Exec")
			for _, a := range e {
				fmt.Fprintf(&b, " %q", a)
			}
			b.WriteString("\n")
		}
		b.WriteString("</Plugin>\n")
	}
	conf := filepath.Join(dir, "collectd.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := testsvc.RunErr(10*time.Second, bin, "-t", "-C", conf); err != nil {
		t.Fatalf("collectdtest: collectd -t: %v\n%s\n%s", err, out, b.String())
	}
	s.Proc = testsvc.Start(t, "collectd", bin, "-f", "-C", conf)
	s.Proc.WaitFor(t, 15*time.Second, func() error {
		if strings.Contains(s.Proc.Output(), "Initialization complete") {
			return nil
		}
		return fmt.Errorf("no \"Initialization complete\" in the log yet")
	})
	return s
}

// Row is one line of a csv file: the epoch and the values.
type Row struct {
	Time   float64
	Values []float64
}

// Rows reads every csv file of host/plugin-instance/type (one per day)
// and returns its rows in order. A file not written yet gives no rows.
func (s *Server) Rows(t testing.TB, host, pluginInstance, typ string) []Row {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.CSVDir, host, pluginInstance, typ+"-*"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ",")
			if len(fields) < 2 || fields[0] == "epoch" {
				continue
			}
			var r Row
			vs := make([]float64, len(fields))
			for i, f := range fields {
				v, err := strconv.ParseFloat(f, 64)
				if err != nil {
					fh.Close()
					t.Fatalf("collectdtest: %s: %q: %v", fh.Name(), sc.Text(), err)
				}
				vs[i] = v
			}
			r.Time, r.Values = vs[0], vs[1:]
			rows = append(rows, r)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

// WaitRows waits until host/plugin-instance/type has at least n rows and
// returns them; it fails the test with collectd's log after timeout.
func (s *Server) WaitRows(t testing.TB, timeout time.Duration, n int, host, pluginInstance, typ string) []Row {
	t.Helper()
	var rows []Row
	s.Proc.WaitFor(t, timeout, func() error {
		rows = s.Rows(t, host, pluginInstance, typ)
		if len(rows) >= n {
			return nil
		}
		return fmt.Errorf("%d rows of %s/%s/%s, want %d (csv dir %s)", len(rows), host, pluginInstance, typ, n, s.CSVDir)
	})
	return rows
}
