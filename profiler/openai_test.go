package profiler

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"tr117/profiler/ollamatest"
)

// The OpenAI APIs against the simulator's /v1 endpoints: the same text as
// Ollama's native endpoint, the server's count from the usage chunk, every
// transport shape.
func TestOpenAIMatchesNative(t *testing.T) {
	for _, tc := range []struct {
		name string
		sim  ollamatest.Config
		cfg  ClientConfig
		api  API
	}{
		{"chat/default", ollamatest.Config{Unpaced: true, ResponseTokens: 60}, ClientConfig{}, APIOpenAIChat},
		{"completions/default", ollamatest.Config{Unpaced: true, ResponseTokens: 60}, ClientConfig{}, APIOpenAICompletions},
		{"chat/coalesced", ollamatest.Config{Unpaced: true, ResponseTokens: 60, Coalesce: 7}, ClientConfig{ReadBufferSize: 8192}, APIOpenAIChat},
		{"completions/exact-300", ollamatest.Config{Unpaced: true, ResponseTokens: 40}, ClientConfig{ReadBufferSize: 300, ReadMode: ReadExact}, APIOpenAICompletions},
		{"chat/1-byte-reads", ollamatest.Config{Unpaced: true, ResponseTokens: 30, SplitChars: 0.5}, ClientConfig{ReadBufferSize: 1}, APIOpenAIChat},
		{"chat/paced", ollamatest.Config{TokensPerSecond: 400, TTFT: 10 * time.Millisecond, ResponseTokens: 20}, ClientConfig{}, APIOpenAIChat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			srv := simServer(t, tc.sim)
			native := APIGenerate
			if tc.api == APIOpenAIChat {
				native = APIChat
			}
			for _, np := range []int{0, 10} {
				req := Request{Agent: "collector", URL: srv.URL, API: tc.api, Model: "gemma3:latest", Prompt: "Describe the benchmark. ü→✓ 😀"}
				if np > 0 {
					req.Options = map[string]any{"num_predict": np}
				}
				res, err, chunks, seen := streamOnce(t, tc.cfg, req)
				if err != nil {
					t.Fatal(err)
				}
				req.API = native
				want, wantM := reference(t, srv.URL, req)
				if res.Response != want || seen != want {
					t.Errorf("num_predict %d: response differs from the native endpoint's:\n got %q\nwant %q", np, res.Response, want)
				}
				f := res.Final
				if f == nil || f.CountSource != "usage" || f.EvalCount != wantM.EvalCount || f.PromptEvalCount != wantM.PromptEvalCount {
					t.Fatalf("num_predict %d: final %+v, want eval_count %d", np, f, wantM.EvalCount)
				}
				if f.HasDurations() {
					t.Error("server durations from a protocol that has none")
				}
				if tc.sim.SplitChars > 0 {
					// A character split across two tokens comes in one
					// chunk: the server counts more tokens than chunks,
					// and ITL and TPOT go per token.
					if k := float64(f.EvalCount) / float64(res.Tokens); f.EvalCount > res.Tokens+1 && res.TokensPerChunk != k {
						t.Errorf("%v tokens per chunk, want %v", res.TokensPerChunk, k)
					}
				} else if !evalCountMatches(res) || (np > 0 && (res.Tokens != np || f.DoneReason != "length")) || res.TokensPerChunk != 1 {
					t.Errorf("num_predict %d: %d client tokens, eval_count %d, %q, %v tokens per chunk", np, res.Tokens, f.EvalCount, f.DoneReason, res.TokensPerChunk)
				}
				if !res.HasTTFT || res.TTFT <= 0 || res.TTFT > res.Total || res.TTFC != res.TTFT {
					t.Errorf("TTFT %v TTFC %v total %v", res.TTFT, res.TTFC, res.Total)
				}
				checkChunks(t, res, chunks, tc.cfg.ReadBufferSize)
			}
		})
	}
}

// Each fault of the simulator, through Ollama v0.6.5's /v1: the middleware
// turns a mid-stream error into an empty chunk and ends without [DONE].
func TestOpenAIFaultsSimulated(t *testing.T) {
	const model = "gemma3:latest"
	for _, tc := range []struct {
		name    string
		fault   ollamatest.Fault
		cfg     ClientConfig
		want    string
		wantErr error
	}{
		{name: "http-error", fault: ollamatest.Fault{Kind: ollamatest.FaultHTTPError, Status: 500}, want: "HTTP 500 Internal Server Error: "},
		{name: "unknown-model", want: `HTTP 404 Not Found: model "nope" not found, try pulling it first`},
		{name: "error-line", fault: ollamatest.Fault{Kind: ollamatest.FaultErrorLine, After: 5}, wantErr: ErrNoDone},
		{name: "cut", fault: ollamatest.Fault{Kind: ollamatest.FaultCut, After: 7}, wantErr: ErrNoDone},
		{name: "abort", fault: ollamatest.Fault{Kind: ollamatest.FaultAbort, After: 4}, want: "connection lost before [DONE]"},
		{name: "malformed", fault: ollamatest.Fault{Kind: ollamatest.FaultMalformed, After: 3}, wantErr: ErrNoDone},
		{name: "idle", fault: ollamatest.Fault{Kind: ollamatest.FaultStall, After: 2}, cfg: ClientConfig{IdleTimeout: 150 * time.Millisecond}, wantErr: ErrIdleTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			sim := ollamatest.Config{Unpaced: true, ResponseTokens: 60}
			if tc.fault.Kind != "" {
				sim.Faults = map[string]ollamatest.Fault{model: tc.fault}
			}
			srv := simServer(t, sim)
			m := model
			if tc.name == "unknown-model" {
				m = "nope"
			}
			res, err, chunks, _ := streamOnce(t, tc.cfg, Request{Agent: "insight", URL: srv.URL, API: APIOpenAIChat, Model: m, Prompt: "hi"})
			var se *StreamError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *StreamError", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "profiler: agent insight: "+srv.URL+"/v1/chat/completions: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want agent, endpoint and %q", msg, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q is not %v", msg, tc.wantErr)
			}
			if res.Total <= 0 {
				t.Errorf("total %v", res.Total)
			}
			checkChunks(t, res, chunks, 0)
		})
	}
}

// noLeaks checks, after the test's other cleanups (its servers' Close), that
// it left no goroutine behind.
func noLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}
