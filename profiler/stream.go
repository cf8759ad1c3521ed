package profiler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ollama/ollama/api"
)

// API selects the protocol and endpoint a request streams from: one of
// Ollama's native NDJSON endpoints or an OpenAI-compatible SSE endpoint.
type API string

// The completion endpoints.
const (
	// APIGenerate is Ollama's POST /api/generate; the text is in
	// "response". It is the default.
	APIGenerate API = "generate"
	// APIChat is Ollama's POST /api/chat; the text is in
	// "message.content".
	APIChat API = "chat"
	// APIOpenAIChat is POST /v1/chat/completions of any OpenAI-compatible
	// server (vLLM, llama.cpp, SGLang, TGI, LM Studio, Ollama's /v1),
	// streamed as server-sent events; the text is in
	// "choices[].delta.content".
	APIOpenAIChat API = "openai-chat"
	// APIOpenAICompletions is POST /v1/completions, streamed as
	// server-sent events; the text is in "choices[].text".
	APIOpenAICompletions API = "openai-completions"
)

// ParseAPI accepts "generate", "chat", "openai-chat",
// "openai-completions" and "" (generate).
func ParseAPI(s string) (API, error) {
	switch API(s) {
	case "", APIGenerate:
		return APIGenerate, nil
	case APIChat, APIOpenAIChat, APIOpenAICompletions:
		return API(s), nil
	}
	return "", fmt.Errorf("profiler: unknown API %q (want generate, chat, openai-chat or openai-completions)", s)
}

// Path returns the endpoint's URL path below the server root:
// "/api/generate", "/api/chat", "/v1/chat/completions" or
// "/v1/completions".
func (a API) Path() string {
	switch a {
	case APIChat:
		return "/api/chat"
	case APIOpenAIChat:
		return "/v1/chat/completions"
	case APIOpenAICompletions:
		return "/v1/completions"
	}
	return "/api/generate"
}

// OpenAI reports whether a is one of the OpenAI-compatible (SSE) APIs.
func (a API) OpenAI() bool { return a == APIOpenAIChat || a == APIOpenAICompletions }

// Request is one completion to stream. It can be written into a manifest
// as JSON (Chunks is left out).
//
// Per-request recorders (chunk records, the run label) travel in the
// context: see [Hooks].
//
// A Request is plain data, read but not modified by Stream: safe to share
// between goroutines that do not modify it.
type Request struct {
	// Agent labels the request in chunk records and errors ("collector").
	Agent string `json:"agent,omitempty"`
	// URL is the server's root URL, "http://localhost:11434"; the API
	// adds the endpoint's path.
	URL string `json:"url"`
	// API is the endpoint. Default APIGenerate.
	API API `json:"api,omitempty"`
	// Model is the model name, "gemma3:latest".
	Model string `json:"model"`
	// Prompt is the user prompt.
	Prompt string `json:"prompt"`
	// System, when set, is the system prompt (generate's "system", or a
	// leading system message in a chat).
	System string `json:"system,omitempty"`
	// Options are Ollama's model options ("num_ctx", "temperature", ...),
	// sent as they are to Ollama's APIs; nil sends none. The OpenAI APIs
	// have no options object: num_predict is sent as max_tokens, and
	// temperature, top_p, top_k, seed and stop under their own names; the
	// others are not sent. Options.Map builds it from the typed set;
	// a map lets any other Ollama option through as well.
	Options map[string]any `json:"options,omitempty"`
	// Header, when set, holds extra HTTP headers for the request (W3C
	// traceparent from tr117/telemetry). Client sends them after its own.
	Header http.Header `json:"-"`
}

