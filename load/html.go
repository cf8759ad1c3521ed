package load

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"tr117/internal/layout"
	"tr117/internal/report"
)

// HTMLReportFile is the report as one self-contained web page, beside
// report.md.
const HTMLReportFile = layout.ReportHTML

// WriteHTML writes report.html's page for a sweep to w: the saturation
// verdict, the points' table, the notes and the plots, embedded from dir
// (plots are paths relative to dir, as [WritePlots] returns them). The
// words are [WriteReport]'s; only the layout differs.
func WriteHTML(w io.Writer, dir, title string, res *SweepResult, plots []string) error {
	d := report.Doc{Title: title}
	if res.Simulated() {
		d.Banner = "SIMULATED: " + simulatedText
	}
	if v := verdictText(res); v != "" {
		d.Sections = append(d.Sections, report.Section{ID: "saturation", Title: "Saturation", Question: "At what load does the server stop keeping up?", Paragraphs: []string{v}})
	}
	t := report.Table{Header: pointsHeader}
	for i := range res.Points {
		t.Rows = append(t.Rows, pointRow(&res.Points[i]))
	}
	d.Sections = append(d.Sections, report.Section{ID: "points", Title: "Points", Tables: []report.Table{t}, Paragraphs: []string{pointsNote}})
	if n := notes(res); len(n) > 0 {
		d.Sections = append(d.Sections, report.Section{ID: "notes", Title: "Notes", Items: n})
	}
	d.Sections = append(d.Sections, report.Section{ID: "terms", Title: "Terms", Items: terms})
	if len(plots) > 0 {
		sec, err := plotSection(dir, plots)
		if err != nil {
			return err
		}
		d.Sections = append(d.Sections, sec)
	}
	if err := report.WriteHTML(w, d); err != nil {
		return fmt.Errorf("load: %s: %w", HTMLReportFile, err)
	}
	return nil
}

func plotSection(dir string, plots []string) (report.Section, error) {
	sec := report.Section{ID: "plots", Title: "Plots"}
	for _, p := range plots {
		png, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return sec, fmt.Errorf("load: %s: %w", HTMLReportFile, err)
		}
		sec.Figures = append(sec.Figures, report.Figure{Alt: strings.TrimSuffix(path.Base(p), ".png"), Caption: p, PNG: png})
	}
	return sec, nil
}
