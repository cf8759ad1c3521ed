package suite

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/profiler"
	"tr117/sink"
	"tr117/stats"
)

// A run in which an agent failed is recorded as failed; its run_<i>.json
// has efficiency_percent null (the profiler writes no efficiency for it).
// The report leaves it out of the efficiency statistics and says how many
// runs of each condition it left out.
func TestFailedRunsExcludedAndCounted(t *testing.T) {
	root := t.TempDir()
	inner := synthExec(root)
	failing := map[string]bool{"phase1/gemma3_latest/buf8192/run_2": true, "phase3/gemma3_latest/60tps/run_4": true, "phase2/qwen2_5_7b/run_1": true}
	var okEff []float64
	exec := func(ctx context.Context, r Run, dir string) ([]string, error) {
		files, err := inner(ctx, r, dir)
		if err != nil || !failing[r.Key()] {
			if r.Phase == PhaseMRI && r.Buffer == 8192 && err == nil {
				var s profiler.RunResult
				b, _ := os.ReadFile(filepath.Join(dir, runFile(r.Index, "")))
				if jerr := json.Unmarshal(b, &s); jerr == nil && s.EfficiencyPercent != nil {
					okEff = append(okEff, *s.EfficiencyPercent)
				}
			}
			return files, err
		}
		// What the profiler writes for a run whose insight agent failed.
		res := profiler.RunResult{Run: r.Index, Failed: 1, ConcurrentWallTimeMS: 10, SequentialEstimateMS: 15,
			Agents: []profiler.AgentResult{{ID: "collector"}, {ID: "insight", Error: "model not found"}}}
		if err := sink.WriteJSONFile(filepath.Join(dir, profiler.RunFileName(r.Index)), res); err != nil {
			return files, err
		}
		return files, errors.New("profiler: agent insight: model not found")
	}
	res, err := execute(context.Background(), fakeConfig(root), exec)
	if !errors.Is(err, ErrRunsFailed) || res.Failed != 3 {
		t.Fatalf("Execute: %v, %d failed", err, res.Failed)
	}
	rep := res.Report
	c := rep.ClientCeiling[0].Conditions[1]
	want, _ := stats.Summarize(okEff)
	if c.Buffer != 8192 || c.Runs != 4 || c.Failed != 1 || c.Efficiency == nil || c.Efficiency.N != 4 || c.Efficiency.Mean != want.Mean {
		t.Errorf("buf8192: runs %d failed %d efficiency %+v, want 4, 1 and the mean of the 4 ok runs (%g)", c.Runs, c.Failed, c.Efficiency, want.Mean)
	}
	if d := rep.ClientCeiling[0].Conditions[0]; d.Failed != 0 || d.Runs != 5 {
		t.Errorf("default: runs %d failed %d", d.Runs, d.Failed)
	}
	if fm := rep.Flow[0]; fm.Failed != 1 || fm.Efficiency == nil || fm.Efficiency.NB != 4 {
		t.Errorf("flow: failed %d efficiency %+v", fm.Failed, fm.Efficiency)
	}
	if hm := rep.Hardware.Models[1]; hm.Model != "qwen2.5:7b" || hm.Failed != 1 || hm.Runs != 4 {
		t.Errorf("hardware %s: runs %d failed %d", hm.Model, hm.Runs, hm.Failed)
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	for _, s := range []string{"| 8192 | 4 (+1 failed) |", "Left out: 1 failed run (a failed", "1 failed throttled run", "| qwen2.5:7b | 4 (+1 failed) |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
}
