package suite_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"tr117/profiler/ollamatest"
	"tr117/suite"
)

// The default plan is the seed's 25 runs; a plan file changes any part.
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
