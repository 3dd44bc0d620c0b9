package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The JSON of `cgmon snapshot` is a public contract, documented field by
// field in README.md ("### JSON"). These tests hold the two together: every
// key the golden outputs carry is documented, every documented key occurs in
// some golden output, and each figure's unit column agrees with its name.

// docRow is one row of a README field table.
type docRow struct {
	keys    []string // the field names of the first cell, braces expanded
	unit    string   // the second cell (per-cgroup table; the type in the top-level one)
	meaning string
}

var backticked = regexp.MustCompile("`([^`]+)`")

// snapshotDoc returns the rows of the two field tables of README.md's
// "### JSON" section of `cgmon snapshot`.
func snapshotDoc(t *testing.T) []docRow {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## `cgmon snapshot`")
	if start < 0 {
		t.Fatal("README.md has no \"## `cgmon snapshot`\" section")
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	js := strings.Index(section, "\n### JSON")
	if js < 0 {
		t.Fatal("README.md's snapshot section has no \"### JSON\"")
	}
	var rows []docRow
	for _, line := range strings.Split(section[js:], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		var r docRow
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			r.keys = append(r.keys, expandBraces(m[1])...)
		}
		r.unit = strings.TrimSpace(cells[2])
		r.meaning = strings.Join(cells[3:], "|")
		rows = append(rows, r)
	}
	if len(rows) < 30 {
		t.Fatalf("found %d documented fields in README.md's JSON section; the table format changed?", len(rows))
	}
	return rows
}

// expandBraces expands the first {a,b} group of s, recursively:
// psi.{cpu,io}.{some,full} is four keys.
func expandBraces(s string) []string {
	i := strings.IndexByte(s, '{')
	j := strings.IndexByte(s, '}')
	if i < 0 || j < i {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[i+1:j], ",") {
		out = append(out, expandBraces(s[:i]+alt+s[j+1:])...)
	}
	return out
}

// goldenKeys returns the keys of every golden snapshot, flattened with dots
// ("cpu.percent", "io.devices[].device"); per-cgroup keys are relative to
// the cgroup object, as the README writes them.
func goldenKeys(t *testing.T) (top, perCgroup map[string]bool) {
	t.Helper()
	top, perCgroup = map[string]bool{}, map[string]bool{}
	files, err := filepath.Glob("testdata/snapshot-*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("golden snapshots: %v, %v", files, err)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(prefix+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(prefix+"[]", x)
			}
		default:
			perCgroup[strings.TrimPrefix(prefix, ".")] = true
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k := range doc {
			top[k] = true
		}
		cgroups, _ := doc["cgroups"].([]any)
		if len(cgroups) == 0 {
			t.Fatalf("%s: no cgroups", f)
		}
		for _, c := range cgroups {
			walk("", c)
		}
	}
	return top, perCgroup
}

