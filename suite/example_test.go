package suite_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"tr117/profiler/ollamatest"
	"tr117/stats"
	"tr117/suite"
)

// The default plan is the study's 25 runs; a plan file changes any part.
func ExampleDecodePlanYAML() {
	plan, err := suite.DecodePlanYAML(strings.NewReader(`
mri:
  buffers: [default, 64k]
  runs: 2
throttle:
  skip: true
hardware:
  models: [gemma3:latest]
  runs: 1
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range suite.Runs(plan) {
		fmt.Println(r.Key())
	}
	// Output:
	// phase1/gemma3_latest/default/run_1
	// phase1/gemma3_latest/default/run_2
	// phase1/gemma3_latest/buf65536/run_1
	// phase1/gemma3_latest/buf65536/run_2
	// phase2/gemma3_latest/run_1
}

// Hardware command templates are split like a shell would, and run without
// one.
func ExampleParseTemplate() {
	tpl, err := suite.ParseTemplate(`python bench.py --model {model} --out '{dir}/agent output' --tag run-{run}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", tpl.Expand(map[string]string{"model": "qwen2.5:7b", "dir": "results/phase2/qwen2_5_7b", "run": "3"}))
	_, err = suite.ParseTemplate(`python bench.py > out.txt`)
	fmt.Println(err)
	// Output:
	// ["python" "bench.py" "--model" "qwen2.5:7b" "--out" "results/phase2/qwen2_5_7b/agent output" "--tag" "run-3"]
	// command template: split command: at byte 16: unquoted '>': the command runs without a shell, so pipes, redirections, variables and substitutions do not work; quote it to pass it literally, or run sh -c '…' explicitly
}

// Execute runs a plan against two Ollama servers (here two simulators) and
// writes the results, the manifest and the report under OutputRoot.
func ExampleExecute() {
	collector := ollamatest.NewServer(ollamatest.Config{TokensPerSecond: 2000, Seed: 1})
	defer collector.Close()
	insight := ollamatest.NewServer(ollamatest.Config{TokensPerSecond: 2000, Seed: 2})
	defer insight.Close()
	root, err := os.MkdirTemp("", "suite-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)

	plan := suite.Plan{
		CollectorURL: collector.URL, InsightURL: insight.URL, NumPredict: 16,
		MRI:      suite.MRIPlan{Buffers: []suite.BufferSize{0}, Runs: 2},
		Throttle: suite.ThrottlePlan{Skip: true},
		Hardware: suite.HardwarePlan{Skip: true},
	}
	res, err := suite.Execute(context.Background(), suite.Config{Plan: plan, OutputRoot: root, Backend: suite.BackendSim})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rec := range res.Manifest.Runs {
		fmt.Println(rec.Key, rec.Status)
	}
	c := res.Report.ClientCeiling[0].Conditions[0]
	fmt.Printf("%s: %d runs, efficiency from %d of them\n", c.Buffer, c.Runs, c.Efficiency.N)
	// Output:
	// phase1/gemma3_latest/default/run_1 ok
	// phase1/gemma3_latest/default/run_2 ok
	// default: 2 runs, efficiency from 2 of them
}

// A verdict is data: a renderer reads its outcome, value, interval and
// typed warnings, and Sentence and Caveats give report.md's words.
func ExampleVerdict() {
	v := suite.Verdict{
		Question: suite.QEvalRate, A: "gemma3:latest", B: "qwen2.5:7b",
		Value:    ptr(-29.3),
		Interval: &stats.Interval{Estimate: -29.3, Lo: -30.9, Hi: -27.2, Level: 0.95},
		P:        ptr(0.0079), N: 10,
		Facts:    map[string]float64{"mean_a": 99.1, "mean_b": 69.8},
		Warnings: stats.Warnings{stats.SampleSizeWarning{Side: stats.SideBoth, NA: 5, NB: 5, Need: 6, For: stats.ForInterval, Level: 0.95}},
	}
	for _, w := range v.Warnings {
		if s, ok := w.(stats.SampleSizeWarning); ok {
			fmt.Printf("%s: %d and %d runs, %d needed\n", s.WarningKind(), s.NA, s.NB, s.Need)
		}
	}
	fmt.Println(v.Sentence())
	fmt.Println(v.Caveats()[0])
	// Output:
	// sample_size: 5 and 5 runs, 6 needed
	// Server eval rate: gemma3:latest 99.1 tok/s vs qwen2.5:7b 69.8 tok/s (difference 95% CI [-30.90, -27.20] tok/s; Mann-Whitney p = 0.0079).
	// fewer than 6 runs per side (gemma3:latest: 5, qwen2.5:7b: 5): the 95% confidence interval is not reliable
}

func ptr(x float64) *float64 { return &x }
