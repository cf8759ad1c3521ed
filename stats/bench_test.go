package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func lognormal(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Exp(r.NormFloat64())
	}
	return xs
}

// BenchmarkSummarize summarizes lognormal samples (latency-like: skewed,
// no ties) of several sizes; n=10000000 is the target (< 1 s).
func BenchmarkSummarize(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000, 10_000_000} {
		xs := lognormal(n, 1)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				if _, err := Summarize(xs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPercentile(b *testing.B) {
	for _, n := range []int{100, 1_000_000} {
		xs := lognormal(n, 2)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Percentile(xs, 99); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram(HistogramConfig{})
	xs := lognormal(1<<16, 3)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Record(xs[i&(1<<16-1)])
		i++
	}
}

func BenchmarkHistogramQuantile(b *testing.B) {
	h := NewHistogram(HistogramConfig{})
	for _, x := range lognormal(100_000, 4) {
		h.Record(x)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Quantile(99)
	}
}

func BenchmarkMannWhitneyU(b *testing.B) {
	for _, n := range []int{10, 50, 1000} {
		x, y := lognormal(n, 5), lognormal(n, 6)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := MannWhitneyU(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompare runs the full A/B comparison with the default 10,000
// bootstrap resamples.
func BenchmarkCompare(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		x, y := lognormal(n, 7), lognormal(n, 8)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compare(x, y, CompareConfig{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBootstrapMedian(b *testing.B) {
	xs := lognormal(100, 9)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BootstrapMedian(xs, BootstrapConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSpearman(b *testing.B) {
	x, y := lognormal(10_000, 10), lognormal(10_000, 11)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Spearman(x, y); err != nil {
			b.Fatal(err)
		}
	}
}
