package profiler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"tr117/internal/layout"
	"tr117/stats"
)

// summarizeDurations summarises ds in milliseconds.
func summarizeDurations(ds []time.Duration) (stats.Summary, bool) {
	if len(ds) == 0 {
		return stats.Summary{}, false
	}
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = ms(d)
	}
	s, err := stats.Summarize(xs)
	return s, err == nil
}

// Report summarises the runs of one configuration: what the profiler
// command prints at the end. Summaries of samples that were empty are the
// zero stats.Summary (N 0).
type Report struct {
	Runs int `json:"runs"`
	// FailedRuns counts runs in which at least one agent failed;
	// InterruptedRuns the others in which Ctrl-C (the context's
	// cancellation) ended an agent: an interruption is not a failure.
	FailedRuns      int `json:"failed_runs"`
	InterruptedRuns int `json:"interrupted_runs"`
	// Agents holds one entry per agent ID, in the order first seen.
	Agents []AgentReport `json:"agents"`
	// EfficiencyPercent and Speedup summarise the efficiency and
	// speed-up of the runs in which every agent succeeded; the other runs
	// have none (see RunResult.EfficiencyPercent) and are counted in
	// EfficiencyExcluded.
	EfficiencyPercent  stats.Summary `json:"efficiency_percent"`
	Speedup            stats.Summary `json:"concurrency_speedup"`
	EfficiencyExcluded int           `json:"efficiency_excluded_runs"`
	// BalanceBoundPercent summarises the runs' balance bounds (the most
	// EfficiencyPercent the agents' length differences allow), over the
	// same runs.
	BalanceBoundPercent stats.Summary `json:"balance_bound_percent"`
	// TrueEfficiencyPercent and TrueSpeedup summarise the runs that have
	// them (solo baselines taken, every stream succeeded).
	TrueEfficiencyPercent stats.Summary `json:"true_efficiency_percent"`
	TrueSpeedup           stats.Summary `json:"true_speedup"`
	// LagMS pools every run's lag samples; Stalls sums their stall events.
	LagMS  stats.Summary `json:"lag_ms"`
	Stalls int           `json:"stall_events"`
	// LagInterval is the lag probe's interval (of the first run). A run
	// shorter than it has no lag samples.
	LagInterval time.Duration `json:"lag_interval_ms"`
	// SchedLatencyP99MS is the worst run's p99 of the runtime's
	// /sched/latencies:seconds window, and GCPauseMaxMS the longest GC
	// pause of any run: unlike the lag probe, these cover runs of any
	// length (0 when the runtime recorded none).
	SchedLatencyP99MS float64 `json:"sched_latency_p99_ms"`
	GCPauseMaxMS      float64 `json:"gc_pause_max_ms"`
	// Simulated is true when any run's servers included tr117's simulator.
	Simulated bool `json:"simulated"`
}

// AgentReport pools one agent's successful runs.
type AgentReport struct {
	ID     string `json:"id"`
	OK     int    `json:"ok_runs"`
	Failed int    `json:"failed_runs"`
	// Interrupted counts the runs Ctrl-C ended for this agent (not in
	// Failed).
	Interrupted int `json:"interrupted_runs"`
	// TTFTMS and TokensPerSec have one value per successful run; ITLMS
	// pools the inter-token latencies of all of them.
	TTFTMS       stats.Summary `json:"ttft_ms"`
	ITLMS        stats.Summary `json:"itl_ms"`
	TokensPerSec stats.Summary `json:"tokens_per_sec"`
	ServerTPS    stats.Summary `json:"server_tokens_per_sec"`
}

// NewReport summarises runs (nil entries are skipped).
func NewReport(runs []*RunResult) Report {
	var rep Report
	idx := map[string]int{}
	type acc struct{ ttft, itl, tps, stps []float64 }
	var accs []*acc
	var eff, speed, bound, teff, tspeed, lags []float64
	for _, rr := range runs {
		if rr == nil {
			continue
		}
		rep.Runs++
		rep.Simulated = rep.Simulated || rr.Simulated
		runFailed, runInterrupted := false, false
		if rr.EfficiencyPercent != nil && rr.ConcurrencySpeedup != nil {
			eff = append(eff, *rr.EfficiencyPercent)
			speed = append(speed, *rr.ConcurrencySpeedup)
			if rr.BalanceBoundPercent != nil {
				bound = append(bound, *rr.BalanceBoundPercent)
			}
		} else {
			rep.EfficiencyExcluded++
		}
		if rr.TrueEfficiencyPercent != nil && rr.TrueSpeedup != nil {
			teff = append(teff, *rr.TrueEfficiencyPercent)
			tspeed = append(tspeed, *rr.TrueSpeedup)
		}
		lags = append(lags, rr.LoopLag.Lags...)
		rep.Stalls += rr.LoopLag.Stalls
		if rep.LagInterval == 0 {
			rep.LagInterval = rr.LoopLag.Interval
		}
		rep.SchedLatencyP99MS = max(rep.SchedLatencyP99MS, rr.LoopLag.SchedLatency.P99)
		rep.GCPauseMaxMS = max(rep.GCPauseMaxMS, rr.LoopLag.GCPauses.Max)
		for _, ar := range rr.Agents {
			k, ok := idx[ar.ID]
			if !ok {
				k = len(rep.Agents)
				idx[ar.ID] = k
				rep.Agents = append(rep.Agents, AgentReport{ID: ar.ID})
				accs = append(accs, &acc{})
			}
			a, ag := accs[k], &rep.Agents[k]
			if ar.Err != nil || ar.Error != "" {
				if errors.Is(ar.Err, context.Canceled) {
					ag.Interrupted++
					runInterrupted = true
				} else {
					ag.Failed++
					runFailed = true
				}
				continue
			}
			ag.OK++
			if ar.Metrics.TTFTMS != nil {
				a.ttft = append(a.ttft, *ar.Metrics.TTFTMS)
			}
			a.tps = append(a.tps, ar.Metrics.ThroughputTokensPerSec)
			if ar.Metrics.ServerTokensPerSec != nil {
				a.stps = append(a.stps, *ar.Metrics.ServerTokensPerSec)
			}
			if ar.Stream != nil {
				for _, d := range ar.Stream.ITL {
					a.itl = append(a.itl, ms(d))
				}
			}
		}
		switch {
		case runFailed:
			rep.FailedRuns++
		case runInterrupted:
			rep.InterruptedRuns++
		}
	}
	sum := func(xs []float64) stats.Summary {
		s, _ := stats.Summarize(xs)
		return s
	}
	for k, a := range accs {
		ag := &rep.Agents[k]
		ag.TTFTMS, ag.ITLMS, ag.TokensPerSec, ag.ServerTPS = sum(a.ttft), sum(a.itl), sum(a.tps), sum(a.stps)
	}
	rep.EfficiencyPercent, rep.Speedup, rep.LagMS = sum(eff), sum(speed), sum(lags)
	rep.BalanceBoundPercent, rep.TrueEfficiencyPercent, rep.TrueSpeedup = sum(bound), sum(teff), sum(tspeed)
	return rep
}

