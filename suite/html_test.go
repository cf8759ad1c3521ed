package suite

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tr117/internal/chromium"
	"tr117/internal/report"
)

// htmlCase is one golden input of report.html.
type htmlCase struct {
	name string
	root func(t *testing.T) string
	// real clears the manifest's simulated flag: the page has no banner.
	real bool
}

var htmlCases = []htmlCase{
	{name: "default", root: synthRoot},
	{name: "default-real", root: synthRoot, real: true},
	{name: "1run-nogpu", root: oneRunNoGPURoot},
	{name: "ceiling", root: ceilingRoot},
}

// oneRunNoGPURoot is TestReportGoldenOneRunNoGPU's input: `--runs 1`
// without a GPU.
func oneRunNoGPURoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	cfg := fakeConfig(root)
	cfg.Plan.SetRuns(1)
	if _, err := execute(context.Background(), cfg, synthExecGPU(root, false)); err != nil {
		t.Fatal(err)
	}
	return root
}

// ceilingRoot is TestReportGoldenCeiling's input: the ceiling sweep alone.
func ceilingRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	cfg := fakeConfig(root)
	cfg.Plan.MRI.Runs = 3
	cfg.Plan.Ceiling = CeilingPlan{Run: true, Runs: 3}
	cfg.Plan.Throttle.Skip, cfg.Plan.Hardware.Skip = true, true
	if _, err := execute(context.Background(), cfg, synthExecGPU(root, false)); err != nil {
		t.Fatal(err)
	}
	return root
}

