package promexport

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// textWriter writes metric families in the text exposition format 0.0.4,
// byte for byte as expfmt's text encoder does (TestTextWriterMatchesExpfmt).
//
// It exists because expfmt was the bottleneck: a profile of
// BenchmarkScrape1000 (1000 cgroups, 76 000 series) put expfmt's encoder at
// about 60 % of a scrape — for every series it checks whether the family
// needs name escaping, checks every label name and runs every label value
// through a strings.Replacer. cgmon's series of one cgroup share one slice
// of label pairs (see renderer), so this writer renders and escapes a
// label set once per scrape and copies the bytes for every other series
// that has it. Families it has no shortcut for (summaries, histograms,
// names that need quoting or escaping) go to expfmt's encoder unchanged.
type textWriter struct {
	buf    []byte
	format expfmt.Format
	// fast is false when the client asked for dots escaping, which
	// rewrites even valid names (a_b → a__b): expfmt encodes everything.
	fast bool

	// labelSets are the rendered `{a="x",b="y"}` of the label slices seen
	// in this scrape, keyed by the slice's first element and its length.
	labelSets map[labelKey]span
	rendered  []byte
}

type labelKey struct {
	first **dto.LabelPair
	n     int
}

// span is rendered[off:off+n]; n < 0 marks a label set that needs
// expfmt's quoting.
type span struct{ off, n int }

// flushAt is the buffer size at which write hands the text to the
// response between families.
const flushAt = 64 << 10

func newTextWriter() *textWriter {
	return &textWriter{labelSets: map[labelKey]span{}}
}

// reset readies t for a scrape in format. The label sets of the last one
// go: their keys point into its metrics.
func (t *textWriter) reset(format expfmt.Format) {
	t.format = format
	t.fast = format.ToEscapingScheme() != model.DotsEscaping
	t.buf = t.buf[:0]
	t.rendered = t.rendered[:0]
	clear(t.labelSets)
}

// write writes fams to w. A family that cannot be encoded is skipped and
// its error returned with the others; a write error to w ends the answer.
func (t *textWriter) write(w io.Writer, fams []*dto.MetricFamily) (encodeErrs []error, writeErr error) {
	for _, mf := range fams {
		mark := len(t.buf)
		if !t.fast || !t.family(mf) {
			t.buf = t.buf[:mark]
			if err := t.expfmt(mf); err != nil {
				t.buf = t.buf[:mark]
				encodeErrs = append(encodeErrs, err)
			}
		}
		if len(t.buf) >= flushAt {
			if _, err := w.Write(t.buf); err != nil {
				return encodeErrs, err
			}
			t.buf = t.buf[:0]
		}
	}
	if len(t.buf) > 0 {
		if _, err := w.Write(t.buf); err != nil {
			return encodeErrs, err
		}
		t.buf = t.buf[:0]
	}
	return encodeErrs, nil
}

// expfmt appends mf as expfmt's encoder writes it.
func (t *textWriter) expfmt(mf *dto.MetricFamily) error {
	b := bytes.NewBuffer(t.buf)
	err := expfmt.NewEncoder(b, t.format).Encode(mf)
	t.buf = b.Bytes()
	if err != nil {
		return fmt.Errorf("encode %s: %w", mf.GetName(), err)
	}
	return nil
}

// family appends mf, and returns false, leaving a part written, when mf is
// one that expfmt must encode.
func (t *textWriter) family(mf *dto.MetricFamily) bool {
	name := mf.GetName()
	if len(mf.Metric) == 0 || !model.LegacyValidation.IsValidMetricName(name) {
		return false // expfmt: the error, or the escaping
	}
	var typ string
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		typ = " counter\n"
	case dto.MetricType_GAUGE:
		typ = " gauge\n"
	case dto.MetricType_UNTYPED:
		typ = " untyped\n"
	default:
		return false
	}
	if mf.Help != nil {
		t.buf = append(t.buf, "# HELP "...)
		t.buf = append(t.buf, name...)
		t.buf = append(t.buf, ' ')
		t.buf = appendEscaped(t.buf, *mf.Help, false)
		t.buf = append(t.buf, '\n')
	}
	t.buf = append(t.buf, "# TYPE "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, typ...)
	for _, m := range mf.Metric {
		var v float64
		switch {
		case mf.GetType() == dto.MetricType_COUNTER && m.Counter != nil:
			v = m.Counter.GetValue()
		case mf.GetType() == dto.MetricType_GAUGE && m.Gauge != nil:
			v = m.Gauge.GetValue()
		case mf.GetType() == dto.MetricType_UNTYPED && m.Untyped != nil:
			v = m.Untyped.GetValue()
		default:
			return false // expfmt: "expected counter in metric …"
		}
		t.buf = append(t.buf, name...)
		if len(m.Label) > 0 {
			s := t.labels(m.Label)
			if s.n < 0 {
				return false
			}
			t.buf = append(t.buf, t.rendered[s.off:s.off+s.n]...)
		}
		t.buf = append(t.buf, ' ')
		t.buf = appendFloat(t.buf, v)
		if m.TimestampMs != nil {
			t.buf = append(t.buf, ' ')
			t.buf = strconv.AppendInt(t.buf, *m.TimestampMs, 10)
		}
		t.buf = append(t.buf, '\n')
	}
	return true
}

// labels returns the rendered label set of ls, rendering it on first use.
func (t *textWriter) labels(ls []*dto.LabelPair) span {
	key := labelKey{&ls[0], len(ls)}
	if s, ok := t.labelSets[key]; ok {
		return s
	}
	off := len(t.rendered)
	s := span{off: off}
	for i, lp := range ls {
		if !model.LegacyValidation.IsValidLabelName(lp.GetName()) {
			s.n = -1
			t.rendered = t.rendered[:off]
			t.labelSets[key] = s
			return s
		}
		if i == 0 {
			t.rendered = append(t.rendered, '{')
		} else {
			t.rendered = append(t.rendered, ',')
		}
		t.rendered = append(t.rendered, lp.GetName()...)
		t.rendered = append(t.rendered, '=', '"')
		t.rendered = appendEscaped(t.rendered, lp.GetValue(), true)
		t.rendered = append(t.rendered, '"')
	}
	t.rendered = append(t.rendered, '}')
	s.n = len(t.rendered) - off
	t.labelSets[key] = s
	return s
}

// appendEscaped escapes as the text format does: backslash and newline,
// and the double quote inside a label value.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat formats as expfmt does: Go's shortest 'g' form (which
// writes NaN, +Inf and -Inf as the format wants them), and 0 for negative
// zero.
func appendFloat(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
