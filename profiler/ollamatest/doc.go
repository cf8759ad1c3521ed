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
// It also answers /v1/chat/completions and /v1/completions as Ollama
// v0.6.5's OpenAI middleware does: the request becomes a native one
// (max_tokens is num_predict) and each native message a server-sent event
// (chat deltas carry the role on every chunk; with
// stream_options.include_usage, completion chunks carry zero usage until
// a usage chunk with no choices precedes "data: [DONE]"; errors are
// OpenAI's error JSON). Every knob and fault applies to them; a
// [Config.FaultFunc] sees them as "/api/chat" and "/api/generate".
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
//   - [Config] sets the pace: [Config.TokensPerSecond] (per model with
//     [Config.Rates]), [Config.TTFT],
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
//     line, a model that loops on one token). Faults are chosen per
//     request by [Config.FaultFunc] or per model by [Config.Faults], so one
//     agent of a pair can fail while the other succeeds.
//
// # What Ollama v0.6.5 sends, and so what the simulator sends
//
// These facts come from the real server (see parity_test.go) and its source:
//
//   - A stream is HTTP 200, Content-Type application/x-ndjson, chunked, one
//     JSON object and a newline per chunk. "stream": false gives one object
//     with Content-Type "application/json; charset=utf-8".
//   - Generate messages are {"model","created_at","response","done":false},
//     in that order; chat messages are {"model","created_at","message":
//     {"role":"assistant","content"},"done":false}. created_at is UTC RFC 3339
//     with nanoseconds; "model" echoes the name the client sent. There is no
//     empty or metrics-only message before the first token, and no token
//     message with empty text.
//   - The final message has an empty response (content), "done":true,
//     "done_reason" ("length" when num_predict ran out, "stop" for
//     end-of-sequence or a stop sequence), then, for generate only,
//     "context" (an array of token ids), then total_duration, load_duration,
//     prompt_eval_count, prompt_eval_duration, eval_count and eval_duration,
//     all integers, durations in nanoseconds. Chat puts "done_reason" before
//     "done".
//   - eval_count equals the number of token messages only when num_predict
//     ends the response. A natural stop samples an end-of-sequence token that
//     is counted but not sent (eval_count = messages + 1); a stop sequence
//     counts the token that completed it; text that may begin a stop
//     sequence (or an incomplete UTF-8 character) is held back and sent with
//     the next token as one message. (The simulator's words are ASCII, so only
//     stop sequences make it hold text back.)
//   - A stream in which the model's text, spaces trimmed, repeats more than
//     30 times in a row ends after the 31st identical message with a clean
//     end of the body and no done message (llm/server.go's repetition
//     abort); "stream": false then answers 200 with the text so far and
//     "done": false. The simulator does the same ([Config.NoRepeatAbort],
//     [FaultRepeat]); the parity test makes the tiny model loop with
//     repeat_penalty 0.
//   - load_duration includes the time the request waited for the scheduler.
//   - A request with no prompt (generate) or no messages (chat) loads the
//     model and answers {"done":true,"done_reason":"load"}; with keep_alive 0
//     it unloads it ("unload").
//   - Errors are {"error":"…"}: an unknown model is 404 "model 'X' not found"
//     on generate and show, but 404 `model "X" not found, try pulling it
//     first` on chat; an empty body is 400 "missing request body"; an unknown
//     path or method is 404 text/plain "404 page not found". A failure after
//     the stream has begun is a {"error":"…"} line in the 200 stream.
//   - A binary built with `go install` reports version "0.0.0".
//
// Timing fields in the final message (total_duration, load_duration,
// prompt_eval_duration, eval_duration) are nanoseconds, as in Ollama. The
// simulator reports the durations it meant to spend (the sum of the delays it
// scheduled), not the wall time it measured, so they are exact and repeatable
// under a virtual clock and within scheduling noise of the wall time under the
// real one. Each is at least 1µs, so that, as from Ollama, every timing key is
// present in a final message.
//
// # Concurrency
//
// A [Server] and a [Handler] serve any number of requests at once, and
// their methods may be called from any goroutine. [Config], [Fault] and
// [Request] are plain data; a [Config.FaultFunc] is called from each
// request's goroutine, so it must be safe for concurrent use.
package ollamatest
