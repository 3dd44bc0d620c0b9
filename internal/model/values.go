package model

import (
	"math"
	"strconv"

	"github.com/cgmon/cgmon/internal/sample"
)

// Count is a whole number that may be absent. It marshals as a JSON number
// and, with the omitzero option, is left out when absent (a present 0 is
// kept: absent and zero are different things).
type Count struct {
	V  uint64
	OK bool
}

// IsZero reports absence, for the omitzero JSON option.
func (c Count) IsZero() bool { return !c.OK }

// MarshalJSON implements json.Marshaler.
func (c Count) MarshalJSON() ([]byte, error) {
	if !c.OK {
		return []byte("null"), nil
	}
	return strconv.AppendUint(nil, c.V, 10), nil
}

func countOf(v sample.Value) Count { return Count{V: v.V, OK: v.OK} }

// Float is a real number that may be absent.
type Float struct {
	V  float64
	OK bool
}

// IsZero reports absence, for the omitzero JSON option.
func (f Float) IsZero() bool { return !f.OK }

// MarshalJSON implements json.Marshaler. Numbers are rounded to 6
// significant decimals: more would be noise from the clock.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.OK || math.IsNaN(f.V) || math.IsInf(f.V, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f.V, 'g', 10, 64), nil
}

func floatOf(v float64) Float { return Float{V: v, OK: true} }

// Limit is a limit: a number, "max" when the kernel says there is none, or
// absent (left out of JSON) when the controller is not there.
type Limit struct {
	V     float64
	State sample.LimitState
}

// IsZero reports absence, for the omitzero JSON option.
func (l Limit) IsZero() bool { return l.State == sample.LimitAbsent }

// Unlimited reports whether the kernel said "max".
func (l Limit) Unlimited() bool { return l.State == sample.LimitUnlimited }

// Set reports whether a finite limit is set.
func (l Limit) Set() bool { return l.State == sample.LimitSet }

// MarshalJSON implements json.Marshaler.
func (l Limit) MarshalJSON() ([]byte, error) {
	switch l.State {
	case sample.LimitUnlimited:
		return []byte(`"max"`), nil
	case sample.LimitSet:
		return strconv.AppendFloat(nil, l.V, 'g', 10, 64), nil
	}
	return []byte("null"), nil
}

func limitOf(l sample.Limit) Limit { return Limit{V: float64(l.V), State: l.State} }
