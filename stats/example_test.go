package stats_test

import (
	"fmt"

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