// Message is one streamed message as handed to a Streamer's callback. The
// callback must not retain it or its byte slices after it returns: they are
// reused for the next message.
//
// A Message is not safe for concurrent use: it belongs to the goroutine that
// runs the callback, and only for the duration of the call.
type Message struct {
	// Index numbers the messages of the stream from 0.
	Index int
	// Line is the message's 1-based line number in the response body.
	Line int
	// Arrival is when the transport read that completed the message
	// returned, measured from the start of the request.
	Arrival time.Duration
	// Content is the message's text: "response" for generate,
	// "message.content" for chat, "choices[0].delta.content" for OpenAI
	// chat, "choices[0].text" for OpenAI completions. Often empty on the
	// final message.
	Content []byte
	// Thinking is the reasoning text of thinking models, if any
	// (Ollama's "thinking"; OpenAI's "delta.reasoning_content" or
	// "delta.reasoning").
	Thinking []byte
	// Tokens is the number of tokens the message carries by the client's
	// count: 1 if Content or Thinking is non-empty, else 0 (a role-only
	// or empty delta carries none). Ollama sends one token per message,
	// so the sum equals eval_count when generation hit num_predict
	// (done_reason "length"); on a natural stop ("stop") eval_count also
	// counts the end-of-sequence token, which is never streamed, and is
	// one more. Some OpenAI-compatible servers put several tokens in one
	// chunk: see Result.TokensPerChunk.
	Tokens int
	// Done is set on the final message, which carries Final: Ollama's
	// done message, or the OpenAI stream's "data: [DONE]" event (which
	// has no text).
	Done bool
	// Final holds the server's metrics; nil except on the final message,
	// and nil there too when an OpenAI server sent neither usage nor
	// timings.
	Final *Final

	ctx context.Context
}

// Context returns the context of the request the message belongs to: the
// caller's context with the Streamer's idle watchdog applied. A callback that blocks (a throttle waiting for tokens)
// should wait on it, so that a request timeout also ends the wait. It is
// nil when the Streamer that made the message set none; the Ollama Client
// always sets it.
func (m *Message) Context() context.Context { return m.ctx }

// Final is what the server reported about the request: Ollama's final
// (done) message, or an OpenAI stream's usage and timings. Durations are
// the server's, from its own clock; a duration the protocol does not
// report is 0 here and HasDurations says so.
type Final struct {
	// DoneReason is why generation stopped: "stop", "length", "load"...
	// (OpenAI's finish_reason).
	DoneReason string `json:"done_reason,omitempty"`
	// Metrics are total_duration, load_duration, prompt_eval_count,
	// prompt_eval_duration, eval_count and eval_duration. For the OpenAI
	// APIs, eval_count is usage.completion_tokens and prompt_eval_count
	// usage.prompt_tokens; with llama.cpp's timings, eval_duration is
	// predicted_ms and prompt_eval_duration prompt_ms.
	api.Metrics
	// CountSource says where EvalCount came from: "ollama" (the done
	// message), "usage" (OpenAI usage), "timings" (llama.cpp's
	// predicted_n) or "" when the server sent no count.
	CountSource string `json:"count_source,omitempty"`
	// Timings is llama.cpp's timings object, kept as the server sent it;
	// nil from other servers.
	Timings *Timings `json:"timings,omitempty"`
}

// Timings is the "timings" object llama.cpp's server adds to its OpenAI
// stream.
type Timings struct {
	PromptN     int     `json:"prompt_n"`
	PromptMS    float64 `json:"prompt_ms"`
	PredictedN  int     `json:"predicted_n"`
	PredictedMS float64 `json:"predicted_ms"`
	CacheN      int     `json:"cache_n"`
}

// HasEvalCount reports whether the server reported an output-token count.
func (f *Final) HasEvalCount() bool { return f != nil && f.CountSource != "" }

// HasDurations reports whether the server reported its generation
// durations (Ollama always does; OpenAI servers only with llama.cpp's
// timings).
func (f *Final) HasDurations() bool {
	return f != nil && (f.CountSource == "ollama" || f.Timings != nil)
}

// ServerTokensPerSecond is eval_count / eval_duration, or 0 when the
// server reported no eval duration.
func (f *Final) ServerTokensPerSecond() float64 {
	if f == nil || f.EvalDuration <= 0 {
		return 0
	}
	return float64(f.EvalCount) / f.EvalDuration.Seconds()
}

