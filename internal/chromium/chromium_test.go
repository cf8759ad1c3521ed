package chromium

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bin returns the Chromium binary, skipping the test when there is none,
// unless CI or TR117_REQUIRE_CHROMIUM is set: then it fails.
func bin(t *testing.T) string {
	t.Helper()
	p, err := Find()
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// TestLoad loads a page that misbehaves in every way the harness must
// see: a console error, an uncaught exception, a fetch from the network.
func TestLoad(t *testing.T) {
	b := bin(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "page.html")
	html := `<!DOCTYPE html><html><head><title>t</title></head><body style="background:#fff">
<h1 id="hello">Hello</h1><div style="width:300px;height:200px;background:#c00"></div>
<img src="http://example.invalid/x.png" alt="x">
<script>console.log("fine"); console.error("broken", 42); throw new Error("boom");</script>
</body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := Load(ctx, Config{Bin: b, Width: 800, Height: 600, PDF: true}, "file://"+page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.DOM, `<h1 id="hello">Hello</h1>`) {
		t.Errorf("DOM lacks the heading:\n%s", p.DOM)
	}
	var consoleErr, exception, info bool
	for _, m := range p.Console {
		consoleErr = consoleErr || m.Source == "console" && m.Level == "error" && m.Text == "broken 42"
		exception = exception || m.Source == "exception" && strings.Contains(m.Text, "boom")
		info = info || m.Level == "log" && m.Text == "fine"
	}
	if !consoleErr || !exception || !info {
		t.Errorf("console %+v: want the console.log, the console.error and the exception", p.Console)
	}
	if len(p.Errors()) < 2 {
		t.Errorf("Errors() = %+v, want at least the console error and the exception", p.Errors())
	}
	if !contains(p.Requests, "http://example.invalid/x.png") || !contains(p.Requests, "file://"+page) {
		t.Errorf("requests %q: want the page and the image", p.Requests)
	}
	if !bytes.HasPrefix(p.PDF, []byte("%PDF-")) {
		t.Errorf("PDF starts %q", p.PDF[:min(len(p.PDF), 8)])
	}
	img, err := png.Decode(bytes.NewReader(p.Screenshot))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 800 || r.Dy() < 200 {
		t.Errorf("screenshot %v, want 800 wide", r)
	}
	// The red box is at (8..308, ~70..270) under the heading.
	if r, g, _, _ := img.At(100, 150).RGBA(); r>>8 < 0xb0 || g>>8 > 0x30 {
		t.Errorf("pixel (100,150) = %v, want the red box", img.At(100, 150))
	}
}

func TestLoadMissingBinary(t *testing.T) {
	_, err := Load(context.Background(), Config{Bin: filepath.Join(t.TempDir(), "no-chromium")}, "about:blank")
	if err == nil || !strings.Contains(err.Error(), "no-chromium") {
		t.Fatalf("err = %v, want one naming the binary", err)
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
