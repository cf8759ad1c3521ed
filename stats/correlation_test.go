package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestCorrelationPublished(t *testing.T) {
	tests := []struct {
		src    string
		f      func(x, y []float64) (Correlation, error)
		x, y   []float64
		r, p   float64
		method string
	}{
		// scipy.stats.pearsonr docs: pearsonr([1, 2, 3, 4, 5], [10, 9, 2.5, 6, 4])
		// -> statistic=-0.7426106572325056, pvalue=0.15055580885344558
		// (p also by hand from the closed-form t CDF for 3 degrees of freedom:
		// F(t) = 1/2 + (t/(√3(1+t²/3)) + atan(t/√3))/π -> 0.15055580885344544).
		{"scipy pearsonr docs", Pearson, []float64{1, 2, 3, 4, 5}, []float64{10, 9, 2.5, 6, 4}, -0.7426106572325056, 0.15055580885344558, "pearson"},
		// scipy.stats.spearmanr docs: spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
		// -> statistic=0.8207826816681233 (its t-approximate pvalue
		// 0.0886 is replaced by the exact one: 16 of the 120 orderings of
		// the average ranks reach |rho|, counted with Python's itertools).
		{"scipy spearmanr docs", Spearman, []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 0.8207826816681233, 16.0 / 120, "spearman"},
		// R: cor.test(1:5, c(2, 1, 4, 3, 5), method = "spearman") -> rho 0.8,
		// exact p-value 0.1333 (8 orderings with sum d² <= 4, two-sided).
		{"R cor.test exact", Spearman, []float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}, 0.8, 16.0 / 120, "spearman"},
		// Perfect monotone but not linear: rho = 1; exactly 2 of the 4! = 24
		// orderings reach |rho| = 1, so p = 1/12, not the t approximation's 0.
		{"monotone", Spearman, []float64{1, 2, 3, 4}, []float64{1, 8, 27, 64}, 1, 1.0 / 12, "spearman"},
		// Exact line: r = -1.
		{"line", Pearson, []float64{1, 2, 3}, []float64{6, 4, 2}, -1, 0, "pearson"},
	}
	for _, tc := range tests {
		got, err := tc.f(tc.x, tc.y)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		checkClose(t, tc.src+" r", got.R, tc.r, 1e-12)
		checkClose(t, tc.src+" p", got.P, tc.p, 1e-9)
		if got.N != len(tc.x) || got.Method != tc.method {
			t.Errorf("%s: %+v", tc.src, got)
		}
	}
}

// Above ExactSpearmanMaxN pairs Spearman's p is the t approximation:
// Pearson's p of the ranks.
func TestSpearmanLargeNUsesTApproximation(t *testing.T) {
	x := []float64{3, 1, 4, 1.5, 5, 9, 2, 6, 5.5, 3.5}
	y := []float64{2, 7, 1, 8, 2.5, 8.5, 1.8, 2.8, 4.5, 9}
	s, err := Spearman(x, y)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Pearson(ranks(x), ranks(y))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "rho", s.R, p.R, 1e-12)
	checkClose(t, "p", s.P, p.P, 1e-12)
}

func TestCorrelationProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	x, y := make([]float64, 200), make([]float64, 200)
	for i := range x {
		x[i] = r.NormFloat64()
		y[i] = x[i] + 0.5*r.NormFloat64()
	}
	p, _ := Pearson(x, y)
	// Spearman is invariant under monotone transforms; Pearson of the ranks.
	ex := make([]float64, len(x))
	for i := range x {
		ex[i] = math.Exp(x[i])
	}
	s1, _ := Spearman(x, y)
	s2, _ := Spearman(ex, y)
	s3, _ := Pearson(ranks(x), ranks(y))
	checkClose(t, "spearman invariance", s1.R, s2.R, 1e-12)
	checkClose(t, "spearman = pearson of ranks", s1.R, s3.R, 1e-12)
	// True correlation is 1/sqrt(1.25) = 0.894; n = 200 gives it to about ±0.03.
	if math.Abs(p.R-0.894) > 0.06 || p.P > 1e-50 {
		t.Errorf("pearson = %+v", p)
	}
	// Huge values: the scaled fallback keeps r finite.
	big := []float64{1e300, -1e300, 5e299, 2e299}
	got, err := Pearson(big, []float64{1, -1, 0.5, 0.2})
	if err != nil || math.Abs(got.R-1) > 1e-12 {
		t.Errorf("huge values: %+v, %v", got, err)
	}
}

func TestCorrelationErrors(t *testing.T) {
	for _, f := range []func(x, y []float64) (Correlation, error){Pearson, Spearman} {
		for _, c := range []struct {
			x, y []float64
			want error
		}{
			{[]float64{1, 2, 3}, []float64{1, 2}, ErrLength},
			{[]float64{1, 2}, []float64{1, 2}, ErrSampleSize},
			{nil, nil, ErrSampleSize},
			{[]float64{1, 1, 1}, []float64{1, 2, 3}, ErrZeroVariance},
			{[]float64{1, 2, 3}, []float64{4, 4, 4}, ErrZeroVariance},
			{[]float64{1, math.NaN(), 3}, []float64{1, 2, 3}, ErrNaN},
			{[]float64{1, 2, 3}, []float64{1, 2, math.Inf(-1)}, ErrNaN},
		} {
			if _, err := f(c.x, c.y); !errors.Is(err, c.want) {
				t.Errorf("(%v, %v): %v, want %v", c.x, c.y, err, c.want)
			}
		}
	}
}
