package profiler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"tr117/sink"
)

// Agent is one of the concurrent streams of a run.
type Agent struct {
	// ID names the agent in records, results and errors ("collector").
	ID string `json:"id"`
	// URL is the agent's Ollama base URL.
	URL string `json:"base_url"`
	// Model is the model the agent asks for.
	Model string `json:"model"`
	// Prompt and System are the agent's prompts.
	Prompt string `json:"prompt"`
	System string `json:"system,omitempty"`
	// Options are sent as Ollama's options; nil sends none.
	Options map[string]any `json:"options"`
}

// Defaults of a [Config].
const (
	// DefaultConcurrency is how many agents stream at once by default.
	DefaultConcurrency = 2
)

// Config configures a [Runner]. It can be written into a manifest as JSON
// (Wrap is left out). Zero fields take the documented defaults.
type Config struct {
	// Agents are streamed concurrently in each run. Required; IDs must be
	// unique. See DefaultAgents.
	Agents []Agent `json:"agents"`
	// Scenario labels the results (the agents' options already carry it).
	Scenario Scenario `json:"scenario,omitempty"`
	// API is the endpoint every agent streams from. Default APIGenerate.
	API API `json:"api,omitempty"`
	// ReadBufferSize bounds every transport read (see ClientConfig).
	// Zero: Go's defaults. At most MaxReadBufferSize.
	ReadBufferSize int `json:"read_buffer_size,omitempty"`
	// ReadMode says how bodies are cut into chunks (see ClientConfig).
	// Default ReadBound.
	ReadMode ReadMode `json:"read_mode,omitempty"`
	// APIKey is sent as a bearer token (see ClientConfig); never written.
	APIKey string `json:"-"`
	// Timeout bounds each request. Default DefaultTimeout; negative: none.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// IdleTimeout abandons a stream silent for that long. Default: none.
	IdleTimeout time.Duration `json:"idle_timeout_ns,omitempty"`
	// Concurrency is how many agents may stream at once. Default
	// DefaultConcurrency.
	Concurrency int `json:"concurrency,omitempty"`
	// Warmup, for Runner.Warmup: when false, Warmup does nothing.
	Warmup bool `json:"warmup,omitempty"`
	// WarmupPrompt, when set, is every warm-up request's prompt. Default:
	// each agent's own prompt, so that the server's prompt cache is in the
	// same state for run 1 as for the runs after it.
	WarmupPrompt string `json:"warmup_prompt,omitempty"`
	// Lag configures the scheduler-lag probe that runs during each run.
	Lag LagConfig `json:"lag"`
	// SoloBaseline, when set, makes each run first stream every agent
	// alone, one after the other and in the order of Agents, and then all
	// of them together: the solo times give each agent's slowdown and the
	// run's true speed-up. Solo streams are not written to the sinks and
	// the lag probe does not run during them.
	SoloBaseline bool `json:"solo_baseline"`
	// Consumer models the client's per-message work (solo streams get the
	// same model).
	Consumer ConsumerConfig `json:"consumer"`
	// Wrap, when set, wraps each agent's Streamer for measured runs (not
	// warm-ups): tr117/throttle uses it to rate-limit the reader. It may
	// also return a different Streamer altogether.
	Wrap func(a Agent, s Streamer) Streamer `json:"-"`
}

// Sinks are where a Runner's records go. Nil sinks are skipped. A sink
// with a Flush() error method is flushed at the end of every run, failed
// or not.
//
// Sinks is plain data; a Runner writes to its sinks from several goroutines at
// once, so they must be safe for concurrent use (the tr117/sink CSV, JSONL and
// Memory sinks are).
type Sinks struct {
	Chunks sink.Sink[Chunk]
	Lag    sink.Sink[LagSample]
}

// Runner runs the agents of a Config together, run after run, keeping a
// client (and its kept-alive connections) per agent, so that runs after the
// first (or after Warmup) do not pay for connecting. The goroutines of
// net/http that serve those idle connections are the only ones that
// outlive a Run; Close ends them. Use one Runner for the runs of one
// configuration.
type Runner struct {
	cfg       Config
	sinks     Sinks
	clients   []*Client
	streamers []Streamer
}

