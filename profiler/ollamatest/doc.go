// Package ollamatest provides an in-process server that speaks Ollama's
// HTTP wire protocol, in the spirit of net/http/httptest.
//
// It answers /api/generate and /api/chat (streamed NDJSON and
// "stream": false), /api/tags, /api/show, /api/ps and /api/version with the
// same field names, field order, JSON types, status codes and error texts as
// Ollama v0.6.5, which the package's parity test checks against the real
// server (see tr117/internal/ollamaserver). It is deterministic: the text of a
// response depends only on [Config.Seed], the model, the prompt and the
// request's options.seed.
//
// It is what the profiler's tests run against, and what examples/suite
// falls back to when no Ollama answers at the configured URL, so that the
// whole TR117 plan can be exercised on a machine without Ollama or a GPU.
//
// The pieces compose like this:
//
//   - [NewServer] starts a [Server] on a loopback port (srv.URL) and
//     [Listen] on an address of the caller's choosing; [NewHandler] returns the
//     bare [Handler] for callers that host it themselves.
//   - [Config] sets the pace: [Config.TokensPerSecond], [Config.TTFT],
//     [Config.Jitter] and [Config.LoadDelay]; how streams share the server
//     ([Config.Parallel] queues like OLLAMA_NUM_PARALLEL, [Config.Contention]
//     slows concurrent streams like a shared GPU); and how messages are
//     framed on the wire ([Config.Coalesce], [Config.SplitLines]). Its Sleep
//     and Now fields make the pacing injectable, so tests run on virtual time
//     and are deterministic; by default the server paces in real time,
//     against deadlines, so that write time does not lower the rate.
//   - [Fault] describes a failure (an HTTP error with Ollama's error JSON, an
//     {"error":…} line mid-stream, a stream cut without a done message, a
//     dropped connection, a stall, a malformed line, a multi-megabyte final
//     line). Faults are chosen per request by [Config.FaultFunc] or per
//     model by [Config.Faults], so one agent of a pair can fail while the
//     other succeeds.
//
// Timing fields in the final message (total_duration, load_duration,
// prompt_eval_duration, eval_duration) are nanoseconds, as in Ollama. The
// simulator reports the durations it meant to spend (the sum of the delays it
// scheduled), not the wall time it measured, so they are exact and repeatable
// under a virtual clock and within scheduling noise of the wall time under the
// real one.
package ollamatest
