package report_test

import (
	"bytes"
	"fmt"
	"strings"

	"tr117/internal/report"
)

func ExampleWriteHTML() {
	d := report.Doc{
		Title: "Load test",
		Setup: []report.Field{{Name: "Backend", Value: "vLLM"}},
		Sections: []report.Section{{
			ID: "latency", Title: "Latency", Question: "How long is the first token?",
			Verdicts: []report.Verdict{{Text: "TTFT p50 **120 ms**.", N: 40}},
			Tables:   []report.Table{{Header: []string{"Rate", "TTFT ms p50"}, Rows: [][]string{{"4 req/s", "120"}}}},
		}},
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, d); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(page.String(), "\n") {
		if strings.HasPrefix(line, "<section") || strings.HasPrefix(line, "<h2") || strings.HasPrefix(line, "<li>") {
			fmt.Println(line)
		}
	}
	// Output:
	// <section id="latency">
	// <h2>Latency</h2>
	// <li>TTFT p50 <strong>120 ms</strong>. <span class="n">(n = 40)</span>
}

func ExampleInline() {
	fmt.Println(report.Inline("**Seed efficiency** = Σ dᵢ / (N · wall) × 100, *in the concurrent run* <see `report.json`>"))
	// Output:
	// <strong>Seed efficiency</strong> = Σ dᵢ / (N · wall) × 100, <em>in the concurrent run</em> &lt;see <code>report.json</code>&gt;
}
