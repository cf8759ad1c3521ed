package suite

// terms defines every quantity and name the report uses, one inline
// Markdown item each (**name**: definition), for every renderer.
func terms() []string {
	return []string{
		`**Agents**: two concurrent streaming completions, "collector" and "insight", each from its own Ollama endpoint, started together in every run. With solo baselines (the default) each run first streams each agent alone (its **solo** stream, unrecorded), then both together.`,
		`**Seed**: the original TR117 Python scripts this suite reproduces; "seed efficiency" is their number, kept for continuity.`,
		`**Seed efficiency** (efficiency_percent) = Σ dᵢ / (N · wall) × 100, where dᵢ is each agent's duration *in the concurrent run* and wall the concurrent run's wall time. It measures how evenly the agents' (already slowed) durations overlap; contention that slows every agent alike does not lower it.`,
		`**Balance bound** (balance_bound_percent) = Σ dᵢ / (N · max dᵢ) × 100: the highest seed efficiency the agents' length difference allows. A seed efficiency near it is explained by the length gap, not by the client.`,
		`**True speed-up** (true_speedup) = Σ solo durations / wall: how much faster running the agents together was than running them one after the other. **True efficiency** = true speed-up / N × 100; 100 % means no contention at all, 50 % (two agents) means no gain from concurrency.`,
		`**TTFT**: time to first token, from sending the request. **ITL**: inter-token latency, the time between consecutive token messages. **TPOT**: time per output token after the first, (total − TTFT) / (tokens − 1).`,
		`**Chunk**: one transport read of the response body that completed at least one line (the seed's definition); reads that completed none are counted separately in report.json (all_reads_*).`,
		"**Parse ms**: the client's time to split one chunk into lines and decode their JSON; **Gap ms**: the time between one chunk's arrival and the next's, the server's pace as the client saw it.",
		`**Loop lag**: how late a probe that sleeps a fixed interval wakes up; a **stall** is a lag above 10 ms. In the ceiling sweep the probe waits for its turn on the single event loop, so its lag is that loop's lag.`,
		`**Phases**: "mri" is phase 1, the dual-agent runs per read-buffer size (named after the original profiler's nickname, "Python MRI", a scan of the client); "ceiling" the ceiling sweep; "throttle" phase 3, runs whose reader is capped to a token rate ("60tps" = 60 tokens per second, "0tps" unlimited); "hardware" phase 2, runs under the GPU monitor.`,
		`**Read buffer**: the largest transport read; "default" is Go's.`,
		`**Scenario**: which Ollama options each agent sends: baseline_vs_chimera (collector none, insight the tuned set), chimera_homo (both the same tuned set), chimera_hetero (two tuned sets). The tuned set is num_gpu, num_ctx, temperature, top_p, top_k, repeat_penalty.`,
		`**Ceiling sweep**: both agents' per-message handling on one event loop (as a single-threaded asyncio client does), with a fixed CPU cost per message; the **knee** is the first cost at which true efficiency falls 5 points below the zero-cost runs.`,
		`**Warm-up**: before a condition's first run each agent sends its own prompt with num_predict 1, so model loading and the first evaluation of the prompt are not measured in run 1 (and, in section 2, before the GPU monitor starts).`,
	}
}
