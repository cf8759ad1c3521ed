package report

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestInline(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"**Agents**: two", "<strong>Agents</strong>: two"},
		{"a *b* c", "a <em>b</em> c"},
		{"**True efficiency** = x; **knee** y", "<strong>True efficiency</strong> = x; <strong>knee</strong> y"},
		{"`phase2/x.json`", "<code>phase2/x.json</code>"},
		{"`a*b*`", "<code>a*b*</code>"},
		{"**a *b* c**", "<strong>a <em>b</em> c</strong>"},
		{"2 * 3 = 6", "2 * 3 = 6"},
		{"<b>&", "&lt;b&gt;&amp;"},
		{"**<i>**", "<strong>&lt;i&gt;</strong>"},
		{"**", "**"},
		{"", ""},
	} {
		if got := string(Inline(c.in)); got != c.want {
			t.Errorf("Inline(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzInline: whatever the input, the only markup in the output is
// Inline's own tags.
func FuzzInline(f *testing.F) {
	for _, s := range []string{"**a**", "*a* `b`", "<script>", "**`<x>`**", "a*b**c`d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(Inline(s))
		for _, tag := range []string{"<strong>", "</strong>", "<em>", "</em>", "<code>", "</code>"} {
			out = strings.ReplaceAll(out, tag, "")
		}
		if strings.ContainsAny(out, "<>") {
			t.Errorf("Inline(%q) leaves markup: %q", s, out)
		}
	})
}

func TestWriteHTML(t *testing.T) {
	png := []byte("\x89PNG fake")
	d := Doc{
		Title:  "T <1>",
		Banner: "SIMULATED",
		Setup:  []Field{{"Backend", "sim & co"}},
		Sections: []Section{{
			ID: "q1", Title: "Question one", Question: "Why?",
			Verdicts:    []Verdict{{Text: "**yes**", N: 3, Warnings: []string{"n small <5"}}},
			Tables:      []Table{{Caption: "cap", Header: []string{"Name", "Value"}, Rows: [][]string{{"12", "3.5 / 4"}, {"x", "text"}}}},
			Figures:     []Figure{{Alt: "plot", PNG: png}, {Alt: "svg", SVG: []byte(`<svg width="2" height="2"></svg>`)}},
			Subsections: []Section{{ID: "q1-a", Title: "Part a", Items: []string{"*item*"}}},
		}},
		Footer: "end",
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{
		"<title>T &lt;1&gt;</title>",
		`<div class="banner" id="banner" role="alert">SIMULATED</div>`,
		"<td>sim &amp; co</td>",
		`<section id="q1">`, "<h2>Question one</h2>", `<p class="question">Why?</p>`,
		`<li><strong>yes</strong> <span class="n">(n = 3)</span>`, "<li>n small &lt;5</li>",
		"<caption>cap</caption>", `<td>12</td><td class="num">3.5 / 4</td>`, "<td>x</td><td>text</td>",
		`<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `" alt="plot">`,
		`<svg width="2" height="2"></svg>`,
		`<section id="q1-a">`, "<h3>Part a</h3>", "<li><em>item</em></li>",
		"<footer>end</footer>", "@media print",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	buf.Reset()
	d.Banner = ""
	if err := WriteHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `id="banner"`) {
		t.Error("banner shown without one")
	}
}

func TestNumeric(t *testing.T) {
	for s, want := range map[string]bool{
		"12": true, "-2.55": true, "[+0.1, -2.0]": true, "97.44 ± 0.37": true, "n/a": true, "1,000": true,
		"default": false, "gemma3:latest": false, "100% of time, 5 runs sustained": false, "-": false,
	} {
		if got := numeric(s); got != want {
			t.Errorf("numeric(%q) = %v, want %v", s, got, want)
		}
	}
}
