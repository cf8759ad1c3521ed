// Package suite runs the TR117 study in one process and reports on it.
//
// It composes the pathway packages:
//
//   - phase 1, client ceiling ("MRI"): tr117/profiler's multi-agent Runner,
//     per model × read-buffer size × run, with chunk and scheduler-lag traces;
//   - the ceiling sweep, when asked for: the same runs with both agents'
//     per-message work on one event loop at a swept CPU cost per message
//     (profiler.ConsumerConfig), per cost × run;
//   - phase 3, flow dynamics: the same runs with each agent's reader
//     rate-limited (tr117/throttle's token bucket), per model × rate × run;
//   - phase 2, hardware: each run wrapped by tr117/gpumon's Monitor, around
//     either a command template or the built-in dual-agent run;
//   - phase 2, tokenizers: tr117/tokbench's race, when asked for;
//
// and tr117/stats for the report's summaries, intervals, A/B tests and
// correlations.
//
// A [Plan] says what to run; its zero value is the study's 25-run plan,
// and it loads from JSON or YAML with [LoadPlan]. [Execute] runs it under
// Config.OutputRoot in this layout ([Run.Dir]):
//
//	<root>/manifest.json                       what ran, on what, and how each run ended
//	<root>/phase1/<slug>/<default|bufN>/       run_<i>.json, run_<i>_chunk_metrics.csv, run_<i>_loop_lag.csv,
//	                                           and chunk_metrics.csv / loop_lag.csv merged over the finished runs
//	<root>/ceiling/<slug>/<cost>us/            the same (the ceiling sweep)
//	<root>/phase3/<slug>/<rate>tps/            the same, with throttle_rate in run_<i>.json
//	<root>/phase2/<slug>/                      the same plus run_<i>_gpu_metrics.csv, run_<i>_gpu_summary.json
//	                                           (and agent_output/run_<i>.log for a command template)
//	<root>/phase2/tokenizers/                  tokenizer_bench.json / .txt
//	<root>/report.md, report.json, report.html, plots/*.png
//
// The manifest is rewritten atomically after every run, so it is also the
// resume state: running Execute again on the same root skips the runs
// recorded as ok, retries failed ones and redoes the one that was cut off;
// a finished run's files are never written again. Config.Overwrite starts
// over.
//
// [Analyze] reads a results directory back into a [Report] and answers
// the study's questions: does the client cap multi-agent efficiency (buffer A/B, lag
// correlation, stalls); what the GPU does per model (power, utilisation,
// memory, PCIe, energy per token, redlining, or plainly "no GPU"); does a
// slower reader raise efficiency and does back-pressure slow the server;
// and whether a tokenizer is 2× slower than another. Analyze writes
// nothing; [WriteReport] writes report.json (the Report as data) and
// report.md. Each answer is a [Verdict]: a value with its interval,
// p-value, n, outcome and typed warnings, worded by [Verdict.Sentence] and
// [Verdict.Caveats], so every renderer uses the same words; a simulated
// backend is announced atop the report.
package suite
