// Package profiler measures streamed LLM completions from Ollama, or any
// OpenAI-compatible server: every message and every transport read timed,
// the Go scheduler's lag watched while it happens, and several agents run
// at once to compute multi-agent efficiency.
//
// The pieces compose like this:
//
//   - A [Streamer] streams one completion and hands each [Message] to a
//     callback; an error from the callback stops the stream. [Client] is
//     the implementation for four [API]s: Ollama's /api/generate and
//     /api/chat (NDJSON) and the OpenAI-compatible /v1/chat/completions and
//     /v1/completions (server-sent events). It reads the body itself
//     through four small parts: a reader that cuts it into chunks
//     ([ClientConfig.ReadBufferSize], [ReadMode]), a framer (NDJSON lines
//     or SSE events), a decoder per protocol and one meter that turns
//     messages into a [Result]. The decoders' hot paths are scanners that
//     do not allocate; see BenchmarkStreamOverhead and BenchmarkSSEOverhead.
//   - Each chunk is a [Chunk] (bytes, gap since the previous one, parse
//     time) sent to the chunk sink of the [Hooks] the request's context
//     carries (as net/http/httptrace carries a ClientTrace): the rows of
//     chunk_metrics.csv. A stream's first chunk has no gap (an empty
//     gap_ms field): its time from the start is the time to first byte.
//     Lines split across reads, and UTF-8 split across reads, are
//     reassembled; lines have no length limit.
//   - A stream's [Result] holds its timings from one monotonic clock:
//     connection milestones (net/http/httptrace), TTFT, inter-token
//     latencies, total time, and Ollama's own durations from the final
//     message, from which TPOT, client and server tokens per second and
//     client overhead are derived.
//   - A [LagProbe] wakes every interval (100 ms by default, down to 1 ms)
//     and records how late it woke ([LagSample], the rows of loop_lag.csv),
//     plus the run's window of the runtime's /sched/latencies:seconds and
//     /sched/pauses/total/gc:seconds histograms.
//   - A [Runner] runs a [Config]'s agents together (typically the two of
//     [DefaultAgents], a collector and an insight agent, sending the
//     options of a [Scenario]), under a concurrency limit, with the lag
//     probe running, and returns a [RunResult], the content of
//     run_<i>.json: concurrent_wall_time_ms, sequential_estimate_ms, concurrency_speedup
//     and efficiency_percent, plus per-agent metrics and errors. With
//     [Config.SoloBaseline] each run first streams every agent alone, and
//     the result adds the true speed-up (solo times over the concurrent
//     wall time) and the balance bound; [ConsumerConfig] models a client
//     that handles every message on one event loop at a CPU cost.
//     [Config.Wrap] lets tr117/throttle put a rate limiter between each
//     agent's stream and its reader. [NewReport] summarises runs.
//
// The package's Example streams one completion from the in-process
// simulator tr117/profiler/ollamatest; ExampleRunner runs two agents
// together.
//
// # Definitions
//
// TTFT is the time from the start of the request to the arrival of the first
// message with text of any kind, reasoning included; TTFC, to the first with
// content text ("response" for generate, "message.content" for chat,
// "delta.content" or "text" for the OpenAI APIs). A message with only a role
// or an empty string counts for neither. A message "arrives" when the chunk
// that completed it is handed on. The client counts one token per message
// with text (tokens_generated); the server's count (Ollama's eval_count,
// OpenAI's usage.completion_tokens) is eval_count. TPOT = (total − TTFT) /
// (tokens − 1), over the server's count when chunks carry several tokens
// ([Result.TokensPerChunk]). Client overhead = client total − the server's
// total_duration, only where the protocol reports one. ResultStats reports
// a benchmark's means to testing.B.
//
// # Failures
//
// A stream that fails returns the [Result] measured so far and a
// *[StreamError] naming the agent, the endpoint and the body line: an
// *[HTTPError] (with Ollama's error text, such as "model 'x' not found"), a
// *[ServerError] ({"error": …} mid-stream), [ErrTruncated] (no done
// message), [ErrNoDone] (an OpenAI stream without "data: [DONE]"), a
// malformed line, [ErrIdleTimeout], [ErrTimeout] (a context made with
// context.WithTimeoutCause(ctx, d, ErrTimeout), as the Runner does) or a
// transport error. A cancelled context is returned as ctx.Err(). In a run,
// one agent's failure leaves the others' results complete.
//
// # Files
//
// [RunResult.WriteFile] writes run_<i>.json and [CreateSinks] creates
// chunk_metrics.csv and loop_lag.csv. Their names, field names and columns
// are those of the original TR117 study's Python scripts, so notebooks
// written for that study read them; tr117 only adds fields. docs/study.md
// in the repository maps each script to its Go counterpart.
//
// # Concurrency
//
// [Client] and [LagProbe] are safe for concurrent use; a [Runner] runs one
// Run or Warmup at a time, and a [ResultStats] belongs to one goroutine.
// Every other type is plain data (configurations, records, results): safe
// to read from several goroutines, not to modify while others read it. A
// [Message] handed to a callback is valid only during the call.
package profiler
