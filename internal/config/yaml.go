package config

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes a file may make the decoder visit: aliases
// and merge keys could otherwise expand a small file exponentially. A real
// configuration has a few hundred.
const maxNodes = 100_000

// maxMergeDepth bounds merge keys within merge keys: an anchor may
// contain an alias of itself ("a: &a {<<: *a}"), which the parser allows.
const maxMergeDepth = 16

// yamlLine finds the line in the parser's messages ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses the one document of a file into its root node; nil
// for an empty document. The parser's panics, if any input still causes
// one, become errors: a configuration file must not crash the agent.
func parseYAML(path string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Source: path, Err: fmt.Errorf("the YAML parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(path, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(path, err)
		}
		return nil, &Error{Source: path, Line: next.Line, Err: errors.New("a second YAML document (---): give one")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlError turns the parser's "yaml: line 3: msg" into "file:3: msg".
func yamlError(path string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Source: path, Line: line, Err: errors.New(msg[len(m[0]):])}
	}
	return &Error{Source: path, Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

// yaml decodes a YAML file, native or LXC Monitor's, into c.
func (l *loader) yaml(c *Config, path string, data []byte) {
	root, err := parseYAML(path, data)
	if err != nil {
		// A broken environment file (one line that is not NAME=value)
		// reaches here as YAML; say what is wrong with it as such.
		if line, ok := envFileMistake(data); ok {
			l.fail(path, line, "", errors.New("want NAME=value (the file looks like an environment file) or a YAML mapping"))
			return
		}
		l.errs = append(l.errs, err)
		return
	}
	if root == nil {
		return // empty: the defaults
	}
	d := &decoder{loader: l, file: path}
	root = d.resolve(root)
	if root.Kind != yaml.MappingNode {
		if line, ok := envFileMistake(data); ok {
			l.fail(path, line, "", errors.New("want NAME=value (the file looks like an environment file) or a YAML mapping"))
			return
		}
		l.fail(path, root.Line, "", fmt.Errorf("want a mapping of keys (key: value) at the top, not %s", kindName(root)))
		return
	}
	for i := 0; i < len(root.Content); i += 2 {
		if k := d.resolve(root.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "monitoring" {
			d.lxcMonitor(c, root)
			return
		}
	}
	d.value(reflect.ValueOf(c).Elem(), root, "")
}

// envFileMistake returns the first line that is not NAME=value of a file
// whose first meaningful line is one.
func envFileMistake(data []byte) (int, bool) {
	first := true
	for i, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		ok := isEnvAssignment(s)
		if first && !ok {
			return 0, false
		}
		first = false
		if !ok {
			return i + 1, true
		}
	}
	return 0, false
}

// decoder walks YAML nodes into the fields of Config by their yaml tags,
// so that every problem can carry its line and key path.
type decoder struct {
	*loader
	file       string
	mergeDepth int
}

func (d *decoder) fail(n *yaml.Node, path string, format string, args ...any) {
	d.loader.fail(d.file, n.Line, path, fmt.Errorf(format, args...))
}

// resolve follows aliases.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// spend counts a node against maxNodes; false once the budget is gone,
// which is reported once.
func (d *decoder) spend(n *yaml.Node) bool {
	d.budget++
	if d.budget == maxNodes {
		d.fail(n, "", "too many nodes once aliases are expanded (more than %d)", maxNodes)
	}
	return d.budget < maxNodes
}

type pair struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

// pairs returns the entries of a mapping: those merged in by "<<" first,
// then its own, which override them. A key given twice is an error.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var merged, own []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if !d.spend(k) {
			return nil
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, d.merge(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "a key must be a plain name, not %s", kindName(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.fail(k, joinPath(path, k.Value), "given twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, pair{key: k.Value, keyNode: k, val: v})
	}
	return append(merged, own...)
}

// merge returns the entries of the value of a "<<" key: a mapping or a
// list of them, earlier ones winning.
func (d *decoder) merge(v *yaml.Node, path string) []pair {
	v = d.resolve(v)
	d.mergeDepth++
	defer func() { d.mergeDepth-- }()
	if d.mergeDepth > maxMergeDepth {
		d.fail(v, path, "merge keys (<<) nested more than %d deep: does an anchor merge itself?", maxMergeDepth)
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for i := len(v.Content) - 1; i >= 0; i-- {
			m := d.resolve(v.Content[i])
			if m.Kind != yaml.MappingNode {
				d.fail(m, path, "<< takes a mapping or a list of mappings, not %s", kindName(m))
				continue
			}
			out = append(out, d.pairs(m, path)...)
		}
		return out
	}
	d.fail(v, path, "<< takes a mapping or a list of mappings, not %s", kindName(v))
	return nil
}

// value decodes the node n into the field v at path.
func (d *decoder) value(v reflect.Value, n *yaml.Node, path string) {
	n = d.resolve(n)
	if !d.spend(n) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// "key:" with no value keeps the default, except that it empties
		// a list, as "key: []" does.
		if v.Kind() == reflect.Slice {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			d.origins[path] = where(d.file, n.Line)
		}
		return
	}
	switch {
	case v.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "want a mapping of keys, not %s", kindName(n))
			return
		}
		d.fields(v, n, path)
	case v.Kind() == reflect.Slice && v.Type().Elem() == hostType:
		d.hosts(v, n, path)
	case v.Kind() == reflect.Slice:
		d.list(v, n, path)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "cannot use %s as %s", kindName(n), article(typeName(v.Type())))
			return
		}
		if err := setText(v, n.Value); err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		d.origins[path] = where(d.file, n.Line)
	}
}