// WriteText writes the report as a few human-readable lines: per agent
// TTFT p50/p99, ITL p50/p99 and tokens per second over its successful
// runs; the true efficiency and speed-up (when solo baselines were taken)
// beside the summed-time efficiency and speed-up (efficiency_percent,
// concurrency_speedup) and the balance bound, over the
// runs without failures (and how many failed runs were left out); the
// scheduler lag's p99 and
// stall events, or why there are no lag samples.
func (rep Report) WriteText(w io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	if rep.Simulated {
		p("SIMULATED: tr117's Ollama simulator answered, not real Ollama\n")
	}
	p("runs: %d (%d with failures", rep.Runs, rep.FailedRuns)
	if rep.InterruptedRuns > 0 {
		p(", %d interrupted", rep.InterruptedRuns)
	}
	p(")\n")
	if rep.Runs == 0 {
		return err
	}
	for _, a := range rep.Agents {
		p("  %-10s ok %d failed %d", a.ID, a.OK, a.Failed)
		if a.Interrupted > 0 {
			p(" interrupted %d", a.Interrupted)
		}
		switch {
		case a.OK == 0:
			p("  no successful runs\n")
			continue
		case a.TTFTMS.N == 0:
			p("  TTFT -")
		default:
			p("  TTFT p50 %.1f ms p99 %.1f ms", a.TTFTMS.P50, a.TTFTMS.P99)
		}
		if a.ITLMS.N == 0 {
			p("  ITL - (under two tokens)")
		} else {
			p("  ITL p50 %.2f ms p99 %.2f ms", a.ITLMS.P50, a.ITLMS.P99)
		}
		p("  tok/s mean %.1f", a.TokensPerSec.Mean)
		if a.ServerTPS.N > 0 {
			p(" (server %.1f)", a.ServerTPS.Mean)
		}
		p("\n")
	}
	if rep.EfficiencyPercent.N > 0 {
		if rep.TrueEfficiencyPercent.N > 0 {
			p("  true efficiency mean %.1f%% (min %.1f%%, max %.1f%%)  true speedup mean %.3f\n",
				rep.TrueEfficiencyPercent.Mean, rep.TrueEfficiencyPercent.Min, rep.TrueEfficiencyPercent.Max, rep.TrueSpeedup.Mean)
		} else {
			p("  true efficiency: none (no solo baselines)\n")
		}
		p("  seed efficiency mean %.1f%% (min %.1f%%, max %.1f%%)  seed speedup mean %.3f",
			rep.EfficiencyPercent.Mean, rep.EfficiencyPercent.Min, rep.EfficiencyPercent.Max, rep.Speedup.Mean)
		if rep.BalanceBoundPercent.N > 0 {
			p("  balance bound mean %.1f%%", rep.BalanceBoundPercent.Mean)
		}
		if rep.EfficiencyExcluded > 0 {
			p("  (excluded: %d run(s) with a failed or interrupted agent)", rep.EfficiencyExcluded)
		}
		p("\n")
	} else {
		p("  efficiency: none (no run in which every agent succeeded)\n")
	}
	if rep.LagMS.N == 0 {
		p("  scheduler lag: no lag samples: run shorter than the %g ms interval", ms(rep.LagInterval))
	} else {
		p("  scheduler lag p99 %.3f ms max %.3f ms over %d samples, %d stall events", rep.LagMS.P99, rep.LagMS.Max, rep.LagMS.N, rep.Stalls)
	}
	p("; runtime sched latency p99 %.3f ms, GC pause max %.3f ms\n", rep.SchedLatencyP99MS, rep.GCPauseMaxMS)
	return err
}

// MarshalJSON writes Report's durations as float milliseconds ("_ms").
func (r Report) MarshalJSON() ([]byte, error) { return layout.MarshalMillis(r) }

// UnmarshalJSON reads what MarshalJSON writes, and the "_ns" spellings of
// older files.
func (r *Report) UnmarshalJSON(b []byte) error { return layout.UnmarshalMillis(b, r) }
