package profiler

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"tr117/internal/ollamaserver"
	"tr117/sink"
)

// TestRealServerTwoInstances runs chimera_homo twice against two real
// Ollama servers (the tiny model), as the seed ran against its two
// endpoints. It is skipped when no ollama binary is installed.
func TestRealServerTwoInstances(t *testing.T) {
	insts := ollamaserver.Start(t, 2)
	set := DefaultOptions()
	n := 32
	set.NumPredict = &n
	agents := DefaultAgents(insts[0].Model, insts[0].URL, insts[1].URL, ChimeraHomo, set, set)
	for _, a := range agents {
		// A fixed seed makes the random-weight model's text repeatable.
		// (Ollama ends a stream that repeats one token more than 30 times
		// without a done message, which an unlucky draw can hit.)
		a.Options["seed"] = 7
	}
	var chunks sink.Memory[Chunk]
	r, err := NewRunner(Config{
		Agents:   agents,
		Scenario: ChimeraHomo,
		Warmup:   true,
		Timeout:  time.Minute,
		Lag:      LagConfig{Interval: 10 * time.Millisecond},
	}, Sinks{Chunks: &chunks})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Warmup(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		rr, err := r.Run(ctx, i)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		for _, a := range rr.Agents {
			m, res := a.Metrics, a.Stream
			if !evalCountMatches(res) || m.EvalCount == 0 {
				t.Errorf("run %d %s: client counted %d tokens, eval_count %d (%s)", i, a.ID, m.TokensGenerated, m.EvalCount, m.DoneReason)
			}
			if !res.HasTTFT || res.TTFT <= 0 || res.TTFT > res.Total {
				t.Errorf("run %d %s: TTFT %v outside total %v", i, a.ID, res.TTFT, res.Total)
			}
			if res.TTFT < res.Final.PromptEvalDuration {
				t.Errorf("run %d %s: client TTFT %v below server prompt-eval time %v", i, a.ID, res.TTFT, res.Final.PromptEvalDuration)
			}
			if res.Final.TotalDuration <= 0 || res.Final.TotalDuration > res.Total {
				t.Errorf("run %d %s: server total %v, client total %v", i, a.ID, res.Final.TotalDuration, res.Total)
			}
			if m.ClientOverheadMS == nil || *m.ClientOverheadMS < 0 {
				t.Errorf("run %d %s: client overhead %v", i, a.ID, m.ClientOverheadMS)
			}
		}
		if rr.ConcurrencySpeedup == nil || rr.EfficiencyPercent == nil {
			t.Fatalf("run %d: no speedup or efficiency", i)
		}
		if want := *rr.ConcurrencySpeedup / 2 * 100; math.Abs(*rr.EfficiencyPercent-want) > 1e-9 {
			t.Errorf("run %d: efficiency %v, speedup/2×100 = %v", i, *rr.EfficiencyPercent, want)
		}
		if *rr.ConcurrencySpeedup <= 0 {
			t.Errorf("run %d: speedup %v", i, *rr.ConcurrencySpeedup)
		}
		t.Logf("run %d: wall %.1f ms, speedup %.3f, efficiency %.1f%%, TTFT %.1f/%.1f ms", i, rr.ConcurrentWallTimeMS, *rr.ConcurrencySpeedup, *rr.EfficiencyPercent, *rr.Agents[0].Metrics.TTFTMS, *rr.Agents[1].Metrics.TTFTMS)
	}
	if chunks.Len() == 0 {
		t.Error("no chunks recorded")
	}

	// The same servers through a Client: /api/chat, and a looping model
	// that Ollama's repetition abort cuts (repeat_penalty 0 and the prompt
	// "loop" make the tiny model repeat one token).
	c := NewClient(ClientConfig{})
	defer c.CloseIdleConnections()
	chat := &Request{Agent: "insight", URL: insts[1].URL, API: APIChat, Model: insts[1].Model, System: "Be brief.", Prompt: "Describe a benchmark.",
		Options: map[string]any{"num_predict": 12, "seed": 7}}
	res, err := c.Stream(ctx, chat, func(*Message) error { return nil })
	if err != nil || res.Final == nil || res.Final.EvalCount != 12 || res.Tokens != 12 || res.Final.DoneReason != "length" || !res.HasTTFT || res.Response == "" {
		t.Errorf("chat: %v, %d tokens, final %+v", err, res.Tokens, res.Final)
	}
	loop := &Request{Agent: "collector", URL: insts[0].URL, Model: insts[0].Model, Prompt: "loop",
		Options: map[string]any{"num_predict": 60, "temperature": 0, "repeat_penalty": 0}}
	res, err = c.Stream(ctx, loop, func(*Message) error { return nil })
	var se *StreamError
	if !errors.Is(err, ErrTruncated) || !errors.As(err, &se) || se.Line != 31 || res.Tokens != 31 ||
		!strings.Contains(err.Error(), "after 31 messages in a row of ") {
		t.Errorf("looping model: %d tokens, error %v", res.Tokens, err)
	}
}
