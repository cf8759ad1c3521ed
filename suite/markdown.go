package suite

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	"tr117/stats"
)

// renderMarkdown writes report.md from the report and its manifest.
func renderMarkdown(rep *Report) string {
	var b strings.Builder
	man := rep.Manifest
	plan := man.Plan.WithDefaults()
	writeSetup(&b, rep, man, plan)
	writeTerms(&b)
	writeClientCeiling(&b, rep.ClientCeiling)
	writeSweep(&b, rep.Sweep)
	writeLatency(&b, rep.Latency)
	writeHardware(&b, rep.Hardware, plan.Hardware.Skip)
	writeFlow(&b, rep.Flow)
	writeTokenizers(&b, rep.Tokenizers)
	if len(rep.Plots) > 0 {
		b.WriteString("## Plots\n\n")
		for _, f := range rep.Plots {
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(path.Base(f), ".png"), f)
		}
	}
	fmt.Fprintf(&b, "---\nNumbers: tr117/stats (percentiles: linear interpolation; CIs: percentile bootstrap, 10,000 resamples, seeded; A/B: Mann-Whitney U, two-sided, α = %g). Only runs recorded as ok in %s are analysed.\n", Alpha, ManifestFile)
	return b.String()
}

// writeSetup writes the banner, title and setup table.
func writeSetup(b *strings.Builder, rep *Report, man *Manifest, plan Plan) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if rep.Banner != "" {
		p("> **%s**\n\n", rep.Banner)
	}
	p("# TR117 report\n\n")
	p("Generated %s by tr117 %s (%s). Backend: %s.\n\n", rep.Generated.Format("2006-01-02 15:04:05 UTC"), rep.Version, man.GoVersion, backendText(rep))
	p("## Setup\n\n")
	p("| | |\n|---|---|\n")
	p("| Host | %s (%s/%s, %d CPUs: %s) |\n", mdCell(man.Host.Hostname), man.Host.OS, man.Host.Arch, man.Host.NumCPU, mdCell(man.Host.CPU))
	p("| GPU | %s |\n", mdCell(gpuText(man.GPU, plan.Hardware.Skip)))
	for _, ep := range man.Endpoints {
		p("| %s | %s |\n", ep.Role, mdCell(endpointText(ep)))
	}
	p("| Scenario | %s |\n", plan.Scenario)
	np := "not sent (the server decides)"
	if plan.NumPredict > 0 {
		np = fmt.Sprint(plan.NumPredict)
	}
	p("| num_predict | %s |\n", np)
	p("| Runs | %d planned, %d ok, %d failed, %d not run |\n\n", rep.Runs.Planned, rep.Runs.OK, rep.Runs.Failed, rep.Runs.Missing)
	if note := fewRunsNote(plan); note != "" {
		p("> ⚠ %s\n\n", note)
	}
	if len(rep.Failed) > 0 {
		p("### Failed runs\n\n")
		for _, f := range rep.Failed {
			p("- `%s`: %s\n", f.Key, mdCell(f.Error))
		}
		p("\n")
	}
}

// writeClientCeiling writes section 1's per-model tables and verdicts.
func writeClientCeiling(b *strings.Builder, cms []CeilingModel) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 1. Client ceiling: does the client cap multi-agent efficiency?\n\n")
	if len(cms) == 0 {
		p("Phase 1 (dual-agent runs per read-buffer size) was not part of the plan.\n\n")
	}
	for _, cm := range cms {
		p("### %s\n\n", cm.Model)
		b.WriteString(conditionTable(cm.Conditions).Markdown())
		p("\n")
		if failed := sumFailed(cm.Conditions); failed > 0 {
			p("Left out: %s (a failed or interrupted agent leaves a run no efficiency); Runs counts the runs the numbers come from.\n\n", plural(failed, "failed run"))
		}
		if anyComparison(cm.Comparisons) {
			b.WriteString(comparisonTable(cm.Comparisons).Markdown())
			p("\n")
		}
		writeVerdicts(b, cm.Verdicts)
	}
}

// writeHardware writes section 2.
func writeHardware(b *strings.Builder, hw HardwareSection, skipped bool) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 2. Hardware: what does the GPU do?\n\n")
	switch {
	case skipped:
		p("Phase 2 (hardware) was not part of the plan.\n\n")
		return
	case hw.NoGPU:
		// One compact statement (the first verdict), then what was
		// measured without a GPU: the server's eval rate.
		if len(hw.Verdicts) > 0 {
			p("**No GPU:** %s (n = %d runs; the full error is in %s.)\n\n", mdCell(strings.TrimPrefix(hw.Verdicts[0].Sentence(), "No GPU: ")), hw.Verdicts[0].N, ManifestFile)
		}
		b.WriteString(serverRateTable(hw).Markdown())
		p("\n")
		if len(hw.Verdicts) > 1 {
			writeVerdicts(b, hw.Verdicts[1:])
		}
		return
	}
	p("Sampler: %s.\n\n", hw.Sampler)
	b.WriteString(gpuTable(hw).Markdown())
	p("\n")
	writeVerdicts(b, hw.Verdicts)
}

