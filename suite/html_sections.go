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
		t := serverRateTable(hw)
		s.Tables = []report.Table{t}
		return s
	}
	s.Paragraphs = []string{"Sampler: " + hw.Sampler + "."}
	t := gpuTable(hw)
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
		t := flowTable(fm)
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
		t := tokenizerTable(tr)
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
