package config

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// update rewrites the generated files: packaging/cgmon.yaml,
// packaging/cgmon.env and the key table of the README fragment.
var update = flag.Bool("update", false, "rewrite the files generated from Keys()")

const (
	exampleYAMLFile = "../../packaging/cgmon.yaml"
	exampleEnvFile  = "../../packaging/cgmon.env"
	readmeFile      = "../../README.md"
	tableBegin      = "<!-- config-keys:begin (generated: go test ./internal/config -run TestKeysDocumented -update) -->"
	tableEnd        = "<!-- config-keys:end -->"
	exampleHost     = "root@db1.example.org:22"
)

// exampleHosts is the entry of hosts: the example file shows.
func exampleHosts() []Host {
	tofu := false
	return []Host{{Address: exampleHost, Name: "db1", KeyFile: "/etc/cgmon/id_ed25519", KnownHosts: "/etc/cgmon/known_hosts", TrustOnFirstUse: &tofu, Timeout: 30 * time.Second}}
}

// exampleYAML is packaging/cgmon.yaml: every key with its default and
// its meaning. commented comments every key out, as in the file.
func exampleYAML(commented bool) string {
	var b strings.Builder
	b.WriteString(`# cgmon's configuration file (native format): cgmon run --config /etc/cgmon/cgmon.yaml
# (or CGMON_CONFIG=/etc/cgmon/cgmon.yaml). Every key is shown with its
# default, commented out: uncomment a key (and its section) to change it.
# The environment overrides the file: each key's CGMON_* variable is named
# beside it. Durations are Go durations (500ms, 5s, 1m30s, 1h) or a bare
# number of seconds. Check the result with: cgmon config check
# Generated from internal/config (go test ./internal/config -update).
`)
	c := ""
	if commented {
		c = "#"
	}
	var walk func(v reflect.Value, prefix, indent string)
	walk = func(v reflect.Value, prefix, indent string) {
		t := v.Type()
		for i := range t.NumField() {
			name := yamlName(t.Field(i))
			path := joinPath(prefix, name)
			f := v.Field(i)
			switch {
			case f.Kind() == reflect.Struct:
				if prefix == "" {
					b.WriteString("\n")
				}
				fmt.Fprintf(&b, "%s%s%s:\n", c, indent, name)
				walk(f, path, indent+"  ")
			case f.Type() == reflect.TypeFor[[]Host]():
				fmt.Fprintf(&b, "\n%s# %s (%s)\n%s%s%s:\n", indent, keyDocs[path], envName(path), c, indent, name)
				h := reflect.ValueOf(exampleHosts()[0])
				for j := range hostType.NumField() {
					hname := yamlName(hostType.Field(j))
					hf := h.Field(j)
					dash := "  "
					if j == 0 {
						dash = "- "
					}
					fmt.Fprintf(&b, "%s%s    # %s\n%s%s  %s%s: %s\n", c, indent, keyDocs["hosts[]."+hname], c, indent, dash, hname, scalarYAML(hf))
				}
			default:
				doc := fmt.Sprintf("%s (%s)", keyDocs[path], envName(path))
				if indent == "" {
					fmt.Fprintf(&b, "\n# %s\n", doc)
				} else {
					fmt.Fprintf(&b, "%s%s# %s\n", c, indent, doc)
				}
				fmt.Fprintf(&b, "%s%s%s: %s\n", c, indent, name, scalarYAML(f))
			}
		}
	}
	walk(reflect.ValueOf(Defaults()), "", "")
	return b.String()
}

// scalarYAML writes one value as the YAML encoder does.
func scalarYAML(v reflect.Value) string {
	out, err := yaml.Marshal(toNode(v))
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// exampleEnv is packaging/cgmon.env: every CGMON_* variable with its
// default, commented out.
func exampleEnv(commented bool) string {
	var b strings.Builder
	b.WriteString(`# cgmon's environment file: EnvironmentFile=/etc/cgmon/cgmon.env in
# cgmon.service, or cgmon run --config /etc/cgmon/cgmon.env. Every
# variable is shown with its default, commented out. Lists are
# comma-separated; booleans are yes/on/true/1 or no/off/false/0; durations
# are Go durations (5s, 1h) or a number of seconds. cgtop_mon's
# CGTOP_MON_* variables may be given here too; CGMON_* ones win.
# Generated from internal/config (go test ./internal/config -update).
`)
	c := ""
	if commented {
		c = "#"
	}
	for _, k := range Keys() {
		if k.Env == "" {
			continue
		}
		fmt.Fprintf(&b, "\n# %s: %s\n%s%s=%s\n", k.Path, k.Doc, c, k.Env, k.Default)
	}
	return b.String()
}

// checkGenerated compares a generated file with the repository's, or
// rewrites it with -update.
func checkGenerated(t *testing.T, path, want string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("%s is not what Keys() generates (go test ./internal/config -update rewrites it) (-want +got):\n%s", path, diff)
	}
}

