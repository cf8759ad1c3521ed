package suite

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/gpumon"
	"tr117/profiler/ollamatest"
)

// TestHardwareCommandTemplate wraps a templated command (run without a
// shell; sh is only the command itself) in the GPU monitor.
func TestHardwareCommandTemplate(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	root := t.TempDir()
	plan := Plan{
		CollectorURL: deadURL, InsightURL: deadURL,
		MRI: MRIPlan{Skip: true}, Throttle: ThrottlePlan{Skip: true},
		Hardware: HardwarePlan{
			Models: []string{"gemma3:latest", "qwen2.5:7b"}, Runs: 2, Interval: Duration(minInterval),
			CommandTemplate: `sh -c 'echo "model={model} slug={slug} run={run}"; sleep 0.05; test {slug} != qwen2_5_7b || exit 3'`,
		},
	}
	var out strings.Builder
	res, err := Execute(context.Background(), Config{
		Plan: plan, OutputRoot: root, Backend: BackendOllama, CommandOutput: &out,
		OpenSampler: func(context.Context) (gpumon.Sampler, error) { return &fakeGPU{}, nil },
	})
	if !errors.Is(err, ErrRunsFailed) || res.Failed != 2 || res.Ran != 4 {
		t.Fatalf("Execute = %v, failed %d ran %d; want the two qwen runs failed", err, res.Failed, res.Ran)
	}
	log, err := os.ReadFile(filepath.Join(root, "phase2/gemma3_latest/agent_output/run_2.log"))
	if err != nil || string(log) != "model=gemma3:latest slug=gemma3_latest run=2\n" {
		t.Errorf("command log %q, %v", log, err)
	}
	if !strings.Contains(out.String(), "model=qwen2.5:7b slug=qwen2_5_7b run=1") {
		t.Errorf("CommandOutput got %q", out.String())
	}
	man, _ := ReadManifest(root)
	rec := man.record("phase2/qwen2_5_7b/run_1")
	if rec == nil || !strings.Contains(rec.Error, `"sh" exited with status 3`) {
		t.Errorf("failed run record %+v", rec)
	}
	b, err := os.ReadFile(filepath.Join(root, "phase2/gemma3_latest", runFile(1, GPUMetrics)))
	if err != nil || strings.Count(string(b), "\n") < 3 {
		t.Errorf("gpu_metrics around the command: %v, %d lines", err, strings.Count(string(b), "\n"))
	}
	if hm := res.Report.Hardware.Models[0]; hm.Samples == 0 || hm.JPerToken != nil {
		t.Errorf("hardware report for a command run: %+v (J/token needs a token count, which a command does not give)", hm)
	}
}

// TestHardwareWarmupBeforeSampling: a condition's warm-up (here a 600 ms
// model load) happens before the GPU monitor of its first run starts, so
// run 1's GPU window is no longer than run 2's.
func TestHardwareWarmupBeforeSampling(t *testing.T) {
	var urls []string
	for i := range 2 {
		srv := ollamatest.NewServer(ollamatest.Config{TokensPerSecond: 400, TTFT: 2 * time.Millisecond, LoadDelay: 600 * time.Millisecond, Seed: uint64(i + 1)})
		t.Cleanup(func() { srv.Close() })
		urls = append(urls, srv.URL)
	}
	root := t.TempDir()
	plan := Plan{
		CollectorURL: urls[0], InsightURL: urls[1], NumPredict: 5,
		MRI: MRIPlan{Skip: true}, Throttle: ThrottlePlan{Skip: true},
		Hardware: HardwarePlan{Models: []string{"gemma3:latest"}, Runs: 2, Interval: Duration(minInterval)},
	}
	_, err := Execute(context.Background(), Config{
		Plan: plan, OutputRoot: root, Backend: BackendSim,
		OpenSampler: func(context.Context) (gpumon.Sampler, error) { return &fakeGPU{}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	var dur [2]float64
	for i := range dur {
		b, err := os.ReadFile(filepath.Join(root, "phase2/gemma3_latest", gpuSummaryFile(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		var rep gpumon.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		dur[i] = rep.DurationS
	}
	if dur[0] > dur[1]+0.3 {
		t.Errorf("run 1's GPU window %.3f s, run 2's %.3f s: the warm-up's model load was sampled", dur[0], dur[1])
	}
}
