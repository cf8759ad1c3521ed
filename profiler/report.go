package profiler

import (
	"fmt"
	"io"
	"time"

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
	// FailedRuns counts runs in which at least one agent failed.
	FailedRuns int `json:"failed_runs"`
	// Agents holds one entry per agent ID, in the order first seen.
	Agents []AgentReport `json:"agents"`
	// EfficiencyPercent and SpeedUp summarise the runs' efficiency and
	// speed-up (failed runs included, as measured).
	EfficiencyPercent stats.Summary `json:"efficiency_percent"`
	Speedup           stats.Summary `json:"concurrency_speedup"`
	// LagMS pools every run's lag samples; Stalls sums their stall events.
	LagMS  stats.Summary `json:"lag_ms"`
	Stalls int           `json:"stall_events"`
}

// AgentReport pools one agent's successful runs.
type AgentReport struct {
	ID     string `json:"id"`
	OK     int    `json:"ok_runs"`
	Failed int    `json:"failed_runs"`
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
	var eff, speed, lags []float64
	for _, rr := range runs {
		if rr == nil {
			continue
		}
		rep.Runs++
		if rr.Failed > 0 {
			rep.FailedRuns++
		}
		eff = append(eff, rr.EfficiencyPercent)
		speed = append(speed, rr.ConcurrencySpeedup)
		lags = append(lags, rr.LoopLag.Lags...)
		rep.Stalls += rr.LoopLag.Stalls
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
				ag.Failed++
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
	return rep
}

// WriteText writes the report as a few human-readable lines.
func (rep Report) WriteText(w io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	p("runs: %d (%d with failures)\n", rep.Runs, rep.FailedRuns)
	for _, a := range rep.Agents {
		p("  %-10s ok %d failed %d  TTFT p50 %.1f ms p99 %.1f ms  ITL p50 %.2f ms p99 %.2f ms  tok/s mean %.1f (server %.1f)\n",
			a.ID, a.OK, a.Failed, a.TTFTMS.P50, a.TTFTMS.P99, a.ITLMS.P50, a.ITLMS.P99, a.TokensPerSec.Mean, a.ServerTPS.Mean)
	}
	p("  efficiency mean %.1f%% (min %.1f%%, max %.1f%%)  speedup mean %.3f\n",
		rep.EfficiencyPercent.Mean, rep.EfficiencyPercent.Min, rep.EfficiencyPercent.Max, rep.Speedup.Mean)
	p("  scheduler lag p99 %.3f ms max %.3f ms over %d samples, %d stall events\n",
		rep.LagMS.P99, rep.LagMS.Max, rep.LagMS.N, rep.Stalls)
	return err
}