// buildHTML builds the case's report with plots and returns its root and
// report.html.
func buildHTML(t *testing.T, c htmlCase) (string, *Report, []byte) {
	t.Helper()
	root := c.root(t)
	if c.real {
		man, err := ReadManifest(root)
		if err != nil {
			t.Fatal(err)
		}
		man.Simulated = false
		if err := man.write(root); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC) }
	rep, err := Analyze(root, ReportConfig{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(root, rep, true); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(root, ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	return root, rep, page
}

// htmlSections are the ids every report.html has.
var htmlSections = []string{"setup", htmlTerms, htmlCeiling, htmlSweep, htmlLatency, htmlHardware, htmlFlow, htmlTokenizers}

// externalRef matches an attribute that would make the page fetch
// something: any src or href that is not a data: URI or a fragment.
var externalRef = regexp.MustCompile(`(?i)\b(src|href|srcset|action)\s*=\s*"(?:[^"d#]|d[^a]|da[^t])`)

// TestReportHTML builds report.html from each golden input, with plots,
// and checks the file, then loads it in headless Chromium: every section
// is in the DOM, the console has no error, no request leaves the file,
// and the screenshot is a plausible page. Without Chromium the browser
// half is skipped, unless CI or TR117_REQUIRE_CHROMIUM is set.
func TestReportHTML(t *testing.T) {
	bin, binErr := chromium.Find()
	if binErr != nil && chromium.Required() {
		t.Fatal(binErr)
	}
	for _, c := range htmlCases {
		t.Run(c.name, func(t *testing.T) {
			root, rep, page := buildHTML(t, c)
			checkPage(t, string(page), rep)
			if binErr != nil {
				t.Skip(binErr)
			}
			checkInBrowser(t, bin, filepath.Join(root, ReportHTML), c.name, rep)
		})
	}
}

// checkPage checks report.html's text: every section, the banner when
// simulated, nothing that loads from elsewhere, every plot embedded.
func checkPage(t *testing.T, s string, rep *Report) {
	t.Helper()
	for _, id := range htmlSections {
		if !strings.Contains(s, `id="`+id+`"`) {
			t.Errorf("no section %q", id)
		}
	}
	if got := strings.Contains(s, `id="banner"`); got != rep.Simulated {
		t.Errorf("banner shown = %v, simulated = %v", got, rep.Simulated)
	}
	for _, bad := range []string{"<script", "<link", "@import", "url("} {
		if strings.Contains(s, bad) {
			t.Errorf("page contains %q: it must not load anything", bad)
		}
	}
	if m := externalRef.FindString(s); m != "" {
		t.Errorf("page references an outside resource: %s…", m)
	}
	if n, want := strings.Count(s, `src="data:image/png;base64,`), len(rep.Plots); n != want || n == 0 {
		t.Errorf("%d embedded plots, want the report's %d (and at least one)", n, want)
	}
	for _, v := range rep.Hardware.Verdicts {
		if !strings.Contains(s, string(report.Inline(v.Sentence()))) {
			t.Errorf("hardware verdict missing: %s", v.Sentence())
		}
	}
}

// TestReportHTMLEscapes puts markup in the report's strings: it must
// arrive as text.
func TestReportHTMLEscapes(t *testing.T) {
	rep := &Report{Banner: `<b>x</b>`, Failed: []RunFailed{{Key: "k", Error: `<img src=x onerror=alert(1)>`}}}
	rep.Hardware.Verdicts = []Verdict{{Question: QNoGPU, Reason: `<script>alert(1)</script> & more`, N: 2}}
	d, err := htmlDoc(t.TempDir(), rep, &Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, bad := range []string{"<script>", "<img src=x", "<b>x</b>"} {
		if strings.Contains(s, bad) {
			t.Errorf("unescaped %q in page", bad)
		}
	}
	if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more") {
		t.Error("verdict text not found escaped")
	}
}

// checkInBrowser loads file in Chromium and checks what it saw. The
// screenshot goes to $TR117_SCREENSHOT_DIR when set.
func checkInBrowser(t *testing.T, bin, file, name string, rep *Report) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := chromium.Load(ctx, chromium.Config{Bin: bin, PDF: true}, "file://"+file)
	if err != nil {
		t.Fatal(err)
	}
	checkDOM(t, p.DOM, rep)
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %+v", errs)
	}
	for _, u := range p.Requests {
		if u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("request left the file: %s", u)
		}
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	if dir := os.Getenv("TR117_SCREENSHOT_DIR"); dir != "" {
		shot = filepath.Join(dir, "report_"+name+".png")
	}
	if err := os.WriteFile(shot, p.Screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := plausibleShot(p.Screenshot, len(rep.Plots)); err != nil {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	// Printed, the report runs to several A4 pages.
	if n := len(pdfPage.FindAll(p.PDF, -1)); !bytes.HasPrefix(p.PDF, []byte("%PDF-")) || n < 3 {
		t.Errorf("printed: %d bytes, %d pages: want a PDF of at least 3", len(p.PDF), n)
	}
}

// pdfPage matches a page object of an uncompressed PDF object table.
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

func checkDOM(t *testing.T, dom string, rep *Report) {
	t.Helper()
	for _, id := range htmlSections {
		if !strings.Contains(dom, `<section id="`+id+`"`) && !strings.Contains(dom, `id="`+id+`"`) {
			t.Errorf("DOM has no element %q", id)
		}
	}
	if got := strings.Contains(dom, `id="banner"`); got != rep.Simulated {
		t.Errorf("banner in DOM = %v, simulated = %v", got, rep.Simulated)
	}
	if n := strings.Count(dom, "<img "); n != len(rep.Plots) {
		t.Errorf("DOM has %d images, want %d plots", n, len(rep.Plots))
	}
}

// plausibleShot checks that a screenshot decodes, is page-sized, and is
// not blank: the page's text, tables and plots give it many colours.
func plausibleShot(b []byte, plots int) error {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return err
	}
	r := img.Bounds()
	minH := 1500
	if plots > 0 {
		minH = 1500 + 300*plots
	}
	if r.Dx() < 1000 || r.Dy() < minH {
		return fmt.Errorf("size %dx%d, want at least 1000x%d", r.Dx(), r.Dy(), minH)
	}
	if n := distinctColours(img, 8); n < 32 {
		return fmt.Errorf("%d distinct colours: a blank or nearly blank page", n)
	}
	return nil
}

// distinctColours counts the distinct colours on a grid of step pixels.
func distinctColours(img image.Image, step int) int {
	seen := map[[4]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += step {
		for x := r.Min.X; x < r.Max.X; x += step {
			c0, c1, c2, c3 := img.At(x, y).RGBA()
			seen[[4]uint32{c0, c1, c2, c3}] = true
		}
	}
	return len(seen)
}