// Streamer streams one completion and calls fn for each message, in order,
// from the goroutine that called Stream. An error from fn stops the stream
// and is returned as is; so is ctx.Err() when ctx ends the stream. Any
// other failure is a *[StreamError].
//
// The Result is never nil: on failure it holds what was measured up to
// the failure. Implementations document whether they are safe for
// concurrent use.
type Streamer interface {
	Stream(ctx context.Context, req *Request, fn func(*Message) error) (*Result, error)
}

// StreamerFunc adapts a function to a [Streamer].
//
// A StreamerFunc is as safe for concurrent use as the function it adapts.
type StreamerFunc func(ctx context.Context, req *Request, fn func(*Message) error) (*Result, error)

// Stream calls f.
func (f StreamerFunc) Stream(ctx context.Context, req *Request, fn func(*Message) error) (*Result, error) {
	return f(ctx, req, fn)
}

// Trace holds the connection milestones of a request (net/http/httptrace),
// as durations from the request's start. A milestone that was not observed
// is 0 (a reused connection has no Connect).
type Trace struct {
	// ConnReused is set when the request went over a kept-alive connection.
	ConnReused bool `json:"conn_reused"`
	// Connect is when the TCP connection was established.
	Connect time.Duration `json:"connect_ns,omitempty"`
	// GotConn is when the transport handed the request a connection.
	GotConn time.Duration `json:"got_conn_ns,omitempty"`
	// WroteRequest is when the request was fully written.
	WroteRequest time.Duration `json:"wrote_request_ns,omitempty"`
	// FirstByte is when the first byte of the response headers arrived.
	FirstByte time.Duration `json:"first_byte_ns,omitempty"`
}

// Result is what one Stream measured. All durations come from one
// monotonic clock and are measured from Start.
type Result struct {
	// Agent, URL, API and Model echo the request.
	Agent string
	URL   string
	API   API
	Model string
	// Start is when the request was about to be sent.
	Start time.Time
	// Trace holds the connection milestones.
	Trace Trace
	// TTFT is the time to first token of any kind: the arrival of the
	// first message with non-empty content or reasoning text. A message
	// with only a role or an empty string does not count. Zero when no
	// such message arrived; see HasTTFT.
	TTFT time.Duration
	// HasTTFT reports whether a token-bearing message arrived.
	HasTTFT bool
	// TTFC is the time to first content token: like TTFT, but reasoning
	// text does not count. Equal to TTFT for models that do not think.
	TTFC time.Duration
	// HasTTFC reports whether a content message arrived.
	HasTTFC bool
	// Simulated is true when the answer carried the mark of tr117's
	// Ollama simulator (tr117/profiler/ollamatest), which real Ollama
	// never sends.
	Simulated bool
	// Total is the client's total time: from Start until the callback
	// returned for the final message (so a slow consumer's time counts),
	// or until the failure.
	Total time.Duration
	// Messages is the number of messages received, Tokens the number of
	// tokens counted one per message with text (see Message.Tokens).
	Messages, Tokens int
	// Chunks and Bytes count the transport reads of the body and the
	// bytes they delivered.
	Chunks int
	Bytes  int64
	// ITL holds the inter-token latencies: for each token-bearing message
	// after the first, the time since the previous one, divided by
	// TokensPerChunk when that is above 1.
	ITL []time.Duration
	// TokensPerChunk is the server's output-token count over the client's
	// (chunks with text) when the server reported more than one token
	// beyond the client's count: the stream put several tokens in a
	// chunk, and ITL and TPOT are then per token, not per chunk. It is 1
	// otherwise (Ollama's one token per message, its unstreamed
	// end-of-sequence token included).
	TokensPerChunk float64
	// Response is the concatenated content.
	Response string
	// Final is what the server reported, nil when it reported nothing
	// (no done message; an OpenAI stream without usage or timings).
	Final *Final
	// ClientCounted is set when an OpenAI server rejected
	// stream_options.include_usage and the request was sent again
	// without it: the only token count is then the client's.
	ClientCounted bool
	// TraceID is the hex trace id of the request's span, set by a
	// Streamer wrapper that traces (tr117/telemetry); empty otherwise.
	TraceID string
}

