package profiler_test

import (
	"context"
	"fmt"

	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/sink"
)

// Stream one completion from a simulated Ollama (tr117/profiler/ollamatest)
// and look at what was measured.
func Example() {
	srv := ollamatest.NewServer(ollamatest.Config{Unpaced: true})
	defer srv.Close()

	c := profiler.NewClient(profiler.ClientConfig{ReadBufferSize: 8192})
	defer c.CloseIdleConnections()
	var chunks sink.Memory[profiler.Chunk]
	req := &profiler.Request{
		Agent:   "collector",
		URL:     srv.URL,
		Model:   "gemma3:latest",
		Prompt:  "Why is the sky blue?",
		Options: map[string]any{"num_predict": 16},
	}
	// Chunk records are a per-request hook, carried in the context.
	ctx := profiler.WithHooks(context.Background(), &profiler.Hooks{Run: 1, Chunks: &chunks})
	res, err := c.Stream(ctx, req, func(m *profiler.Message) error {
		return nil // m.Content is the token's text, m.Arrival its time
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("tokens:", res.Tokens, "eval_count:", res.Final.EvalCount, "done_reason:", res.Final.DoneReason)
	fmt.Println("TTFT within total:", res.HasTTFT && res.TTFT <= res.Total)
	fmt.Println("chunks recorded:", chunks.Len() == res.Chunks)
	// Output:
	// tokens: 16 eval_count: 16 done_reason: length
	// TTFT within total: true
	// chunks recorded: true
}

// Run the two default agents together and compute their efficiency.
func ExampleRunner() {
	collector := ollamatest.NewServer(ollamatest.Config{Unpaced: true, ResponseTokens: 20})
	defer collector.Close()
	insight := ollamatest.NewServer(ollamatest.Config{Unpaced: true, ResponseTokens: 30})
	defer insight.Close()

	cfg := profiler.Config{
		Agents:   profiler.DefaultAgents("gemma3:latest", collector.URL, insight.URL, profiler.ChimeraHomo, profiler.DefaultOptions(), profiler.DefaultOptions()),
		Scenario: profiler.ChimeraHomo,
	}
	r, err := profiler.NewRunner(cfg, profiler.Sinks{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	rr, err := r.Run(context.Background(), 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range rr.Agents {
		fmt.Println(a.ID, a.Metrics.TokensGenerated, "tokens, options", a.Options)
	}
	fmt.Println("efficiency = speedup / 2 × 100:", *rr.EfficiencyPercent == *rr.ConcurrencySpeedup/2*100)
	// Output:
	// collector 20 tokens, options map[num_ctx:512 num_gpu:80 temperature:1]
	// insight 30 tokens, options map[num_ctx:512 num_gpu:80 temperature:1]
	// efficiency = speedup / 2 × 100: true
}
