package stats

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Correlation is a correlation coefficient with its significance. It is
// JSON-safe.
type Correlation struct {
	// N is the number of pairs.
	N int `json:"n"`
	// R is the coefficient, in [-1, 1]: Pearson's r or Spearman's rho.
	R float64 `json:"r"`
	// P is the two-sided p-value of the null hypothesis of no correlation.
	// Pearson's comes from Student's t distribution with N-2 degrees of
	// freedom applied to t = R·√((N-2)/(1-R²)) (0 when |R| is 1).
	// Spearman's is exact for N up to [ExactSpearmanMaxN] (the share of all
	// N! orderings of one variable's ranks whose |rho| reaches |R|), so it
	// is never below 2/N!; above that it is the t approximation.
	P float64 `json:"p"`
	// Method is "pearson" or "spearman".
	Method string `json:"method"`
}

// Pearson returns Pearson's product-moment correlation of x and y (gonum's
// stat.Correlation) with its two-sided p-value, the same as
// scipy.stats.pearsonr and R's cor.test(method = "pearson"). It returns
// [ErrLength] when x and y differ in length, [ErrNaN] for NaN or ±Inf,
// [ErrSampleSize] for fewer than 3 pairs and [ErrZeroVariance] when x or y
// is constant.
func Pearson(x, y []float64) (Correlation, error) {
	if err := checkPairs("pearson", x, y); err != nil {
		return Correlation{}, err
	}
	r := stat.Correlation(x, y, nil)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		// stat.Correlation overflowed on huge values: correlate scaled copies.
		r = stat.Correlation(scaled(x), scaled(y), nil)
	}
	return correlation("pearson", len(x), r)
}

// ExactSpearmanMaxN is the largest number of pairs for which [Spearman]
// computes its p-value exactly, by enumerating all N! orderings (9! is
// 362,880); the t approximation it uses above that claims p = 0 for a
// perfect rank order of 4 pairs, where the exact p is 1/12.
const ExactSpearmanMaxN = 9

// Spearman returns Spearman's rank correlation rho of x and y (Pearson's r
// of the ranks, ties given their average rank) with its two-sided p-value:
// exact up to [ExactSpearmanMaxN] pairs, as R's cor.test(method =
// "spearman") gives without ties (with ties the permutation distribution
// of the average ranks), and the t approximation of scipy.stats.spearmanr
// above. Errors are those of [Pearson]; a variable whose values are all
// equal has zero rank variance.
func Spearman(x, y []float64) (Correlation, error) {
	if err := checkPairs("spearman", x, y); err != nil {
		return Correlation{}, err
	}
	rx, ry := ranks(x), ranks(y)
	if err := checkVariance("spearman", rx, ry); err != nil {
		return Correlation{}, err
	}
	c, err := correlation("spearman", len(x), stat.Correlation(rx, ry, nil))
	if err == nil && len(x) <= ExactSpearmanMaxN {
		c.P = exactRankP(rx, ry)
	}
	return c, err
}

// exactRankP is the two-sided permutation p-value of the correlation of
// rx and ry: the share of orderings of ry whose |r| is at least the
// observed |r|, up to rounding. It walks all len(ry)! orderings with
// Heap's algorithm.
func exactRankP(rx, ry []float64) float64 {
	cx, cy := centered(rx), centered(ry)
	dot := func() float64 {
		var s float64
		for i := range cx {
			s += cx[i] * cy[i]
		}
		return s
	}
	obs := math.Abs(dot()) * (1 - 1e-9)
	n := len(cy)
	c := make([]int, n)
	hits, total := 1, 1 // the observed ordering
	for i := 0; i < n; {
		if c[i] >= i {
			c[i] = 0
			i++
			continue
		}
		if i%2 == 0 {
			cy[0], cy[i] = cy[i], cy[0]
		} else {
			cy[c[i]], cy[i] = cy[i], cy[c[i]]
		}
		total++
		if math.Abs(dot()) >= obs {
			hits++
		}
		c[i]++
		i = 0
	}
	return float64(hits) / float64(total)
}

// centered returns xs minus its mean.
func centered(xs []float64) []float64 {
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x - m
	}
	return out
}

func checkPairs(what string, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("stats: %s: %d x values and %d y values: %w", what, len(x), len(y), ErrLength)
	}
	if len(x) < 3 {
		return fmt.Errorf("stats: %s: need at least 3 pairs, have %d: %w", what, len(x), ErrSampleSize)
	}
	if _, _, err := minMax(x); err != nil {
		return fmt.Errorf("stats: %s: x: %w", what, err)
	}
	if _, _, err := minMax(y); err != nil {
		return fmt.Errorf("stats: %s: y: %w", what, err)
	}
	return checkVariance(what, x, y)
}

func checkVariance(what string, x, y []float64) error {
	for _, v := range []struct {
		name string
		xs   []float64
	}{{"x", x}, {"y", y}} {
		lo, hi, _ := minMax(v.xs)
		if lo == hi {
			return fmt.Errorf("stats: %s: %s is constant (%v): %w", what, v.name, lo, ErrZeroVariance)
		}
	}
	return nil
}

// correlation clamps r into [-1, 1] and adds the p-value.
func correlation(method string, n int, r float64) (Correlation, error) {
	if math.IsNaN(r) {
		return Correlation{}, fmt.Errorf("stats: %s: %w", method, ErrZeroVariance)
	}
	r = min(max(r, -1), 1)
	c := Correlation{N: n, R: r, Method: method}
	if math.Abs(r) < 1 {
		df := float64(n - 2)
		t := r * math.Sqrt(df/((1-r)*(1+r)))
		c.P = min(1, 2*distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(-math.Abs(t)))
	}
	return c, nil
}

// ranks returns the 1-based ranks of xs, ties given their average rank.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		switch {
		case xs[i] < xs[j]:
			return -1
		case xs[i] > xs[j]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// scaled returns xs divided by its largest magnitude.
func scaled(xs []float64) []float64 {
	var m float64
	for _, x := range xs {
		m = max(m, math.Abs(x))
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x / m
	}
	return out
}