// yamlPaths lists the key paths a native file sets, entries of hosts:
// as hosts[].
func yamlPaths(t *testing.T, data string) []string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			path := joinPath(prefix, n.Content[i].Value)
			switch v := n.Content[i+1]; {
			case v.Kind == yaml.MappingNode:
				walk(v, path)
			case path == "hosts":
				paths = append(paths, path)
				for _, h := range v.Content {
					walk(h, "hosts[]")
				}
			default:
				paths = append(paths, path)
			}
		}
	}
	walk(doc.Content[0], "")
	slices.Sort(paths)
	return slices.Compact(paths)
}

func TestExampleYAML(t *testing.T) {
	checkGenerated(t, exampleYAMLFile, exampleYAML(true))
	// The file with every key uncommented lists every key and reads as
	// the defaults (and the example host).
	full := exampleYAML(false)
	var want []string
	for _, k := range Keys() {
		want = append(want, k.Path)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, yamlPaths(t, full)); diff != "" {
		t.Errorf("keys of the example (-Keys() +example):\n%s", diff)
	}
	got, ws, err := Load(Sources{File: writeFile(t, "cgmon.yaml", full)})
	if err != nil || len(ws) > 0 {
		t.Fatalf("the example uncommented: %v %q\n%s", err, warnings(ws), full)
	}
	d := Defaults()
	d.Hosts = exampleHosts()
	if diff := cmp.Diff(d, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the example uncommented is not the defaults (-want +got):\n%s", diff)
	}
	// Commented, it is the defaults.
	got, ws, err = Load(Sources{File: exampleYAMLFile})
	if err != nil || len(ws) > 0 || !cmp.Equal(Defaults(), got) {
		t.Errorf("%s: %v %q, or not the defaults", exampleYAMLFile, err, warnings(ws))
	}
}

func TestExampleEnv(t *testing.T) {
	checkGenerated(t, exampleEnvFile, exampleEnv(true))
	full := exampleEnv(false)
	vars, err := parseEnvFile("cgmon.env", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, k := range Keys() {
		if k.Env != "" {
			want = append(want, k.Env)
		}
	}
	for _, v := range vars {
		got = append(got, v.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variables of the example (-Keys() +example):\n%s", diff)
	}
	c, ws, err := Load(Sources{File: writeFile(t, "cgmon.env", full)})
	if err != nil || len(ws) > 0 {
		t.Fatalf("the example uncommented: %v %q", err, warnings(ws))
	}
	if diff := cmp.Diff(Defaults(), c, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the example uncommented is not the defaults (-want +got):\n%s", diff)
	}
}

// keyTable is the README's table of keys.
func keyTable() string {
	var b strings.Builder
	b.WriteString("| key | environment variable | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, k := range Keys() {
		env, def := "—", ""
		if k.Env != "" {
			env = "`" + k.Env + "`"
		}
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Path, env, def, strings.NewReplacer("|", `\|`, "*", `\*`).Replace(k.Doc))
	}
	return b.String()
}

// TestKeysDocumented checks that the README's configuration table has a
// row for every key with its variable and default (-update rewrites it).
func TestKeysDocumented(t *testing.T) {
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	before, rest, ok1 := strings.Cut(text, tableBegin+"\n")
	table, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s has no %q … %q markers around the table of keys", readmeFile, tableBegin, tableEnd)
	}
	if *update {
		table = keyTable()
		if err := os.WriteFile(readmeFile, []byte(before+tableBegin+"\n"+table+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rows := map[string]string{}
	for line := range strings.Lines(table) {
		cells := strings.Split(line, " | ")
		if len(cells) >= 3 {
			rows[strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")] = line
		}
	}
	for _, k := range Keys() {
		row, ok := rows[k.Path]
		switch {
		case !ok:
			t.Errorf("%s: no row for the key %s", readmeFile, k.Path)
		case k.Env != "" && !strings.Contains(row, "`"+k.Env+"`"):
			t.Errorf("%s: the row of %s does not name %s", readmeFile, k.Path, k.Env)
		case k.Default != "" && !strings.Contains(row, "`"+k.Default+"`"):
			t.Errorf("%s: the row of %s does not give the default %s", readmeFile, k.Path, k.Default)
		}
	}
}
