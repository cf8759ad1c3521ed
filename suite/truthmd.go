package suite

import (
	"fmt"
	"strings"
	"tr117/internal/report"

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
	b.WriteString(sweepTable(cs).Markdown())
	p("\nLoop lag columns are the mean over runs of each run's p50 and p99.\n\n")
	writeVerdicts(b, cs.Verdicts)
}

// writeLatency renders the per-condition latency table.
func writeLatency(b *strings.Builder, ls []ConditionLatency) {
	if len(ls) == 0 {
		return
	}
	b.WriteString("### Latency per condition\n\n" + latencyIntro + "\n\n")
	b.WriteString(latencyTable(ls).Markdown() + "\n")
	for _, n := range latencyNotes(ls) {
		b.WriteString(n + "\n\n")
	}
}

const latencyIntro = "TTFT and TPOT: p50 / p99 over every agent of every run. ITL: the median over streams of each stream's own ITL p50, and of its p99."

// latencyTable is the latency per condition, the one table both renderers
// show.
func latencyTable(ls []ConditionLatency) report.Table {
	t := report.Table{Header: []string{"Phase", "Model", "Condition", "Runs", "TTFT ms p50 / p99", "TPOT ms p50 / p99", "ITL ms p50 / p99"}, Align: "lllrrrr"}
	pp := func(s *stats.Summary) (float64, float64) { return s.P50, s.P99 }
	for _, l := range ls {
		itl := "n/a"
		if l.ITLP50ms != nil && l.ITLP99ms != nil {
			itl = fmt.Sprintf("%.2f / %.2f", l.ITLP50ms.P50, l.ITLP99ms.P50)
		}
		cond := l.Condition
		if cond == "" {
			cond = "-"
		}
		t.Rows = append(t.Rows, []string{string(l.Phase), l.Model, cond, fmt.Sprint(l.Runs), pair(l.TTFTms, 1, pp), pair(l.TPOTms, 2, pp), itl})
	}
	return t
}

// latencyNotes explain what would otherwise read as errors: ITL medians
// of 0 and the TTFT of large read buffers.
func latencyNotes(ls []ConditionLatency) []string {
	zeroITL, buffered := false, false
	for _, l := range ls {
		zeroITL = zeroITL || (l.ITLP50ms != nil && l.ITLP50ms.P50 < 0.005)
		buffered = buffered || (l.Phase == PhaseMRI && strings.HasPrefix(l.Condition, "buf"))
	}
	var out []string
	if zeroITL {
		out = append(out, "An ITL p50 of 0.00 ms is not an error: when one transport read carries several tokens, the tokens after the first in it arrive 0 ms apart by construction, so more than half of a stream's gaps can be 0. The time between reads is the chunk gap (section 1's Gap ms columns).")
	}
	if buffered {
		out = append(out, "A bufN condition in read mode exact (the default, as the original client's aiter_bytes(chunk_size=N) read) hands the client nothing until N bytes have arrived or the stream ends, so its TTFT and ITL include that wait: a large buffer's higher TTFT is the buffer's doing, not the server's.")
	}
	return out
}

func meanOf(s *stats.Summary, prec int) string {
	if s == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, s.Mean)
}
