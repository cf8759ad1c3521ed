package suite

import (
	"fmt"
	"strings"

	"tr117/internal/report"
	"tr117/stats"
)

// The report's tables, built once from the Report's values: report.md
// renders them with Table.Markdown and report.html with internal/report,
// so the two cannot disagree on a column or a cell.

// conditionTable is section 1's table of one model's read-buffer sizes.
func conditionTable(cs []BufferCondition) report.Table {
	t := report.Table{
		Caption: "Per read-buffer size",
		Header:  []string{"Read buffer", "Runs", "True efficiency %", "Seed efficiency % (mean ± sd)", "95% CI", "Balance bound %", "Chunks", "Parse ms p50 / p99", "Gap ms p50 / p99", "Lag samples / run", "Lag ms p99 / max", "Stalls"},
		Align:   "l" + strings.Repeat("r", 11),
	}
	p50p99 := func(s *stats.Summary) (float64, float64) { return s.P50, s.P99 }
	for _, c := range cs {
		t.Rows = append(t.Rows, []string{
			c.Buffer.String(), runsCell(c.Runs, c.Failed), meanSD(c.TrueEfficiency, 2), meanSD(c.Efficiency, 2), ciCell(c.EfficiencyCI, c.Runs), meanSD(c.BalanceBound, 2), fmt.Sprint(c.Chunks),
			pair(c.ParseMs, 4, p50p99), pair(c.GapMs, 2, p50p99), intRange(c.LagSamples),
			pair(c.LagMs, 2, func(s *stats.Summary) (float64, float64) { return s.P99, s.Max }), fmt.Sprint(c.Stalls),
		})
	}
	return t
}

// comparisonTable is section 1's table of each buffer size against the
// default.
func comparisonTable(cs []BufferComparison) report.Table {
	t := report.Table{
		Caption: "Each buffer size against the default",
		Header:  []string{"Buffer vs default", "Seed efficiency Δ pp", "95% CI", "p (Mann-Whitney)", "Parse median Δ ms", "95% CI", "p"},
		Align:   "l" + strings.Repeat("r", 6),
	}
	for _, c := range cs {
		if c.Efficiency == nil && c.ParseMs == nil {
			continue
		}
		t.Rows = append(t.Rows, []string{c.Buffer.String(), abDiff(c.Efficiency, 2), abCI(c.Efficiency, 2), abP(c.Efficiency), abDiff(c.ParseMs, 4), abCI(c.ParseMs, 4), abP(c.ParseMs)})
	}
	return t
}

// sweepTable is the ceiling sweep's table, one row per cost.
func sweepTable(cs *CeilingSweep) report.Table {
	t := report.Table{
		Header: []string{"Cost µs / message", "Runs", "True efficiency %", "Seed efficiency %", "Balance bound %", "Loop lag ms p50", "Loop lag ms p99", "Chunks/s", "Messages/s"},
		Align:  strings.Repeat("r", 9),
	}
	for _, c := range cs.Costs {
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%g", c.CostUS), runsCell(c.Runs, c.Failed), meanSD(c.TrueEfficiency, 1), meanSD(c.SeedEfficiency, 1),
			meanSD(c.BalanceBound, 1), meanOf(c.LagP50ms, 2), meanOf(c.LagP99ms, 2), meanOf(c.ChunksPerSec, 0), meanOf(c.MessagesPerSec, 0)})
	}
	return t
}

// serverRateTable is section 2's table when no GPU was sampled: what was
// measured without one.
func serverRateTable(hw HardwareSection) report.Table {
	t := report.Table{Header: []string{"Model", "Runs", "Server tok/s (mean ± sd)"}, Align: "lrr"}
	for _, hm := range hw.Models {
		t.Rows = append(t.Rows, []string{hm.Model, runsCell(hm.Runs, hm.Failed), meanSD(hm.ServerTokSec, 1)})
	}
	return t
}

// gpuTable is section 2's table of what the GPU did per model.
func gpuTable(hw HardwareSection) report.Table {
	t := report.Table{
		Header: []string{"Model", "Runs", "Samples", "Power W mean / max", "Util % mean / max", "Memory MiB mean / max", "PCIe RX / TX MB/s mean", "Energy J per run", "J per token", "Redlining", "Server tok/s"},
		Align:  "l" + strings.Repeat("r", 8) + "lr",
	}
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
	return t
}

// flowTable is section 3's table of one throttled condition against its
// baseline.
func flowTable(fm FlowModel) report.Table {
	t := report.Table{Header: []string{"Metric", "Unthrottled", "Throttled", "Δ", "95% CI", "p (Mann-Whitney)"}, Align: "l" + strings.Repeat("r", 5)}
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
	return t
}

// tokenizerTable is section 4's table of the race's results.
func tokenizerTable(tr *TokenizerReport) report.Table {
	t := report.Table{Header: []string{"Model", "Tokens/Sec", "Latency (ms)", "Source"}, Align: "lrrl"}
	for _, r := range tr.Results {
		t.Rows = append(t.Rows, []string{r.Model, thousands(r.TokensPerSec), fmt.Sprintf("%.2f", r.LatencyMs), r.Source})
	}
	return t
}
