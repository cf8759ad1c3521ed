package ollamatest

import (
	"context"
	"net/http"
	"time"

	"tr117/internal/simmark"
)

// Defaults applied to the zero fields of a [Config].
const (
	DefaultTokensPerSecond = 100.0
	DefaultTTFT            = 50 * time.Millisecond
	DefaultResponseTokens  = 256
	// DefaultVersion is Ollama v0.6.5's, marked as the simulator's: real
	// Ollama never reports a pre-release tag.
	DefaultVersion = "0.6.5" + simmark.VersionSuffix
)

// repeatLimit is Ollama's limit on repeated tokens: a stream ends when one
// token's text, spaces trimmed, repeats more than repeatLimit times in a row
// (see Config.NoRepeatAbort).
const repeatLimit = 30

// DefaultModels returns the model names a [Config] with no Models serves:
// the three models of the TR117 plan and the tiny test model that
// tr117/internal/ollamaserver creates in a real server.
func DefaultModels() []string {
	return []string{"gemma3:latest", "qwen2.5:7b", "llama3.1:8b-instruct-q4_0", "tiny:latest"}
}

// Config describes a simulated Ollama server. The zero value is a server that
// serves [DefaultModels] at [DefaultTokensPerSecond] in real time with no
// faults. Every field but the funcs can be written into a manifest as JSON.
type Config struct {
	// Models are the model names served. A name without a tag means
	// ":latest", and names compare case-insensitively, as in Ollama. Any
	// other model asked for gets Ollama's 404 error. Default: DefaultModels().
	Models []string `json:"models,omitempty"`

	// TokensPerSecond is the decode rate of every stream. Default 100.
	TokensPerSecond float64 `json:"tokens_per_second,omitempty"`

	// Rates overrides TokensPerSecond for some models, keyed by model name
	// (compared as Ollama compares names: "qwen2.5:7b", "gemma3" for
	// "gemma3:latest"), so that a simulated pair of models differ in speed
	// as real ones do.
	Rates map[string]float64 `json:"rates,omitempty"`

	// TTFT is the prompt-evaluation time (reported as prompt_eval_duration).
	// The first token follows it one token interval later, so that
	// eval_count/eval_duration is exactly TokensPerSecond. Default 50ms;
	// negative means none.
	TTFT time.Duration `json:"ttft_ns,omitempty"`

	// Jitter is the relative spread of each inter-token interval: every
	// interval is drawn uniformly from [1-Jitter, 1+Jitter] times the mean.
	// Must be in [0, 1). Default 0 (a steady rate).
	Jitter float64 `json:"jitter,omitempty"`

	// LoadDelay is the time the first request to a model spends loading it
	// (reported as load_duration); later requests find it loaded until it is
	// unloaded with keep_alive 0. Default 0.
	LoadDelay time.Duration `json:"load_delay_ns,omitempty"`

	// Parallel is how many requests a model serves at once, like
	// OLLAMA_NUM_PARALLEL; later ones wait in a queue, and, as in Ollama,
	// the wait counts in load_duration and total_duration. Default 0: no
	// limit.
	Parallel int `json:"parallel,omitempty"`

	// Contention slows every stream while others run on the same server,
	// as streams sharing one GPU do: with k streams generating, each
	// token interval is (1 + Contention*(k-1)) times the mean. Default 0:
	// streams do not slow each other.
	Contention float64 `json:"contention,omitempty"`

	// Unpaced turns every delay (TTFT, tokens, load) into zero: streams go
	// as fast as the client reads. For benchmarks of clients.
	Unpaced bool `json:"unpaced,omitempty"`

	// NoRepeatAbort turns off Ollama's repetition abort. Ollama v0.6.5
	// (llm/server.go) ends a stream when the model's text, spaces trimmed,
	// repeats more than 30 times in a row (its 32nd identical piece in a
	// row is not sent): the 31 identical messages it has sent are followed
	// by a clean end of the body with no done message ("stream": false
	// answers 200 with the text so far, "done": false and no metrics). The
	// simulator does the same by default; [FaultRepeat] makes a model loop
	// so that it happens.
	NoRepeatAbort bool `json:"no_repeat_abort,omitempty"`

	// ResponseTokens is how many tokens a response has when it ends on its
	// own (done_reason "stop"); as with a real model, the end-of-sequence
	// token that ends it costs one more token interval and counts in
	// eval_count (ResponseTokens+1) but is not sent. A request whose
	// options.num_predict is positive and not above ResponseTokens gets
	// num_predict tokens and done_reason "length", with eval_count equal to
	// the number of token messages. options.stop ends a response early with
	// done_reason "stop", as Ollama does: text that may begin a stop sequence
	// is held back, the stop sequence is cut, and eval_count counts the
	// tokens generated, the cut ones included. Default 256.
	ResponseTokens int `json:"response_tokens,omitempty"`

	// SplitChars is the fraction of words that carry a multi-byte character
	// ("café", "東京", "😀") split across two tokens, as byte-level
	// vocabularies split them. Ollama holds the first token back until the
	// character is complete and sends both in one message, so such a
	// message counts two tokens in eval_count. In [0, 1]; default 0.
	SplitChars float64 `json:"split_chars,omitempty"`

	// Seed makes the generated text (and the jitter) repeatable. Two
	// servers with the same Seed answer the same request with the same
	// text. Default 0, which is a seed like any other.
	Seed uint64 `json:"seed"`

	// Coalesce is the number of stream messages written per Write+Flush.
	// 0 or 1 writes and flushes each message on its own, as Ollama does.
	Coalesce int `json:"coalesce,omitempty"`

	// SplitLines writes every message in two halves, flushing between them,
	// so that a client sees lines that span transport reads.
	SplitLines bool `json:"split_lines,omitempty"`

	// Version is what /api/version reports. Default [DefaultVersion].
	// Every answer carries the simulator's header whatever Version says.
	Version string `json:"version,omitempty"`

	// Faults assigns a fault to every generate and chat request for a
	// model, keyed by the model name as the client sends it.
	Faults map[string]Fault `json:"faults,omitempty"`

	// FaultFunc, when set, chooses the fault of each generate and chat
	// request; it takes precedence over Faults. It is called from the
	// request's goroutine, so it must be safe for concurrent use.
	FaultFunc func(Request) Fault `json:"-"`

	// Sleep waits for d or until ctx is done, returning ctx.Err() in the
	// latter case. Default: a real timer. Tests inject one that returns at
	// once (or advances a virtual clock) to run deterministically.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`

	// Now is the clock used for created_at, modified_at and expires_at.
	// Default time.Now.
	Now func() time.Time `json:"-"`
}