// NewRunner checks cfg and returns a Runner for it.
func NewRunner(cfg Config, sinks Sinks) (*Runner, error) {
	if len(cfg.Agents) == 0 {
		return nil, errors.New("profiler: config has no agents")
	}
	seen := map[string]bool{}
	for i, a := range cfg.Agents {
		switch {
		case a.ID == "":
			return nil, fmt.Errorf("profiler: agent %d has no ID", i)
		case seen[a.ID]:
			return nil, fmt.Errorf("profiler: agent ID %q used twice", a.ID)
		case a.URL == "":
			return nil, fmt.Errorf("profiler: agent %s has no URL", a.ID)
		case a.Model == "":
			return nil, fmt.Errorf("profiler: agent %s has no model", a.ID)
		}
		if err := checkURL(a.URL); err != nil {
			return nil, fmt.Errorf("profiler: agent %s: %w", a.ID, err)
		}
		if isRunKey(a.ID) {
			return nil, fmt.Errorf("profiler: agent ID %q is a field of run_<i>.json, where each agent is written under its ID", a.ID)
		}
		seen[a.ID] = true
	}
	api, err := ParseAPI(string(cfg.API))
	if err != nil {
		return nil, err
	}
	if cfg.ReadBufferSize < 0 || cfg.ReadBufferSize > MaxReadBufferSize {
		return nil, fmt.Errorf("profiler: read buffer size %d is not in [0, %d]", cfg.ReadBufferSize, MaxReadBufferSize)
	}
	cfg.API = api
	if cfg.ReadMode, err = ParseReadMode(string(cfg.ReadMode)); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	cfg.Lag = cfg.Lag.withDefaults()
	r := &Runner{cfg: cfg, sinks: sinks}
	for _, a := range cfg.Agents {
		c := NewClient(ClientConfig{ReadBufferSize: cfg.ReadBufferSize, ReadMode: cfg.ReadMode, IdleTimeout: cfg.IdleTimeout, APIKey: cfg.APIKey})
		r.clients = append(r.clients, c)
		var s Streamer = c
		if cfg.Wrap != nil {
			s = cfg.Wrap(a, c)
		}
		r.streamers = append(r.streamers, s)
	}
	return r, nil
}

// Config returns the runner's configuration with defaults applied.
func (r *Runner) Config() Config { return r.cfg }

// Close closes the agents' idle connections.
func (r *Runner) Close() {
	for _, c := range r.clients {
		c.CloseIdleConnections()
	}
}

