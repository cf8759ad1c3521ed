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
// report). It and [WriteHTML] word the findings through the same
// functions: verdictText, notes and terms.
func WriteReport(w io.Writer, title string, res *SweepResult, plots []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	if res.Simulated() {
		b.WriteString("**SIMULATED**: " + simulatedText + "\n\n")
	}
	if v := verdictText(res); v != "" {
		b.WriteString("## Saturation\n\n" + v + "\n\n")
	}
	b.WriteString("## Points\n\n")
	b.WriteString("| " + strings.Join(pointsHeader, " | ") + " |\n")
	b.WriteString("|---" + strings.Repeat("|---:", len(pointsHeader)-1) + "|\n")
	for i := range res.Points {
		b.WriteString("| " + strings.Join(pointRow(&res.Points[i]), " | ") + " |\n")
	}
	b.WriteString("\n" + pointsNote + "\n")
	writeList(&b, "Notes", notes(res))
	writeList(&b, "Terms", terms)
	if len(plots) > 0 {
		b.WriteString("\n## Plots\n\n")
		for _, p := range plots {
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(p[strings.LastIndex(p, "/")+1:], ".png"), p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const (
	simulatedText = "tr117's Ollama simulator (tr117/profiler/ollamatest) answered these requests, not a real server. The numbers exercise the pipeline; they say nothing about real hardware."
	pointsNote    = "Times are the client's, from the moment each request was sent; a request's wait for a concurrency slot (queue) and the client's own lateness (schedule delay) are reported apart. Intervals are percentile-bootstrap 95% intervals."
	// fewForP99 is the fewest requests whose p99 is more than the largest
	// value or two: below it the report says so.
	fewForP99 = 100
)

// terms defines every column of the points table, for a reader who never
// saw a load-testing tool.
var terms = []string{
	"**requested /s**: the rate asked for; **sent /s**: the rate the client actually started requests at, over the run; **completed /s**: finished requests per second of the run (throughput).",
	"**sched. delay**: how late the client started a request against its schedule (its own lateness, not the server's); **queue**: a request's wait for a free concurrency slot (closed loop, or a concurrency cap).",
	"**TTFT**: time to first token, from sending the request to the first generated token.",
	"**ITL**: inter-token latency, the gap between consecutive tokens as they reached the client; tokens that arrive in one read are 0 ms apart, so a p50 of 0 means reads carried several tokens.",
	"**TPOT**: time per output token after the first, (E2E − TTFT) / (tokens − 1), per request.",
	"**E2E**: end-to-end latency, from sending the request to its last byte.",
	"**goodput**: the share (and rate) of requests that met every goodput limit (SLO: e.g. TTFT and TPOT bounds); – when no limits were given.",
}

func writeList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	b.WriteString("\n## " + title + "\n\n")
	for _, it := range items {
		b.WriteString("- " + it + "\n")
	}
}

// verdictText says where the server saturated, or "" for a single run.
func verdictText(res *SweepResult) string {
	if len(res.Points) < 2 && !res.Config.Auto {
		return ""
	}
	if res.Saturation < 0 {
		return fmt.Sprintf("No point saturated: every point's throughput stayed within %.0f%% of its rate and its TTFT p99 under %v.", 100*res.Config.Shortfall, res.Config.TTFTP99)
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
	s := fmt.Sprintf("The server saturated at **%s**: %s.", p.Label, strings.Join(why, " and "))
	if res.Saturation > 0 {
		s += fmt.Sprintf(" The highest point that kept up is **%s**.", res.Points[res.Saturation-1].Label)
	}
	return s
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

var pointsHeader = []string{"point", "requests", "failed", "requested /s", "sent /s", "completed /s", "out tok/s", "sched. delay p99 ms", "queue p99 ms",
	"TTFT p50 ms", "TTFT p99 ms [95% CI]", "ITL p50 ms", "ITL p99 ms", "TPOT p50 ms", "E2E p50 ms", "E2E p99 ms", "goodput"}

// pointRow is one point's cells, in pointsHeader's order.
func pointRow(p *SweepPoint) []string {
	s := &p.Summary
	good := "–"
	if s.Goodput != nil {
		good = fmt.Sprintf("%.1f%% (%.3g/s)", 100*s.Goodput.Share, s.Goodput.Rate)
	}
	failed := strconv.Itoa(s.Failed)
	if s.Interrupted > 0 {
		failed += fmt.Sprintf(" (+%d interrupted)", s.Interrupted)
	}
	return []string{p.Label, strconv.Itoa(s.Requests), failed, rate(s.RequestedRate), rate(s.AchievedRate),
		fmt.Sprintf("%.4g", s.RequestThroughput), fmt.Sprintf("%.4g", s.OutputTokensPerSecond),
		fmt.Sprintf("%.3f", s.ScheduleDelayMS.P99), fmt.Sprintf("%.3f", s.QueueMS.P99),
		cell(s.TTFTMS, 50), cell(s.TTFTMS, -1), cell(s.ITLMS, 50), cell(s.ITLMS, 99),
		cell(s.TPOTMS, 50), cell(s.E2EMS, 50), cell(s.E2EMS, 99), good}
}

// notes are the caveats of every point: the summaries' warnings, errors
// by kind, a single run that did not keep up, and p99s from few requests.
func notes(res *SweepResult) []string {
	var out []string
	for i := range res.Points {
		p := &res.Points[i]
		for _, w := range p.Summary.Warnings {
			out = append(out, p.Label+": "+w)
		}
		out = append(out, errorNotes(p)...)
		out = append(out, pointNotes(res, p)...)
		if p.Summary.InputTokensApproximated && i == 0 {
			out = append(out, "input token counts are approximated (one token per word of the synthetic prompts); the servers' prompt_eval_count in requests.jsonl is exact")
		}
		for _, t := range p.Summary.Turns {
			if t.PromptEvalMS != nil {
				out = append(out, fmt.Sprintf("%s: turn %d: prompt evaluation %.2f ms on average over %d requests", p.Label, t.Turn, *t.PromptEvalMS, t.N))
			}
		}
	}
	return out
}

func errorNotes(p *SweepPoint) []string {
	var out []string
	for _, kind := range slices.Sorted(maps.Keys(p.Summary.Errors)) {
		if kind == KindInterrupted {
			out = append(out, fmt.Sprintf("%s: %d requests interrupted (Ctrl-C ended them; not failures)", p.Label, p.Summary.Errors[kind]))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %d requests failed (%s)", p.Label, p.Summary.Errors[kind], kind))
	}
	return out
}

// pointNotes says when a single run's server did not keep up with the
// requested rate (a sweep's verdict says it for sweeps) and when a p99 comes
// from so few requests that it is little more than the largest value.
func pointNotes(res *SweepResult, p *SweepPoint) []string {
	var out []string
	s := &p.Summary
	if len(res.Points) == 1 && s.RequestedRate != nil && *s.RequestedRate > 0 && s.RequestThroughput < 0.9**s.RequestedRate {
		out = append(out, fmt.Sprintf("%s: the server did not keep up: it completed %.4g req/s of the %.4g requested (latencies then include queueing at the server; a sweep finds where it saturates)", p.Label, s.RequestThroughput, *s.RequestedRate))
	}
	if s.Completed > 0 && s.Completed < fewForP99 {
		out = append(out, fmt.Sprintf("%s: the p99s come from %d completed requests: with fewer than %d a p99 is about the largest value, and its interval is wide", p.Label, s.Completed, fewForP99))
	}
	return out
}
