package config

import (
	"bytes"
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// YAML returns the configuration, secrets masked, as a native file that
// Load reads back: every key in the order of the struct, durations as 5s
// or 1h.
func (c Config) YAML() ([]byte, error) {
	return marshalYAML(c.Masked())
}

func marshalYAML(c Config) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(toNode(reflect.ValueOf(c))); err != nil {
		return nil, fmt.Errorf("configuration as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("configuration as YAML: %w", err)
	}
	return b.Bytes(), nil
}

// toNode builds the YAML node of a value of Config by the same rules as
// the decoder; a nil pointer (a host's unset trust_on_first_use) is left
// out by the caller.
func toNode(v reflect.Value) *yaml.Node {
	switch {
	case v.Kind() == reflect.Pointer:
		return toNode(v.Elem())
	case v.Kind() == reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			name := yamlName(v.Type().Field(i))
			f := v.Field(i)
			if name == "" || (f.Kind() == reflect.Pointer && f.IsNil()) {
				continue
			}
			m.Content = append(m.Content, str(name), toNode(f))
		}
		return m
	case v.Kind() == reflect.Slice:
		s := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Type().Elem().Kind() == reflect.String {
			s.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			s.Content = append(s.Content, toNode(v.Index(i)))
		}
		return s
	case v.Kind() == reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: formatText(v)}
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64 && v.Type() != durationType:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: formatText(v)}
	}
	return str(formatText(v))
}

// str is a string scalar; the encoder quotes it where it would read as
// something else (a number, a boolean, empty).
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
