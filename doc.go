// Package tr117 is a set of packages for finding out why local LLM
// inference is as fast as it is:
//
//   - tr117/profiler streams completions from Ollama (native API) or any
//     OpenAI-compatible server (SSE) and times every message and transport
//     read, measures Go scheduler lag while it does, and runs
//     several agents at once to compute multi-agent efficiency.
//   - tr117/throttle puts a token bucket between the stream and its reader,
//     for the flow-dynamics ("tortoise and hare") experiment.
//   - tr117/gpumon samples NVIDIA GPUs through NVML or nvidia-smi, summarises
//     power, utilisation, memory and PCIe traffic, and can be embedded in any
//     service (Prometheus collector, JSON handler).
//   - tr117/tokenizer loads a model's tokenizer from a file, the Ollama store,
//     an Ollama server or the Hugging Face cache, and encodes with it.
//   - tr117/tokbench races tokenizers (Ollama's pure-Go ones, and Hugging
//     Face's own library through its Node.js binding, or its Rust one behind
//     a build tag) over a corpus, and proves their ids equal.
//   - tr117/load drives a server with open-loop (constant, Poisson, gamma) or
//     closed-loop traffic, sweeps to saturation, and reports goodput.
//   - tr117/telemetry records OpenTelemetry GenAI metrics and one span per
//     request into the caller's providers.
//   - tr117/stats holds the percentiles, intervals, A/B tests and
//     correlations every report is made of.
//   - tr117/suite composes all of the above into the TR117 plan, resumable,
//     with a statistical report.
//   - tr117/sink is where records go: CSV, JSON Lines or memory.
//
// Two packages serve tests and offline runs: tr117/profiler/ollamatest is an
// in-process server speaking Ollama's wire protocol and its OpenAI-compatible
// /v1 endpoints (what examples/suite runs when no Ollama answers), and tr117/gpumon/gpumontest is a fake nvidia-smi.
//
// Each pathway takes a config struct, streams records to the sinks it is
// given, and returns a summary. They share sink and stats; beyond that,
// throttle wraps the profiler's Streamer and suite composes them all. The
// commands under examples/ are thin wrappers that parse flags and call them.
//
// tr117 began as the successor of the TR117 study's five Python scripts;
// the files it writes keep those scripts' names and fields, so the study's
// notebooks read them. docs/study.md maps each script to its package,
// command and files.
package tr117

// Version is the version of tr117 recorded in every manifest.
const Version = "0.1.0"
