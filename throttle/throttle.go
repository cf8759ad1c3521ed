// Package throttle puts a token bucket between a profiler stream and its
// reader, for TR117's flow-dynamics ("tortoise and hare") experiment: does a
// slower consumer change multi-agent efficiency, and does throttling the
// reader slow the server?
//
// [Wrap] returns a profiler.Streamer whose every message passes its tokens
// through a [Limiter] before the message reaches the caller and before the
// next read of the response body, so back-pressure reaches the socket. Any
// *rate.Limiter is a Limiter; [New] builds one whose bucket starts empty
// and holds at most one second of tokens, and [NewWithBurst] one with a
// chosen bucket size. With profiler.Config.Wrap,
// every agent of a run is throttled:
//
//	cfg.Wrap = func(a profiler.Agent, s profiler.Streamer) profiler.Streamer {
//		return throttle.WrapEach(s, func() throttle.Limiter { return throttle.New(60) })
//	}
//
// [Measure] sets what the server reported (its eval rate and
// total_duration) next to the rate the client achieved.
//
// A throttled stream's profiler.Result times messages as the profiler
// always does, by the transport read that delivered them: while the reader
// waits, the server's messages pile up in the socket buffers and the next
// read returns many at once, so inter-token latencies cluster near zero
// with gaps of a refill in between. The achieved rate is Result.Tokens /
// Result.Total (throughput_tokens_per_sec in a run file), which counts the
// waits.
//
// # Concurrency
//
// A [Streamer] is safe for concurrent use if its Streamer and Limiter are;
// a *rate.Limiter is, and one shared by several streams limits their
// combined rate. [Backpressure] is plain data.
package throttle

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"tr117/profiler"
)

// Limiter is the part of *rate.Limiter a throttled stream uses, so a
// *rate.Limiter satisfies it without an adapter. WaitN blocks until n
// tokens are available or ctx is done; Burst is the largest n WaitN
// accepts (a limiter with an infinite rate may report 0).
//
// Implementations must be safe for concurrent use when a Limiter is shared
// between streams; *rate.Limiter is.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
	Burst() int
}

var _ Limiter = (*rate.Limiter)(nil)

// New returns a limiter of tokensPerSecond tokens a second with a bucket
// that starts empty and holds at most one second of tokens (burst
// ⌈tokensPerSecond⌉, at least 1). Zero or a negative rate means unlimited
// (rate.Inf).
func New(tokensPerSecond float64) *rate.Limiter {
	if tokensPerSecond <= 0 || math.IsInf(tokensPerSecond, 1) {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return NewWithBurst(tokensPerSecond, int(math.Ceil(tokensPerSecond)))
}

// NewWithBurst returns a limiter of tokensPerSecond whose bucket holds at
// most burst tokens (at least 1) and, like New's, starts empty. Zero or a
// negative rate means unlimited.
func NewWithBurst(tokensPerSecond float64, burst int) *rate.Limiter {
	if tokensPerSecond <= 0 || math.IsInf(tokensPerSecond, 1) {
		return rate.NewLimiter(rate.Inf, 0)
	}
	burst = max(burst, 1)
	l := rate.NewLimiter(rate.Limit(tokensPerSecond), burst)
	l.AllowN(time.Now(), burst) // empty the bucket
	return l
}

// Streamer is a profiler.Streamer throttled by a Limiter. Make one with
// [Wrap].
type Streamer struct {
	s      profiler.Streamer
	l      Limiter
	waited atomic.Int64
}

// Wrap returns s throttled by l: before each message with tokens reaches
// the callback, its tokens pass l.WaitN (split into requests of at most
// l.Burst() tokens, so none is rejected). A nil l returns a Streamer that
// does not throttle.
func Wrap(s profiler.Streamer, l Limiter) *Streamer {
	return &Streamer{s: s, l: l}
}

// WrapEach returns s throttled by a fresh limiter from newLimiter for every
// stream, so that each stream starts with an empty bucket instead of one
// that filled up between runs. A nil limiter does not throttle.
func WrapEach(s profiler.Streamer, newLimiter func() Limiter) profiler.Streamer {
	return profiler.StreamerFunc(func(ctx context.Context, req *profiler.Request, fn func(*profiler.Message) error) (*profiler.Result, error) {
		return Wrap(s, newLimiter()).Stream(ctx, req, fn)
	})
}

// Waited returns the total time the streams spent waiting for tokens.
func (t *Streamer) Waited() time.Duration { return time.Duration(t.waited.Load()) }

// Stream streams req through the wrapped Streamer, throttled. A context
// that ends during a wait ends the stream promptly with ctx.Err(); so does
// the wrapped Streamer's own request timeout, when its messages carry their
// request's context ([profiler.Message.Context]).
func (t *Streamer) Stream(ctx context.Context, req *profiler.Request, fn func(*profiler.Message) error) (*profiler.Result, error) {
	if t.l == nil {
		return t.s.Stream(ctx, req, fn)
	}
	return t.s.Stream(ctx, req, func(m *profiler.Message) error {
		if m.Tokens > 0 {
			// Wait on the request's context where the Streamer gives one,
			// so its timeout ends a wait as it ends a read.
			wctx := ctx
			if mc := m.Context(); mc != nil {
				wctx = mc
			}
			t0 := time.Now()
			err := t.wait(wctx, m.Tokens)
			t.waited.Add(int64(time.Since(t0)))
			if err != nil {
				return err
			}
		}
		return fn(m)
	})
}

// wait takes n tokens from the limiter, in requests of at most its burst.
func (t *Streamer) wait(ctx context.Context, n int) error {
	burst := t.l.Burst()
	for n > 0 {
		k := n
		if burst > 0 && k > burst {
			k = burst
		}
		if err := t.l.WaitN(ctx, k); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if _, ok := ctx.Deadline(); ok {
				// rate refuses a wait that would outlast the deadline;
				// the reader would have waited that long, so do.
				<-ctx.Done()
				return ctx.Err()
			}
			return fmt.Errorf("throttle: %w", err)
		}
		n -= k
	}
	return nil
}

