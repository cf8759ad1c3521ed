package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// closeTo reports whether got is within rel relative (or rel absolute when
// want is 0) of want.
func closeTo(got, want, rel float64) bool {
	if got == want {
		return true
	}
	d := math.Abs(got - want)
	if want == 0 {
		return d <= rel
	}
	return d <= rel*math.Abs(want)
}

func checkClose(t *testing.T, name string, got, want, rel float64) {
	t.Helper()
	if !closeTo(got, want, rel) {
		t.Errorf("%s = %.17g, want %.17g (rel tol %g)", name, got, want, rel)
	}
}

// refPercentile is the textbook type-7 definition on a sorted copy, written
// independently of linearIndex/lerp.
func refPercentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	h := float64(len(s)-1) * p / 100
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

func TestPercentilePublished(t *testing.T) {
	tests := []struct {
		src  string
		xs   []float64
		p    float64
		want float64
	}{
		// numpy.percentile docs: a = [[10, 7, 4], [3, 2, 1]]; np.percentile(a, 50) -> 3.5
		{"numpy docs", []float64{10, 7, 4, 3, 2, 1}, 50, 3.5},
		// R: quantile(1:10, 0.25) -> 3.25 (type 7, R's default)
		{"R quantile(1:10, .25)", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 25, 3.25},
		// R: quantile(1:10, 0.9) -> 9.1
		{"R quantile(1:10, .9)", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1},
		// R: median(1:4) -> 2.5
		{"R median(1:4)", []float64{4, 1, 3, 2}, 50, 2.5},
		// Wikipedia "Percentile", second variant (C = 1, numpy linear), list {15, 20, 35, 40, 50}:
		// 5th -> 16, 30th -> 23, 40th -> 29, 95th -> 48, 100th -> 50 (also by hand: h = 4p/100).
		{"wikipedia C=1 p5", []float64{15, 20, 35, 40, 50}, 5, 16},
		{"wikipedia C=1 p30", []float64{15, 20, 35, 40, 50}, 30, 23},
		{"wikipedia C=1 p40", []float64{15, 20, 35, 40, 50}, 40, 29},
		{"wikipedia C=1 p95", []float64{15, 20, 35, 40, 50}, 95, 48},
		{"wikipedia C=1 p100", []float64{15, 20, 35, 40, 50}, 100, 50},
		{"p0 is min", []float64{3, -1, 2}, 0, -1},
		{"single", []float64{42}, 99.9, 42},
		// np.percentile([1, 2], 99.9) -> 1.999 (h = 0.999, from b: 2 - 1*(1-0.999))
		{"numpy lerp from b", []float64{1, 2}, 99.9, 2 - (1 - 0.999)},
	}
	for _, tc := range tests {
		got, err := Percentile(tc.xs, tc.p)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		checkClose(t, tc.src, got, tc.want, 1e-12)
		s := slices.Clone(tc.xs)
		slices.Sort(s)
		checkClose(t, tc.src+" (sorted)", PercentileSorted(s, tc.p), tc.want, 1e-12)
	}
}

func TestSummarizePublished(t *testing.T) {
	// Wikipedia "Standard deviation" example {2,4,4,4,5,5,7,9}: mean 5,
	// population sd 2, so sample sd = sqrt(32/7); R: sd(c(2,4,4,4,5,5,7,9)) -> 2.13808993529940.
	xs := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	s, err := Summarize(xs, 25, 75)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "mean", s.Mean, 5, 1e-15)
	checkClose(t, "sd", s.StdDev, math.Sqrt(32.0/7), 1e-14)
	checkClose(t, "cv", s.CV, math.Sqrt(32.0/7)/5, 1e-14)
	if s.N != 8 || s.Min != 2 || s.Max != 9 {
		t.Errorf("N, Min, Max = %d, %v, %v", s.N, s.Min, s.Max)
	}
	// R: quantile(c(2,4,4,4,5,5,7,9), c(.25,.5,.75,.9,.95,.99,.999))
	//   -> 4, 4.5, 5.5, 7.6, 8.3, 8.86, 8.986 (h = 7p; by hand)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"p25", s.Extra["p25"], 4}, {"p50", s.P50, 4.5}, {"p75", s.Extra["p75"], 5.5},
		{"p90", s.P90, 7.6}, {"p95", s.P95, 8.3}, {"p99", s.P99, 8.86}, {"p99.9", s.P999, 8.986},
	} {
		checkClose(t, c.name, c.got, c.want, 1e-12)
	}
	if len(s.Extra) != 2 {
		t.Errorf("Extra = %v, want p25 and p75 only", s.Extra)
	}
}

func TestSummarizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 7, 24, 25, 100, 513, 5000, 20011} {
		for _, kind := range []string{"uniform", "few distinct", "sorted", "reversed", "lognormal"} {
			xs := make([]float64, n)
			for i := range xs {
				switch kind {
				case "uniform":
					xs[i] = r.Float64()
				case "few distinct":
					xs[i] = float64(r.IntN(3))
				case "sorted":
					xs[i] = float64(i)
				case "reversed":
					xs[i] = float64(n - i)
				case "lognormal":
					xs[i] = math.Exp(r.NormFloat64())
				}
			}
			orig := slices.Clone(xs)
			extra := []float64{0, 1, 12.5, 33.3, 75, 99.99, 100}
			s, err := Summarize(xs, extra...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(xs, orig) {
				t.Fatalf("n=%d %s: Summarize modified its input", n, kind)
			}
			for _, c := range []struct {
				p   float64
				got float64
			}{{50, s.P50}, {90, s.P90}, {95, s.P95}, {99, s.P99}, {99.9, s.P999}} {
				checkClose(t, "p", c.got, refPercentile(xs, c.p), 1e-12)
			}
			for _, p := range extra {
				checkClose(t, PercentileKey(p), s.Extra[PercentileKey(p)], refPercentile(xs, p), 1e-12)
				got, err := Percentile(xs, p)
				if err != nil {
					t.Fatal(err)
				}
				checkClose(t, "Percentile", got, refPercentile(xs, p), 1e-12)
			}
			if !slices.Equal(xs, orig) {
				t.Fatalf("n=%d %s: Percentile modified its input", n, kind)
			}
		}
	}
}

