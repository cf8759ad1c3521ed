package throttle

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"tr117/internal/ollamaserver"
	"tr117/profiler"
	"tr117/profiler/ollamatest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sim(t *testing.T, cfg ollamatest.Config) string {
	t.Helper()
	srv := ollamatest.NewServer(cfg)
	t.Cleanup(func() { srv.Close() })
	return srv.URL
}

func stream(t *testing.T, ctx context.Context, s profiler.Streamer, url, model string, numPredict int) (*profiler.Result, error) {
	t.Helper()
	req := &profiler.Request{Agent: "collector", URL: url, Model: model, Prompt: "Summarise the benchmark.", Options: map[string]any{"num_predict": numPredict}}
	return s.Stream(ctx, req, func(*profiler.Message) error { return nil })
}

func TestThrottleHoldsRate(t *testing.T) {
	// Real time: the simulator produces 150 tokens at 500 tok/s (0.3 s);
	// the reader may take them at 60 tok/s (2.5 s).
	url := sim(t, ollamatest.Config{TokensPerSecond: 500, TTFT: 10 * time.Millisecond})
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	ts := Wrap(c, New(60))
	// A lag probe watches how late this process's goroutines wake: on a
	// loaded machine the last wait can end late, which lowers the achieved
	// rate by no fault of the limiter; that much is forgiven below.
	probe := profiler.NewLagProbe(profiler.LagConfig{Interval: 5 * time.Millisecond}, nil)
	pctx, stopProbe := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { probe.Run(pctx) })
	res, err := stream(t, context.Background(), ts, url, "gemma3:latest", 150)
	stopProbe()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != 150 {
		t.Fatalf("%d tokens", res.Tokens)
	}
	bp := Measure(60, res)
	if got := bp.ClientTokensPerSec; got > 60*1.05 {
		t.Errorf("achieved %.2f tok/s, above 60 + 5%%", got)
	}
	lateness := time.Duration(probe.Report().LagMS.Max * float64(time.Millisecond))
	if got := float64(res.Tokens) / (res.Total - lateness).Seconds(); got < 60*0.95 {
		t.Errorf("achieved %.2f tok/s (%.2f with the %v the scheduler was late forgiven), below 60 - 5%%", bp.ClientTokensPerSec, got, lateness)
	}
	t.Logf("achieved %.2f tok/s; scheduler lateness up to %v", bp.ClientTokensPerSec, lateness)
	// The server was not slowed: the socket buffers absorbed its output.
	if bp.ServerTokensPerSec < 400 || bp.EvalCount != 150 {
		t.Errorf("server %+v", bp)
	}
	if ts.Waited() < 2*time.Second {
		t.Errorf("waited only %v", ts.Waited())
	}
}

func TestUnlimitedIsUnchanged(t *testing.T) {
	url := sim(t, ollamatest.Config{TokensPerSecond: 500, TTFT: 10 * time.Millisecond})
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	direct, err := stream(t, context.Background(), c, url, "gemma3:latest", 60)
	if err != nil {
		t.Fatal(err)
	}
	ts := Wrap(c, New(0))
	got, err := stream(t, context.Background(), ts, url, "gemma3:latest", 60)
	if err != nil {
		t.Fatal(err)
	}
	if got.Response != direct.Response || got.Tokens != direct.Tokens || got.Messages != direct.Messages {
		t.Errorf("unlimited stream differs: %d tokens %q, direct %d tokens %q", got.Tokens, got.Response, direct.Tokens, direct.Response)
	}
	// Paced at 500 tok/s, an unthrottled reader keeps up.
	if r := got.TokensPerSecond(); r < 300 {
		t.Errorf("unlimited reader achieved %.1f tok/s", r)
	}
}

