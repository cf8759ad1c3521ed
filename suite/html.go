package suite

import (
	"bytes"
	"fmt"
	"path/filepath"

	"tr117/internal/layout"
	"tr117/internal/report"
	"tr117/sink"
)

// ReportHTML is the report as one self-contained web page, beside
// report.md and report.json.
const ReportHTML = layout.ReportHTML

// Section ids of report.html, one per question of the report.
const (
	htmlTerms      = "terms"
	htmlCeiling    = "client-ceiling"
	htmlSweep      = "ceiling-sweep"
	htmlLatency    = "latency"
	htmlHardware   = "hardware"
	htmlFlow       = "flow-dynamics"
	htmlTokenizers = "tokenizers"
	htmlPlots      = "plots"
)

// writeHTML writes report.html under root, embedding the plots rep lists.
func writeHTML(root string, rep *Report) error {
	d, err := htmlDoc(root, rep, rep.Manifest)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, d); err != nil {
		return fmt.Errorf("suite: %s: %w", ReportHTML, err)
	}
	return sink.WriteFileAtomic(filepath.Join(root, ReportHTML), buf.Bytes())
}

// htmlDoc maps the report to the page's document: the setup, then one
// section per question with its verdicts, tables and plots together.
func htmlDoc(root string, rep *Report, man *Manifest) (report.Doc, error) {
	plan := man.Plan.WithDefaults()
	d := report.Doc{
		Title:  "TR117 report",
		Banner: rep.Banner,
		Setup:  htmlSetupFields(rep, man, plan),
		Footer: fmt.Sprintf("Numbers: tr117/stats (percentiles: linear interpolation; CIs: percentile bootstrap, 10,000 resamples, seeded; A/B: Mann-Whitney U, two-sided, α = %g). Only runs recorded as ok in `%s` are analysed.", Alpha, ManifestFile),
	}
	if note := fewRunsNote(plan); note != "" {
		d.Notes = append(d.Notes, note)
	}
	for _, f := range rep.Failed {
		d.Notes = append(d.Notes, fmt.Sprintf("Failed run `%s`: %s", f.Key, f.Error))
	}
	d.Sections = []report.Section{
		{ID: htmlTerms, Title: "Terms", Items: terms()},
		htmlCeilingSection(rep.ClientCeiling),
		htmlSweepSection(rep.Sweep),
		htmlLatencySection(rep.Latency),
		htmlHardwareSection(rep.Hardware, plan.Hardware.Skip),
		htmlFlowSection(rep.Flow),
		htmlTokenizerSection(rep.Tokenizers),
	}
	err := attachPlots(root, rep.Plots, &d)
	return d, err
}

// verdictHTML is the one place the page reads a verdict's prose.
func verdictHTML(v Verdict) report.Verdict {
	return report.Verdict{Text: v.Sentence(), N: v.N, Warnings: v.Caveats()}
}

func verdictsHTML(vs []Verdict) []report.Verdict {
	var out []report.Verdict
	for _, v := range vs {
		out = append(out, verdictHTML(v))
	}
	return out
}

func htmlSetupFields(rep *Report, man *Manifest, plan Plan) []report.Field {
	fs := []report.Field{
		{Name: "Backend", Value: backendText(rep)},
		{Name: "Generated", Value: rep.Generated.Format("2006-01-02 15:04:05 UTC") + " by tr117 " + rep.Version + " (" + man.GoVersion + ")"},
		{Name: "Host", Value: fmt.Sprintf("%s (%s/%s, %d CPUs: %s)", man.Host.Hostname, man.Host.OS, man.Host.Arch, man.Host.NumCPU, man.Host.CPU)},
		{Name: "GPU", Value: gpuText(man.GPU, plan.Hardware.Skip)},
	}
	for _, ep := range man.Endpoints {
		fs = append(fs, report.Field{Name: ep.Role, Value: endpointText(ep)})
	}
	np := "not sent (the server decides)"
	if plan.NumPredict > 0 {
		np = fmt.Sprint(plan.NumPredict)
	}
	return append(fs,
		report.Field{Name: "Scenario", Value: string(plan.Scenario)},
		report.Field{Name: "num_predict", Value: np},
		report.Field{Name: "Runs", Value: fmt.Sprintf("%d planned, %d ok, %d failed, %d not run", rep.Runs.Planned, rep.Runs.OK, rep.Runs.Failed, rep.Runs.Missing)},
	)
}

func htmlCeilingSection(cms []CeilingModel) report.Section {
	s := report.Section{ID: htmlCeiling, Title: "1. Client ceiling", Question: "Does the client cap multi-agent efficiency?"}
	if len(cms) == 0 {
		s.Paragraphs = []string{"Phase 1 (dual-agent runs per read-buffer size) was not part of the plan."}
	}
	for _, cm := range cms {
		sub := report.Section{ID: htmlCeiling + "-" + layout.Slug(cm.Model), Title: cm.Model, Verdicts: verdictsHTML(cm.Verdicts)}
		sub.Tables = append(sub.Tables, conditionTable(cm.Conditions))
		if failed := sumFailed(cm.Conditions); failed > 0 {
			sub.Paragraphs = append(sub.Paragraphs, fmt.Sprintf("Left out: %s (a failed or interrupted agent leaves a run no efficiency); Runs counts the runs the numbers come from.", plural(failed, "failed run")))
		}
		if anyComparison(cm.Comparisons) {
			sub.Tables = append(sub.Tables, comparisonTable(cm.Comparisons))
		}
		s.Subsections = append(s.Subsections, sub)
	}
	return s
}

func htmlSweepSection(cs *CeilingSweep) report.Section {
	s := report.Section{ID: htmlSweep, Title: "Ceiling sweep", Question: "At what CPU cost per message on one event loop does the client become the ceiling?"}
	if cs == nil {
		s.Paragraphs = []string{"The ceiling sweep was not part of the plan (ceiling.run in the plan): the question is answered from the true speed-up above alone."}
		return s
	}
	s.Paragraphs = []string{"Model " + cs.Model + ". Loop lag columns are the mean over runs of each run's p50 and p99."}
	t := sweepTable(cs)
	s.Tables = []report.Table{t}
	s.Verdicts = verdictsHTML(cs.Verdicts)
	return s
}

func htmlLatencySection(ls []ConditionLatency) report.Section {
	s := report.Section{ID: htmlLatency, Title: "Latency per condition", Question: "How long do the first token and the tokens after it take?"}
	if len(ls) == 0 {
		s.Paragraphs = []string{"No finished run to measure."}
		return s
	}
	s.Paragraphs = append([]string{latencyIntro}, latencyNotes(ls)...)
	t := latencyTable(ls)
	s.Tables = []report.Table{t}
	return s
}
