// Package load generates open-loop and closed-loop traffic against an LLM
// server through a [profiler.Streamer] and measures what every request
// experienced, including the client's own lateness.
//
// The pieces compose like this:
//
//   - A [Schedule] (arrival process, rate, burstiness, ramp-up, request
//     count or duration, seed) draws every request's due time before the
//     run with [Schedule.Offsets]; a [Segment] picks one worker's disjoint
//     share of it, so that n machines together send exactly one schedule.
//   - A workload is a slice of [Item]: built-in prompts from [Synthetic],
//     or a JSONL file read by [ReadDataset].
//   - [Run] sends the requests of a [Config] (open loop, or a closed loop
//     with Concurrency; multi-turn sessions with Turns) and returns one
//     [Record] per request: when it was due, how late the client started
//     it, how long it waited for a concurrency slot, and its TTFT, TTFC,
//     TPOT, inter-token latencies and server token counts.
//   - [Summarize] turns records, from one run or merged from many workers,
//     into a [Summary]: achieved against requested rate, schedule delay,
//     percentiles with bootstrap intervals, errors by kind, [Goodput] under
//     an [SLO]; [VLLMResult] gives the same numbers under the key names of
//     vllm bench serve --save-result.
//   - [Sweep] runs a series of rates or concurrencies, to a fixed list or
//     until the server saturates, and [WriteReport] draws one report across
//     them.
//
// Nothing in the package writes to stdout or stderr.
package load
