package suite

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"tr117/internal/ollamaserver"
	"tr117/profiler/ollamatest"
)

// TestCeilingSweepSimulated: on the simulator, a single event loop whose
// per-message cost nears the time between the two agents' messages lowers
// the true efficiency, and the report names the knee and plots the sweep.
func TestCeilingSweepSimulated(t *testing.T) {
	var urls []string
	for i := range 2 {
		srv := ollamatest.NewServer(ollamatest.Config{TokensPerSecond: 1000, TTFT: 5 * time.Millisecond, Seed: uint64(i + 1)})
		t.Cleanup(func() { srv.Close() })
		urls = append(urls, srv.URL)
	}
	root := t.TempDir()
	plan := Plan{
		CollectorURL: urls[0], InsightURL: urls[1], NumPredict: 100,
		MRI: MRIPlan{Skip: true}, Throttle: ThrottlePlan{Skip: true}, Hardware: HardwarePlan{Skip: true},
		Ceiling: CeilingPlan{Run: true, Runs: 2, Costs: []Duration{0, Duration(time.Millisecond), Duration(3 * time.Millisecond)}},
	}
	res, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendSim})
	if err != nil {
		t.Fatal(err)
	}
	sw := res.Report.Sweep
	if sw == nil || len(sw.Costs) != 3 {
		t.Fatalf("sweep %+v", sw)
	}
	for _, c := range sw.Costs {
		if c.TrueEfficiency == nil || c.SeedEfficiency == nil || c.BalanceBound == nil || c.LagP99ms == nil || c.ChunksPerSec == nil {
			t.Fatalf("cost %g µs: %+v", c.CostUS, c)
		}
		t.Logf("cost %g µs: true %.1f%%, seed %.1f%%, bound %.1f%%, lag p99 %.2f ms, %.0f chunks/s", c.CostUS, c.TrueEfficiency.Mean, c.SeedEfficiency.Mean, c.BalanceBound.Mean, c.LagP99ms.Mean, c.ChunksPerSec.Mean)
	}
	free, busy := sw.Costs[0].TrueEfficiency.Mean, sw.Costs[2].TrueEfficiency.Mean
	if free < 85 || busy > free-10 {
		t.Errorf("true efficiency %.1f%% at 0 µs, %.1f%% at 3 ms a message", free, busy)
	}
	if sw.KneeUS == nil || *sw.KneeUS > 3000 || sw.ClientCostUS == nil || sw.SaturationUS == nil {
		t.Errorf("knee %v, client cost %v, saturation %v", sw.KneeUS, sw.ClientCostUS, sw.SaturationUS)
	}
	md, err := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Ceiling sweep", "The knee (true efficiency 5 points below 0 µs) is at ", "tr117's own measured handling cost is ", "ceiling_gemma3_latest.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestRealOllamaCeiling runs the ceiling sweep against two real Ollama
// servers with the tiny model (about 1,000 tok/s each alone): the loop
// caps the message rate at 1/cost, and, with CPUs to spare for two
// one-thread servers, the client and its spinning loop (4 or more), true
// efficiency falls as the cost rises and the report names the knee. On
// fewer CPUs the servers and the spin share them, so true efficiency at
// cost 0 is already low and is not compared. It skips without an ollama
// binary.
func TestRealOllamaCeiling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Ollama servers")
	}
	insts := ollamaserver.Start(t, 2)
	root := t.TempDir()
	plan := Plan{
		CollectorURL: insts[0].URL, InsightURL: insts[1].URL, NumPredict: 200,
		MRI: MRIPlan{Skip: true}, Throttle: ThrottlePlan{Skip: true}, Hardware: HardwarePlan{Skip: true},
		Ceiling: CeilingPlan{Run: true, Model: insts[0].Model, Runs: 3, Costs: []Duration{0, Duration(500 * time.Microsecond), Duration(2 * time.Millisecond)}},
	}
	res, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendOllama})
	if err != nil {
		t.Fatal(err)
	}
	sw := res.Report.Sweep
	if sw == nil || len(sw.Costs) != 3 {
		t.Fatalf("sweep %+v", sw)
	}
	for _, c := range sw.Costs {
		if c.TrueEfficiency == nil || c.MessagesPerSec == nil {
			t.Fatalf("cost %g µs: %+v", c.CostUS, c)
		}
		t.Logf("cost %g µs: true %.1f%%, seed %.1f%%, bound %.1f%%, lag p99 %.2f ms, %.0f messages/s", c.CostUS, c.TrueEfficiency.Mean, c.SeedEfficiency.Mean, c.BalanceBound.Mean, c.LagP99ms.Mean, c.MessagesPerSec.Mean)
	}
	for _, c := range sw.Costs[1:] {
		if limit := 1e6 / c.CostUS; c.MessagesPerSec.Mean > 1.05*limit {
			t.Errorf("cost %g µs: %.0f messages/s through one loop that serves at most %.0f", c.CostUS, c.MessagesPerSec.Mean, limit)
		}
	}
	t.Logf("knee %v µs, saturation %.0f µs, tr117's cost %.1f µs per message", ptrOr(sw.KneeUS), ptrOr(sw.SaturationUS), ptrOr(sw.ClientCostUS))
	if runtime.NumCPU() < 4 {
		t.Logf("%d CPUs: the true-efficiency fall and the knee are not checked here", runtime.NumCPU())
		return
	}
	if free, busy := sw.Costs[0].TrueEfficiency.Mean, sw.Costs[2].TrueEfficiency.Mean; busy > free-10 {
		t.Errorf("true efficiency %.1f%% at 0 µs, %.1f%% at 2 ms a message", free, busy)
	}
	md, err := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	if sw.KneeUS == nil || !strings.Contains(string(md), "The knee (true efficiency 5 points below 0 µs) is at ") {
		t.Errorf("knee %v; report:\n%s", sw.KneeUS, md)
	}
}