// fields decodes a mapping into the struct v; unknown keys are warnings.
func (d *decoder) fields(v reflect.Value, n *yaml.Node, path string) {
	for _, p := range d.pairs(n, path) {
		f, ok := fieldByPath(v, p.key)
		if !ok || strings.Contains(p.key, ".") {
			d.warn(d.file, p.keyNode.Line, "unknown key %s", joinPath(path, p.key))
			continue
		}
		d.value(f, p.val, joinPath(path, p.key))
	}
}

// list decodes a sequence of scalars, or one scalar holding a
// comma-separated list as in the environment.
func (d *decoder) list(v reflect.Value, n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		v.Set(reflect.ValueOf(splitList(n.Value)))
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			item = d.resolve(item)
			if !d.spend(item) {
				return
			}
			if item.Kind != yaml.ScalarNode {
				d.fail(item, fmt.Sprintf("%s[%d]", path, i), "cannot use %s as a string", kindName(item))
				continue
			}
			out = append(out, item.Value)
		}
		v.Set(reflect.ValueOf(out))
	default:
		d.fail(n, path, "cannot use %s as a list", kindName(n))
		return
	}
	d.origins[path] = where(d.file, n.Line)
}

// hosts decodes hosts:, a list of mappings; an entry that is a plain
// string is an address.
func (d *decoder) hosts(v reflect.Value, n *yaml.Node, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "cannot use %s as a list of hosts", kindName(n))
		return
	}
	hosts := make([]Host, len(n.Content))
	for i, item := range n.Content {
		item = d.resolve(item)
		p := fmt.Sprintf("%s[%d]", path, i)
		switch item.Kind {
		case yaml.ScalarNode:
			hosts[i].Address = item.Value
			d.origins[p+".address"] = where(d.file, item.Line)
		case yaml.MappingNode:
			d.value(reflect.ValueOf(&hosts[i]).Elem(), item, p)
		default:
			d.fail(item, p, "cannot use %s as a host: want a mapping with address:", kindName(item))
		}
	}
	v.Set(reflect.ValueOf(hosts))
}

// lxcMonitor decodes LXC Monitor's file: logging: as ours, monitoring:
// mapped onto our keys. A file with a monitoring: section is LXC
// Monitor's; our own keys in it are unknown.
func (d *decoder) lxcMonitor(c *Config, root *yaml.Node) {
	for _, p := range d.pairs(root, "") {
		switch p.key {
		case "logging":
			d.value(reflect.ValueOf(&c.Logging).Elem(), p.val, "logging")
		case "monitoring":
			d.lxcMonitoring(c, p.val)
		default:
			d.warn(d.file, p.keyNode.Line, "unknown key %s (a file with monitoring: is read as LXC Monitor's, which has logging: and monitoring: only)", p.key)
		}
	}
}

func (d *decoder) lxcMonitoring(c *Config, n *yaml.Node) {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, "monitoring", "want a mapping of keys, not %s", kindName(n))
		return
	}
	var (
		parallel, parallelSet bool
		workers               int
		workersNode           *yaml.Node
	)
	targets := map[string]struct {
		v   any    // pointer to the field
		key string // our key, for Validate's errors
	}{
		"export_file":         {&c.JSONExport.File, "json_export.file"},
		"check_interval":      {&c.Interval, "interval"},
		"enable_swap":         {&c.Containers.Swap, "containers.swap"},
		"enable_network":      {&c.Containers.Network, "containers.network"},
		"enable_filesystem":   {&c.Containers.Filesystem, "containers.filesystem"},
		"parallel_processing": {&parallel, ""},
		"max_workers":         {&workers, ""},
		"excluded_devices":    {&c.ExcludedDevices, "excluded_devices"},
	}
	for _, p := range d.pairs(n, "monitoring") {
		t, ok := targets[p.key]
		if !ok {
			d.warn(d.file, p.keyNode.Line, "unknown key monitoring.%s", p.key)
			continue
		}
		path := "monitoring." + p.key
		d.value(reflect.ValueOf(t.v).Elem(), p.val, path)
		if o, ok := d.origins[path]; ok && t.key != "" {
			d.origins[t.key] = o
		}
		switch p.key {
		case "parallel_processing":
			_, parallelSet = d.origins[path]
		case "max_workers":
			if _, ok := d.origins[path]; ok {
				workersNode = p.val
			}
		}
	}
	switch {
	case parallelSet && !parallel:
		c.Containers.Workers = 1 // LXC Monitor read containers one by one
		d.origins["containers.workers"] = d.origins["monitoring.parallel_processing"]
	case workersNode != nil:
		c.Containers.Workers = workers
		d.origins["containers.workers"] = d.origins["monitoring.max_workers"]
	}
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

func article(typ string) string {
	switch typ {
	case "int":
		return "an integer"
	case "bool":
		return "a boolean"
	}
	return "a " + typ
}
