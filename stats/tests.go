package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

var (
	// ErrSampleSize is returned when a sample is too small for a test:
	// fewer than two values for a t-test, fewer than three pairs for a
	// correlation.
	ErrSampleSize = errors.New("stats: sample too small")
	// ErrZeroVariance is returned when a statistic divides by a variance
	// that is zero: a t-test or effect size of two constant samples, a
	// correlation with a constant variable.
	ErrZeroVariance = errors.New("stats: zero variance")
	// ErrLength is returned for paired samples of different lengths.
	ErrLength = errors.New("stats: samples differ in length")
)

// MannWhitneyExactLimit is the largest sample size for which
// [MannWhitneyU] uses the exact distribution of U (when there are no ties),
// as R's wilcox.test does.
const MannWhitneyExactLimit = 50

// Mann-Whitney methods, the values of MannWhitney.Method.
const (
	MethodExact  = "exact"
	MethodNormal = "normal"
)

// MannWhitney is the result of a two-sided Mann-Whitney U test (Wilcoxon
// rank-sum test) of samples a and b. It is JSON-safe.
type MannWhitney struct {
	// U is the statistic of the first sample a: the number of pairs (a_i,
	// b_j) with a_i > b_j plus half the number of ties. It is scipy's
	// mannwhitneyu statistic and R's wilcox.test W. The statistic of b is
	// NA·NB - U.
	U float64 `json:"u"`
	// Z is the standardized statistic of the normal approximation, with
	// continuity correction; 0 when Method is "exact".
	Z float64 `json:"z,omitempty"`
	// P is the two-sided p-value.
	P float64 `json:"p"`
	// Method is "exact" (the exact distribution of U, used when both
	// samples have at most MannWhitneyExactLimit values and there are no
	// ties) or "normal" (the normal approximation with tie correction and
	// continuity correction, R's wilcox.test(correct = TRUE)).
	Method string `json:"method"`
	// Ties reports whether any value occurs more than once across both
	// samples.
	Ties bool `json:"ties,omitempty"`
}

// MannWhitneyU performs the two-sided Mann-Whitney U test of the null
// hypothesis that a and b come from the same distribution, against the
// alternative that values of one tend to be larger than values of the
// other. See [MannWhitney] for the method. When every value is the same, the
// test has no information: P is 1. It returns [ErrEmpty] or [ErrNaN] for a
// sample that is empty or holds NaN or ±Inf.
func MannWhitneyU(a, b []float64) (MannWhitney, error) {
	if err := checkSample("mann-whitney: a", a); err != nil {
		return MannWhitney{}, err
	}
	if err := checkSample("mann-whitney: b", b); err != nil {
		return MannWhitney{}, err
	}
	n1, n2 := len(a), len(b)
	ua, ties, tieTerm := rankSumU(a, b)
	res := MannWhitney{U: ua, Ties: ties}
	nn := float64(n1) * float64(n2)
	if !ties && n1 <= MannWhitneyExactLimit && n2 <= MannWhitneyExactLimit {
		res.Method = MethodExact
		u := min(ua, nn-ua)
		res.P = min(1, 2*exactUCDF(n1, n2, int(u)))
		return res, nil
	}
	res.Method = MethodNormal
	N := float64(n1 + n2)
	sigma := math.Sqrt(nn / 12 * ((N + 1) - tieTerm/(N*(N-1))))
	if sigma == 0 || math.IsNaN(sigma) {
		res.P = 1
		return res, nil
	}
	z := ua - nn/2
	switch {
	case z > 0:
		z -= 0.5
	case z < 0:
		z += 0.5
	}
	res.Z = z / sigma
	res.P = min(1, math.Erfc(math.Abs(res.Z)/math.Sqrt2))
	return res, nil
}