// Warmup sends each agent one short request (its own prompt, or
// Config.WarmupPrompt, with the agent's options plus num_predict 1),
// concurrently, so that neither model loading nor a first evaluation of
// the prompt lands in the first measured run. Nothing is recorded. It does
// nothing unless Config.Warmup is set. The error joins the agents' errors.
func (r *Runner) Warmup(ctx context.Context) error {
	if !r.cfg.Warmup {
		return nil
	}
	errs := make([]error, len(r.cfg.Agents))
	var wg sync.WaitGroup
	for i, a := range r.cfg.Agents {
		opts := make(map[string]any, len(a.Options)+1)
		for k, v := range a.Options {
			opts[k] = v
		}
		opts["num_predict"] = 1
		prompt := a.Prompt
		if r.cfg.WarmupPrompt != "" {
			prompt = r.cfg.WarmupPrompt
		}
		req := &Request{Agent: a.ID, URL: a.URL, API: r.cfg.API, Model: a.Model, Prompt: prompt, System: a.System, Options: opts}
		wg.Go(func() {
			actx, cancel := r.requestContext(ctx, nil)
			defer cancel()
			_, err := r.clients[i].Stream(actx, req, func(*Message) error { return nil })
			var se *StreamError
			switch {
			case errors.As(err, &se):
				errs[i] = &StreamError{Agent: se.Agent, URL: se.URL, Line: se.Line, Err: fmt.Errorf("warm-up: %w", se.Err)}
			case err != nil:
				errs[i] = agentErr(a, r.cfg.API, fmt.Errorf("warm-up: %w", err))
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(errs...)
}

// requestContext returns the context of one request: ctx with the hooks
// and the request timeout.
func (r *Runner) requestContext(ctx context.Context, h *Hooks) (context.Context, context.CancelFunc) {
	if h != nil {
		ctx = WithHooks(ctx, h)
	}
	if r.cfg.Timeout > 0 {
		return context.WithTimeoutCause(ctx, r.cfg.Timeout, ErrTimeout)
	}
	return ctx, func() {}
}

// agentErr makes sure err names the agent and its endpoint.
func agentErr(a Agent, api API, err error) error {
	var se *StreamError
	if errors.As(err, &se) {
		return err
	}
	return &StreamError{Agent: a.ID, URL: a.URL + api.Path(), Err: err}
}

// RunResult is one run, the content of run_<i>.json. Its JSON (see
// MarshalJSON) also holds run_number and each agent's object under its ID.
type RunResult struct {
	Run      int           `json:"run"`
	Scenario Scenario      `json:"scenario"`
	API      API           `json:"api"`
	Agents   []AgentResult `json:"agents"`
	// AgentIDs are the agents' IDs in order (the keys of their objects).
	AgentIDs []string `json:"agent_ids"`
	// ConcurrentWallTimeMS is the time from starting all agents to the
	// last one finishing.
	ConcurrentWallTimeMS float64 `json:"concurrent_wall_time_ms"`
	// SequentialEstimateMS is the sum of the agents' own total times in
	// this run (a failed agent's up to its failure).
	SequentialEstimateMS float64 `json:"sequential_estimate_ms"`
	// ConcurrencySpeedup is SequentialEstimateMS / ConcurrentWallTimeMS:
	// how evenly the agents' durations, each measured while they ran
	// together, overlap in the wall time; contention that slows every
	// agent alike does not lower it. It is nil (JSON null) when any agent
	// failed: a failed agent's time is not the time of a completion.
	ConcurrencySpeedup *float64 `json:"concurrency_speedup"`
	// EfficiencyPercent is ConcurrencySpeedup / len(Agents) × 100; nil
	// (JSON null) when any agent failed, like ConcurrencySpeedup.
	EfficiencyPercent *float64 `json:"efficiency_percent"`
	// BalanceBoundPercent is Σ dᵢ / (N · max dᵢ) × 100 over the agents'
	// durations dᵢ in this run: the highest EfficiencyPercent their
	// length differences allow. Nil when any agent failed.
	BalanceBoundPercent *float64 `json:"balance_bound_percent"`
	// SoloSequentialMS is the sum of the agents' solo total times (see
	// Config.SoloBaseline): how long running them one after the other
	// took. Nil without solo baselines or when any solo stream failed.
	SoloSequentialMS *float64 `json:"solo_sequential_ms"`
	// TrueSpeedup is SoloSequentialMS / ConcurrentWallTimeMS: how much
	// faster running the agents together was than running them one after
	// the other. Nil when SoloSequentialMS is, or any agent failed.
	TrueSpeedup *float64 `json:"true_speedup"`
	// TrueEfficiencyPercent is TrueSpeedup / len(Agents) × 100.
	TrueEfficiencyPercent *float64 `json:"true_efficiency_percent"`
	// SoloBaseline and Consumer echo the configuration.
	SoloBaseline bool           `json:"solo_baseline"`
	Consumer     ConsumerConfig `json:"consumer"`
	// ReadBufferSize is the configured read size; 0 means Go's default.
	ReadBufferSize int `json:"read_buffer_size"`
	// ReadMode is how bodies were cut into chunks: "bound" or "exact".
	ReadMode ReadMode `json:"read_mode"`
	// Concurrency is the number of permits agents shared.
	Concurrency int `json:"concurrency_limit"`
	// StartedAt is when the run started (UTC); with solo baselines, when
	// the first solo stream started.
	StartedAt time.Time `json:"started_at"`
	// LoopLag is the scheduler-lag probe's report for the run (the
	// concurrent part only).
	LoopLag LagReport `json:"loop_lag"`
	// Failed counts the agents that failed in the concurrent part.
	Failed int `json:"failed_agents"`
	// Simulated is true when any agent's server was tr117's simulator;
	// it is written false for real servers, so every file says which.
	Simulated bool `json:"simulated"`
}

// AgentResult is one agent of a run.
type AgentResult struct {
	ID       string         `json:"id"`
	BaseURL  string         `json:"base_url"`
	Model    string         `json:"model"`
	Options  map[string]any `json:"options"`
	Response string         `json:"response"`
	Metrics  AgentMetrics   `json:"metrics"`
	// Error is the failure, naming the agent and its endpoint; empty on
	// success. Err is the same error, for errors.Is and errors.As.
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
	// Stream is the streamer's full result (ITLs included).
	Stream *Result `json:"-"`
	// SoloError and SoloErr are the failure of the agent's solo stream,
	// like Error and Err; Solo is that stream's result (nil when there
	// was none).
	SoloError string  `json:"solo_error,omitempty"`
	SoloErr   error   `json:"-"`
	Solo      *Result `json:"-"`
	// Simulated is true when tr117's Ollama simulator answered, wherever
	// it listens; see Result.Simulated.
	Simulated bool `json:"simulated"`
}

// AgentMetrics are an agent's measurements in a run. Ollama's durations (eval_duration, prompt_eval_duration,
// load_duration, server_total_duration) are nanoseconds as Ollama reports
// them, the client's are milliseconds. Values that could not be measured
// are null (nil pointers).
type AgentMetrics struct {
	// TokensGenerated is the client's token count (one per message with
	// content or thinking text). Ollama's eval_count is one more on a
	// natural stop, as it counts the end-of-sequence token (see
	// Message.Tokens).
	TokensGenerated int `json:"tokens_generated"`
	// ThroughputTokensPerSec is TokensGenerated / TotalDurationMS.
	ThroughputTokensPerSec float64 `json:"throughput_tokens_per_sec"`
	// TTFTMS is the time to the first token of any kind (content or
	// reasoning).
	TTFTMS *float64 `json:"ttft_ms"`
	// TTFCMS is the time to the first content token; equal to TTFTMS for
	// models that do not think.
	TTFCMS *float64 `json:"ttfc_ms"`
	// TotalDurationMS is the client's total time for the request.
	TotalDurationMS float64 `json:"total_duration_ms"`
	// EvalCount is the server's output-token count (Ollama's eval_count,
	// OpenAI's usage.completion_tokens); EvalCountSource says where it
	// came from. The server durations below are absent when the protocol
	// reports none (the OpenAI APIs but for llama.cpp's timings).
	EvalCount          int   `json:"eval_count"`
	EvalDuration       int64 `json:"eval_duration,omitempty"`
	PromptEvalDuration int64 `json:"prompt_eval_duration,omitempty"`

	PromptEvalCount     int   `json:"prompt_eval_count"`
	LoadDuration        int64 `json:"load_duration,omitempty"`
	ServerTotalDuration int64 `json:"server_total_duration,omitempty"`
	// EvalCountSource is "ollama" (the done message), "usage" (OpenAI
	// usage), "timings" (llama.cpp) or "client" when the server sent no
	// count (eval_count is then 0).
	EvalCountSource string `json:"eval_count_source"`
	// TokensPerChunk is eval_count over tokens_generated when the server
	// counted more than one token beyond the client (several tokens per
	// chunk): ITL and TPOT are then per token. 1 otherwise.
	TokensPerChunk float64 `json:"tokens_per_chunk"`
	// ClientCounted is set when the server rejected
	// stream_options.include_usage: the only count is the client's.
	ClientCounted bool   `json:"client_counted,omitempty"`
	DoneReason    string `json:"done_reason,omitempty"`
	// ServerTokensPerSec is eval_count / eval_duration.
	ServerTokensPerSec *float64 `json:"server_tokens_per_sec"`
	// ClientOverheadMS is the client's total minus Ollama's total_duration.
	ClientOverheadMS *float64 `json:"client_overhead_ms"`
	// TPOTMS is (total − TTFT) / (tokens − 1).
	TPOTMS *float64 `json:"tpot_ms"`
	// ITLMS summarises the inter-token latencies (nil with under 1 ITL).
	ITLMS *ITLSummary `json:"itl_ms"`
	// Connection milestones (ms from the request's start; null when not
	// observed) and whether the connection was reused.
	ConnReused     bool     `json:"conn_reused"`
	ConnectMS      *float64 `json:"connect_ms"`
	WroteRequestMS *float64 `json:"wrote_request_ms"`
	FirstByteMS    *float64 `json:"first_byte_ms"`
	// Messages, Chunks and Bytes count the stream's messages, transport
	// reads and body bytes.
	Messages int   `json:"messages"`
	Chunks   int   `json:"chunks"`
	Bytes    int64 `json:"bytes"`
	// SoloTotalDurationMS is the total time of the agent's solo stream
	// (nil without one, or when it failed); Slowdown is TotalDurationMS /
	// SoloTotalDurationMS (nil when either is missing).
	SoloTotalDurationMS *float64 `json:"solo_total_duration_ms"`
	Slowdown            *float64 `json:"slowdown"`
	// TraceID is the request's trace id when it was traced
	// (tr117/telemetry), so the row can be found in a trace viewer.
	TraceID string `json:"trace_id,omitempty"`
}

// ITLSummary is a compact summary of inter-token latencies in ms.
type ITLSummary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// RunFileName is the name of run i's file, "run_<i>.json".
func RunFileName(i int) string { return "run_" + strconv.Itoa(i) + ".json" }

// WriteFile writes the result to dir/run_<i>.json atomically.
func (rr *RunResult) WriteFile(dir string) error { return rr.WriteFileWith(dir, nil) }

// WriteFileWith writes the result with extra's fields added (see
// JSONWith) to dir/run_<i>.json atomically.
func (rr *RunResult) WriteFileWith(dir string, extra any) error {
	path := filepath.Join(dir, RunFileName(rr.Run))
	b, err := rr.JSONWith(extra)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	return sink.WriteJSONFile(path, json.RawMessage(b))
}

// Err joins the agents' errors, solo streams' included (nil when all
// succeeded).
func (rr *RunResult) Err() error {
	var errs []error
	for _, a := range rr.Agents {
		if a.SoloErr != nil {
			errs = append(errs, fmt.Errorf("solo baseline: %w", a.SoloErr))
		}
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errors.Join(errs...)
}

// Run is run i: with Config.SoloBaseline, every agent streams alone, one
// after the other; then all stream concurrently (up to Config.Concurrency
// at a time) with the lag probe running. Only the concurrent streams are
// written to the sinks. The result is never nil: an agent that failed has
// its Error (or SoloError) set and the others are complete. The error is
// ctx.Err() when ctx ended the run, else the agents' errors joined (each
// a *StreamError naming agent and URL). Every goroutine Run starts has
// ended when it returns.
func (r *Runner) Run(ctx context.Context, i int) (*RunResult, error) {
	cfg := r.cfg
	rr := &RunResult{Run: i, Scenario: cfg.Scenario, API: cfg.API, ReadBufferSize: cfg.ReadBufferSize, ReadMode: cfg.ReadMode,
		Concurrency: cfg.Concurrency, SoloBaseline: cfg.SoloBaseline, Consumer: cfg.Consumer}
	rr.Agents = make([]AgentResult, len(cfg.Agents))
	for k, a := range cfg.Agents {
		rr.Agents[k] = AgentResult{ID: a.ID, BaseURL: a.URL, Model: a.Model, Options: a.Options}
		rr.AgentIDs = append(rr.AgentIDs, a.ID)
	}
	rr.StartedAt = time.Now().UTC()
	if cfg.SoloBaseline {
		r.runSolo(ctx, i, rr)
	}
	wall := r.runTogether(ctx, i, rr)
	rr.fill(wall)
	var errs []error
	for _, s := range []any{r.sinks.Chunks, r.sinks.Lag} {
		if f, ok := s.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if ctx.Err() != nil {
		return rr, ctx.Err()
	}
	if err := rr.Err(); err != nil {
		errs = append(errs, err)
	}
	return rr, errors.Join(errs...)
}

// request is agent k's request.
func (r *Runner) request(k int) *Request {
	a := r.cfg.Agents[k]
	return &Request{Agent: a.ID, URL: a.URL, API: r.cfg.API, Model: a.Model, Prompt: a.Prompt, System: a.System, Options: a.Options}
}

// stream streams agent k's request with fn as the message callback, under
// the request timeout and with hooks (nil: none) in its context, and
// returns its result (never nil) and error (naming agent and endpoint).
func (r *Runner) stream(ctx context.Context, k int, hooks *Hooks, fn func(*Message) error) (*Result, error) {
	a := r.cfg.Agents[k]
	actx, cancel := r.requestContext(ctx, hooks)
	defer cancel()
	res, err := r.streamers[k].Stream(actx, r.request(k), fn)
	if res == nil {
		res = &Result{Agent: a.ID, URL: a.URL, API: r.cfg.API, Model: a.Model}
	}
	if err != nil {
		err = agentErr(a, r.cfg.API, err)
	}
	return res, err
}

// startLoop starts the consumer's event loop when the config asks for one
// and returns it (nil otherwise) and the function that stops it and waits
// for its goroutine.
func (r *Runner) startLoop() (*eventLoop, func()) {
	if !r.cfg.Consumer.SingleLoop {
		return nil, func() {}
	}
	loop := newEventLoop()
	var wg sync.WaitGroup
	wg.Go(loop.run)
	return loop, func() { loop.stop(); wg.Wait() }
}

// runSolo streams each agent alone, in order, unrecorded, into the
// agents' Solo results. It stops at ctx's end.
func (r *Runner) runSolo(ctx context.Context, i int, rr *RunResult) {
	loop, stop := r.startLoop()
	defer stop()
	for k := range rr.Agents {
		if ctx.Err() != nil {
			return
		}
		ar := &rr.Agents[k]
		ar.Solo, ar.SoloErr = r.stream(ctx, k, nil, consumer(r.cfg.Consumer, loop))
		if ar.SoloErr != nil {
			ar.SoloError = ar.SoloErr.Error()
		}
	}
}

// runTogether streams every agent concurrently with the lag probe running
// and returns the wall time from starting them to the last one's end.
func (r *Runner) runTogether(ctx context.Context, i int, rr *RunResult) time.Duration {
	cfg := r.cfg
	var lagSink sink.Sink[LagSample]
	if r.sinks.Lag != nil {
		dst := r.sinks.Lag
		lagSink = sink.Func[LagSample](func(s LagSample) error {
			s.Run = i
			return dst.Write(s)
		})
	}
	loop, stopLoop := r.startLoop()
	defer stopLoop()
	probe := NewLagProbe(cfg.Lag, lagSink)
	probe.gate = loopGate(loop)
	lagCtx, stopLag := context.WithCancel(ctx)
	var lagWG sync.WaitGroup
	lagWG.Go(func() { _ = probe.Run(lagCtx) })

	sem := make(chan struct{}, cfg.Concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	hooks := &Hooks{Run: i, Chunks: r.sinks.Chunks}
	for k, a := range cfg.Agents {
		fn := consumer(cfg.Consumer, loop)
		wg.Go(func() {
			ar := &rr.Agents[k]
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				ar.Err = agentErr(a, cfg.API, ctx.Err())
				ar.Stream = &Result{Agent: a.ID, URL: a.URL, API: cfg.API, Model: a.Model}
				return
			}
			ar.Stream, ar.Err = r.stream(ctx, k, hooks, fn)
			<-sem
		})
	}
	wg.Wait()
	wall := time.Since(start)
	stopLag()
	lagWG.Wait()
	rr.LoopLag = probe.Report()
	return wall
}

// fill derives the agents' metrics and the run's ratios from the streams.
func (rr *RunResult) fill(wall time.Duration) {
	var seq, longest, soloSeq time.Duration
	soloOK := rr.SoloBaseline
	for k := range rr.Agents {
		ar := &rr.Agents[k]
		fillAgent(ar)
		rr.Simulated = rr.Simulated || ar.Simulated
		seq += ar.Stream.Total
		longest = max(longest, ar.Stream.Total)
		if ar.Err != nil {
			rr.Failed++
		}
		if ar.Solo == nil || ar.SoloErr != nil {
			soloOK = false
			continue
		}
		soloSeq += ar.Solo.Total
		solo := ms(ar.Solo.Total)
		ar.Metrics.SoloTotalDurationMS = &solo
		if ar.Err == nil && solo > 0 {
			slow := ar.Metrics.TotalDurationMS / solo
			ar.Metrics.Slowdown = &slow
		}
	}
	rr.ConcurrentWallTimeMS = ms(wall)
	rr.SequentialEstimateMS = ms(seq)
	if soloOK {
		v := ms(soloSeq)
		rr.SoloSequentialMS = &v
	}
	if wall <= 0 || rr.Failed > 0 {
		return
	}
	n := float64(len(rr.Agents))
	speedup := float64(seq) / float64(wall)
	eff := speedup / n * 100
	rr.ConcurrencySpeedup, rr.EfficiencyPercent = &speedup, &eff
	if longest > 0 {
		bound := float64(seq) / (n * float64(longest)) * 100
		rr.BalanceBoundPercent = &bound
	}
	if soloOK {
		ts := float64(soloSeq) / float64(wall)
		te := ts / n * 100
		rr.TrueSpeedup, rr.TrueEfficiencyPercent = &ts, &te
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msPtr(d time.Duration) *float64 {
	if d <= 0 {
		return nil
	}
	v := ms(d)
	return &v
}

// fillAgent derives an agent's metrics from its stream result.
func fillAgent(ar *AgentResult) {
	res := ar.Stream
	ar.Response = res.Response
	ar.Simulated = res.Simulated
	if ar.Err != nil {
		ar.Error = ar.Err.Error()
	}
	m := &ar.Metrics
	m.TokensGenerated = res.Tokens
	m.ThroughputTokensPerSec = res.TokensPerSecond()
	if res.HasTTFT {
		v := ms(res.TTFT)
		m.TTFTMS = &v
	}
	if res.HasTTFC {
		v := ms(res.TTFC)
		m.TTFCMS = &v
	}
	m.TotalDurationMS = ms(res.Total)
	m.TokensPerChunk, m.ClientCounted = max(res.TokensPerChunk, 1), res.ClientCounted
	m.EvalCountSource = "client"
	if res.Final.HasEvalCount() {
		m.EvalCountSource = res.Final.CountSource
	}
	if f := res.Final; f != nil {
		m.EvalCount = f.EvalCount
		m.EvalDuration = int64(f.EvalDuration)
		m.PromptEvalDuration = int64(f.PromptEvalDuration)
		m.PromptEvalCount = f.PromptEvalCount
		m.LoadDuration = int64(f.LoadDuration)
		m.ServerTotalDuration = int64(f.TotalDuration)
		m.DoneReason = f.DoneReason
		if f.EvalDuration > 0 {
			v := f.ServerTokensPerSecond()
			m.ServerTokensPerSec = &v
		}
	}
	if d, ok := res.ClientOverhead(); ok {
		v := ms(d)
		m.ClientOverheadMS = &v
	}
	if d, ok := res.TPOT(); ok {
		v := ms(d)
		m.TPOTMS = &v
	}
	if s, ok := summarizeDurations(res.ITL); ok {
		m.ITLMS = &ITLSummary{N: s.N, Mean: s.Mean, P50: s.P50, P99: s.P99, Max: s.Max}
	}
	m.ConnReused = res.Trace.ConnReused
	m.ConnectMS = msPtr(res.Trace.Connect)
	m.WroteRequestMS = msPtr(res.Trace.WroteRequest)
	m.FirstByteMS = msPtr(res.Trace.FirstByte)
	m.Messages, m.Chunks, m.Bytes = res.Messages, res.Chunks, res.Bytes
	m.TraceID = res.TraceID
}