func TestCancelDuringWait(t *testing.T) {
	url := sim(t, ollamatest.Config{Unpaced: true})
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	// One token a second: the first token waits a full second.
	ts := Wrap(c, New(1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := time.AfterFunc(50*time.Millisecond, cancel)
	defer stop.Stop()
	t0 := time.Now()
	res, err := stream(t, ctx, ts, url, "gemma3:latest", 20)
	if err != context.Canceled {
		t.Fatalf("error %v, want context.Canceled as is", err)
	}
	if el := time.Since(t0); el > 900*time.Millisecond {
		t.Errorf("returned %v after start, not promptly after the cancel", el)
	}
	if res == nil || res.Tokens < 1 {
		t.Errorf("result %+v", res)
	}
}

func TestDeadlineDuringWait(t *testing.T) {
	url := sim(t, ollamatest.Config{Unpaced: true})
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := stream(t, ctx, Wrap(c, New(1)), url, "gemma3:latest", 20)
	if err != context.DeadlineExceeded {
		t.Fatalf("error %v, want context.DeadlineExceeded as is", err)
	}
}

// recLimiter records WaitN calls.
type recLimiter struct {
	mu    sync.Mutex
	burst int
	calls []int
}

func (l *recLimiter) WaitN(_ context.Context, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.burst {
		return errors.New("n above burst")
	}
	l.calls = append(l.calls, n)
	return nil
}

func (l *recLimiter) Burst() int { return l.burst }

// fakeStreamer hands out messages carrying the given token counts.
func fakeStreamer(tokens ...int) profiler.Streamer {
	return profiler.StreamerFunc(func(ctx context.Context, req *profiler.Request, fn func(*profiler.Message) error) (*profiler.Result, error) {
		res := &profiler.Result{}
		m := &profiler.Message{Content: []byte("x")}
		for i, n := range tokens {
			m.Index, m.Tokens = i, n
			res.Tokens += n
			if err := fn(m); err != nil {
				return res, err
			}
		}
		return res, nil
	})
}

func TestWaitSplitsAboveBurst(t *testing.T) {
	l := &recLimiter{burst: 2}
	seen := 0
	_, err := Wrap(fakeStreamer(5, 0, 1, 2), l).Stream(context.Background(), &profiler.Request{}, func(m *profiler.Message) error {
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{2, 2, 1, 1, 2}
	if len(l.calls) != len(want) {
		t.Fatalf("WaitN calls %v, want %v", l.calls, want)
	}
	for i := range want {
		if l.calls[i] != want[i] {
			t.Fatalf("WaitN calls %v, want %v", l.calls, want)
		}
	}
	if seen != 4 {
		t.Errorf("callback saw %d messages", seen)
	}
}

func TestConstructors(t *testing.T) {
	now := time.Now()
	l := New(60)
	if l.Burst() != 60 || l.Limit() != 60 {
		t.Errorf("New(60): burst %d limit %v", l.Burst(), l.Limit())
	}
	if tok := l.TokensAt(now); tok > 1 {
		t.Errorf("New(60) starts with %.2f tokens, want an empty bucket", tok)
	}
	if l := New(2.5); l.Burst() != 3 {
		t.Errorf("New(2.5) burst %d", l.Burst())
	}
	if l := New(0); l.Limit() != rate.Inf {
		t.Errorf("New(0) limit %v, want unlimited", l.Limit())
	}
	if l := NewWithBurst(100, 5); l.Burst() != 5 || l.TokensAt(time.Now()) > 1 {
		t.Errorf("NewWithBurst: burst %d tokens %.2f", l.Burst(), l.TokensAt(time.Now()))
	}
}

func TestRealServer(t *testing.T) {
	insts := ollamaserver.Start(t, 1)
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	ts := Wrap(c, New(40))
	// A fixed seed: the random-weight model's text is then the same every
	// time. (Ollama ends a stream that repeats one token more than 30
	// times without a done message, which an unlucky draw can hit.)
	req := &profiler.Request{URL: insts[0].URL, Model: insts[0].Model, Prompt: "Summarise the benchmark.", Options: map[string]any{"num_predict": 60, "seed": 7}}
	res, err := ts.Stream(context.Background(), req, func(*profiler.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	bp := Measure(40, res)
	if res.Final == nil || bp.Tokens < 40 || bp.Tokens != bp.EvalCount {
		t.Fatalf("backpressure %+v", bp)
	}
	if math.Abs(bp.ClientTokensPerSec-40)/40 > 0.10 {
		t.Errorf("achieved %.2f tok/s against a cap of 40", bp.ClientTokensPerSec)
	}
	t.Logf("real server under a 40 tok/s cap: %+v", bp)
}

// BenchmarkLimiterOverhead is the cost a throttled stream adds per message
// when the limiter never makes it wait: an unlimited limiter and one whose
// rate and bucket are far above the stream's.
func BenchmarkLimiterOverhead(b *testing.B) {
	const n = 10000
	tokens := make([]int, n)
	for i := range tokens {
		tokens[i] = 1
	}
	src := fakeStreamer(tokens...)
	req := &profiler.Request{}
	noop := func(*profiler.Message) error { return nil }
	for _, tc := range []struct {
		name string
		s    func() profiler.Streamer
	}{
		{"none", func() profiler.Streamer { return src }},
		{"unlimited", func() profiler.Streamer { return Wrap(src, New(0)) }},
		{"never-waits", func() profiler.Streamer { return Wrap(src, NewWithBurst(1e12, 1<<30)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.s()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Stream(context.Background(), req, noop); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}

// blockLimiter blocks every wait until its context ends (or a long safety
// limit passes) and records why it returned.
type blockLimiter struct {
	mu     sync.Mutex
	ctxErr error
}

func (l *blockLimiter) WaitN(ctx context.Context, _ int) error {
	select {
	case <-ctx.Done():
		l.mu.Lock()
		l.ctxErr = ctx.Err()
		l.mu.Unlock()
		return ctx.Err()
	case <-time.After(20 * time.Second):
		return nil
	}
}

func (l *blockLimiter) Burst() int { return 1 }

// The Streamer's own request timeout ends a token wait: the wait runs on
// the message's request context, not only the caller's. (Before, the wait
// used the caller's context and the timeout fired only after the wait.)
func TestRequestTimeoutEndsWait(t *testing.T) {
	url := sim(t, ollamatest.Config{Unpaced: true})
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	l := &blockLimiter{}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, profiler.ErrTimeout)
	defer cancel()
	_, err := stream(t, ctx, Wrap(c, l), url, "gemma3:latest", 20)
	if !errors.Is(err, profiler.ErrTimeout) {
		t.Errorf("error %v, want one wrapping profiler.ErrTimeout", err)
	}
	var se *profiler.StreamError
	if !errors.As(err, &se) || se.Agent != "collector" || se.URL == "" {
		t.Errorf("error %v does not name the agent and endpoint", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctxErr == nil {
		t.Error("the limiter's wait was not ended by the request timeout")
	}
}

// TestMeasureCapRate: the cap is measured after the first token, so a
// long TTFT does not pull it down; the plain rate keeps the whole window.
func TestMeasureCapRate(t *testing.T) {
	res := &profiler.Result{Tokens: 61, HasTTFT: true, TTFT: 2 * time.Second, Total: 3 * time.Second}
	b := Measure(60, res)
	if b.CapTokensPerSec == nil || math.Abs(*b.CapTokensPerSec-60) > 1e-9 {
		t.Errorf("cap rate %v, want 60", b.CapTokensPerSec)
	}
	if math.Abs(b.ClientTokensPerSec-61.0/3) > 1e-9 {
		t.Errorf("plain rate %v, want %v", b.ClientTokensPerSec, 61.0/3)
	}
	if b := Measure(60, &profiler.Result{Tokens: 1, HasTTFT: true, TTFT: time.Second, Total: time.Second}); b.CapTokensPerSec != nil {
		t.Errorf("cap rate %v from one token", *b.CapTokensPerSec)
	}
}

func TestMeasureRun(t *testing.T) {
	rr := &profiler.RunResult{Agents: []profiler.AgentResult{
		{ID: "collector", Stream: &profiler.Result{Tokens: 10, Total: time.Second, TTFT: 100 * time.Millisecond, HasTTFT: true}},
		{ID: "insight", Error: "refused"},
	}}
	f := MeasureRun(50, 0, rr)
	if f.ThrottleRate != 50 || f.Burst != 0 || len(f.Backpressure) != 1 || f.Backpressure[0].Agent != "collector" || f.Backpressure[0].Tokens != 10 {
		t.Fatalf("MeasureRun = %+v", f)
	}
	b, err := rr.JSONWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ThrottleRate float64 `json:"throttle_rate"`
		Burst        *int    `json:"burst"`
		Backpressure []struct {
			Agent string `json:"agent_id"`
		} `json:"backpressure"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ThrottleRate != 50 || doc.Burst == nil || len(doc.Backpressure) != 1 || doc.Backpressure[0].Agent != "collector" {
		t.Errorf("run file %s", b)
	}
}