func TestSelectRanks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{30, 600, 10000} {
		a := make([]float64, n)
		for i := range a {
			a[i] = float64(r.IntN(n / 3))
		}
		want := slices.Clone(a)
		slices.Sort(want)
		ranks := []int{0, 1, n / 3, n/3 + 1, n / 2, n - 2, n - 1}
		selectRanks(a, ranks)
		for _, k := range ranks {
			if a[k] != want[k] {
				t.Errorf("n=%d: a[%d] = %v, want %v", n, k, a[k], want[k])
			}
			for i := range k {
				if a[i] > a[k] {
					t.Fatalf("n=%d: a[%d]=%v > a[%d]=%v", n, i, a[i], k, a[k])
				}
			}
			for i := k + 1; i < n; i++ {
				if a[i] < a[k] {
					t.Fatalf("n=%d: a[%d]=%v < a[%d]=%v", n, i, a[i], k, a[k])
				}
			}
		}
	}
}

func TestSummarizeErrors(t *testing.T) {
	tests := []struct {
		name  string
		xs    []float64
		extra []float64
		want  error
	}{
		{"nil", nil, nil, ErrEmpty},
		{"empty", []float64{}, nil, ErrEmpty},
		{"NaN", []float64{1, math.NaN()}, nil, ErrNaN},
		{"+Inf", []float64{math.Inf(1), 1}, nil, ErrNaN},
		{"-Inf", []float64{1, 2, math.Inf(-1)}, nil, ErrNaN},
		{"extra > 100", []float64{1}, []float64{100.5}, ErrRange},
		{"extra < 0", []float64{1}, []float64{-1}, ErrRange},
		{"extra NaN", []float64{1}, []float64{math.NaN()}, ErrRange},
		{"sd overflows", []float64{-math.MaxFloat64, math.MaxFloat64}, nil, ErrOverflow},
	}
	for _, tc := range tests {
		_, err := Summarize(tc.xs, tc.extra...)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		xs   []float64
		p    float64
		want error
	}{
		{nil, 50, ErrEmpty},
		{[]float64{math.NaN()}, 50, ErrNaN},
		{[]float64{1}, -0.1, ErrRange},
		{[]float64{1}, 100.1, ErrRange},
		{[]float64{1}, math.NaN(), ErrRange},
	} {
		if _, err := Percentile(tc.xs, tc.p); !errors.Is(err, tc.want) {
			t.Errorf("Percentile(%v, %v): err = %v, want %v", tc.xs, tc.p, err, tc.want)
		}
	}
}

func TestSummarizeEdgeCases(t *testing.T) {
	s, err := Summarize([]float64{7})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, Summary{N: 1, Mean: 7, Min: 7, Max: 7, P50: 7, P90: 7, P95: 7, P99: 7, P999: 7, CV: 0}) {
		t.Errorf("single value: %+v", s)
	}
	// Mean 0: CV is defined as 0.
	s, _ = Summarize([]float64{-1, 1})
	if s.CV != 0 || s.Mean != 0 {
		t.Errorf("mean 0: %+v", s)
	}
	// Values near MaxFloat64 whose plain sum overflows but whose mean and sd do not.
	big := math.MaxFloat64 / 2
	s, err = Summarize([]float64{big, big, big, -big})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "big mean", s.Mean, big/2, 1e-12)
	checkClose(t, "big sd", s.StdDev, big, 1e-12) // sd of {1,1,1,-1} is 1
	// Interpolating across a range wider than MaxFloat64.
	got, err := Percentile([]float64{-math.MaxFloat64, math.MaxFloat64}, 50)
	if err != nil || got != 0 {
		t.Errorf("median of ±MaxFloat64 = %v, %v; want 0", got, err)
	}
}

func TestPercentileSortedClampsAndPanics(t *testing.T) {
	s := []float64{1, 2, 3}
	if got := PercentileSorted(s, -5); got != 1 {
		t.Errorf("p=-5: %v", got)
	}
	if got := PercentileSorted(s, 500); got != 3 {
		t.Errorf("p=500: %v", got)
	}
	for _, c := range []struct {
		s []float64
		p float64
	}{{nil, 50}, {s, math.NaN()}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PercentileSorted(%v, %v) did not panic", c.s, c.p)
				}
			}()
			PercentileSorted(c.s, c.p)
		}()
	}
}

func TestPercentileKey(t *testing.T) {
	for p, want := range map[float64]string{math.Copysign(0, -1): "p0", 75: "p75", 99.9: "p99.9", 12.5: "p12.5", 0: "p0", 100: "p100", 99.99: "p99.99"} {
		if got := PercentileKey(p); got != want {
			t.Errorf("PercentileKey(%v) = %q, want %q", p, got, want)
		}
	}
}
