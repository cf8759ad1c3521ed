package stats

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"
)

func TestSampleSizeWarningSides(t *testing.T) {
	seq := func(n int, from float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = from + float64(i)
		}
		return xs
	}
	for _, c := range []struct {
		name   string
		na, nb int
		want   Warnings
	}{
		// Two runs against two: both sides short of the 6 a 95% CI needs,
		// and of the 4 per side a significant rank test needs.
		{"2 vs 2", 2, 2, Warnings{
			SampleSizeWarning{Side: SideBoth, NA: 2, NB: 2, Need: 6, For: ForInterval, Level: 0.95},
			SampleSizeWarning{Side: SideBoth, NA: 2, NB: 2, Need: 4, For: ForSignificance, Level: 0.05},
		}},
		// Only a is short: the side must be a, with a's n first.
		{"2 vs 8", 2, 8, Warnings{SampleSizeWarning{Side: SideA, NA: 2, NB: 8, Need: 6, For: ForInterval, Level: 0.95}}},
		{"8 vs 3", 8, 3, Warnings{SampleSizeWarning{Side: SideB, NA: 8, NB: 3, Need: 6, For: ForInterval, Level: 0.95}}},
		{"6 vs 6", 6, 6, nil},
	} {
		cmp, err := Compare(seq(c.na, 0), seq(c.nb, 100), CompareConfig{Bootstrap: BootstrapConfig{Resamples: 20}})
		if err != nil {
			t.Fatal(err)
		}
		var got Warnings
		for _, w := range cmp.Warnings {
			if _, ok := w.(SampleSizeWarning); ok {
				got = append(got, w)
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %#v\nwant %#v", c.name, got, c.want)
		}
	}
	w := SampleSizeWarning{Side: SideBoth, NA: 2, NB: 3, Need: 6, For: ForInterval, Level: 0.95}
	if got := w.Error(); got != "a and b have 2 and 3 values: a 95% confidence interval needs at least 6" {
		t.Errorf("message %q", got)
	}
	w = SampleSizeWarning{Side: SideB, NA: 9, NB: 2, Need: 6, For: ForInterval, Level: 0.9}
	if got := w.Error(); got != "b has 2 values: a 90% confidence interval needs at least 6" {
		t.Errorf("message %q", got)
	}
}

// TestThresholdsMatchBenchmath holds IntervalNeed and SignificanceNeed to
// benchstat's own decisions: benchmath warns exactly when n is below them.
func TestThresholdsMatchBenchmath(t *testing.T) {
	for _, level := range []float64{0.8, 0.9, 0.95, 0.99} {
		need := IntervalNeed(level)
		for n := 2; n <= 10; n++ {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(i)
			}
			s := benchmath.NewSample(xs, &benchmath.DefaultThresholds)
			warned := len(benchmath.AssumeNothing.Summary(s, level).Warnings) > 0
			if warned != (n < need) {
				t.Errorf("level %v, n %d: benchmath warns %v, IntervalNeed %d", level, n, warned, need)
			}
		}
	}
	for _, alpha := range []float64{0.01, 0.05, 0.1} {
		need := SignificanceNeed(alpha)
		for n := 2; n <= 8; n++ {
			a, b := make([]float64, n), make([]float64, n)
			for i := range a {
				a[i], b[i] = float64(i), float64(100+i)
			}
			th := benchmath.DefaultThresholds
			th.CompareAlpha = alpha
			cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(a, &th), benchmath.NewSample(b, &th))
			warned := len(cmp.Warnings) > 0
			if warned != (n < need) {
				t.Errorf("alpha %v, n %d: benchmath warns %v (p %v), SignificanceNeed %d", alpha, n, warned, cmp.P, need)
			}
		}
	}
	if IntervalNeed(0.95) != 6 || SignificanceNeed(0.05) != 4 {
		t.Errorf("IntervalNeed(0.95) = %d, SignificanceNeed(0.05) = %d; want 6 and 4", IntervalNeed(0.95), SignificanceNeed(0.05))
	}
}

func TestNormalApproxWarning(t *testing.T) {
	// Ties force the normal approximation; 5 vs 5 is small for it.
	c, err := Compare([]float64{1, 1, 2, 3, 4}, []float64{2, 5, 6, 7, 8}, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 20}})
	if err != nil {
		t.Fatal(err)
	}
	want := NormalApproxWarning{NA: 5, NB: 5}
	found := false
	for _, w := range c.Warnings {
		found = found || w == Warning(want)
	}
	if c.MannWhitney.Method != MethodNormal || !found {
		t.Errorf("method %s, warnings %#v", c.MannWhitney.Method, c.Warnings)
	}
}

func TestUndefinedWarning(t *testing.T) {
	c, err := Compare([]float64{1}, []float64{2}, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 10}})
	if err != nil {
		t.Fatal(err)
	}
	var stats []string
	for _, w := range c.Warnings {
		if u, ok := w.(UndefinedWarning); ok {
			stats = append(stats, u.Stat)
			if !strings.HasPrefix(u.Error(), u.Stat+" not computed: ") || u.Reason == "" {
				t.Errorf("message %q", u.Error())
			}
		}
	}
	if !reflect.DeepEqual(stats, []string{StatWelch, StatHedgesG}) {
		t.Errorf("undefined stats %q, want welch and hedges", stats)
	}
}

func TestWarningsJSON(t *testing.T) {
	ws := Warnings{
		SampleSizeWarning{Side: SideA, NA: 2, NB: 7, Need: 6, For: ForInterval, Level: 0.95},
		NormalApproxWarning{NA: 5, NB: 6},
		UndefinedWarning{Stat: StatSpearman, Reason: "constant"},
	}
	data, err := json.Marshal(ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"kind":"sample_size"`, `"side":"a"`, `"n_a":2`, `"need":6`, `"for":"confidence_interval"`, `"level":0.95`, `"message":"a has 2 values: a 95% confidence interval needs at least 6"`, `"kind":"normal_approximation"`, `"kind":"undefined"`, `"stat":"spearman's rho"`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("JSON lacks %s: %s", field, data)
		}
	}
	var back Warnings
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, ws) {
		t.Errorf("round trip: %v: %#v", err, back)
	}
	// An unknown kind reads back as a Note that writes the same JSON.
	other := `[{"kind":"small_n","message":"n = 2 is small","n":2}]`
	if err := json.Unmarshal([]byte(other), &back); err != nil {
		t.Fatal(err)
	}
	if n, ok := back[0].(Note); !ok || n.Kind != "small_n" || n.Error() != "n = 2 is small" {
		t.Errorf("note %#v", back[0])
	}
	if again, _ := json.Marshal(back); string(again) != other {
		t.Errorf("note JSON %s, want %s", again, other)
	}
	if got := percent(0.95); got != "95" || math.IsNaN(0.95) {
		t.Errorf("percent %q", got)
	}
}