// tpotTokens is the token count TPOT divides by: the client's, or the
// server's when chunks carried several tokens.
func (r *Result) tpotTokens() float64 {
	if r.TokensPerChunk > 1 && r.Final != nil {
		return float64(r.Final.EvalCount)
	}
	return float64(r.Tokens)
}

// TPOT is the time per output token after the first:
// (Total − TTFT) / (tokens − 1), TTFT and tokens both counting reasoning
// tokens, and tokens the server's count when chunks carried several
// (TokensPerChunk > 1). It reports false when there are fewer than two
// tokens.
func (r *Result) TPOT() (time.Duration, bool) {
	n := r.tpotTokens()
	if !r.HasTTFT || n < 2 {
		return 0, false
	}
	return time.Duration(float64(r.Total-r.TTFT) / (n - 1)), true
}

// TokensPerSecond is the client's rate, Tokens / Total
// (throughput_tokens_per_sec in a run file); 0 when Total is 0.
func (r *Result) TokensPerSecond() float64 {
	if r.Total <= 0 {
		return 0
	}
	return float64(r.Tokens) / r.Total.Seconds()
}

// ClientOverhead is the client's total time minus the server's
// total_duration: connection, transfer and client-side processing. It
// reports false when the server reported no total (no final message; the
// OpenAI APIs).
func (r *Result) ClientOverhead() (time.Duration, bool) {
	if r.Final == nil || r.Final.TotalDuration <= 0 {
		return 0, false
	}
	return r.Total - r.Final.TotalDuration, true
}

// Errors. A StreamError wraps one of these, an *HTTPError, a *ServerError,
// a malformed line's decoding error or a transport error.
var (
	// ErrTruncated: the server ended the body cleanly before the final
	// (done) message. Ollama v0.6.5 does this when the model repeats one
	// token more than 30 times in a row (its repetition abort; the error
	// then says which token); a proxy, or a server that was stopped, can
	// do it too. A connection that breaks instead (a crashed or killed
	// server) is a transport error, "connection lost before the final
	// message".
	ErrTruncated = errors.New("server closed the stream before its final (done) message")
	// ErrIdleTimeout: no bytes arrived for longer than the idle timeout.
	ErrIdleTimeout = errors.New("idle timeout")
	// ErrTimeout: the request took longer than its overall timeout.
	ErrTimeout = errors.New("request timeout")
)

// StreamError is a failed stream: which agent, which endpoint, which line
// of the body (0 when it failed before the body), and why.
type StreamError struct {
	Agent string
	URL   string // the endpoint, "http://localhost:11434/api/generate"
	Line  int
	Err   error
}

// Error is "profiler: agent A: URL: line N: cause", leaving out the parts
// that are not set (a StreamError from a custom Streamer may have no URL).
func (e *StreamError) Error() string {
	b := []byte("profiler: ")
	if e.Agent != "" {
		b = append(b, "agent "...)
		b = append(b, e.Agent...)
		b = append(b, ": "...)
	}
	if e.URL != "" {
		b = append(b, e.URL...)
		b = append(b, ": "...)
	}
	if e.Line > 0 {
		b = append(b, "line "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
		b = append(b, ": "...)
	}
	if e.Err == nil {
		return string(append(b, "failed"...))
	}
	return string(append(b, e.Err.Error()...))
}

func (e *StreamError) Unwrap() error { return e.Err }

// HTTPError is a response with status 400 or above. Message is Ollama's
// "error" text (or the body, when it was not Ollama's error JSON), kept as
// the server wrote it: "model 'x' not found".
type HTTPError struct {
	StatusCode int
	Status     string // "404 Not Found"
	Message    string
}

func (e *HTTPError) Error() string {
	s := "HTTP " + e.Status
	if e.Status == "" {
		s = "HTTP " + strconv.Itoa(e.StatusCode)
	}
	if e.Message == "" {
		return s
	}
	return s + ": " + e.Message
}

// ServerError is an {"error": "..."} message in the middle of a stream.
type ServerError struct {
	Message string
}

func (e *ServerError) Error() string {
	if e.Message == "" {
		return "server error (no message)"
	}
	return "server error: " + e.Message
}
