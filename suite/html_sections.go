package suite

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"tr117/internal/layout"
	"tr117/internal/report"
)

func htmlHardwareSection(hw HardwareSection, skipped bool) report.Section {
	s := report.Section{ID: htmlHardware, Title: "2. Hardware", Question: "What does the GPU do?", Verdicts: verdictsHTML(hw.Verdicts)}
	switch {
	case skipped:
		s.Paragraphs = []string{"Phase 2 (hardware) was not part of the plan."}
		return s
	case hw.NoGPU:
		s.Paragraphs = []string{"No GPU samples: the full error is in `" + ManifestFile + "`."}
		t := report.Table{Header: []string{"Model", "Runs", "Server tok/s (mean ± sd)"}}
		for _, hm := range hw.Models {
			t.Rows = append(t.Rows, []string{hm.Model, runsCell(hm.Runs, hm.Failed), meanSD(hm.ServerTokSec, 1)})
		}
		s.Tables = []report.Table{t}
		return s
	}
	s.Paragraphs = []string{"Sampler: " + hw.Sampler + "."}
	t := report.Table{Header: []string{"Model", "Runs", "Samples", "Power W mean / max", "Util % mean / max", "Memory MiB mean / max", "PCIe RX / TX MB/s mean", "Energy J per run", "J per token", "Redlining", "Server tok/s"}}
	for _, hm := range hw.Models {
		jpt, red, rxtx := "n/a", "n/a", "n/a"
		if hm.JPerToken != nil {
			jpt = fmt.Sprintf("%.3f", *hm.JPerToken)
		}
		if hm.RedlineShare != nil {
			red = fmt.Sprintf("%.0f%% of time, %d runs sustained", 100**hm.RedlineShare, hm.RedlineRuns)
		}
		if hm.PCIeRx != nil && hm.PCIeTx != nil {
			rxtx = fmt.Sprintf("%.1f / %.1f", hm.PCIeRx.Mean, hm.PCIeTx.Mean)
		}
		t.Rows = append(t.Rows, []string{hm.Model, runsCell(hm.Runs, hm.Failed), fmt.Sprint(hm.Samples),
			pair(hm.PowerW, 1, meanMax), pair(hm.UtilGPU, 1, meanMax), pair(hm.MemMiB, 0, meanMax), rxtx,
			meanSD(hm.EnergyJ, 1), jpt, red, meanSD(hm.ServerTokSec, 1)})
	}
	s.Tables = []report.Table{t}
	return s
}

func htmlFlowSection(fms []FlowModel) report.Section {
	s := report.Section{ID: htmlFlow, Title: "3. Flow dynamics", Question: "Does a slower reader raise efficiency?"}
	if len(fms) == 0 {
		s.Paragraphs = []string{"Phase 3 (throttle) had no throttled condition in the plan."}
	}
	for _, fm := range fms {
		sub := report.Section{
			ID:       fmt.Sprintf("%s-%s-%s", htmlFlow, layout.Slug(fm.Model), rateDir(fm.Rate)),
			Title:    fmt.Sprintf("%s at %s (baseline: %s)", fm.Model, rateDir(fm.Rate), fm.Baseline),
			Verdicts: verdictsHTML(fm.Verdicts),
		}
		t := report.Table{Header: []string{"Metric", "Unthrottled", "Throttled", "Δ", "95% CI", "p (Mann-Whitney)"}}
		for _, row := range []struct {
			name string
			ab   *AB
			prec int
		}{{"True efficiency %", fm.TrueEfficiency, 2}, {"Seed efficiency %", fm.Efficiency, 2}, {"Server eval tok/s (per run)", fm.ServerRate, 1}} {
			if row.ab == nil {
				t.Rows = append(t.Rows, []string{row.name, "n/a", "n/a", "n/a", "n/a", "n/a"})
				continue
			}
			t.Rows = append(t.Rows, []string{row.name, fmt.Sprintf("%.*f (n=%d)", row.prec, row.ab.MeanA, row.ab.NA), fmt.Sprintf("%.*f (n=%d)", row.prec, row.ab.MeanB, row.ab.NB),
				abDiff(row.ab, row.prec), abCI(row.ab, row.prec), abP(row.ab)})
		}
		sub.Tables = []report.Table{t}
		if fm.Failed > 0 || fm.BaselineFailed > 0 {
			sub.Paragraphs = []string{fmt.Sprintf("Left out: %s and %s (a failed or interrupted agent leaves a run no efficiency).",
				plural(fm.Failed, "failed throttled run"), plural(fm.BaselineFailed, "failed baseline run"))}
		}
		s.Subsections = append(s.Subsections, sub)
	}
	return s
}