// rankSumU returns the U statistic of a, whether there are ties, and the
// tie term Σ(t³-t) over groups of t equal values.
func rankSumU(a, b []float64) (ua float64, ties bool, tieTerm float64) {
	type lv struct {
		v     float64
		fromA bool
	}
	m := make([]lv, 0, len(a)+len(b))
	for _, x := range a {
		m = append(m, lv{x, true})
	}
	for _, x := range b {
		m = append(m, lv{x, false})
	}
	slices.SortFunc(m, func(x, y lv) int {
		switch {
		case x.v < y.v:
			return -1
		case x.v > y.v:
			return 1
		}
		return 0
	})
	var ra float64 // rank sum of a, ranks from 1, ties averaged
	for i := 0; i < len(m); {
		j, na := i, 0
		for ; j < len(m) && m[j].v == m[i].v; j++ {
			if m[j].fromA {
				na++
			}
		}
		t := float64(j - i)
		if j-i > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		ra += float64(na) * float64(i+1+j) / 2 // mean of ranks i+1..j
		i = j
	}
	n1 := float64(len(a))
	return ra - n1*(n1+1)/2, ties, tieTerm
}

// exactUCDF returns P(U <= u) for the U statistic of samples of n1 and n2
// values without ties under the null hypothesis, from the counts
// f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u) of arrangements of m values of
// one sample and n of the other with statistic u (Mann and Whitney 1947),
// divided by C(n1+n2, n1). It needs O(n1·n2·u) time.
func exactUCDF(n1, n2, u int) float64 {
	if u < 0 {
		return 0
	}
	if u >= n1*n2 {
		return 1
	}
	w := u + 1 // counts for statistics 0..u only
	// prev[n] holds f(m-1, n, ·), cur[n] holds f(m, n, ·).
	prev := make([][]float64, n2+1)
	cur := make([][]float64, n2+1)
	for n := range prev {
		prev[n] = make([]float64, w)
		cur[n] = make([]float64, w)
		prev[n][0] = 1 // f(0, n, 0) = 1
	}
	for m := 1; m <= n1; m++ {
		clear(cur[0])
		cur[0][0] = 1 // f(m, 0, 0) = 1
		for n := 1; n <= n2; n++ {
			c, up, left := cur[n], prev[n], cur[n-1]
			for k := range c {
				v := left[k]
				if k >= n {
					v += up[k-n]
				}
				c[k] = v
			}
		}
		prev, cur = cur, prev
	}
	var sum float64
	for _, c := range prev[n2] {
		sum += c
	}
	total := 1.0 // C(n1+n2, n1)
	for i := 1; i <= n1; i++ {
		total = total * float64(n2+i) / float64(i)
	}
	return min(sum/total, 1)
}

// TTest is the result of Welch's unequal-variances t-test. It is JSON-safe.
type TTest struct {
	// T is the t statistic (mean(a) - mean(b)) / SE, scipy's sign
	// convention for ttest_ind(a, b, equal_var=False).
	T float64 `json:"t"`
	// DF is the Welch–Satterthwaite degrees of freedom.
	DF float64 `json:"df"`
	// P is the two-sided p-value from Student's t distribution with DF
	// degrees of freedom (gonum's distuv.StudentsT).
	P float64 `json:"p"`
}

// WelchT performs Welch's two-sided t-test of the null hypothesis that a
// and b have equal means, without assuming equal variances. It returns
// [ErrEmpty] or [ErrNaN] for an unfit sample, [ErrSampleSize] when either
// sample has fewer than two values and [ErrZeroVariance] when both are
// constant.
func WelchT(a, b []float64) (TTest, error) {
	if err := checkSample("welch: a", a); err != nil {
		return TTest{}, err
	}
	if err := checkSample("welch: b", b); err != nil {
		return TTest{}, err
	}
	if len(a) < 2 || len(b) < 2 {
		return TTest{}, fmt.Errorf("stats: welch: need at least 2 values in each sample, have %d and %d: %w", len(a), len(b), ErrSampleSize)
	}
	ma, sa, err := meanSD(a)
	if err != nil {
		return TTest{}, fmt.Errorf("stats: welch: a: %w", err)
	}
	mb, sb, err := meanSD(b)
	if err != nil {
		return TTest{}, fmt.Errorf("stats: welch: b: %w", err)
	}
	na, nb := float64(len(a)), float64(len(b))
	va, vb := sa*sa/na, sb*sb/nb
	se := math.Sqrt(va + vb)
	if se == 0 {
		return TTest{}, fmt.Errorf("stats: welch: both samples are constant: %w", ErrZeroVariance)
	}
	t := (ma - mb) / se
	df := (va + vb) * (va + vb) / (va*va/(na-1) + vb*vb/(nb-1))
	if !isFinite(t) || !isFinite(df) {
		return TTest{}, fmt.Errorf("stats: welch: %w", ErrOverflow)
	}
	p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(-math.Abs(t))
	return TTest{T: t, DF: df, P: min(p, 1)}, nil
}

