package config

import (
	"os"
	"strings"
	"testing"
)

// addSeeds adds example files.
func addSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzLoadYAML feeds any bytes to the file loader (detection, YAML,
// LXC Monitor's format, environment files) and Validate: it must never
// panic, and what it accepts must print and read back.
func FuzzLoadYAML(f *testing.F) {
	// Small seeds only: the fuzzer minimizes every new input, which takes
	// its whole time on a file of kilobytes such as packaging/cgmon.yaml.
	addSeeds(f, "testdata/lxc_monitor.yaml", "testdata/cgtop_mon.conf")
	f.Add([]byte("interval: 5s\nlogging: {log_level: debug}\ninfluxdb:\n  enabled: yes\n  database: db\n  filter: {include: [a, b]}\nhosts: [root@db1, {address: db2, trust_on_first_use: true}]\n"))
	f.Add([]byte("a: &a [x, *a]\nhosts: [*a]\n"))
	f.Add([]byte("hosts:\n  - <<: [{address: x}, {name: y}]\n    timeout: 5\n"))
	f.Add([]byte("interval: !!binary aGVsbG8=\nlisten_public: ~\n"))
	f.Add([]byte("monitoring:\n  parallel_processing: false\n  max_workers: 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := &loader{origins: map[string]string{}}
		c := Defaults()
		vars := l.file(&c, "fuzz.yaml", data)
		l.environment(&c, vars, nil)
		if len(l.errs) > 0 || c.Validate() != nil {
			return
		}
		out, err := marshalYAML(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back := Defaults()
		l2 := &loader{origins: map[string]string{}}
		l2.yaml(&back, "back.yaml", out)
		if len(l2.errs) > 0 || len(l2.warns) > 0 {
			t.Fatalf("reading back %q: %v %v", out, l2.errs, l2.warns)
		}
	})
}

// FuzzEnvFile feeds any text to the environment-file parser and the
// CGTOP_MON_*/CGMON_* mapping.
func FuzzEnvFile(f *testing.F) {
	addSeeds(f, "testdata/cgtop_mon.conf")
	f.Add([]byte("export CGMON_HOSTS=\"a@b, [::1]:22\"\nCGTOP_MON_INFLUXDB_HOST='[fe80::1%eth0]'\n"))
	f.Add([]byte("CGMON_INTERVAL=\"\\n\\\\\"\nCGTOP_MON_DELAY=1e9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := parseEnvFile("fuzz.env", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.env:") {
				t.Fatalf("error without the file and line: %v", err)
			}
			return
		}
		l := &loader{origins: map[string]string{}}
		c := Defaults()
		l.environment(&c, vars, nil)
		_ = c.Validate()
	})
}
