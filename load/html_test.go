package load

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/internal/chromium"
)

// writeHTMLFixture writes the fixture sweep's report.html with its plots
// and returns its path and text.
func writeHTMLFixture(t *testing.T) (string, string, []string) {
	t.Helper()
	res := sweepFixture(t)
	dir := t.TempDir()
	plots, err := WritePlots(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, dir, "Load report", res, plots); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, HTMLReportFile)
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, b.String(), plots
}

func TestWriteHTML(t *testing.T) {
	_, s, plots := writeHTMLFixture(t)
	res := sweepFixture(t)
	for _, want := range []string{
		`<section id="saturation">`, `<section id="points">`, `<section id="notes">`, `<section id="plots">`,
		"The server saturated at <strong>" + res.Points[1].Label + "</strong>",
		"<td>" + res.Points[0].Label + "</td>",
		"input token counts are approximated",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	if n := strings.Count(s, `src="data:image/png;base64,`); n != len(plots) || n == 0 {
		t.Errorf("%d embedded plots, want %d", n, len(plots))
	}
	if strings.Contains(s, "<script") {
		t.Error("report.html has a script")
	}
}

func TestWriteHTMLMissingPlot(t *testing.T) {
	err := WriteHTML(&bytes.Buffer{}, t.TempDir(), "x", sweepFixture(t), []string{"plots/gone.png"})
	if err == nil || !strings.Contains(err.Error(), "gone.png") {
		t.Fatalf("err = %v, want one naming the plot", err)
	}
}

// TestWriteHTMLChromium loads the page in headless Chromium: its sections
// are in the DOM, the console has no error, nothing is fetched.
func TestWriteHTMLChromium(t *testing.T) {
	bin, err := chromium.Find()
	if err != nil {
		if chromium.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	file, _, plots := writeHTMLFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := chromium.Load(ctx, chromium.Config{Bin: bin}, "file://"+file)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"saturation", "points", "notes", "plots"} {
		if !strings.Contains(p.DOM, `<section id="`+id+`">`) {
			t.Errorf("DOM has no section %q", id)
		}
	}
	if n := strings.Count(p.DOM, "<img "); n != len(plots) {
		t.Errorf("DOM has %d images, want %d", n, len(plots))
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %+v", errs)
	}
	for _, u := range p.Requests {
		if u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("request left the file: %s", u)
		}
	}
}
