package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// A Warning is a statistical caveat: a reason a result may not support a
// conclusion. It is not a failure. Warnings are values a renderer can
// word as it likes; Error gives a plain English default. WarningKind is
// the stable name under which the warning is written to JSON.
type Warning interface {
	error
	WarningKind() string
}

// Purpose says what a sample is too small for.
type Purpose string

const (
	// ForInterval: a confidence interval of the median at Level.
	ForInterval Purpose = "confidence_interval"
	// ForSignificance: a rank test reaching p below Level (α).
	ForSignificance Purpose = "significance"
)

// Sides of a comparison a warning can be about.
const (
	SideA    = "a"
	SideB    = "b"
	SideBoth = "both"
)

// SampleSizeWarning says that a sample (Side "a" or "b") or both samples
// (Side "both") of a comparison are too small for a purpose: a confidence
// interval at level Level needs Need values per sample; a significant
// Mann-Whitney test at α = Level needs Need values in at least one of the
// samples, since below that not even two fully separated samples give p
// below α. These are the thresholds of benchstat (x/perf/benchmath).
type SampleSizeWarning struct {
	Side  string  `json:"side"`
	NA    int     `json:"n_a"`
	NB    int     `json:"n_b"`
	Need  int     `json:"need"`
	For   Purpose `json:"for"`
	Level float64 `json:"level"`
}

// WarningKind returns "sample_size".
func (SampleSizeWarning) WarningKind() string { return "sample_size" }

func (w SampleSizeWarning) Error() string {
	var n string
	switch w.Side {
	case SideA:
		n = fmt.Sprintf("a has %d values", w.NA)
	case SideB:
		n = fmt.Sprintf("b has %d values", w.NB)
	default:
		n = fmt.Sprintf("a and b have %d and %d values", w.NA, w.NB)
	}
	if w.For == ForSignificance {
		return fmt.Sprintf("%s: no difference can be significant at α = %g with fewer than %d values per sample", n, w.Level, w.Need)
	}
	return fmt.Sprintf("%s: a %s%% confidence interval needs at least %d", n, percent(w.Level), w.Need)
}

// NormalApproxWarning says that the Mann-Whitney p-value comes from the
// normal approximation (the samples have ties) at sample sizes where it is
// rough.
type NormalApproxWarning struct {
	NA int `json:"n_a"`
	NB int `json:"n_b"`
}

// WarningKind returns "normal_approximation".
func (NormalApproxWarning) WarningKind() string { return "normal_approximation" }

func (w NormalApproxWarning) Error() string {
	return fmt.Sprintf("the Mann-Whitney p-value is from the normal approximation because the samples have ties; it is rough with %d and %d values", w.NA, w.NB)
}

// UndefinedWarning says that statistic Stat was not computed (its field
// is nil or 0) and why.
type UndefinedWarning struct {
	Stat   string `json:"stat"`
	Reason string `json:"reason"`
}

// WarningKind returns "undefined".
func (UndefinedWarning) WarningKind() string { return "undefined" }

func (w UndefinedWarning) Error() string { return w.Stat + " not computed: " + w.Reason }

// Stats named by UndefinedWarning.
const (
	StatWelch       = "welch's t-test"
	StatHedgesG     = "hedges' g"
	StatMedianRatio = "median ratio"
	StatMeanRatio   = "mean ratio"
	StatDifferences = "differences"
	StatMannWhitney = "mann-whitney test"
	StatSpearman    = "spearman's rho"
)

// Warnings is a list of warnings. In JSON each is an object with its
// "kind", its fields and a "message" (its Error text); a kind this
// package does not know reads back as a [Note] that writes the same JSON.
type Warnings []Warning

// Note is a warning read from JSON whose kind has no type here: it keeps
// its kind, message and raw JSON.
type Note struct {
	Kind    string
	Message string
	Raw     json.RawMessage
}

// WarningKind returns n.Kind.
func (n Note) WarningKind() string { return n.Kind }
func (n Note) Error() string       { return n.Message }

// MarshalJSON writes n's JSON as it was read.
func (n Note) MarshalJSON() ([]byte, error) {
	if n.Raw != nil {
		return n.Raw, nil
	}
	return json.Marshal(map[string]string{"kind": n.Kind, "message": n.Message})
}

// MarshalJSON writes each warning as an object of its fields with "kind"
// and "message" added.
func (ws Warnings) MarshalJSON() ([]byte, error) {
	out := make([]json.RawMessage, 0, len(ws))
	for _, w := range ws {
		b, err := marshalWarning(w)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return json.Marshal(out)
}

// marshalWarning writes one warning as Warnings does.
func marshalWarning(w Warning) ([]byte, error) {
	if n, ok := w.(Note); ok {
		return n.MarshalJSON()
	}
	fields := map[string]any{}
	if b, err := json.Marshal(w); err == nil {
		_ = json.Unmarshal(b, &fields) // a warning that is not an object keeps kind and message only
	} else {
		return nil, fmt.Errorf("stats: warning %s: %w", w.WarningKind(), err)
	}
	fields["kind"] = w.WarningKind()
	fields["message"] = w.Error()
	return json.Marshal(fields)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (ws *Warnings) UnmarshalJSON(data []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return err
	}
	out := make(Warnings, 0, len(raws))
	for _, raw := range raws {
		w, err := unmarshalWarning(raw)
		if err != nil {
			return err
		}
		out = append(out, w)
	}
	*ws = out
	return nil
}

func unmarshalWarning(raw json.RawMessage) (Warning, error) {
	var head struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("stats: warning: %w", err)
	}
	var w Warning
	var err error
	switch head.Kind {
	case SampleSizeWarning{}.WarningKind():
		var v SampleSizeWarning
		err = json.Unmarshal(raw, &v)
		w = v
	case NormalApproxWarning{}.WarningKind():
		var v NormalApproxWarning
		err = json.Unmarshal(raw, &v)
		w = v
	case UndefinedWarning{}.WarningKind():
		var v UndefinedWarning
		err = json.Unmarshal(raw, &v)
		w = v
	default:
		w = Note{Kind: head.Kind, Message: head.Message, Raw: append(json.RawMessage(nil), raw...)}
	}
	if err != nil {
		return nil, fmt.Errorf("stats: warning %s: %w", head.Kind, err)
	}
	return w, nil
}

// IntervalNeed is the fewest values for which a distribution-free
// confidence interval of the median at level exists: the smallest n ≥ 2
// with 2·0.5ⁿ ≤ 1 − level (6 at 95%), benchstat's threshold.
func IntervalNeed(level float64) int {
	n := 2
	for ; n < 1000 && 2*math.Pow(0.5, float64(n)) > 1-level; n++ {
	}
	return n
}

// SignificanceNeed is the fewest values per sample with which the
// Mann-Whitney test of two fully separated samples of that size gives a
// p-value at or below alpha: the smallest n with 2/C(2n, n) ≤ alpha (4 at
// α = 0.05), benchstat's threshold.
func SignificanceNeed(alpha float64) int {
	n := 1
	for ; n < 1000 && 2/binomial(2*n, n) > alpha; n++ {
	}
	return n
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// percent writes a level as a percentage without trailing zeros: 0.95 → "95".
func percent(level float64) string {
	return strconv.FormatFloat(math.Round(level*1e6)/1e4, 'g', -1, 64)
}
