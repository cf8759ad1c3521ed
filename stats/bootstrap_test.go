package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBootstrapReproducible(t *testing.T) {
	xs := []float64{12, 15, 9, 22, 13, 14, 18, 11, 16, 30}
	a, err := BootstrapMedian(xs, BootstrapConfig{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BootstrapMedian(xs, BootstrapConfig{Seed: 42})
	c, _ := BootstrapMedian(xs, BootstrapConfig{Seed: 43})
	if a != b {
		t.Errorf("same seed, different intervals: %v, %v", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same interval %v", a)
	}
	if a.Estimate != 14.5 || a.Level != 0.95 || !(a.Lo <= a.Estimate && a.Estimate <= a.Hi) {
		t.Errorf("median interval %v", a)
	}
	if !slices.Equal(xs, []float64{12, 15, 9, 22, 13, 14, 18, 11, 16, 30}) {
		t.Error("bootstrap modified its input")
	}
}

func TestBootstrapMatchesNormalTheory(t *testing.T) {
	// For n = 2000 normal values the bootstrap distribution of the mean is
	// close to normal with sd = s·sqrt((n-1)/n)/sqrt(n): its 95% interval
	// should match mean ± 1.96·that to a few percent of its width.
	r := rand.New(rand.NewPCG(21, 22))
	xs := make([]float64, 2000)
	for i := range xs {
		xs[i] = 10 + 3*r.NormFloat64()
	}
	s, _ := Summarize(xs)
	iv, err := BootstrapMean(xs, BootstrapConfig{Seed: 7, Resamples: 4000})
	if err != nil {
		t.Fatal(err)
	}
	n := float64(len(xs))
	half := 1.959963984540054 * s.StdDev * math.Sqrt((n-1)/n) / math.Sqrt(n)
	if math.Abs(iv.Lo-(s.Mean-half)) > 0.05*half || math.Abs(iv.Hi-(s.Mean+half)) > 0.05*half {
		t.Errorf("bootstrap %v, normal theory [%v, %v]", iv, s.Mean-half, s.Mean+half)
	}
	checkClose(t, "estimate", iv.Estimate, s.Mean, 1e-12)
}

func TestBootstrapResamplesUniformly(t *testing.T) {
	// With statistic = the first resampled value, the bootstrap
	// distribution is the sample itself: the 2.5% and 97.5% points of
	// 0..999 are 24.975 and 974.025, give or take sampling error
	// (sd of the 2.5% point of 20,000 draws is about 1.1 ranks).
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(i)
	}
	iv, err := Bootstrap(xs, func(s []float64) float64 { return s[0] }, BootstrapConfig{Seed: 1, Resamples: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(iv.Lo-24.975) > 6 || math.Abs(iv.Hi-974.025) > 6 {
		t.Errorf("interval %v, want about [25, 974]", iv)
	}
	// A constant statistic gives a zero-width interval.
	iv, _ = Bootstrap(xs, func([]float64) float64 { return 3 }, BootstrapConfig{Resamples: 10})
	if iv.Lo != 3 || iv.Hi != 3 {
		t.Errorf("constant statistic: %v", iv)
	}
	// intN is unbiased in the aggregate: counts of 0..6 over 70,000 draws.
	rs := newResampler(9)
	var counts [7]int
	for range 70000 {
		counts[rs.intN(7)]++
	}
	for i, c := range counts {
		if c < 9500 || c > 10500 { // 5 sd is about 450
			t.Errorf("intN(7) drew %d %d times of 70000", i, c)
		}
	}
}

func TestBootstrapErrors(t *testing.T) {
	xs := []float64{1, 2, 3}
	for _, c := range []struct {
		name string
		xs   []float64
		stat func([]float64) float64
		cfg  BootstrapConfig
		want error
	}{
		{"empty", nil, mean, BootstrapConfig{}, ErrEmpty},
		{"NaN", []float64{1, math.NaN()}, mean, BootstrapConfig{}, ErrNaN},
		{"negative resamples", xs, mean, BootstrapConfig{Resamples: -1}, ErrRange},
		{"level 1", xs, mean, BootstrapConfig{Level: 1}, ErrRange},
		{"level NaN", xs, mean, BootstrapConfig{Level: math.NaN()}, ErrRange},
		{"statistic NaN", xs, func([]float64) float64 { return math.NaN() }, BootstrapConfig{}, ErrNaN},
		{"statistic NaN on a resample", xs, func(s []float64) float64 {
			if s[0] == 3 {
				return math.Inf(1)
			}
			return 0
		}, BootstrapConfig{Resamples: 100}, ErrNaN},
	} {
		if _, err := Bootstrap(c.xs, c.stat, c.cfg); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	iv, err := BootstrapMean([]float64{5}, BootstrapConfig{Resamples: 1})
	if err != nil || iv != (Interval{Estimate: 5, Lo: 5, Hi: 5, Level: 0.95}) {
		t.Errorf("single value, one resample: %v, %v", iv, err)
	}
	if s := iv.String(); s != "5 [5, 5] 95% CI" {
		t.Errorf("String() = %q", s)
	}
	if !iv.Contains(5) || iv.Contains(5.1) {
		t.Error("Contains")
	}
}
