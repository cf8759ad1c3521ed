package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	moremath "github.com/aclements/go-moremath/stats"
)

// Published test vectors.
var (
	// R datasets::sleep, extra by group (Cushny and Peebles 1905).
	sleep1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleep2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	// R ?wilcox.test, Hollander & Wolfe (1973) p. 69: depression scale of
	// patients at first (x) and second (y) visit, used as two samples.
	depressionX = []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}
	depressionY = []float64{1.15, 0.88, 0.90, 0.74, 1.21}
	// scipy.stats.mannwhitneyu docs: ages of males and females.
	males   = []float64{19, 22, 16, 29, 24}
	females = []float64{20, 11, 17, 12}
)

func TestMannWhitneyPublished(t *testing.T) {
	tests := []struct {
		src    string
		a, b   []float64
		u      float64
		p      float64
		method string
		z      float64
		rel    float64
	}{
		// scipy.stats.mannwhitneyu(males, females, method="exact") -> statistic=17.0, pvalue=0.1111111111111111
		// (= 2·7/126: 7 of the C(9,4) = 126 arrangements have U <= 3)
		{"scipy docs exact", males, females, 17, 0.1111111111111111, MethodExact, 0, 1e-12},
		// R: wilcox.test(x, y, alternative = "greater") -> W = 35, p-value = 0.1272;
		// two-sided is twice that, by enumeration of the C(15,5) = 3003 arrangements 0.2544122544122544.
		{"R wilcox.test depression", depressionX, depressionY, 35, 0.2544122544122544, MethodExact, 0, 1e-12},
		// R: wilcox.test(extra ~ group, data = sleep) -> W = 25.5, p-value = 0.06933
		// (ties: normal approximation with continuity correction); full precision
		// from the formula by hand: z = -1.8162790619136817, p = 0.06932757543362666.
		{"R wilcox.test sleep", sleep1, sleep2, 25.5, 0.06932757543362666, MethodNormal, -1.8162790619136817, 1e-12},
	}
	for _, tc := range tests {
		got, err := MannWhitneyU(tc.a, tc.b)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if got.U != tc.u || got.Method != tc.method {
			t.Errorf("%s: U=%v method=%s, want %v %s", tc.src, got.U, got.Method, tc.u, tc.method)
		}
		checkClose(t, tc.src+" p", got.P, tc.p, tc.rel)
		checkClose(t, tc.src+" z", got.Z, tc.z, 1e-12)
	}
	// R's printed values, to their printed precision.
	r, _ := MannWhitneyU(depressionX, depressionY)
	checkClose(t, "R one-sided p", r.P/2, 0.1272, 5e-4)
	r, _ = MannWhitneyU(sleep1, sleep2)
	checkClose(t, "R sleep p", r.P, 0.06933, 1e-4)
}

// enumerateU returns the two-sided exact p-value by enumerating every way to
// split the pooled values into samples of len(a) and len(b).
func enumerateU(a, b []float64) float64 {
	all := append(append([]float64(nil), a...), b...)
	n, n1 := len(all), len(a)
	u := func(mask int) float64 {
		var s float64
		for i := range n {
			if mask&(1<<i) == 0 {
				continue
			}
			for j := range n {
				if mask&(1<<j) == 0 {
					if all[i] > all[j] {
						s++
					} else if all[i] == all[j] {
						s += 0.5
					}
				}
			}
		}
		return s
	}
	obs := u(1<<n1 - 1)
	nn := float64(len(a) * len(b))
	obs = min(obs, nn-obs)
	var hit, total float64
	for mask := range 1 << n {
		if popcount(mask) != n1 {
			continue
		}
		total++
		if u(mask) <= obs {
			hit++
		}
	}
	return min(1, 2*hit/total)
}

func popcount(x int) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

func TestMannWhitneyExactMatchesEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for n1 := 1; n1 <= 7; n1++ {
		for n2 := 1; n2 <= 7; n2++ {
			a, b := make([]float64, n1), make([]float64, n2)
			for i := range a {
				a[i] = r.Float64() + 0.2
			}
			for i := range b {
				b[i] = r.Float64()
			}
			got, err := MannWhitneyU(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Method != MethodExact {
				t.Fatalf("n=%d,%d: method %s", n1, n2, got.Method)
			}
			checkClose(t, "exact vs enumeration", got.P, enumerateU(a, b), 1e-12)
		}
	}
}

