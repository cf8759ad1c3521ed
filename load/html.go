package load

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"tr117/internal/report"
)

// HTMLReportFile is the report as one self-contained web page, beside
// report.md.
const HTMLReportFile = "report.html"

// WriteHTML writes report.html's page for a sweep to w: the saturation
// verdict, the points' table, the notes and the plots, embedded from dir
// (plots are paths relative to dir, as [WritePlots] returns them). The
// words are [WriteReport]'s; only the layout differs.
func WriteHTML(w io.Writer, dir, title string, res *SweepResult, plots []string) error {
	d := report.Doc{Title: title}
	points := report.Section{ID: "points", Title: "Points", Tables: []report.Table{pointsTable(res)},
		Paragraphs: []string{"Times are the client's, from the moment each request was sent; a request's wait for a concurrency slot (queue) and the client's own lateness (schedule delay) are reported apart. Intervals are percentile-bootstrap 95% intervals."}}
	if v := verdictText(res); v != "" {
		d.Sections = append(d.Sections, report.Section{ID: "saturation", Title: "Saturation", Question: "At what load does the server stop keeping up?", Paragraphs: []string{v}})
	}
	d.Sections = append(d.Sections, points)
	if notes := noteItems(res); len(notes) > 0 {
		d.Sections = append(d.Sections, report.Section{ID: "notes", Title: "Notes", Items: notes})
	}
	if len(plots) > 0 {
		sec := report.Section{ID: "plots", Title: "Plots"}
		for _, p := range plots {
			png, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				return fmt.Errorf("load: %s: %w", HTMLReportFile, err)
			}
			sec.Figures = append(sec.Figures, report.Figure{Alt: strings.TrimSuffix(path.Base(p), ".png"), Caption: p, PNG: png})
		}
		d.Sections = append(d.Sections, sec)
	}
	if err := report.WriteHTML(w, d); err != nil {
		return fmt.Errorf("load: %s: %w", HTMLReportFile, err)
	}
	return nil
}

// pointsTable is report.md's table of points.
func pointsTable(res *SweepResult) report.Table {
	t := report.Table{Header: []string{"point", "requests", "failed", "requested /s", "sent /s", "completed /s", "out tok/s", "sched. delay p99 ms", "queue p99 ms",
		"TTFT p50 ms", "TTFT p99 ms [95% CI]", "ITL p50 ms", "ITL p99 ms", "TPOT p50 ms", "E2E p50 ms", "E2E p99 ms", "goodput"}}
	for i := range res.Points {
		p := &res.Points[i]
		s := &p.Summary
		good := "–"
		if s.Goodput != nil {
			good = fmt.Sprintf("%.1f%% (%.3g/s)", 100*s.Goodput.Share, s.Goodput.Rate)
		}
		t.Rows = append(t.Rows, []string{p.Label, fmt.Sprint(s.Requests), fmt.Sprint(s.Failed), rate(s.RequestedRate), rate(s.AchievedRate),
			fmt.Sprintf("%.4g", s.RequestThroughput), fmt.Sprintf("%.4g", s.OutputTokensPerSecond), fmt.Sprintf("%.3f", s.ScheduleDelayMS.P99), fmt.Sprintf("%.3f", s.QueueMS.P99),
			cell(s.TTFTMS, 50), cell(s.TTFTMS, -1), cell(s.ITLMS, 50), cell(s.ITLMS, 99), cell(s.TPOTMS, 50), cell(s.E2EMS, 50), cell(s.E2EMS, 99), good})
	}
	return t
}

// verdictText is writeVerdict's sentence without its heading ("" when
// there is no verdict).
func verdictText(res *SweepResult) string {
	var b strings.Builder
	writeVerdict(&b, res)
	_, text, _ := strings.Cut(b.String(), "\n\n")
	return strings.TrimSpace(text)
}

// noteItems are writeNotes' items.
func noteItems(res *SweepResult) []string {
	var b strings.Builder
	writeNotes(&b, res)
	var out []string
	for _, line := range strings.Split(b.String(), "\n") {
		if item, ok := strings.CutPrefix(line, "- "); ok {
			out = append(out, item)
		}
	}
	return out
}
