package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cleanConfigEnv unsets every CGMON_* (but CGMON_TEST_*) and CGTOP_MON_*
// variable for the test, restoring them after it.
func cleanConfigEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(name, "CGMON_") && !strings.HasPrefix(name, "CGMON_TEST_")) || strings.HasPrefix(name, "CGTOP_MON_") {
			t.Setenv(name, "") // registers the restore
			os.Unsetenv(name)
		}
	}
}

func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheckMasksSecrets(t *testing.T) {
	cleanConfigEnv(t)
	path := writeConfig(t, "cgmon.yaml", `interval: 10s
influxdb:
  enabled: true
  url: http://admin:urlsecret@influx.example.org:8086
  database: systemd
  password: filepassword
collectd:
  password: collectdsecret
`)
	t.Setenv("CGMON_INFLUXDB_USERNAME", "cgmon")
	t.Setenv("CGMON_INFLUXDB_PASSWORD", "envpassword") // wins over the file's
	for _, args := range [][]string{
		{"config", "check", "--config", path},
		{"config", "check"}, // the file from CGMON_CONFIG
	} {
		if len(args) == 2 {
			t.Setenv("CGMON_CONFIG", path)
		}
		out, stderr, err := runPsCmd(t, args...)
		if err != nil {
			t.Fatalf("cgmon %q: %v (%s)", args, err, stderr)
		}
		if stderr != "" {
			t.Errorf("cgmon %q wrote to stderr: %s", args, stderr)
		}
		for _, secret := range []string{"urlsecret", "filepassword", "envpassword", "collectdsecret"} {
			if strings.Contains(out+stderr, secret) {
				t.Errorf("cgmon %q shows the secret %s:\n%s", args, secret, out)
			}
		}
		for _, want := range []string{"interval: 10s\n", "  username: cgmon\n", "  password: '********'\n", "  database: systemd\n", "# cgmon's effective configuration (" + path} {
			if !strings.Contains(out, want) {
				t.Errorf("cgmon %q: output has no %q:\n%s", args, want, out)
			}
		}
	}
}

func TestConfigCheckErrors(t *testing.T) {
	cleanConfigEnv(t)
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		want       []string
	}{
		{"wrong type", "interval: 5s\nlogging:\n  log_level: info\ncontainers:\n  workers: many\n", nil,
			[]string{"cgmon.yaml:5: containers.workers: cannot use \"many\" as an integer"}},
		{"invalid value", "rootfs: /\ninterval: 1ms\n", nil,
			[]string{"cgmon.yaml:2: interval: 1ms: must be at least 100ms"}},
		{"bad variable", "interval: 5s\n", map[string]string{"CGTOP_MON_INFLUXDB_SSL": "maybe", "CGTOP_MON_INFLUXDB_HOST": "influx"},
			[]string{"environment: CGTOP_MON_INFLUXDB_SSL: cannot use \"maybe\" as a boolean"}},
		{"missing file", "", nil, []string{"no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			path := filepath.Join(t.TempDir(), "nothing.yaml")
			if tc.file != "" {
				path = writeConfig(t, "cgmon.yaml", tc.file)
			}
			out, _, err := runPsCmd(t, "config", "check", "--config", path)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not a usage error (exit 2)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if out != "" {
				t.Errorf("printed a configuration despite the error:\n%s", out)
			}
		})
	}
}

func TestConfigCheckWarns(t *testing.T) {
	cleanConfigEnv(t)
	path := writeConfig(t, "cgmon.yaml", "interval: 5s\nintervall: 6s\n")
	t.Setenv("CGMON_LISTEN_PUBLC", "yes")
	out, stderr, err := runPsCmd(t, "config", "check", "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cgmon: warning: " + path + ":2: unknown key intervall\n", "cgmon: warning: environment: unknown variable CGMON_LISTEN_PUBLC\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q has no %q", stderr, want)
		}
	}
	if !strings.Contains(out, "interval: 5s\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestConfigUnknownSubcommand(t *testing.T) {
	_, _, err := runPsCmd(t, "config", "chek")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "chek") {
		t.Errorf("cgmon config chek: %v, want a usage error naming chek", err)
	}
}

func TestConfigKeys(t *testing.T) {
	out, _, err := runPsCmd(t, "config", "keys")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"KEY", "CGMON_INTERVAL", "5s", "influxdb.password", "string (secret)", "hosts[].name"} {
		if !strings.Contains(out, want) {
			t.Errorf("cgmon config keys has no %q:\n%s", want, out)
		}
	}
}