// Backpressure sets what the server did next to what the throttled client
// achieved, for one stream. Rates are tokens per second; durations ms.
type Backpressure struct {
	// ThrottleRate is the cap (0: unlimited).
	ThrottleRate float64 `json:"throttle_rate"`
	// ClientTokensPerSec is the plain rate, tokens / client total: its
	// window includes the time to first token and the bucket's first fill.
	ClientTokensPerSec float64 `json:"client_tokens_per_sec"`
	// CapTokensPerSec is the rate the reader held after its first token,
	// (tokens − 1) / (total − TTFT): the measure of the cap. Nil with
	// under two tokens or no TTFT.
	CapTokensPerSec *float64 `json:"cap_tokens_per_sec"`
	// ServerTokensPerSec is Ollama's eval_count / eval_duration: how fast
	// the model generated. If it falls as the cap falls, throttling the
	// reader slowed the server.
	ServerTokensPerSec float64 `json:"server_tokens_per_sec"`
	// ServerTotalMS is Ollama's total_duration and ClientTotalMS the
	// client's total time. A server total well below the client's means
	// the server finished early and the socket buffers held the rest.
	ServerTotalMS float64 `json:"server_total_duration_ms"`
	ClientTotalMS float64 `json:"client_total_ms"`
	// Tokens and EvalCount are the client's and the server's token counts.
	Tokens    int `json:"tokens"`
	EvalCount int `json:"eval_count"`
}

// Measure returns the Backpressure of one stream's result.
func Measure(throttleRate float64, res *profiler.Result) Backpressure {
	b := Backpressure{ThrottleRate: max(throttleRate, 0)}
	if res == nil {
		return b
	}
	b.ClientTokensPerSec = res.TokensPerSecond()
	b.ClientTotalMS = float64(res.Total) / float64(time.Millisecond)
	b.Tokens = res.Tokens
	if res.HasTTFT && res.Tokens > 1 && res.Total > res.TTFT {
		v := float64(res.Tokens-1) / (res.Total - res.TTFT).Seconds()
		b.CapTokensPerSec = &v
	}
	if res.Final != nil {
		b.ServerTokensPerSec = res.Final.ServerTokensPerSecond()
		b.ServerTotalMS = float64(res.Final.TotalDuration) / float64(time.Millisecond)
		b.EvalCount = res.Final.EvalCount
	}
	return b
}