// meanSD is meanStdDev for a sample already checked.
func meanSD(xs []float64) (m, sd float64, err error) {
	lo, hi, _ := minMax(xs)
	return meanStdDev(xs, lo, hi)
}

// CliffsDelta returns Cliff's delta of b relative to a: the probability
// that a value of b exceeds a value of a minus the probability that it is
// smaller, P(b > a) - P(b < a), in [-1, 1]; 0 means the samples overlap
// evenly. It is U-based, O((n1+n2) log(n1+n2)). Errors are those of
// [MannWhitneyU].
func CliffsDelta(a, b []float64) (float64, error) {
	if err := checkSample("cliff's delta: a", a); err != nil {
		return 0, err
	}
	if err := checkSample("cliff's delta: b", b); err != nil {
		return 0, err
	}
	ua, _, _ := rankSumU(a, b)
	return cliffsFromU(ua, len(a), len(b)), nil
}

func cliffsFromU(ua float64, n1, n2 int) float64 {
	nn := float64(n1) * float64(n2)
	return (nn - 2*ua) / nn
}

// CliffsMagnitude names the size of Cliff's delta d by the thresholds of
// Romano et al. (2006): |d| < 0.147 "negligible", < 0.33 "small", < 0.474
// "medium", otherwise "large".
func CliffsMagnitude(d float64) string {
	switch d = math.Abs(d); {
	case d < 0.147:
		return "negligible"
	case d < 0.33:
		return "small"
	case d < 0.474:
		return "medium"
	}
	return "large"
}

// HedgesG returns Hedges' g of b relative to a: (mean(b) - mean(a)) divided
// by the pooled sample standard deviation, times the exact small-sample
// correction J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν-1)/2)) with ν = n1+n2-2 (Hedges
// 1981). It returns [ErrEmpty] or [ErrNaN] for an unfit sample,
// [ErrSampleSize] when either sample has fewer than two values and
// [ErrZeroVariance] when both are constant.
func HedgesG(a, b []float64) (float64, error) {
	if err := checkSample("hedges' g: a", a); err != nil {
		return 0, err
	}
	if err := checkSample("hedges' g: b", b); err != nil {
		return 0, err
	}
	if len(a) < 2 || len(b) < 2 {
		return 0, fmt.Errorf("stats: hedges' g: need at least 2 values in each sample, have %d and %d: %w", len(a), len(b), ErrSampleSize)
	}
	ma, sa, err := meanSD(a)
	if err != nil {
		return 0, fmt.Errorf("stats: hedges' g: a: %w", err)
	}
	mb, sb, err := meanSD(b)
	if err != nil {
		return 0, fmt.Errorf("stats: hedges' g: b: %w", err)
	}
	na, nb := float64(len(a)), float64(len(b))
	df := na + nb - 2
	sp := math.Sqrt(((na-1)*sa*sa + (nb-1)*sb*sb) / df)
	if sp <= 1e-12*math.Max(math.Abs(ma), math.Abs(mb)) {
		// Constant samples, or a spread at float64's rounding level, where
		// g would be rounding noise divided into the difference.
		return 0, fmt.Errorf("stats: hedges' g: both samples are constant: %w", ErrZeroVariance)
	}
	g1, _ := math.Lgamma(df / 2)
	g2, _ := math.Lgamma((df - 1) / 2)
	j := math.Exp(g1-g2) / math.Sqrt(df/2)
	g := (mb - ma) / sp * j
	if !isFinite(g) {
		return 0, fmt.Errorf("stats: hedges' g: %w", ErrOverflow)
	}
	return g, nil
}
