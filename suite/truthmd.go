package suite

import (
	"fmt"
	"strings"

	"tr117/stats"
)

// writeTerms writes the Terms section from [terms].
func writeTerms(b *strings.Builder) {
	b.WriteString("## Terms\n\n")
	for _, t := range terms() {
		b.WriteString("- " + t + "\n")
	}
	b.WriteString("\n")
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
