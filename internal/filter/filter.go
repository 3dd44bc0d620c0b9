// Package filter decides which cgroups an output shows, with cgtop_mon's
// semantics: a base group (a cgroup and its subgroups), and include and
// exclude lists of patterns matched against the final name only, where "*"
// matches any run of characters and an exclude match always wins.
package filter

import (
	"github.com/cgmon/cgmon/internal/model"

	"fmt"
	"strings"
)

// Filter selects cgroups. The zero Filter selects every cgroup.
type Filter struct {
	group   string // "" or a clean absolute path
	include []string
	exclude []string
}

// New builds a Filter. group may be given with or without its leading slash
// ("system.slice" or "/system.slice"); "" or "/" mean every cgroup.
func New(group string, include, exclude []string) (Filter, error) {
	f := Filter{}
	g := strings.TrimSpace(group)
	if g != "" && g != "/" {
		g = "/" + strings.Trim(g, "/")
		if strings.Contains(g, "//") || strings.Contains(g, "/../") || strings.HasSuffix(g, "/..") || strings.IndexByte(g, 0) >= 0 {
			return Filter{}, fmt.Errorf("group %q: not a cgroup path", group)
		}
		f.group = g
	}
	var err error
	if f.include, err = clean("include", include); err != nil {
		return Filter{}, err
	}
	if f.exclude, err = clean("exclude", exclude); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// Split splits a comma-separated pattern list, as CGTOP_MON_WHITELIST is
// written, dropping empty items and surrounding blanks.
func Split(list string) []string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func clean(what string, patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.Contains(p, "/") {
			return nil, fmt.Errorf("%s pattern %q: patterns match the final cgroup name only and cannot contain '/'", what, p)
		}
		out = append(out, p)
	}
	return out, nil
}

// Match reports whether a cgroup is selected. path is the cgroup path and
// name its final element.
func (f Filter) Match(path, name string) bool {
	if f.group != "" && path != f.group && !strings.HasPrefix(path, f.group+"/") {
		return false
	}
	for _, p := range f.exclude {
		if Glob(p, name) {
			return false
		}
	}
	if len(f.include) == 0 {
		return true
	}
	for _, p := range f.include {
		if Glob(p, name) {
			return true
		}
	}
	return false
}

// IsZero reports whether the filter selects everything.
func (f Filter) IsZero() bool {
	return f.group == "" && len(f.include) == 0 && len(f.exclude) == 0
}

// Glob matches name against a pattern in which "*" matches any run of
// characters (also none) and every other character matches itself.
func Glob(pattern, name string) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, no recursion, no allocation.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Apply returns the snapshot with only the selected cgroups. The snapshot is
// not changed; when everything is selected it is returned as it is.
func (f Filter) Apply(s *model.Snapshot) *model.Snapshot {
	if f.IsZero() {
		return s
	}
	out := *s
	out.Cgroups = make([]model.Cgroup, 0, len(s.Cgroups))
	for i := range s.Cgroups {
		if f.Match(s.Cgroups[i].Path, s.Cgroups[i].Name) {
			out.Cgroups = append(out.Cgroups, s.Cgroups[i])
		}
	}
	return &out
}
