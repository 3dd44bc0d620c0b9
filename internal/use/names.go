package use

import "strings"

// DefaultBase is the first part of every hierarchical name, as kpack_linux's
// "pkg.kpack_linux".
const DefaultBase = "cgmon"

// FullName is the hierarchical name of a check, kpack_linux's URI idea:
// <base>.<hostname>.<check name>, e.g.
// "cgmon.db1.resources.cpu.utilization". The hostname's dots become "_"
// so that every host's names have the same depth ("db1.example.com" is
// "db1_example_com"); any character outside [0-9A-Za-z._-] in base,
// hostname or name becomes "_", and empty parts are left out.
func FullName(base, hostname, name string) string {
	var b strings.Builder
	for _, part := range []string{sanitize(base, true), sanitize(hostname, false), sanitize(name, true)} {
		part = strings.Trim(part, ".")
		if part == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

// Segment turns a subject (a device, an interface, a mount point, a cgroup
// path) into one name segment: no dots, nothing outside [0-9A-Za-z_-],
// "/" alone is "root", leading and trailing "/" dropped.
func Segment(s string) string {
	if s == "/" {
		return "root"
	}
	s = strings.Trim(s, "/")
	if s == "" {
		return "_"
	}
	return sanitize(s, false)
}

func sanitize(s string, keepDots bool) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == '.' && keepDots
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}
