package stats

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func normalSample(r *rand.Rand, n int, mu, sd float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = mu + sd*r.NormFloat64()
	}
	return xs
}

func TestCompareClearDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	a, b := normalSample(r, 30, 100, 5), normalSample(r, 30, 120, 5)
	c, err := Compare(a, b, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 2000}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Significant || c.MannWhitney.Method != MethodExact || c.MannWhitney.P > 1e-10 {
		t.Errorf("not significant: %+v", c.MannWhitney)
	}
	if c.CliffsDelta < 0.9 || c.CliffsMagnitude != "large" || c.HedgesG == nil || *c.HedgesG < 2 {
		t.Errorf("effect sizes: delta %v (%s), g %v", c.CliffsDelta, c.CliffsMagnitude, c.HedgesG)
	}
	if c.Welch == nil || c.Welch.T > -10 {
		t.Errorf("welch %+v", c.Welch)
	}
	for name, iv := range map[string]*Interval{"median diff": &c.MedianDiff, "mean diff": &c.MeanDiff, "median ratio": c.MedianRatio, "mean ratio": c.MeanRatio} {
		if iv == nil {
			t.Fatalf("%s missing", name)
		}
		if !(iv.Lo <= iv.Estimate && iv.Estimate <= iv.Hi) || iv.Level != 0.95 {
			t.Errorf("%s = %v", name, iv)
		}
	}
	if !c.MeanDiff.Contains(20) || !c.MeanRatio.Contains(1.2) || c.MeanDiff.Lo < 15 {
		t.Errorf("mean diff %v, ratio %v: want about 20 and 1.2", c.MeanDiff, c.MeanRatio)
	}
	checkClose(t, "mean diff", c.MeanDiff.Estimate, c.MeanB-c.MeanA, 1e-12)
	checkClose(t, "median ratio", c.MedianRatio.Estimate, c.MedianB/c.MedianA, 1e-12)
	if c.CliffsDelta <= 0 || c.MedianRatio.Lo <= 1 {
		t.Errorf("b not larger: delta %v, median ratio %v", c.CliffsDelta, c.MedianRatio)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
	mw, _ := MannWhitneyU(a, b)
	if c.MannWhitney != mw {
		t.Errorf("MannWhitney %+v, direct %+v", c.MannWhitney, mw)
	}
	// Swapping the samples flips the direction.
	d, _ := Compare(b, a, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 200}})
	if !d.Significant || d.CliffsDelta != -c.CliffsDelta || d.MedianDiff.Hi >= 0 {
		t.Errorf("swapped: significant %v, delta %v, median diff %v", d.Significant, d.CliffsDelta, d.MedianDiff)
	}
}

func TestCompareNoDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	a, b := normalSample(r, 40, 50, 4), normalSample(r, 40, 50, 4)
	c, err := Compare(a, b, CompareConfig{Alpha: 0.01, Bootstrap: BootstrapConfig{Resamples: 1000, Seed: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Significant || c.Alpha != 0.01 || c.MedianDiff.Level != 0.99 {
		t.Errorf("significant=%v alpha=%v level=%v", c.Significant, c.Alpha, c.MedianDiff.Level)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
	if !c.MeanDiff.Contains(0) {
		t.Errorf("mean diff %v excludes 0 with p=%v", c.MeanDiff, c.MannWhitney.P)
	}
	again, _ := Compare(a, b, CompareConfig{Alpha: 0.01, Bootstrap: BootstrapConfig{Resamples: 1000, Seed: 3}})
	if !reflect.DeepEqual(c, again) {
		t.Error("Compare is not reproducible with the same seed")
	}
}

func TestCompareSmallSamples(t *testing.T) {
	// Three runs each can never reach p < 0.05 with a rank test (the
	// smallest two-sided exact p is 0.1): benchstat warns, the verdict says
	// inconclusive.
	c, err := Compare([]float64{10, 11, 12}, []float64{20, 21, 22}, CompareConfig{})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "p", c.MannWhitney.P, 0.1, 1e-12) // 2/C(6,3)
	want := Warnings{
		SampleSizeWarning{Side: SideBoth, NA: 3, NB: 3, Need: 6, For: ForInterval, Level: 0.95},
		SampleSizeWarning{Side: SideBoth, NA: 3, NB: 3, Need: 4, For: ForSignificance, Level: 0.05},
	}
	if c.Significant || !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("significant %v, warnings:\n%#v\nwant\n%#v", c.Significant, c.Warnings, want)
	}

	// One value each: no t-test, no g, no error.
	c, err = Compare([]float64{1}, []float64{2}, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Welch != nil || c.HedgesG != nil || c.MedianDiff.Estimate != 1 || c.MedianRatio.Estimate != 2 {
		t.Errorf("n=1: %+v", c)
	}
	if !hasUndefined(c.Warnings, StatWelch) || !hasUndefined(c.Warnings, StatHedgesG) {
		t.Errorf("n=1 warnings %q", c.Warnings)
	}
}

func hasUndefined(ws Warnings, stat string) bool {
	for _, w := range ws {
		if u, ok := w.(UndefinedWarning); ok && u.Stat == stat {
			return true
		}
	}
	return false
}

func hasKind(ws Warnings, kind string) bool {
	for _, w := range ws {
		if w.WarningKind() == kind {
			return true
		}
	}
	return false
}

func TestCompareDegenerate(t *testing.T) {
	// Baseline median 0: no ratio.
	c, err := Compare([]float64{0, 0, 0, 1, 0, 0, 0}, []float64{1, 2, 3, 4, 5, 6, 7}, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if c.MedianRatio != nil || !hasUndefined(c.Warnings, StatMedianRatio) {
		t.Errorf("median ratio %v, warnings %q", c.MedianRatio, c.Warnings)
	}
	if c.MeanRatio != nil { // some resamples of a are all zeros
		t.Errorf("mean ratio %v", c.MeanRatio)
	}
	if !hasKind(c.Warnings, NormalApproxWarning{}.WarningKind()) {
		t.Errorf("ties warning missing: %q", c.Warnings)
	}
	// Everything equal.
	c, err = Compare([]float64{4, 4, 4, 4, 4}, []float64{4, 4, 4, 4, 4}, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Significant || c.MannWhitney.P != 1 || !hasUndefined(c.Warnings, StatMannWhitney) || hasKind(c.Warnings, NormalApproxWarning{}.WarningKind()) {
		t.Errorf("all equal: %+v", c)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Error(err)
	}
	// Huge values: differences overflow and are zeroed, still JSON-safe.
	c, err = Compare([]float64{-math.MaxFloat64, -math.MaxFloat64}, []float64{math.MaxFloat64, math.MaxFloat64}, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("huge values: %v", err)
	}
}

func TestCompareErrors(t *testing.T) {
	ok := []float64{1, 2, 3}
	for _, c := range []struct {
		name string
		a, b []float64
		cfg  CompareConfig
		want error
	}{
		{"empty a", nil, ok, CompareConfig{}, ErrEmpty},
		{"empty b", ok, []float64{}, CompareConfig{}, ErrEmpty},
		{"NaN", ok, []float64{1, math.NaN()}, CompareConfig{}, ErrNaN},
		{"alpha 1", ok, ok, CompareConfig{Alpha: 1}, ErrRange},
		{"alpha -0.1", ok, ok, CompareConfig{Alpha: -0.1}, ErrRange},
		{"level 2", ok, ok, CompareConfig{Bootstrap: BootstrapConfig{Level: 2}}, ErrRange},
	} {
		if _, err := Compare(c.a, c.b, c.cfg); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestResultsMarshalJSON(t *testing.T) {
	c, err := Compare(sleep1, sleep2, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 500}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("round trip: %v\n%s", err, data)
	}
	for _, field := range []string{`"mann_whitney":{"u":25.5,`, `"method":"normal"`, `"welch":{"t":-1.86`, `"significant":false`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("JSON lacks %s:\n%s", field, data)
		}
	}
}
