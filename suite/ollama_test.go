package suite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/internal/ollamaserver"
	"tr117/tokenizer"
)

// TestRealOllama runs a small plan against two real Ollama servers with the
// tiny model, two runs per condition. It skips without an ollama binary
// (see tr117/internal/ollamaserver).
func TestRealOllama(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Ollama servers")
	}
	insts := ollamaserver.Start(t, 2)
	model := insts[0].Model
	root := t.TempDir()
	plan := Plan{
		// 64 tokens take the tiny model 30-45 ms here (12 took ~8 ms, under
		// the 10 ms lag interval, so a run could end before the probe's
		// first wake-up); 200 tok/s still caps it well below its own rate.
		CollectorURL: insts[0].URL, InsightURL: insts[1].URL, NumPredict: 64,
		MRI:      MRIPlan{Models: []string{model}},
		Throttle: ThrottlePlan{Models: []string{model}, Rates: []float64{200}},
		Hardware: HardwarePlan{Models: []string{model}},
		// The tiny model is in the servers' own store, not the local
		// default one: its tokenizer comes from the collector's /api/show.
		Tokenizers: TokenizerPlan{Run: true, Models: []string{model}, Bytes: 16 << 10, Iterations: 3},
	}
	plan.SetRuns(2)
	res, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendOllama})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res.Ran != 9 || res.Failed != 0 {
		t.Fatalf("ran %d failed %d, want 9 and 0", res.Ran, res.Failed)
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	if man.Simulated || man.Backend != BackendOllama {
		t.Errorf("manifest says simulated=%v backend=%s", man.Simulated, man.Backend)
	}
	for _, ep := range man.Endpoints {
		found := false
		for _, m := range ep.Models {
			found = found || (strings.HasPrefix(m.Name, model) && m.Digest != "")
		}
		if ep.Version == "" || !found {
			t.Errorf("endpoint %s: version %q, models %+v; want a version and %s with a digest", ep.URL, ep.Version, ep.Models, model)
		}
	}
	// Client token counts equal Ollama's eval_count in every run.
	for _, rec := range man.Runs {
		if rec.Phase == PhaseTokenizers {
			continue
		}
		dir, _ := rec.Run.Dir(root)
		b, err := os.ReadFile(filepath.Join(dir, RunFile(rec.Index, "")))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Eff    float64 `json:"efficiency_percent"`
			Agents []struct {
				Metrics struct {
					Tokens    int `json:"tokens_generated"`
					EvalCount int `json:"eval_count"`
				} `json:"metrics"`
			} `json:"agents"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Agents) != 2 || v.Eff <= 0 {
			t.Errorf("%s: %d agents, efficiency %v", rec.Key, len(v.Agents), v.Eff)
		}
		for _, a := range v.Agents {
			if a.Metrics.Tokens != a.Metrics.EvalCount || a.Metrics.EvalCount == 0 {
				t.Errorf("%s: client counted %d tokens, eval_count %d", rec.Key, a.Metrics.Tokens, a.Metrics.EvalCount)
			}
		}
	}
	rep := res.Report
	if rep.Simulated || rep.Banner != "" || !rep.Hardware.NoGPU && man.GPU.None {
		t.Errorf("report: simulated %v banner %q noGPU %v", rep.Simulated, rep.Banner, rep.Hardware.NoGPU)
	}
	if tr := rep.Tokenizers; tr == nil || len(tr.Results) != 1 || tr.Results[0].Source != tokenizer.ServerSource(insts[0].URL, model) || tr.Results[0].TokensPerSec <= 0 {
		t.Errorf("tokenizer from the collector's /api/show: %+v", tr)
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if man.GPU.None && (!strings.Contains(string(md), "**No GPU:**") || strings.Count(string(md), "No GPU") != 1) {
		t.Error("report.md does not say plainly, once, that there was no GPU")
	}
	// Short real runs (64 tokens) still have lag samples at the suite's
	// default lag interval, so each has a lag p99 for the correlation.
	for _, bc := range rep.ClientCeiling[0].Conditions {
		for i, n := range bc.LagSamples {
			if n == 0 {
				t.Errorf("buffer %s run %d: no lag sample at the default %v interval", bc.Buffer, i+1, DefaultLagInterval)
			}
		}
	}
	if c := rep.ClientCeiling[0].LagVsLoss; c == nil || c.N != 4 {
		t.Errorf("lag p99 vs efficiency loss: %+v, want a correlation over the 4 MRI runs", c)
	}
}