func TestMannWhitneyMatchesMoremath(t *testing.T) {
	// go-moremath (used by benchstat) is an independent implementation:
	// exact without ties up to 50 values, normal with tie and continuity
	// correction beyond 25 values with ties.
	r := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		n1, n2 int
		ties   bool
	}{{10, 12, false}, {30, 50, false}, {50, 50, false}, {60, 80, false}, {30, 40, true}, {200, 150, true}} {
		a, b := make([]float64, tc.n1), make([]float64, tc.n2)
		for i := range a {
			a[i] = r.NormFloat64() + 0.3
			if tc.ties {
				a[i] = math.Round(a[i] * 3)
			}
		}
		for i := range b {
			b[i] = r.NormFloat64()
			if tc.ties {
				b[i] = math.Round(b[i] * 3)
			}
		}
		got, err := MannWhitneyU(a, b)
		if err != nil {
			t.Fatal(err)
		}
		want, err := moremath.MannWhitneyUTest(a, b, moremath.LocationDiffers)
		if err != nil {
			t.Fatal(err)
		}
		if got.U != want.U || got.Ties != tc.ties {
			t.Errorf("%+v: U = %v (ties %v), moremath %v", tc, got.U, got.Ties, want.U)
		}
		// moremath computes 1-CDF, which loses digits for small p.
		if math.Abs(got.P-want.P) > 1e-9*want.P+1e-14 {
			t.Errorf("%+v (%s): p = %.17g, moremath %.17g", tc, got.Method, got.P, want.P)
		}
	}
}

func TestMannWhitneyEdgeCases(t *testing.T) {
	got, err := MannWhitneyU([]float64{3, 3}, []float64{3, 3, 3})
	if err != nil || got.P != 1 || got.Z != 0 || got.U != 3 {
		t.Errorf("all equal: %+v, %v", got, err)
	}
	got, err = MannWhitneyU([]float64{1}, []float64{2})
	if err != nil || got.P != 1 || got.U != 0 || got.Method != MethodExact {
		t.Errorf("one each: %+v, %v", got, err)
	}
	for _, c := range []struct {
		a, b []float64
		want error
	}{
		{nil, []float64{1}, ErrEmpty},
		{[]float64{1}, nil, ErrEmpty},
		{[]float64{math.NaN()}, []float64{1}, ErrNaN},
		{[]float64{1}, []float64{math.Inf(1)}, ErrNaN},
	} {
		if _, err := MannWhitneyU(c.a, c.b); !errors.Is(err, c.want) {
			t.Errorf("MannWhitneyU(%v, %v): %v, want %v", c.a, c.b, err, c.want)
		}
	}
	// exactUCDF sums to 1 over the whole range and is symmetric.
	for _, n := range [][2]int{{1, 1}, {3, 5}, {8, 8}, {50, 50}} {
		n1, n2 := n[0], n[1]
		if got := exactUCDF(n1, n2, n1*n2); got != 1 {
			t.Errorf("CDF(%d,%d) at max = %v", n1, n2, got)
		}
		for u := 0; u < n1*n2; u += max(1, n1*n2/7) {
			lower := exactUCDF(n1, n2, u)
			upper := 1 - exactUCDF(n1, n2, n1*n2-u-1) // P(U >= n1n2-u)
			// 1-CDF cancels digits: compare absolutely.
			if math.Abs(lower-upper) > 1e-12 {
				t.Errorf("n=%d,%d u=%d: P(U<=u) = %v, P(U>=n1n2-u) = %v", n1, n2, u, lower, upper)
			}
		}
	}
}

