package load

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// WriteReport writes report.md's Markdown for a sweep (a single run is a
// sweep of one point) to w, linking the plots (paths relative to the
// report). It is the only place the package words its findings.
func WriteReport(w io.Writer, title string, res *SweepResult, plots []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	if res.Simulated() {
		b.WriteString("**SIMULATED**: tr117's Ollama simulator (tr117/profiler/ollamatest) answered these requests, not a real server. The numbers exercise the pipeline; they say nothing about real hardware.\n\n")
	}
	writeVerdict(&b, res)
	b.WriteString("## Points\n\n")
	b.WriteString("| point | requests | failed | requested /s | sent /s | completed /s | out tok/s | sched. delay p99 ms | queue p99 ms | TTFT p50 ms | TTFT p99 ms [95% CI] | ITL p50 ms | ITL p99 ms | TPOT p50 ms | E2E p50 ms | E2E p99 ms | goodput |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i := range res.Points {
		writeRow(&b, &res.Points[i])
	}
	b.WriteString("\nTimes are the client's, from the moment each request was sent; a request's wait for a concurrency slot (queue) and the client's own lateness (schedule delay) are reported apart. Intervals are percentile-bootstrap 95% intervals.\n")
	writeNotes(&b, res)
	if len(plots) > 0 {
		b.WriteString("\n## Plots\n\n")
		for _, p := range plots {
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(p[strings.LastIndex(p, "/")+1:], ".png"), p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeVerdict(b *strings.Builder, res *SweepResult) {
	if len(res.Points) < 2 && !res.Config.Auto {
		return
	}
	b.WriteString("## Saturation\n\n")
	if res.Saturation < 0 {
		fmt.Fprintf(b, "No point saturated: every point's throughput stayed within %.0f%% of its rate and its TTFT p99 under %v.\n\n", 100*res.Config.Shortfall, res.Config.TTFTP99)
		return
	}
	p := &res.Points[res.Saturation]
	var why []string
	if p.Short {
		why = append(why, fmt.Sprintf("its throughput (%.4g req/s) fell more than %.0f%% short of its rate", p.Summary.RequestThroughput, 100*res.Config.Shortfall))
	}
	if p.Slow {
		if p.Summary.TTFTMS == nil {
			why = append(why, "no request produced a token")
		} else {
			why = append(why, fmt.Sprintf("its TTFT p99 (%.4g ms) passed %v", p.Summary.TTFTMS.P99.Estimate, res.Config.TTFTP99))
		}
	}
	fmt.Fprintf(b, "The server saturated at **%s**: %s.", p.Label, strings.Join(why, " and "))
	if res.Saturation > 0 {
		fmt.Fprintf(b, " The highest point that kept up is **%s**.", res.Points[res.Saturation-1].Label)
	}
	b.WriteString("\n\n")
}

func cell(l *Latency, p float64) string {
	if l == nil {
		return "–"
	}
	switch p {
	case 50:
		return fmt.Sprintf("%.2f", l.P50.Estimate)
	case 99:
		return fmt.Sprintf("%.2f", l.P99.Estimate)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", l.P99.Estimate, l.P99.Lo, l.P99.Hi)
}

func rate(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.4g", *v)
}

func writeRow(b *strings.Builder, p *SweepPoint) {
	s := &p.Summary
	good := "–"
	if s.Goodput != nil {
		good = fmt.Sprintf("%.1f%% (%.3g/s)", 100*s.Goodput.Share, s.Goodput.Rate)
	}
	failed := strconv.Itoa(s.Failed)
	if s.Interrupted > 0 {
		failed += fmt.Sprintf(" (+%d interrupted)", s.Interrupted)
	}
	fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %.4g | %.4g | %.3f | %.3f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		p.Label, s.Requests, failed, rate(s.RequestedRate), rate(s.AchievedRate), s.RequestThroughput, s.OutputTokensPerSecond,
		s.ScheduleDelayMS.P99, s.QueueMS.P99, cell(s.TTFTMS, 50), cell(s.TTFTMS, -1), cell(s.ITLMS, 50), cell(s.ITLMS, 99),
		cell(s.TPOTMS, 50), cell(s.E2EMS, 50), cell(s.E2EMS, 99), good)
}

func writeNotes(b *strings.Builder, res *SweepResult) {
	var notes []string
	for i := range res.Points {
		p := &res.Points[i]
		for _, w := range p.Summary.Warnings {
			notes = append(notes, p.Label+": "+w)
		}
		for _, kind := range slices.Sorted(maps.Keys(p.Summary.Errors)) {
			if kind == KindInterrupted {
				notes = append(notes, fmt.Sprintf("%s: %d requests interrupted (Ctrl-C ended them; not failures)", p.Label, p.Summary.Errors[kind]))
				continue
			}
			notes = append(notes, fmt.Sprintf("%s: %d requests failed (%s)", p.Label, p.Summary.Errors[kind], kind))
		}
		if p.Summary.InputTokensApproximated && i == 0 {
			notes = append(notes, "input token counts are approximated (one token per word of the synthetic prompts); the servers' prompt_eval_count in requests.jsonl is exact")
		}
		for _, t := range p.Summary.Turns {
			if t.PromptEvalMS != nil {
				notes = append(notes, fmt.Sprintf("%s: turn %d: prompt evaluation %.2f ms on average over %d requests", p.Label, t.Turn, *t.PromptEvalMS, t.N))
			}
		}
	}
	if len(notes) == 0 {
		return
	}
	b.WriteString("\n## Notes\n\n")
	for _, n := range notes {
		b.WriteString("- " + n + "\n")
	}
}
