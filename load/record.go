package load

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"tr117/profiler"
	"tr117/stats"
)

// Record is one request as requests.jsonl holds it. Times are in
// milliseconds; scheduled_ms, sent_ms and end_ms are measured from the
// run's start (the shared --start-at time when there is one), the others
// are durations. A value that was not measured is null, never 0.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type Record struct {
	// ID numbers the requests of the schedule from 0 (for sessions: the
	// session), the same in every segment.
	ID int `json:"id"`
	// Turn numbers the turns of a session from 0.
	Turn int `json:"turn,omitempty"`
	// Segment is the worker's segment, "i/n", or "".
	Segment string `json:"segment,omitempty"`
	// ScheduledMS is when the request was due; SentMS when it was handed
	// to the streamer.
	ScheduledMS float64 `json:"scheduled_ms"`
	SentMS      float64 `json:"sent_ms"`
	// ScheduleDelayMS is how late the client started the request (its
	// own lateness); QueueMS how long it then waited for a concurrency
	// slot. SentMS = ScheduledMS + ScheduleDelayMS + QueueMS.
	ScheduleDelayMS float64 `json:"schedule_delay_ms"`
	QueueMS         float64 `json:"queue_ms"`
	// TTFTMS is the profiler's time to first token (Result.TTFT), and
	// TTFCMS the time to the first message with content (answer text,
	// not reasoning), both from SentMS.
	TTFTMS *float64 `json:"ttft_ms"`
	TTFCMS *float64 `json:"ttfc_ms"`
	// TPOTMS is (E2E − TTFT)/(tokens − 1).
	TPOTMS *float64 `json:"tpot_ms"`
	// E2EMS is the client's time from SentMS to the final message, or to
	// the failure; EndMS = SentMS + E2EMS.
	E2EMS float64 `json:"e2e_ms"`
	EndMS float64 `json:"end_ms"`
	// InputTokens is the prompt length the workload asked for (0:
	// unknown); MaxTokens the num_predict sent (0: none).
	InputTokens int `json:"input_tokens,omitempty"`
	MaxTokens   int `json:"max_tokens,omitempty"`
	// TokensGenerated is the client's count of token-bearing messages;
	// EvalCount the server's eval_count.
	TokensGenerated int  `json:"tokens_generated"`
	EvalCount       *int `json:"eval_count"`
	// PromptEvalCount and PromptEvalMS are the server's prompt
	// evaluation: how many prompt tokens it evaluated (a cached prefix is
	// not counted again) and how long it took.
	PromptEvalCount *int     `json:"prompt_eval_count"`
	PromptEvalMS    *float64 `json:"prompt_eval_ms"`
	// ITL summarises the inter-token latencies; ITLMS lists them.
	ITL   *ITLSummary `json:"itl"`
	ITLMS []float64   `json:"itl_ms,omitempty"`
	// Error is why the request failed, "" when it succeeded; ErrorKind
	// classifies it (see [ErrorKind]).
	Error     string `json:"error"`
	ErrorKind string `json:"error_kind,omitempty"`
	// TraceID is the hex trace id of the request's span when the streamer
	// traced it (Result.TraceID), so the row can be found in a trace
	// viewer.
	TraceID string `json:"trace_id,omitempty"`
	// Simulated is true when tr117's Ollama simulator answered the
	// request (its answers carry a mark real servers never send).
	Simulated bool `json:"simulated,omitempty"`
}

// OK reports whether the request succeeded.
func (r *Record) OK() bool { return r.Error == "" }

// ITLSummary summarises one request's inter-token latencies, in ms.
//
// It is plain data, safe for concurrent reads.
type ITLSummary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msp(d time.Duration) *float64 {
	v := ms(d)
	return &v
}

// fill sets the fields a stream's result gives.
func (rec *Record) fill(res *profiler.Result, ttfc time.Duration, hasTTFC bool, err error) {
	rec.E2EMS = res.Total.Seconds() * 1000
	rec.EndMS = rec.SentMS + rec.E2EMS
	rec.TokensGenerated = res.Tokens
	rec.TraceID = res.TraceID
	rec.Simulated = res.Simulated
	if res.HasTTFT {
		rec.TTFTMS = msp(res.TTFT)
	}
	if hasTTFC {
		rec.TTFCMS = msp(ttfc)
	}
	if tpot, ok := res.TPOT(); ok && err == nil {
		rec.TPOTMS = msp(tpot)
	}
	if f := res.Final; f != nil {
		ec, pc := f.EvalCount, f.PromptEvalCount
		rec.EvalCount, rec.PromptEvalCount = &ec, &pc
		if f.PromptEvalDuration > 0 { // OpenAI servers report no duration
			rec.PromptEvalMS = msp(f.PromptEvalDuration)
		}
	}
	if len(res.ITL) > 0 {
		rec.ITLMS = make([]float64, len(res.ITL))
		for i, d := range res.ITL {
			rec.ITLMS[i] = ms(d)
		}
		rec.ITL = summarizeITL(rec.ITLMS)
	}
	if err != nil {
		rec.Error, rec.ErrorKind = err.Error(), ErrorKind(err)
	}
}

func summarizeITL(xs []float64) *ITLSummary {
	s, err := stats.Summarize(xs)
	if err != nil {
		return nil
	}
	return &ITLSummary{N: s.N, Mean: s.Mean, P50: s.P50, P99: s.P99, Max: s.Max}
}

// KindInterrupted is the [ErrorKind] of a request that the run's context
// ended (Ctrl-C): a summary counts it as interrupted, not failed.
const KindInterrupted = "interrupted"

// ErrorKind classifies a request's error for the summary's counts:
// "interrupted", "connection_refused", "connection_lost", "timeout",
// "idle_timeout", "http_<status>", "server_error", "truncated" or "other".
func ErrorKind(err error) string {
	var he *profiler.HTTPError
	var se *profiler.ServerError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return KindInterrupted
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, profiler.ErrIdleTimeout):
		return "idle_timeout"
	case errors.Is(err, profiler.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &he):
		return "http_" + strconv.Itoa(he.StatusCode)
	case errors.As(err, &se):
		return "server_error"
	case errors.Is(err, profiler.ErrTruncated):
		return "truncated"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne):
		return "connection_lost"
	}
	return "other"
}