func TestSnapshotJSONIsDocumented(t *testing.T) {
	rows := snapshotDoc(t)
	top, perCgroup := goldenKeys(t)

	documented := map[string]*docRow{}
	for i := range rows {
		for _, k := range rows[i].keys {
			documented[k] = &rows[i]
		}
	}
	// A key is documented by its own row, or as a sub-field of a documented
	// object whose row names it in backticks (`avg10` of psi.cpu.some), or,
	// for a device, by the io.* row of the same figure.
	isDocumented := func(key string) bool {
		if documented[key] != nil {
			return true
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return false
		}
		parent, leaf := key[:i], key[i+1:]
		if r := documented[parent]; r != nil {
			if strings.Contains(r.meaning, "`"+leaf+"`") {
				return true
			}
			if parent == "io.devices[]" && documented["io."+leaf] != nil {
				return true
			}
		}
		return false
	}
	var missing []string
	for k := range top {
		if documented[k] == nil {
			missing = append(missing, k)
		}
	}
	for k := range perCgroup {
		if !isDocumented(k) {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	for _, k := range missing {
		t.Errorf("the snapshot JSON has %q, which README.md's JSON section does not document", k)
	}

	// The other way: a documented key the golden outputs never show is
	// either a typo or a figure no fixture exercises.
	for k := range documented {
		if top[k] || perCgroup[k] {
			continue
		}
		prefix := k + "."
		if strings.HasSuffix(k, "[]") {
			prefix = k
		}
		found := false
		for g := range perCgroup {
			if strings.HasPrefix(g, prefix) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md documents %q, which no golden snapshot (cmd/cgmon/testdata) shows", k)
		}
	}
}

// TestSnapshotJSONUnits checks the unit column against what each name says
// it is: _bytes are bytes, _seconds_total seconds, _percent percent, and so
// on, so that a field is never documented with the wrong unit.
func TestSnapshotJSONUnits(t *testing.T) {
	units := []struct{ suffix, unit string }{
		{"_bytes_per_second", "bytes/s"},
		{"_ops_per_second", "ops/s"},
		{"_seconds_total", "s"},
		{"_bytes_total", "bytes"},
		{"_bytes", "bytes"},
		{"percent", "%"},
		{"_ops_total", "count"},
		{"periods_total", "count"},
		{"failcnt_total", "count"},
		{"kills_total", "count"},
		{"events_total", "count"},
		{"_cores", "CPUs"},
	}
	checked := 0
	for _, r := range snapshotDoc(t) {
		for _, k := range r.keys {
			for _, u := range units {
				if strings.HasSuffix(k, u.suffix) {
					checked++
					if r.unit != u.unit {
						t.Errorf("README.md: %s has unit %q, want %q", k, r.unit, u.unit)
					}
					break
				}
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d fields with a unit in their name were found", checked)
	}
	for _, r := range snapshotDoc(t) {
		if slices.Contains(r.keys, "tasks") && r.unit != "count" {
			t.Errorf("README.md: tasks has unit %q, want count", r.unit)
		}
	}
}

// TestSnapshotAbsentIsOmitted holds the golden outputs to the README's rule
// that a figure the kernel does not give is left out, never written as 0:
// a v1 host has no PSI, the v2 root has no memory.current, memory.max or
// pids.current, and an unlimited limit is "max", not a number.
func TestSnapshotAbsentIsOmitted(t *testing.T) {
	load := func(fixture string) []map[string]any {
		t.Helper()
		b, err := os.ReadFile("testdata/snapshot-" + fixture + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Cgroups []map[string]any }
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Cgroups
	}
	for _, fixture := range []string{"v1", "v1-comounted"} {
		for _, c := range load(fixture) {
			if _, ok := c["psi"]; ok {
				t.Errorf("%s %s: psi on a v1 host, which has no pressure files", fixture, c["path"])
			}
		}
	}
	for _, c := range load("v2") {
		mem, _ := c["memory"].(map[string]any)
		if c["path"] == "/" {
			for _, k := range []string{"usage_bytes", "working_set_bytes", "limit_bytes", "peak_bytes"} {
				if _, ok := mem[k]; ok {
					t.Errorf("v2 root: memory.%s = %v, but the v2 root has no memory.current or memory.max", k, mem[k])
				}
			}
			if _, ok := c["tasks"]; ok {
				t.Errorf("v2 root: tasks = %v, but the v2 root has no pids.current", c["tasks"])
			}
			continue
		}
		// Below the root every cgroup has memory.current and memory.max.
		if _, ok := mem["usage_bytes"].(float64); !ok {
			t.Errorf("v2 %s: memory.usage_bytes = %v, want a number", c["path"], mem["usage_bytes"])
		}
		if l, ok := mem["limit_bytes"]; !ok || (l != "max" && !isNumber(l)) {
			t.Errorf("v2 %s: memory.limit_bytes = %v, want a number or \"max\"", c["path"], l)
		}
	}
}

func isNumber(v any) bool { _, ok := v.(float64); return ok }
