package suite

import (
	"fmt"
	"strings"

	"tr117/stats"
)

// writeTerms defines every quantity and name the report uses.
func writeTerms(b *strings.Builder) {
	b.WriteString(`## Terms

- **Agents**: two concurrent streaming completions, "collector" and "insight", each from its own Ollama endpoint, started together in every run. With solo baselines (the default) each run first streams each agent alone (its **solo** stream, unrecorded), then both together.
- **Seed**: the original TR117 Python scripts this suite reproduces; "seed efficiency" is their number, kept for continuity.
- **Seed efficiency** (efficiency_percent) = Σ dᵢ / (N · wall) × 100, where dᵢ is each agent's duration *in the concurrent run* and wall the concurrent run's wall time. It measures how evenly the agents' (already slowed) durations overlap; contention that slows every agent alike does not lower it.
- **Balance bound** (balance_bound_percent) = Σ dᵢ / (N · max dᵢ) × 100: the highest seed efficiency the agents' length difference allows. A seed efficiency near it is explained by the length gap, not by the client.
- **True speed-up** (true_speedup) = Σ solo durations / wall: how much faster running the agents together was than running them one after the other. **True efficiency** = true speed-up / N × 100; 100 % means no contention at all, 50 % (two agents) means no gain from concurrency.
- **TTFT**: time to first token, from sending the request. **ITL**: inter-token latency, the time between consecutive token messages. **TPOT**: time per output token after the first, (total − TTFT) / (tokens − 1).
- **Chunk**: one transport read of the response body that completed at least one line (the seed's definition); reads that completed none are counted separately in report.json (all_reads_*).
- **Loop lag**: how late a probe that sleeps a fixed interval wakes up; a **stall** is a lag above 10 ms. In the ceiling sweep the probe waits for its turn on the single event loop, so its lag is that loop's lag.
- **Phases**: "mri" is phase 1, the dual-agent runs per read-buffer size (named after the original profiler's nickname, "Python MRI", a scan of the client); "ceiling" the ceiling sweep; "throttle" phase 3, runs whose reader is capped to a token rate ("60tps" = 60 tokens per second, "0tps" unlimited); "hardware" phase 2, runs under the GPU monitor.
- **Read buffer**: the largest transport read; "default" is Go's.
- **Scenario**: which Ollama options each agent sends: baseline_vs_chimera (collector none, insight the tuned set), chimera_homo (both the same tuned set), chimera_hetero (two tuned sets). The tuned set is num_gpu, num_ctx, temperature, top_p, top_k, repeat_penalty.
- **Ceiling sweep**: both agents' per-message handling on one event loop (as a single-threaded asyncio client does), with a fixed CPU cost per message; the **knee** is the first cost at which true efficiency falls 5 points below the zero-cost runs.
- **Warm-up**: before a condition's first run each agent sends its own prompt with num_predict 1, so model loading and the first evaluation of the prompt are not measured in run 1 (and, in section 2, before the GPU monitor starts).

`)
}

// writeSweep renders the ceiling sweep.
func writeSweep(b *strings.Builder, cs *CeilingSweep) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Ceiling sweep: CPU cost per message on one event loop\n\n")
	if cs == nil {
		p("The ceiling sweep was not part of the plan (suite --ceiling, or ceiling.run in a plan file): the question is answered from the true speed-up above alone.\n\n")
		return
	}
	p("Model %s.\n\n", cs.Model)
	p("| Cost µs / message | Runs | True efficiency %% | Seed efficiency %% | Balance bound %% | Loop lag ms p50 | Loop lag ms p99 | Chunks/s | Messages/s |\n")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range cs.Costs {
		p("| %g | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.CostUS, runsCell(c.Runs, c.Failed), meanSD(c.TrueEfficiency, 1), meanSD(c.SeedEfficiency, 1),
			meanSD(c.BalanceBound, 1), meanOf(c.LagP50ms, 2), meanOf(c.LagP99ms, 2), meanOf(c.ChunksPerSec, 0), meanOf(c.MessagesPerSec, 0))
	}
	p("\nLoop lag columns are the mean over runs of each run's p50 and p99.\n\n")
	writeVerdicts(b, cs.Verdicts)
}

// writeLatency renders the per-condition latency table.
func writeLatency(b *strings.Builder, ls []ConditionLatency) {
	if len(ls) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Latency per condition\n\n")
	p("TTFT and TPOT: p50 / p99 over every agent of every run. ITL: the median over streams of each stream's own ITL p50, and of its p99.\n\n")
	p("| Phase | Model | Condition | Runs | TTFT ms p50 / p99 | TPOT ms p50 / p99 | ITL ms p50 / p99 |\n|---|---|---|--:|--:|--:|--:|\n")
	pp := func(s *stats.Summary) (float64, float64) { return s.P50, s.P99 }
	zeroITL := false
	for _, l := range ls {
		zeroITL = zeroITL || (l.ITLP50ms != nil && l.ITLP50ms.P50 < 0.005)
		itl := "n/a"
		if l.ITLP50ms != nil && l.ITLP99ms != nil {
			itl = fmt.Sprintf("%.2f / %.2f", l.ITLP50ms.P50, l.ITLP99ms.P50)
		}
		cond := l.Condition
		if cond == "" {
			cond = "-"
		}
		p("| %s | %s | %s | %d | %s | %s | %s |\n", l.Phase, l.Model, cond, l.Runs, pair(l.TTFTms, 1, pp), pair(l.TPOTms, 2, pp), itl)
	}
	p("\n")
	if zeroITL {
		p("An ITL p50 of 0.00 ms is not an error: when one transport read carries several tokens, the tokens after the first in it arrive 0 ms apart by construction, so more than half of a stream's gaps can be 0. The time between reads is the chunk gap (section 1's Gap ms columns).\n\n")
	}
}

func meanOf(s *stats.Summary, prec int) string {
	if s == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, s.Mean)
}
