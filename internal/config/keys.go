package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key describes one configuration key, for documentation and for the
// CGMON_* variables, which are derived from the yaml tags so that a new
// field of Config gets its variable without anyone writing it down.
type Key struct {
	// Path is the key in the native file: "influxdb.filter.include"; the
	// fields of an entry of hosts: are "hosts[].name".
	Path string
	// Env is the CGMON_* variable; empty for hosts[].* (CGMON_HOSTS holds
	// addresses only).
	Env string
	// Type is duration, bool, int, string, list (of strings) or hosts.
	Type string
	// Default is the default value as it would be written in the
	// environment: durations as 5s or 1h, lists comma-separated.
	Default string
	// Secret keys are masked in every output.
	Secret bool
	// Doc says what the key means, with its unit.
	Doc string
}

// envPrefix starts every native variable.
const envPrefix = "CGMON_"

var (
	durationType = reflect.TypeFor[time.Duration]()
	hostType     = reflect.TypeFor[Host]()
)

// Keys lists every key of Config in the order of the struct.
func Keys() []Key {
	var keys []Key
	walkKeys(reflect.ValueOf(Defaults()), "", func(path string, v reflect.Value) {
		k := Key{Path: path, Type: typeName(v.Type()), Secret: slices.Contains(Secrets, path), Doc: keyDocs[path]}
		if !strings.Contains(path, "[]") {
			k.Env = envName(path)
			k.Default = formatText(v)
		}
		keys = append(keys, k)
	})
	return keys
}

// walkKeys calls fn for every leaf of the struct v, hosts: included as a
// leaf of its own and then its fields under "hosts[]".
func walkKeys(v reflect.Value, prefix string, fn func(path string, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		tag := yamlName(t.Field(i))
		if tag == "" {
			continue
		}
		path := joinPath(prefix, tag)
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			walkKeys(f, path, fn)
		case f.Kind() == reflect.Slice && f.Type().Elem() == hostType:
			fn(path, f)
			walkKeys(reflect.New(hostType).Elem(), path+"[]", fn)
		default:
			fn(path, f)
		}
	}
}

// yamlName is the key of a struct field: its yaml tag's name.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// envName is the CGMON_* variable of a key path.
func envName(path string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// fieldByPath returns the field of the struct c (addressable) at a key
// path without [] parts.
func fieldByPath(c reflect.Value, path string) (reflect.Value, bool) {
	v := c
	for name := range strings.SplitSeq(path, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		found := false
		for i := range v.NumField() {
			if yamlName(v.Type().Field(i)) == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "int"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list"
	case t.Kind() == reflect.Slice && t.Elem() == hostType:
		return "hosts"
	}
	panic("config: no text form for a field of type " + t.String()) // a new field type must be taught here
}

// formatText writes a value as the environment and the documentation
// write it.
func formatText(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return formatDuration(time.Duration(v.Int()))
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return formatText(v.Elem())
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case v.Kind() == reflect.String:
		return v.String()
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		return strings.Join(v.Interface().([]string), ",")
	case v.Kind() == reflect.Slice && v.Type().Elem() == hostType:
		var addrs []string
		for _, h := range v.Interface().([]Host) {
			addrs = append(addrs, h.Address)
		}
		return strings.Join(addrs, ",")
	}
	panic("config: no text form for a field of type " + v.Type().String())
}

// formatDuration is time.Duration.String without the zero tails: 1h, not
// 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// setText sets the scalar field v from its text form, the same in the
// YAML file and the environment. The error says what was expected.
func setText(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		if err := setText(e.Elem(), s); err != nil {
			return err
		}
		v.Set(e)
	case v.Kind() == reflect.Bool:
		b, err := parseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			if errors, ok := err.(*strconv.NumError); ok && errors.Err == strconv.ErrRange {
				return fmt.Errorf("%q is out of range for an integer", s)
			}
			return fmt.Errorf("cannot use %q as an integer", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf(splitList(s)))
	case v.Kind() == reflect.Slice && v.Type().Elem() == hostType:
		var hosts []Host
		for _, a := range splitList(s) {
			hosts = append(hosts, Host{Address: a})
		}
		v.Set(reflect.ValueOf(hosts))
	default:
		panic("config: no text form for a field of type " + v.Type().String())
	}
	return nil
}

// splitList splits a comma-separated list, dropping blanks: "a, b," is
// [a b]; "" is the empty list.
func splitList(s string) []string {
	out := []string{}
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseBool takes cgtop_mon's words, case-insensitive: yes, on, true, 1
// are true; no, off, false, 0 and the empty string are false. Anything
// else is an error rather than false, so a typo does not turn a feature
// off.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "on", "true", "1":
		return true, nil
	case "no", "off", "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("cannot use %q as a boolean: want yes, on, true, 1 or no, off, false, 0", s)
}

// parseDuration takes a Go duration ("5s", "1m30s", "1h") or a bare
// number, which is seconds ("60", "0.5"): LXC Monitor's check_interval and
// cgtop_mon's DELAY are seconds, and their users think in seconds.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil && t != "" && !strings.ContainsAny(t, "xXpPnN_") {
		ns := f * float64(time.Second)
		if ns >= math.MaxInt64 || ns <= math.MinInt64 {
			return 0, fmt.Errorf("%q seconds is out of range for a duration", s)
		}
		return time.Duration(math.Round(ns)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("cannot use %q as a duration: want a number of seconds or a Go duration such as 5s, 1m30s, 1h", s)
	}
	return d, nil
}
