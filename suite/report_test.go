package suite

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/gpumon"
	"tr117/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// synthRoot runs the default plan (with the tokenizer race) on synthetic
// data and pins the manifest's machine-dependent fields.
func synthRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	cfg := fakeConfig(root)
	cfg.Plan.Tokenizers.Run = true
	if _, err := execute(context.Background(), cfg, synthExec(root)); err != nil {
		t.Fatal(err)
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	man.Host = Host{Hostname: "testhost", OS: "linux", Arch: "amd64", CPU: "Test CPU", NumCPU: 2}
	man.GoVersion = "go1.x"
	man.Endpoints = []Endpoint{
		{Role: "collector", URL: "http://127.0.0.1:11434", Version: "0.6.5", Models: []Model{{Name: "gemma3:latest", Digest: "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a"}}},
		{Role: "insight", URL: "http://127.0.0.1:11435", Error: "connection refused"},
	}
	if err := man.write(root); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestReportGolden(t *testing.T) {
	checkGolden(t, synthRoot(t), "report.golden.md")
}

// TestReportGoldenOneRunNoGPU is the report of `--runs 1` on a machine
// without a GPU: no comparison is possible, and the missing GPU is said
// once.
func TestReportGoldenOneRunNoGPU(t *testing.T) {
	root := t.TempDir()
	cfg := fakeConfig(root)
	cfg.Plan.SetRuns(1)
	if _, err := execute(context.Background(), cfg, synthExecGPU(root, false)); err != nil {
		t.Fatal(err)
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	man.Host = Host{Hostname: "testhost", OS: "linux", Arch: "amd64", CPU: "Test CPU", NumCPU: 2}
	man.GoVersion = "go1.x"
	man.Endpoints = nil
	man.GPU = GPU{None: true, Error: (&gpumon.NoGPUError{NVML: errors.New("libnvidia-ml.so.1 not found"), SMI: errors.New("not on PATH")}).Error()}
	if err := man.write(root); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, root, "report_1run_nogpu.golden.md")
}

// TestReportGoldenCeiling is the report of the ceiling sweep alone.
func TestReportGoldenCeiling(t *testing.T) {
	root := t.TempDir()
	cfg := fakeConfig(root)
	cfg.Plan.MRI.Runs = 3
	cfg.Plan.Ceiling = CeilingPlan{Run: true, Runs: 3}
	cfg.Plan.Throttle.Skip, cfg.Plan.Hardware.Skip = true, true
	if _, err := execute(context.Background(), cfg, synthExecGPU(root, false)); err != nil {
		t.Fatal(err)
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	man.Host = Host{Hostname: "testhost", OS: "linux", Arch: "amd64", CPU: "Test CPU", NumCPU: 2}
	man.GoVersion = "go1.x"
	man.Endpoints = nil
	if err := man.write(root); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, root, "report_ceiling.golden.md")
}

func checkGolden(t *testing.T, root, name string) {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC) }
	rep, err := Analyze(root, ReportConfig{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(root, rep, false); err != nil {
		t.Fatal(err)
	}
	checkReportJSON(t, root)
	checkVerdictsFollowValues(t, rep)
	got, err := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./suite -run TestReportGolden -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("report.md differs from %s (rerun with -update if the change is intended):\n%s", golden, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first differing lines.
func lineDiff(a, b string) string {
	al, bl := splitLines(a), splitLines(b)
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestReportNumbersMatchStats recomputes the report's numbers from the run
// files with tr117/stats directly.
func TestReportNumbersMatchStats(t *testing.T) {
	root := synthRoot(t)
	rep, err := Analyze(root, ReportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	readEff := func(rel string, n int) []float64 {
		var out []float64
		for i := 1; i <= n; i++ {
			b, err := os.ReadFile(filepath.Join(root, rel, RunFile(i, "")))
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				E float64 `json:"efficiency_percent"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v.E)
		}
		return out
	}
	// Server eval rates, eval_count / eval_duration, one per run: the mean
	// of the run's agents (two agents of one run are not independent).
	readRates := func(rel string, n int) []float64 {
		var out []float64
		for i := 1; i <= n; i++ {
			b, _ := os.ReadFile(filepath.Join(root, rel, RunFile(i, "")))
			var v struct {
				Agents []struct {
					Metrics struct {
						EvalCount    float64 `json:"eval_count"`
						EvalDuration float64 `json:"eval_duration"`
					} `json:"metrics"`
				} `json:"agents"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, a := range v.Agents {
				sum += a.Metrics.EvalCount / (a.Metrics.EvalDuration / 1e9)
			}
			out = append(out, sum/float64(len(v.Agents)))
		}
		return out
	}
	def := readEff("phase1/gemma3_latest/default", 5)
	buf := readEff("phase1/gemma3_latest/buf8192", 5)
	thr := readEff("phase3/gemma3_latest/60tps", 5)

	cm := rep.ClientCeiling[0]
	want, _ := stats.Summarize(def)
	if got := cm.Conditions[0].Efficiency; got == nil || !near(got.Mean, want.Mean) || !near(got.StdDev, want.StdDev) || got.N != 5 || !near(got.P99, want.P99) {
		t.Errorf("default efficiency %+v, want %+v", got, want)
	}
	ci, _ := stats.BootstrapMean(def, stats.BootstrapConfig{})
	if got := cm.Conditions[0].EfficiencyCI; got == nil || !near(got.Lo, ci.Lo) || !near(got.Hi, ci.Hi) {
		t.Errorf("default efficiency CI %+v, want %+v", got, ci)
	}
	ci8, _ := stats.BootstrapMean(buf, stats.BootstrapConfig{})
	if got := cm.Conditions[1].EfficiencyCI; got == nil || !near(got.Lo, ci8.Lo) || !near(got.Hi, ci8.Hi) {
		t.Errorf("8192 efficiency CI %+v, want %+v", got, ci8)
	}
	cmp, _ := stats.Compare(def, buf, stats.CompareConfig{})
	if got := cm.Comparisons[0].Efficiency; got == nil || !near(got.Diff.Estimate, cmp.MeanDiff.Estimate) || !near(got.PValue, cmp.MannWhitney.P) ||
		!near(got.Diff.Lo, cmp.MeanDiff.Lo) || got.Different != (cmp.Significant && !cmp.MeanDiff.Contains(0)) {
		t.Errorf("buffer comparison %+v, want diff %+v p %v", got, cmp.MeanDiff, cmp.MannWhitney.P)
	}
	// The synthetic data has a 2 pp buffer penalty, which five runs a side detect.
	if !cm.Comparisons[0].Efficiency.Different {
		t.Errorf("a 2 pp difference over 5 vs 5 runs was not found: %+v", cm.Comparisons[0].Efficiency)
	}
	flow := rep.Flow[0]
	fc, _ := stats.Compare(def, thr, stats.CompareConfig{})
	if flow.Baseline != "phase1 default" || flow.Efficiency == nil || !near(flow.Efficiency.Diff.Estimate, fc.MeanDiff.Estimate) || !near(flow.Efficiency.PValue, fc.MannWhitney.P) {
		t.Errorf("flow %+v, want diff %v p %v", flow.Efficiency, fc.MeanDiff.Estimate, fc.MannWhitney.P)
	}
	if !near(flow.Efficiency.Diff.Lo, fc.MeanDiff.Lo) || !near(flow.Efficiency.Diff.Hi, fc.MeanDiff.Hi) {
		t.Errorf("flow efficiency CI %+v, want %+v", flow.Efficiency.Diff, fc.MeanDiff)
	}
	sc, _ := stats.Compare(readRates("phase1/gemma3_latest/default", 5), readRates("phase3/gemma3_latest/60tps", 5), stats.CompareConfig{})
	if s := flow.ServerRate; s == nil || s.NA != 5 || !near(s.Diff.Estimate, sc.MeanDiff.Estimate) || !near(s.Diff.Lo, sc.MeanDiff.Lo) || !near(s.Diff.Hi, sc.MeanDiff.Hi) || !near(s.PValue, sc.MannWhitney.P) || !s.Different {
		t.Errorf("flow server rate %+v, want diff %+v p %v", s, sc.MeanDiff, sc.MannWhitney.P)
	}
	hc, _ := stats.Compare(readRates("phase2/gemma3_latest", 5), readRates("phase2/qwen2_5_7b", 5), stats.CompareConfig{})
	if e := rep.Hardware.EvalRate; e == nil || !near(e.Diff.Estimate, hc.MeanDiff.Estimate) || !near(e.PValue, hc.MannWhitney.P) {
		t.Errorf("hardware eval rate %+v, want diff %+v p %v", e, hc.MeanDiff, hc.MannWhitney.P)
	}

	// Lag p99 per run vs efficiency loss, from the lag files.
	var lagP99, loss []float64
	for _, c := range []struct {
		rel string
		eff []float64
	}{{"phase1/gemma3_latest/default", def}, {"phase1/gemma3_latest/buf8192", buf}} {
		for i := 1; i <= 5; i++ {
			var lags []float64
			readCSV(filepath.Join(root, c.rel, RunFile(i, LoopLag)), func(col map[string]int, rec []string) error {
				v, err := parseFloat(rec[col["lag_ms"]])
				lags = append(lags, v)
				return err
			})
			p, _ := stats.Percentile(lags, 99)
			lagP99 = append(lagP99, p)
			loss = append(loss, 100-c.eff[i-1])
		}
	}
	pr, _ := stats.Pearson(lagP99, loss)
	sr, _ := stats.Spearman(lagP99, loss)
	if c := cm.LagVsLoss; c == nil || c.N != 10 || !near(c.Pearson, pr.R) || !near(c.PearsonP, pr.P) || !near(c.Spearman, sr.R) || !near(c.SpearmanP, sr.P) {
		t.Errorf("lag correlation %+v, want r %v ρ %v", c, pr.R, sr.R)
	}

	// Hardware: power summary over the samples, J per token from gpumon's
	// energy and the agents' eval counts.
	hm := rep.Hardware.Models[0]
	if rep.Hardware.NoGPU || hm.Samples != 5*26 || hm.PowerW == nil || hm.JPerToken == nil || hm.RedlineRuns != 5 {
		t.Fatalf("hardware %+v", hm)
	}
	var energy float64
	for i := 1; i <= 5; i++ {
		b, _ := os.ReadFile(filepath.Join(root, "phase2/gemma3_latest", gpuSummaryFile(i)))
		var s struct {
			GPUs []struct {
				EnergyJ float64 `json:"energy_j"`
			} `json:"gpus"`
		}
		json.Unmarshal(b, &s)
		energy += s.GPUs[0].EnergyJ
	}
	if want := energy / (5 * 2 * 256); !near(*hm.JPerToken, want) {
		t.Errorf("J per token %v, want %v", *hm.JPerToken, want)
	}
	if tr := rep.Tokenizers; tr == nil || len(tr.Results) != 2 || len(tr.Verdicts) != 1 {
		t.Errorf("tokenizers %+v", tr)
	}
	// report.md prints those numbers.
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	for _, want := range []string{
		fmt.Sprintf("| %.2f ± %.2f | [%.2f, %.2f] ⚠ 5 runs: unreliable, needs 6 |", want.Mean, want.StdDev, ci.Lo, ci.Hi),
		fmt.Sprintf("| 8192 | %+.2f | [%+.2f, %+.2f] | %.3g |", cmp.MeanDiff.Estimate, cmp.MeanDiff.Lo, cmp.MeanDiff.Hi, cmp.MannWhitney.P),
		fmt.Sprintf("Pearson r = %.3f (p %s), Spearman ρ = %.3f (p %s)", pr.R, pv(pr.P), sr.R, pv(sr.P)),
		fmt.Sprintf("| Seed efficiency %% | %.2f (n=5) | %.2f (n=5) | %+.2f | [%+.2f, %+.2f] | %.3g |", fc.MeanA, fc.MeanB, fc.MeanDiff.Estimate, fc.MeanDiff.Lo, fc.MeanDiff.Hi, fc.MannWhitney.P),
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// report.json is the same report.
	b, _ := os.ReadFile(filepath.Join(root, ReportJSON))
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ClientCeiling[0].Conditions[0].Efficiency.Mean != cm.Conditions[0].Efficiency.Mean {
		t.Error("report.json disagrees with the returned report")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
