package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestHistogramRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	data := map[string][]float64{}
	for _, name := range []string{"lognormal", "uniform ms", "negative lognormal", "integers"} {
		xs := make([]float64, 20000)
		for i := range xs {
			switch name {
			case "lognormal":
				xs[i] = math.Exp(3 * r.NormFloat64())
			case "uniform ms":
				xs[i] = 1 + 999*r.Float64()
			case "negative lognormal":
				xs[i] = -math.Exp(r.NormFloat64())
			case "integers":
				xs[i] = float64(r.IntN(50) + 1)
			}
		}
		data[name] = xs
	}
	for _, relErr := range []float64{0, 0.001, 0.05} {
		for name, xs := range data {
			h := NewHistogram(HistogramConfig{RelativeError: relErr})
			for _, x := range xs {
				h.Record(x)
			}
			e := h.Config().RelativeError
			for _, p := range []float64{0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100} {
				want, _ := Percentile(xs, p)
				got := h.Quantile(p)
				if !closeTo(got, want, e) {
					t.Errorf("relErr %v %s p%v: got %v, want %v (rel err %.3g > %v)",
						relErr, name, p, got, want, math.Abs(got-want)/math.Abs(want), e)
				}
			}
			s, err := Summarize(xs)
			if err != nil {
				t.Fatal(err)
			}
			if h.Count() != int64(len(xs)) || h.Min() != s.Min || h.Max() != s.Max {
				t.Errorf("%s: count/min/max = %d/%v/%v, want %d/%v/%v", name, h.Count(), h.Min(), h.Max(), len(xs), s.Min, s.Max)
			}
			checkClose(t, name+" mean", h.Mean(), s.Mean, 1e-9)
			checkClose(t, name+" sd", h.StdDev(), s.StdDev, 1e-9)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	all := NewHistogram(HistogramConfig{})
	parts := []*Histogram{NewHistogram(HistogramConfig{}), NewHistogram(HistogramConfig{}), NewHistogram(HistogramConfig{})}
	for i := range 30000 {
		x := math.Exp(r.NormFloat64()) * float64(i%3+1)
		all.Record(x)
		parts[i%3].Record(x)
	}
	parts[1].Record(math.NaN())
	merged := NewHistogram(HistogramConfig{})
	for _, p := range parts {
		if err := merged.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	if merged.Count() != all.Count() || merged.Min() != all.Min() || merged.Max() != all.Max() || merged.Dropped() != 1 {
		t.Errorf("merged count/min/max/dropped = %d/%v/%v/%d, want %d/%v/%v/1",
			merged.Count(), merged.Min(), merged.Max(), merged.Dropped(), all.Count(), all.Min(), all.Max())
	}
	for _, p := range []float64{1, 50, 99, 99.9} {
		if merged.Quantile(p) != all.Quantile(p) {
			t.Errorf("p%v: merged %v, direct %v", p, merged.Quantile(p), all.Quantile(p))
		}
	}
	checkClose(t, "merged mean", merged.Mean(), all.Mean(), 1e-12)
	checkClose(t, "merged sd", merged.StdDev(), all.StdDev(), 1e-12)

	other := NewHistogram(HistogramConfig{RelativeError: 0.05})
	other.Record(1)
	before := merged.Count()
	if err := merged.Merge(other); err == nil || merged.Count() != before {
		t.Errorf("merge of different configs: err = %v, count %d -> %d", err, before, merged.Count())
	}
}

func TestHistogramEdgeCases(t *testing.T) {
	h := NewHistogram(HistogramConfig{})
	if h.Quantile(50) != 0 || h.Mean() != 0 || h.StdDev() != 0 {
		t.Error("empty histogram: want zeros")
	}
	if _, err := h.Summary(); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty Summary: err = %v", err)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		h.Record(v)
	}
	if h.Count() != 0 || h.Dropped() != 3 {
		t.Errorf("count %d dropped %d, want 0 and 3", h.Count(), h.Dropped())
	}
	// Zero, values below Lowest, a huge value above Highest.
	for _, v := range []float64{0, 1e-12, -1e-12, 5, 1e300} {
		h.Record(v)
	}
	if got := h.Quantile(100); got != 1e300 {
		t.Errorf("p100 = %v, want exact max", got)
	}
	if got := h.Quantile(0); got != -1e-12 {
		t.Errorf("p0 = %v, want exact min", got)
	}
	if got := h.Quantile(50); got != 0 {
		t.Errorf("p50 = %v, want 0 (1e-12 is below Lowest)", got)
	}
	if got := h.Quantile(math.NaN()); got != 0 {
		t.Errorf("NaN p = %v", got)
	}
	if _, err := h.Summary(101); !errors.Is(err, ErrRange) {
		t.Errorf("Summary(101): %v", err)
	}
	s, err := h.Summary(75)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 5 || s.Max != 1e300 || s.Extra["p75"] != h.Quantile(75) {
		t.Errorf("summary %+v", s)
	}
	h.Reset()
	if h.Count() != 0 || h.Dropped() != 0 || h.Max() != 0 {
		t.Error("Reset left state")
	}
	// Overflowing moments are reported as 0, never Inf.
	h.Record(math.MaxFloat64)
	h.Record(-math.MaxFloat64)
	if m, sd := h.Mean(), h.StdDev(); !isFinite(m) || !isFinite(sd) {
		t.Errorf("mean %v sd %v not finite", m, sd)
	}
}

func TestHistogramConfigClamp(t *testing.T) {
	for _, c := range []HistogramConfig{
		{RelativeError: -1, Lowest: math.NaN(), Highest: math.Inf(1)},
		{RelativeError: 1e-9, Lowest: 1e-320, Highest: 1e-320},
		{RelativeError: 2, Lowest: math.Inf(1), Highest: -5},
	} {
		h := NewHistogram(c)
		got := h.Config()
		if !(got.RelativeError >= 1e-4 && got.RelativeError <= 0.1 && got.Lowest >= 0x1p-1022 &&
			got.Highest >= 2*got.Lowest && isFinite(got.Highest)) {
			t.Errorf("NewHistogram(%+v).Config() = %+v", c, got)
		}
		h.Record(1)
		h.Record(2)
		if q := h.Quantile(50); !isFinite(q) {
			t.Errorf("%+v: p50 = %v", c, q)
		}
	}
	if got := NewHistogram(HistogramConfig{}).Config(); got != (HistogramConfig{RelativeError: 0.01, Lowest: 1e-9, Highest: 1e15}) {
		t.Errorf("defaults = %+v", got)
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	h := NewHistogram(HistogramConfig{})
	x := 0.5
	if n := testing.AllocsPerRun(1000, func() { x *= 1.01; h.Record(x); h.Record(-x) }); n != 0 {
		t.Errorf("Record allocates %v times per call", n)
	}
}
