package profiler_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"tr117/profiler"
	"tr117/profiler/ollamatest"
)

// A Go benchmark of a client, streaming from the simulator: each iteration
// is one request, and the means of TTFT, TTFC, TPOT and tokens/s go into
// the benchmark's output next to ns/op, for benchstat to compare.
func ExampleResultStats() {
	srv := ollamatest.NewServer(ollamatest.Config{TokensPerSecond: 2000, TTFT: 5 * time.Millisecond})
	defer srv.Close()
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()

	benchmarkClient := func(b *testing.B) {
		req := &profiler.Request{URL: srv.URL, API: profiler.APIOpenAIChat, Model: "gemma3:latest", Prompt: "hi",
			Options: map[string]any{"num_predict": 10}}
		var stats profiler.ResultStats
		for b.Loop() {
			res, err := c.Stream(context.Background(), req, func(*profiler.Message) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			stats.Add(res)
		}
		stats.Report(b)
	}
	// In a _test.go file this is func BenchmarkClient(b *testing.B); run
	// here through testing.Benchmark to show what it reports.
	r := testing.Benchmark(benchmarkClient)
	var units []string
	for unit, v := range r.Extra {
		if v > 0 {
			units = append(units, unit)
		}
	}
	slices.Sort(units)
	fmt.Println(units)
	// Output:
	// [tok/s tpot-ms ttfc-ms ttft-ms]
}