func TestWelchPublished(t *testing.T) {
	// R: t.test(extra ~ group, data = sleep) -> Welch Two Sample t-test:
	// t = -1.8608, df = 17.776, p-value = 0.07939.
	// Full precision by hand (regularized incomplete beta by continued
	// fraction, Numerical Recipes 6.4): t = -1.860813467486853,
	// df = 17.776473516178488, p = 0.07939414018735823.
	got, err := WelchT(sleep1, sleep2)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "t", got.T, -1.860813467486853, 1e-12)
	checkClose(t, "df", got.DF, 17.776473516178488, 1e-12)
	checkClose(t, "p", got.P, 0.07939414018735823, 1e-9)
	checkClose(t, "R t", got.T, -1.8608, 5e-5)
	checkClose(t, "R df", got.DF, 17.776, 5e-5)
	checkClose(t, "R p", got.P, 0.07939, 1e-4)

	// Against go-moremath's independent implementation.
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range [][2]int{{2, 2}, {3, 9}, {40, 25}} {
		a, b := make([]float64, n[0]), make([]float64, n[1])
		for i := range a {
			a[i] = r.NormFloat64()*2 + 1
		}
		for i := range b {
			b[i] = r.NormFloat64()
		}
		got, err := WelchT(a, b)
		if err != nil {
			t.Fatal(err)
		}
		want, err := moremath.TwoSampleWelchTTest(moremath.Sample{Xs: a}, moremath.Sample{Xs: b}, moremath.LocationDiffers)
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "moremath t", got.T, want.T, 1e-9)
		checkClose(t, "moremath df", got.DF, want.DoF, 1e-9)
		checkClose(t, "moremath p", got.P, want.P, 1e-8)
	}

	for _, c := range []struct {
		a, b []float64
		want error
	}{
		{[]float64{1}, []float64{1, 2}, ErrSampleSize},
		{[]float64{1, 1}, []float64{2, 2}, ErrZeroVariance},
		{nil, []float64{1, 2}, ErrEmpty},
		{[]float64{1, math.NaN()}, []float64{1, 2}, ErrNaN},
	} {
		if _, err := WelchT(c.a, c.b); !errors.Is(err, c.want) {
			t.Errorf("WelchT(%v, %v): %v, want %v", c.a, c.b, err, c.want)
		}
	}
	// One constant sample is fine: the other carries the variance.
	if w, err := WelchT([]float64{5, 5, 5}, []float64{1, 2, 3}); err != nil || w.DF != 2 {
		t.Errorf("one constant sample: %+v, %v (want df = n2-1 = 2)", w, err)
	}
}

func TestEffectSizes(t *testing.T) {
	// Cliff's delta by counting pairs.
	r := rand.New(rand.NewPCG(17, 18))
	for range 20 {
		a, b := make([]float64, 1+r.IntN(15)), make([]float64, 1+r.IntN(15))
		for i := range a {
			a[i] = float64(r.IntN(6))
		}
		for i := range b {
			b[i] = float64(r.IntN(6))
		}
		var gt, lt float64
		for _, x := range a {
			for _, y := range b {
				if y > x {
					gt++
				} else if y < x {
					lt++
				}
			}
		}
		want := (gt - lt) / float64(len(a)*len(b))
		got, err := CliffsDelta(a, b)
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "cliff's delta", got, want, 1e-14)
	}
	if d, _ := CliffsDelta([]float64{1, 2}, []float64{3, 4}); d != 1 {
		t.Errorf("separated samples: delta = %v, want 1", d)
	}
	for d, want := range map[float64]string{0: "negligible", -0.2: "small", 0.4: "medium", -0.9: "large", 0.147: "small"} {
		if got := CliffsMagnitude(d); got != want {
			t.Errorf("CliffsMagnitude(%v) = %q, want %q", d, got, want)
		}
	}

	// Hedges' g of the sleep data, by hand: mean difference 1.58, pooled sd
	// sqrt((var1+var2)/2) with var1 = 3.200555..., var2 = 4.009000, and
	// J(18) = Γ(9) / (3 Γ(8.5)) = 40320 / (3 · 2027025/256 · √π).
	var1, var2 := 3.200555555555556, 4.009
	j := 40320 / (3 * 2027025.0 / 256 * math.Sqrt(math.Pi))
	want := 1.58 / math.Sqrt((var1+var2)/2) * j
	got, err := HedgesG(sleep1, sleep2)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "hedges g", got, want, 1e-12)
	checkClose(t, "J(18)", j, 1-3/(4*18.0-1), 2e-4) // Hedges' approximation
	if _, err := HedgesG([]float64{1}, []float64{1, 2}); !errors.Is(err, ErrSampleSize) {
		t.Errorf("n=1: %v", err)
	}
	if _, err := HedgesG([]float64{1, 1}, []float64{2, 2}); !errors.Is(err, ErrZeroVariance) {
		t.Errorf("constant: %v", err)
	}
}

// A spread at float64's rounding level is no spread: g would be rounding
// noise divided into the difference.
func TestHedgesGRoundingLevelSpread(t *testing.T) {
	a := []float64{0.1 + 0.2, 0.3, 0.3}
	b := []float64{0.4, 0.4, 0.4}
	if g, err := HedgesG(a, b); !errors.Is(err, ErrZeroVariance) {
		t.Errorf("HedgesG = %v, %v; want ErrZeroVariance", g, err)
	}
}