func htmlTokenizerSection(tr *TokenizerReport) report.Section {
	s := report.Section{ID: htmlTokenizers, Title: "4. Tokenizers", Question: "Is tokenization a CPU bottleneck?"}
	if tr == nil {
		s.Paragraphs = []string{"The tokenizer race was not part of the plan."}
		return s
	}
	s.Verdicts = verdictsHTML(tr.Verdicts)
	if tr.Fixtures {
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("**Fixtures:** none of the plan's models' tokenizers was found, so on the simulated backend the race ran the module-cache fixtures (real tokenizers from Go modules' test data, named `%sNAME`). They exercise the race; they say nothing about the plan's models.", FixturePrefix))
	}
	if len(tr.Results) > 0 {
		t := report.Table{Header: []string{"Model", "Tokens/Sec", "Latency (ms)", "Source"}}
		for _, r := range tr.Results {
			t.Rows = append(t.Rows, []string{r.Model, thousands(r.TokensPerSec), fmt.Sprintf("%.2f", r.LatencyMs), r.Source})
		}
		s.Tables = []report.Table{t}
	}
	for _, m := range sortedKeys(tr.Missing) {
		s.Items = append(s.Items, fmt.Sprintf("%s: tokenizer not found (%s)", m, shortReason(tr.Missing[m])))
	}
	if len(tr.Missing) > 0 {
		s.Paragraphs = append(s.Paragraphs, "Where each missing tokenizer was looked for, in full: `"+path.Join("phase2", "tokenizers", tokenizerMissing)+"`.")
	}
	return s
}

// attachPlots embeds each plot file (relative to root) in the section it
// belongs to: efficiency in the client ceiling, lag and chunk gaps in
// their model's part of it, ceiling_* in the sweep, gpu_* in hardware.
// A plot of no known kind goes to a section of its own at the end.
func attachPlots(root string, plots []string, d *report.Doc) error {
	for _, rel := range plots {
		png, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return fmt.Errorf("suite: %s: %w", ReportHTML, err)
		}
		name := strings.TrimSuffix(path.Base(rel), ".png")
		fig := report.Figure{Alt: name, Caption: rel, PNG: png}
		if sec := plotHome(d.Sections, name); sec != nil {
			sec.Figures = append(sec.Figures, fig)
			continue
		}
		if last := &d.Sections[len(d.Sections)-1]; last.ID == htmlPlots {
			last.Figures = append(last.Figures, fig)
			continue
		}
		d.Sections = append(d.Sections, report.Section{ID: htmlPlots, Title: "Other plots", Figures: []report.Figure{fig}})
	}
	return nil
}

// plotHome is the section a plot named name (without .png) belongs in,
// or nil. The prefixes are the names plots gives its files.
func plotHome(secs []report.Section, name string) *report.Section {
	find := func(id string) *report.Section {
		for i := range secs {
			if secs[i].ID == id {
				return &secs[i]
			}
			for j := range secs[i].Subsections {
				if secs[i].Subsections[j].ID == id {
					return &secs[i].Subsections[j]
				}
			}
		}
		return nil
	}
	for _, pre := range []string{"lag_", "chunk_gap_cdf_"} {
		if slug, ok := strings.CutPrefix(name, pre); ok {
			if sec := find(htmlCeiling + "-" + slug); sec != nil {
				return sec
			}
		}
	}
	switch {
	case name == "efficiency":
		return find(htmlCeiling)
	case strings.HasPrefix(name, "ceiling_"):
		return find(htmlSweep)
	case strings.HasPrefix(name, "gpu_"):
		return find(htmlHardware)
	}
	return nil
}