// writeFlow writes section 3. A condition with no comparison at all (a
// side with one run) gets one sentence instead of a table of n/a.
func writeFlow(b *strings.Builder, fms []FlowModel) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 3. Flow dynamics: does a slower reader raise efficiency?\n\n")
	if len(fms) == 0 {
		p("Phase 3 (throttle) had no throttled condition in the plan.\n\n")
	}
	for _, fm := range fms {
		p("### %s at %s (baseline: %s)\n\n", fm.Model, rateDir(fm.Rate), fm.Baseline)
		if fm.TrueEfficiency == nil && fm.Efficiency == nil && fm.ServerRate == nil {
			p("No comparison: each needs at least two finished runs per side, and this condition or its baseline has fewer, so no difference, interval or p-value is defined.\n\n")
		} else {
			writeFlowTable(b, fm)
		}
		if fm.Failed > 0 || fm.BaselineFailed > 0 {
			p("Left out: %s and %s (a failed or interrupted agent leaves a run no efficiency).\n\n",
				plural(fm.Failed, "failed throttled run"), plural(fm.BaselineFailed, "failed baseline run"))
		}
		writeVerdicts(b, fm.Verdicts)
	}
}

func writeFlowTable(b *strings.Builder, fm FlowModel) {
	b.WriteString(flowTable(fm).Markdown() + "\n")
}

// writeTokenizers writes section 4, when the race was planned.
func writeTokenizers(b *strings.Builder, tr *TokenizerReport) {
	if tr == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 4. Tokenizers: is tokenization a CPU bottleneck?\n\n")
	if tr.Fixtures {
		p("**Fixtures:** none of the plan's models' tokenizers was found, so on the simulated backend the race ran the module-cache fixtures (real tokenizers from Go modules' test data, named %sNAME). They exercise the race; they say nothing about the plan's models.\n\n", FixturePrefix)
	}
	if len(tr.Results) > 0 {
		b.WriteString(tokenizerTable(tr).Markdown())
		p("\n")
	}
	for _, m := range sortedKeys(tr.Missing) {
		p("- %s: tokenizer not found (%s)\n", m, mdCell(shortReason(tr.Missing[m])))
	}
	if len(tr.Missing) > 0 {
		p("\nWhere each was looked for, in full: `%s`.\n\n", path.Join("phase2", "tokenizers", tokenizerMissing))
	}
	writeVerdicts(b, tr.Verdicts)
}

// writeVerdicts writes each verdict's sentence with its n, then its
// caveats.
func writeVerdicts(b *strings.Builder, vs []Verdict) {
	for _, v := range vs {
		fmt.Fprintf(b, "- %s (n = %d)\n", v.Sentence(), v.N)
		for _, c := range v.Caveats() {
			fmt.Fprintf(b, "  - ⚠ %s\n", c)
		}
	}
	if len(vs) > 0 {
		b.WriteString("\n")
	}
}

func backendText(rep *Report) string {
	if rep.Simulated && rep.Backend == BackendSim {
		return "SIMULATED (embedded ollamatest servers)"
	}
	if rep.Simulated {
		return "SIMULATED (ollamatest simulators answering at the Ollama URLs)"
	}
	return "real Ollama servers"
}

func gpuText(g GPU, hardwareSkipped bool) string {
	if g.None || len(g.Devices) == 0 {
		if hardwareSkipped {
			return "not probed (no hardware phase)"
		}
		return "none (see section 2)"
	}
	var names []string
	for _, d := range g.Devices {
		var det []string
		if d.MemoryTotalMiB > 0 {
			det = append(det, fmt.Sprintf("%.0f MiB", d.MemoryTotalMiB))
		}
		if d.PCIeLinkGenMax > 0 && d.PCIeLinkWidthMax > 0 {
			det = append(det, fmt.Sprintf("PCIe gen %d x%d", d.PCIeLinkGenMax, d.PCIeLinkWidthMax))
		}
		if d.PowerLimitW > 0 {
			det = append(det, fmt.Sprintf("%.0f W limit", d.PowerLimitW))
		}
		if d.ComputeCapability != "" {
			det = append(det, "compute "+d.ComputeCapability)
		}
		n := fmt.Sprintf("%d: %s", d.Index, d.Name)
		if len(det) > 0 {
			n += " (" + strings.Join(det, ", ") + ")"
		}
		names = append(names, n)
	}
	s := strings.Join(names, "; ") + "; sampler " + g.Sampler
	if g.Driver != "" {
		s += "; driver " + g.Driver
	}
	if g.CUDA != "" {
		s += ", CUDA " + g.CUDA
	}
	return s
}

