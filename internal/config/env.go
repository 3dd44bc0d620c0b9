package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// cgtopPrefix starts cgtop_mon's variables.
const cgtopPrefix = "CGTOP_MON_"

// envVar is one variable with where it was set.
type envVar struct {
	Name, Value string
	Source      string
	Line        int // 0: the environment
}

// origin is where the variable was set, for messages.
func (v envVar) origin() string {
	return fmt.Sprintf("%s (%s)", where(v.Source, v.Line), v.Name)
}

func (v envVar) fail(l *loader, err error) { l.fail(v.Source, v.Line, v.Name, err) }

// parseEnvFile reads an environment file as systemd's EnvironmentFile=
// does, which is how cgtop_mon's /etc/cgtop_mon.conf is used: NAME=value
// lines, blank lines and lines starting with # or ; ignored, an optional
// "export ", the value trimmed and optionally quoted ('…' literally, "…"
// with \\ \" \$ \` and \n escapes). A # after the value is part of it, as
// for systemd.
func parseEnvFile(path string, data []byte) ([]envVar, error) {
	var vars []envVar
	n := 0
	for raw := range bytes.Lines(data) {
		n++
		s := strings.TrimSpace(string(raw))
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			s = strings.TrimLeft(rest, " \t")
		}
		name, value, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		if !ok || !validEnvName(name) {
			return nil, &Error{Source: path, Line: n, Err: fmt.Errorf("want NAME=value, not %q", s)}
		}
		value, err := unquote(strings.TrimSpace(value))
		if err != nil {
			return nil, &Error{Source: path, Line: n, Key: name, Err: err}
		}
		vars = append(vars, envVar{Name: name, Value: value, Source: path, Line: n})
	}
	return vars, nil
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_'
	})
}

// unquote removes one pair of quotes around a whole value.
func unquote(s string) (string, error) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return s, nil
	}
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			if i != len(s)-1 {
				return "", fmt.Errorf("text after the closing quote: %q", s[i+1:])
			}
			return b.String(), nil
		case c == '\\' && q == '"' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"', '$', '`':
				b.WriteByte(s[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("no closing %c quote", q)
}

// environment applies the variables of an environment file and then of
// the process environment, which override the file's one by one: first
// all CGTOP_MON_* (as one set, since several of them make one key), then
// CGMON_*, so that a native variable wins over cgtop_mon's.
func (l *loader) environment(c *Config, fileVars []envVar, env []string) {
	vars := map[string]envVar{}
	for _, v := range fileVars {
		switch {
		case !utf8.ValidString(v.Value):
			v.fail(l, errNotUTF8)
		case v.Name == envPrefix+"CONFIG":
			l.warn(v.Source, v.Line, "CGMON_CONFIG in a configuration file has no effect")
		case strings.HasPrefix(v.Name, envPrefix), strings.HasPrefix(v.Name, cgtopPrefix):
			vars[v.Name] = v
		default:
			l.warn(v.Source, v.Line, "unknown variable %s (want CGMON_* or CGTOP_MON_*)", v.Name)
		}
	}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) && !strings.HasPrefix(name, cgtopPrefix) {
			continue
		}
		v := envVar{Name: name, Value: value, Source: envSource}
		if !utf8.ValidString(value) {
			v.fail(l, errNotUTF8)
			delete(vars, name)
			continue
		}
		vars[name] = v
	}
	l.cgtopMon(c, vars)
	l.cgmon(c, vars)
}

// errNotUTF8 keeps bytes that are not text out of the configuration,
// which is printed as YAML and sent to servers.
var errNotUTF8 = errors.New("the value is not UTF-8 text")

// cgmonIgnored are CGMON_* variables that are not keys: the file's name
// and the test suite's.
func cgmonIgnored(name string) bool {
	return name == envPrefix+"CONFIG" || strings.HasPrefix(name, envPrefix+"TEST_")
}

// cgmon applies the CGMON_* variables, one per key, derived from the
// yaml tags (Keys). Lists are comma-separated, booleans take cgtop_mon's
// words, durations a number of seconds or a Go duration; an empty value
// is the empty string or list, or false.
func (l *loader) cgmon(c *Config, vars map[string]envVar) {
	known := map[string]bool{}
	cv := reflect.ValueOf(c).Elem()
	for _, k := range Keys() {
		if k.Env == "" {
			continue
		}
		known[k.Env] = true
		v, ok := vars[k.Env]
		if !ok {
			continue
		}
		f, _ := fieldByPath(cv, k.Path)
		if err := setText(f, v.Value); err != nil {
			v.fail(l, err)
			continue
		}
		if k.Type == "hosts" {
			for i := range c.Hosts {
				l.origins[fmt.Sprintf("hosts[%d].address", i)] = v.origin()
			}
		}
		l.origins[k.Path] = v.origin()
	}
	for _, name := range sortedNames(vars) {
		if v := vars[name]; strings.HasPrefix(name, envPrefix) && !known[name] && !cgmonIgnored(name) {
			l.warn(v.Source, v.Line, "unknown variable %s", name)
		}
	}
}

// cgtopVars are cgtop_mon's variables without the prefix.
var cgtopVars = []string{
	"INFLUXDB_HOST", "INFLUXDB_PORT", "INFLUXDB_USER", "INFLUXDB_PASSWORD", "INFLUXDB_DATABASE",
	"INFLUXDB_SSL", "INFLUXDB_VERIFY_SSL",
	"DELAY", "GROUP", "BLACKLIST", "WHITELIST", "SEND_BUFSIZE", "MAX_PENDING_POINTS", "HOSTNAME",
}

