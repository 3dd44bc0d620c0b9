package filter

import (
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"demo.service", "demo.service", true},
		{"demo.service", "demo.services", false},
		{"*.service", "sshd.service", true},
		{"*.service", "sshd.scope", false},
		{"db-*", "db-1", true},
		{"db-*", "db-", true},
		{"db-*", "xdb-1", false},
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a*", "banana", true},
		{"?", "a", false}, // only * is special: ? is a literal
		{"[ab]", "a", false},
		{"**", "x", true},
		{"*.slice", "user-1000.slice", true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestFilterMatchesCgtopMonSemantics(t *testing.T) {
	type row struct {
		path string
		want bool
	}
	tests := []struct {
		name             string
		group            string
		include, exclude []string
		rows             []row
	}{
		{
			name: "empty filter accepts all",
			rows: []row{{"/", true}, {"/system.slice/sshd.service", true}},
		},
		{
			name:  "group without slash selects it and its subgroups",
			group: "system.slice",
			rows: []row{
				{"/system.slice", true}, {"/system.slice/sshd.service", true},
				{"/system.slice-other", false}, {"/user.slice", false}, {"/", false},
			},
		},
		{
			name:    "whitelist set: name must match",
			include: []string{"*.service"},
			rows:    []row{{"/system.slice/sshd.service", true}, {"/system.slice", false}},
		},
		{
			name:    "blacklist wins over whitelist",
			include: []string{"*.service"},
			exclude: []string{"sshd.service"},
			rows:    []row{{"/system.slice/sshd.service", false}, {"/system.slice/cron.service", true}},
		},
		{
			name:    "patterns match the final name, not the path",
			exclude: []string{"system.slice"},
			rows:    []row{{"/system.slice", false}, {"/system.slice/sshd.service", true}},
		},
		{
			name:    "seed example",
			group:   "system.slice",
			include: Split("*.service"),
			exclude: Split("*.scope"),
			rows: []row{
				{"/system.slice/demo.service", true},
				{"/system.slice/docker-abc.scope", false},
				{"/user.slice/x.service", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.group, tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.rows {
				name := r.path[strings.LastIndexByte(r.path, '/')+1:]
				if got := f.Match(r.path, name); got != r.want {
					t.Errorf("Match(%q) = %v, want %v", r.path, got, r.want)
				}
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		group   string
		include []string
	}{
		{group: "a//b"},
		{group: "/a/../b"},
		{group: "a\x00"},
		{include: []string{"system.slice/x"}},
	} {
		if _, err := New(tc.group, tc.include, nil); err == nil {
			t.Errorf("New(%q, %q) = nil error", tc.group, tc.include)
		}
	}
}

func TestSplit(t *testing.T) {
	got := Split(" a.service, ,*.scope ,")
	if len(got) != 2 || got[0] != "a.service" || got[1] != "*.scope" {
		t.Fatalf("Split = %q", got)
	}
}

func FuzzGlob(f *testing.F) {
	f.Add("*.service", "sshd.service")
	f.Add("a*b*c*d", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := Glob(pattern, name)
		if !strings.Contains(pattern, "*") && got != (pattern == name) {
			t.Fatalf("Glob(%q, %q) = %v without a star", pattern, name, got)
		}
		if pattern == "*" && !got {
			t.Fatal("* did not match")
		}
	})
}