func endpointText(ep Endpoint) string {
	if ep.Version == "" {
		return ep.URL + ": not reachable (" + ep.Error + ")"
	}
	var ms []string
	for _, m := range ep.Models {
		d := m.Digest
		if len(d) > 12 {
			d = d[:12]
		}
		ms = append(ms, m.Name+" "+d)
	}
	s := ep.URL + ", Ollama " + ep.VersionText()
	if ep.Simulated {
		s = ep.URL + ", SIMULATED (tr117's simulator, reporting Ollama " + ep.Version + ")"
	}
	if len(ms) > 0 {
		s += "; models: " + strings.Join(ms, ", ")
	}
	return s
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func anyComparison(cs []BufferComparison) bool {
	for _, c := range cs {
		if c.Efficiency != nil || c.ParseMs != nil {
			return true
		}
	}
	return false
}

// runsCell writes a condition's run count, with its failed runs (left out
// of the numbers) when there are any: "4 (+1 failed)".
func runsCell(ok, failed int) string {
	if failed == 0 {
		return strconv.Itoa(ok)
	}
	return fmt.Sprintf("%d (+%d failed)", ok, failed)
}

func sumFailed(cs []BufferCondition) int {
	n := 0
	for _, c := range cs {
		n += c.Failed
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// meanSD writes "mean ± sd", or the mean alone for a single value, whose
// standard deviation is undefined.
func meanSD(s *stats.Summary, prec int) string {
	if s == nil {
		return "n/a"
	}
	if s.N < 2 {
		return fmt.Sprintf("%.*f", prec, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", prec, s.Mean, prec, s.StdDev)
}

func meanMax(s *stats.Summary) (float64, float64) { return s.Mean, s.Max }

func pair(s *stats.Summary, prec int, f func(*stats.Summary) (float64, float64)) string {
	if s == nil {
		return "n/a"
	}
	x, y := f(s)
	return fmt.Sprintf("%.*f / %.*f", prec, x, prec, y)
}

// ciCell is an interval with a warning beside it when it comes from
// fewer than minCIRuns runs.
func ciCell(iv *stats.Interval, runs int) string {
	if iv == nil || runs >= minCIRuns {
		return ivText(iv)
	}
	return fmt.Sprintf("%s ⚠ %d runs: unreliable, needs %d", ivText(iv), runs, minCIRuns)
}

func ivText(iv *stats.Interval) string {
	if iv == nil {
		return "n/a"
	}
	return fmt.Sprintf("[%.2f, %.2f]", iv.Lo, iv.Hi)
}

// diffPrec is prec, or 4 decimals when the difference and its interval
// are all below 0.1 in size and would print as ±0.00.
func diffPrec(ab *AB, prec int) int {
	if w := math.Max(math.Abs(ab.Diff.Lo), math.Abs(ab.Diff.Hi)); w > 0 && w < 0.1 && prec < 4 {
		return 4
	}
	return prec
}

func abDiff(ab *AB, prec int) string {
	if ab == nil {
		return "n/a"
	}
	return fmt.Sprintf("%+.*f", diffPrec(ab, prec), ab.Diff.Estimate)
}

func abCI(ab *AB, prec int) string {
	if ab == nil {
		return "n/a"
	}
	prec = diffPrec(ab, prec)
	return fmt.Sprintf("[%+.*f, %+.*f]", prec, ab.Diff.Lo, prec, ab.Diff.Hi)
}

func abP(ab *AB) string {
	if ab == nil {
		return "n/a"
	}
	for _, w := range ab.Warnings {
		if u, ok := w.(stats.UndefinedWarning); ok && u.Stat == stats.StatMannWhitney {
			return "n/a" // the caveat below the table says why; p = 1 read as a result
		}
	}
	return strings.TrimPrefix(pv(ab.PValue), "= ")
}

// thousands writes v rounded to an integer with thousands separators
// ("4,000,000").
func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// intRange writes a list of counts as "min–max" (or one number when they
// are all equal).
func intRange(xs []int) string {
	if len(xs) == 0 {
		return "n/a"
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// maxReason is the longest reason the report prints inline; the full
// text stays in its JSON file.
const maxReason = 160

// shortReason is a reason's first line, cut at maxReason characters, with
// the number of places listed below it ("…; looked at: 7 places").
func shortReason(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	first := lines[0]
	if r := []rune(first); len(r) > maxReason {
		first = string(r[:maxReason]) + "…"
	}
	if n := len(lines) - 1; n > 0 {
		first += " " + plural(n, "place")
	}
	return first
}

// fewRunsNote says once, above the tables, that the plan's runs per
// condition are fewer than a reliable 95% interval needs, so that the ⚠
// beside every interval of the default plan reads as the plan's choice,
// not a fault of the runs; "" when every phase plans enough.
func fewRunsNote(plan Plan) string {
	fewest := 0
	consider := func(skip bool, runs int) {
		if !skip && runs > 0 && (fewest == 0 || runs < fewest) {
			fewest = runs
		}
	}
	consider(plan.MRI.Skip, plan.MRI.Runs)
	consider(!plan.Ceiling.Run, plan.Ceiling.Runs)
	consider(plan.Throttle.Skip, plan.Throttle.Runs)
	consider(plan.Hardware.Skip, plan.Hardware.Runs)
	if fewest == 0 || fewest >= minCIRuns {
		return ""
	}
	return fmt.Sprintf("The plan has %d run(s) per condition at the fewest (the original study ran 5); a 95%% confidence interval needs at least %d to be reliable, so the intervals below carry a ⚠. Plan %d or more runs per condition for intervals to rely on.", fewest, minCIRuns, minCIRuns)
}