// cgtopMon maps cgtop_mon's variables (seeds/cgtop_mon.md) onto the
// configuration. A variable with an empty value counts as unset, so that
// a template with empty lines changes nothing.
func (l *loader) cgtopMon(c *Config, vars map[string]envVar) {
	get := func(name string) (envVar, bool) {
		v, ok := vars[cgtopPrefix+name]
		return v, ok && strings.TrimSpace(v.Value) != ""
	}
	for _, name := range sortedNames(vars) {
		if short, ok := strings.CutPrefix(name, cgtopPrefix); ok && !slices.Contains(cgtopVars, short) {
			v := vars[name]
			l.warn(v.Source, v.Line, "unknown variable %s", name)
		}
	}
	set := func(path string, v envVar, apply func(string) error) {
		if err := apply(strings.TrimSpace(v.Value)); err != nil {
			v.fail(l, err)
			return
		}
		l.origins[path] = v.origin()
	}
	str := func(p *string) func(string) error { return func(s string) error { *p = s; return nil } }
	num := func(p *int) func(string) error {
		return func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("cannot use %q as an integer", s)
			}
			*p = n
			return nil
		}
	}
	in := &c.InfluxDB

	// Any INFLUXDB_* turns the output on, in cgtop_mon's form; the host
	// is then required.
	var first *envVar
	for _, name := range cgtopVars {
		if v, ok := get(name); ok && strings.HasPrefix(name, "INFLUXDB_") {
			first = &v
			break
		}
	}
	if first != nil {
		host, ok := get("INFLUXDB_HOST")
		if !ok {
			l.fail(first.Source, first.Line, cgtopPrefix+"INFLUXDB_HOST", fmt.Errorf("required when %s is set", first.Name))
		} else {
			l.cgtopURL(c, host, get)
		}
	}
	if v, ok := get("INFLUXDB_USER"); ok {
		set("influxdb.username", v, str(&in.Username))
	}
	if v, ok := get("INFLUXDB_PASSWORD"); ok {
		set("influxdb.password", v, func(s string) error { in.Password = v.Value; return nil }) // not trimmed: a password may end in a space
	}
	if v, ok := get("INFLUXDB_DATABASE"); ok {
		set("influxdb.database", v, str(&in.Database))
	}
	if v, ok := get("DELAY"); ok {
		set("interval", v, func(s string) error {
			d, err := parseDuration(s)
			c.Interval = d
			return err
		})
	}
	if v, ok := get("GROUP"); ok {
		set("influxdb.filter.group", v, str(&in.Filter.Group))
	}
	if v, ok := get("BLACKLIST"); ok {
		set("influxdb.filter.exclude", v, func(s string) error { in.Filter.Exclude = splitList(s); return nil })
	}
	if v, ok := get("WHITELIST"); ok {
		set("influxdb.filter.include", v, func(s string) error { in.Filter.Include = splitList(s); return nil })
	}
	if v, ok := get("SEND_BUFSIZE"); ok {
		set("influxdb.batch_size", v, num(&in.BatchSize))
	}
	if v, ok := get("MAX_PENDING_POINTS"); ok {
		set("influxdb.max_pending_points", v, num(&in.MaxPendingPoints))
	}
	if v, ok := get("HOSTNAME"); ok {
		set("influxdb.measurement", v, str(&in.Measurement))
	}
}

// cgtopURL builds influxdb.url from HOST, PORT and SSL, and turns the
// output on with cgtop_mon's schema and API.
func (l *loader) cgtopURL(c *Config, hostVar envVar, get func(string) (envVar, bool)) {
	in := &c.InfluxDB
	ok := true
	host := strings.TrimSpace(hostVar.Value)
	if h, found := strings.CutPrefix(host, "["); found {
		host = strings.TrimSuffix(h, "]")
	}
	if host == "" || strings.ContainsAny(host, "/?#@[] \t") {
		hostVar.fail(l, fmt.Errorf("%q: want a host name or an IP address (not a URL)", hostVar.Value))
		ok = false
	}
	port := "8086"
	if v, set := get("INFLUXDB_PORT"); set {
		port = strings.TrimSpace(v.Value)
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.fail(l, fmt.Errorf("%q: want a port number, 1 to 65535", v.Value))
			ok = false
		}
	}
	ssl := false
	if v, set := get("INFLUXDB_SSL"); set {
		b, err := parseBool(v.Value)
		if err != nil {
			v.fail(l, err)
			ok = false
		}
		ssl = b
	}
	verify := ssl // cgtop_mon: false when SSL is off, otherwise true
	verifyOrigin := hostVar.origin()
	if v, set := get("INFLUXDB_VERIFY_SSL"); set {
		b, err := parseBool(v.Value)
		if err != nil {
			v.fail(l, err)
			ok = false
		}
		verify, verifyOrigin = b, v.origin()
	}
	if !ok {
		return
	}
	scheme := "http"
	if ssl {
		scheme = "https"
	}
	in.Enabled = true
	in.URL = scheme + "://" + net.JoinHostPort(host, port)
	in.API = "v1"
	in.Schema = "cgtop"
	in.TLSVerify = verify
	for _, k := range []string{"influxdb.enabled", "influxdb.url", "influxdb.api", "influxdb.schema"} {
		l.origins[k] = hostVar.origin()
	}
	l.origins["influxdb.tls_verify"] = verifyOrigin
}

func sortedNames(vars map[string]envVar) []string {
	return slices.Sorted(maps.Keys(vars))
}
