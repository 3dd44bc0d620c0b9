// Package jsonexporttest checks a JSON export against the example of LXC
// Monitor's README (seed-example.json, copied from seeds/lxc_monitor.md):
// the same keys, nested the same way, with the same JSON types. Only tests
// import it.
package jsonexporttest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

//go:embed seed-example.json
var seedExample []byte

// Shape returns the error of a JSON export that does not have the seed's
// shape: an array whose every element has exactly the example's keys, with
// values of the example's JSON types. It returns the decoded entries too.
func Shape(b []byte) ([]map[string]any, error) {
	var want []map[string]any
	if err := json.Unmarshal(seedExample, &want); err != nil || len(want) != 1 {
		return nil, fmt.Errorf("seed example: %v", err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		return nil, fmt.Errorf("not a JSON array of objects: %w", err)
	}
	for i, e := range got {
		if err := same(want[0], e, ""); err != nil {
			return got, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return got, nil
}

func same(want, got map[string]any, at string) error {
	var wk, gk []string
	for k := range want {
		wk = append(wk, k)
	}
	for k := range got {
		gk = append(gk, k)
	}
	slices.Sort(wk)
	slices.Sort(gk)
	if !slices.Equal(wk, gk) {
		return fmt.Errorf("%skeys %s, want %s", at, strings.Join(gk, ","), strings.Join(wk, ","))
	}
	for k, w := range want {
		g := got[k]
		if wm, ok := w.(map[string]any); ok {
			gm, ok := g.(map[string]any)
			if !ok {
				return fmt.Errorf("%s%s is %T, want an object", at, k, g)
			}
			if err := same(wm, gm, at+k+"."); err != nil {
				return err
			}
			continue
		}
		if fmt.Sprintf("%T", w) != fmt.Sprintf("%T", g) {
			return fmt.Errorf("%s%s is %T (%v), want %T", at, k, g, g, w)
		}
	}
	return nil
}