// Request describes a generate or chat request to a [Config.FaultFunc].
type Request struct {
	// Endpoint is "/api/generate" or "/api/chat".
	Endpoint string
	// Model is the model name as the client sent it.
	Model string
	// Prompt is the prompt of a generate request, or the content of the
	// last message of a chat request.
	Prompt string
	// Seq numbers the generate and chat requests this handler has received,
	// from 1, in arrival order.
	Seq int64
	// Header is the request's HTTP header. Do not modify it.
	Header http.Header
}

func (c Config) withDefaults() Config {
	if c.Models == nil {
		c.Models = DefaultModels()
	}
	if c.TokensPerSecond <= 0 {
		c.TokensPerSecond = DefaultTokensPerSecond
	}
	if c.TTFT == 0 {
		c.TTFT = DefaultTTFT
	}
	if c.TTFT < 0 {
		c.TTFT = 0
	}
	if c.Jitter < 0 {
		c.Jitter = 0
	}
	if c.Jitter >= 1 {
		c.Jitter = 0.999
	}
	if c.Parallel < 0 {
		c.Parallel = 0
	}
	if c.Contention < 0 {
		c.Contention = 0
	}
	if c.LoadDelay < 0 {
		c.LoadDelay = 0
	}
	if c.ResponseTokens <= 0 {
		c.ResponseTokens = DefaultResponseTokens
	}
	if c.Coalesce < 1 {
		c.Coalesce = 1
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Sleep == nil {
		c.Sleep = sleepReal
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func sleepReal(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
