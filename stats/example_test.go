package stats_test

import (
	"fmt"
	"math"

	"tr117/stats"
)

func ExampleSummarize() {
	// Time to first token of ten requests, in milliseconds.
	ttft := []float64{212, 198, 240, 205, 199, 1010, 210, 201, 207, 220}
	s, err := stats.Summarize(ttft, 75)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("n=%d mean=%.1f sd=%.1f min=%g max=%g\n", s.N, s.Mean, s.StdDev, s.Min, s.Max)
	fmt.Printf("p50=%.1f p75=%.2f p90=%.1f p99=%.2f cv=%.2f\n", s.P50, s.Extra["p75"], s.P90, s.P99, s.CV)
	// Output:
	// n=10 mean=290.2 sd=253.2 min=198 max=1010
	// p50=208.5 p75=218.00 p90=317.0 p99=940.70 cv=0.87
}

func ExamplePercentile() {
	p, err := stats.Percentile([]float64{15, 20, 35, 40, 50}, 40)
	fmt.Println(p, err)
	// Output: 29 <nil>
}

func ExampleCompare() {
	// Tokens per second of one model, before (a) and after (b) a change.
	a := []float64{41.2, 40.8, 41.5, 40.9, 41.1, 41.3, 40.7, 41.0}
	b := []float64{43.0, 42.6, 43.4, 42.9, 43.1, 42.8, 43.3, 42.7}
	c, err := stats.Compare(a, b, stats.CompareConfig{Bootstrap: stats.BootstrapConfig{Seed: 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("significant %v at α = %g, p=%.5f (%s), effect %s\n", c.Significant, c.Alpha, c.MannWhitney.P, c.MannWhitney.Method, c.CliffsMagnitude)
	fmt.Printf("median ratio %.3f [%.3f, %.3f]\n", c.MedianRatio.Estimate, c.MedianRatio.Lo, c.MedianRatio.Hi)
	fmt.Printf("median diff %.2f [%.2f, %.2f]\n", c.MedianDiff.Estimate, c.MedianDiff.Lo, c.MedianDiff.Hi)
	fmt.Printf("U=%g p=%.5f (%s), welch p=%.1e, cliff's delta %g\n", c.MannWhitney.U, c.MannWhitney.P, c.MannWhitney.Method, c.Welch.P, c.CliffsDelta)
	fmt.Println(len(c.Warnings), "warnings")
	// Output:
	// significant true at α = 0.05, p=0.00016 (exact), effect large
	// median ratio 1.046 [1.038, 1.055]
	// median diff 1.90 [1.55, 2.25]
	// U=0 p=0.00016 (exact), welch p=1.4e-09, cliff's delta 1
	// 0 warnings
}

func ExampleCompare_tooFewRuns() {
	c, _ := stats.Compare([]float64{10.1, 10.4, 10.2}, []float64{11.0, 11.2, 10.9}, stats.CompareConfig{})
	fmt.Printf("significant %v, p=%g\n", c.Significant, c.MannWhitney.P)
	for _, w := range c.Warnings {
		fmt.Println("warning:", w)
		if s, ok := w.(stats.SampleSizeWarning); ok && s.For == stats.ForSignificance {
			fmt.Printf("  runs per side needed: %d\n", s.Need)
		}
	}
	// Output:
	// significant false, p=0.1
	// warning: a and b have 3 and 3 values: a 95% confidence interval needs at least 6
	// warning: a and b have 3 and 3 values: no difference can be significant at α = 0.05 with fewer than 4 values per sample
	//   runs per side needed: 4
}

func ExampleBootstrapMedian() {
	ttft := []float64{212, 198, 240, 205, 199, 1010, 210, 201, 207, 220, 215, 203}
	iv, err := stats.BootstrapMedian(ttft, stats.BootstrapConfig{Seed: 42})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(iv)
	// Output: 208.5 [202, 217.5] 95% CI
}

func ExamplePearson() {
	// The TR117 success criterion: scheduler lag should track multi-agent
	// efficiency with r > 0.8.
	lagMs := []float64{0.8, 1.1, 1.9, 2.4, 3.0, 3.8, 4.1, 5.2}
	efficiency := []float64{0.97, 0.95, 0.90, 0.86, 0.84, 0.77, 0.75, 0.69}
	c, err := stats.Pearson(lagMs, efficiency)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("r=%.4f p=%.2g n=%d |r|>0.8: %v\n", c.R, c.P, c.N, math.Abs(c.R) > 0.8)
	// Output: r=-0.9978 p=2.5e-08 n=8 |r|>0.8: true
}

func ExampleHistogram() {
	h := stats.NewHistogram(stats.HistogramConfig{}) // 1% relative error
	for i := 1; i <= 100000; i++ {
		h.Record(float64(i) / 100) // 0.01 ms .. 1000 ms
	}
	s, _ := h.Summary()
	fmt.Printf("n=%d min=%g max=%g mean=%.3f\n", s.N, s.Min, s.Max, s.Mean)
	fmt.Printf("p50=%.1f (exact 500.005) p99=%.1f (exact 990.000)\n", s.P50, s.P99)
	// Output:
	// n=100000 min=0.01 max=1000 mean=500.005
	// p50=502.0 (exact 500.005) p99=988.0 (exact 990.000)
}
