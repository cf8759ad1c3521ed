package suite

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tr117/gpumon"
	"tr117/sink"
	"tr117/stats"
	"tr117/tokbench"
)

// synthRun writes a plausible finished run into dir, deterministically from
// the run's key: run_<i>.json in the profiler's shape, chunk and lag traces,
// and for hardware runs GPU samples with gpumon's summary. Efficiency
// depends on the condition so that the report has something to find.
func synthRun(root string, r Run, gpu bool) ([]string, error) {
	dir, err := r.Dir(root)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(r.Key()))
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).Add(time.Duration(h.Sum64()%1000) * time.Minute)
	eff := 97.0
	serverTPS := 100.0
	switch {
	case r.Phase == PhaseMRI && r.Buffer != 0:
		eff = 95.0
	case r.Phase == PhaseThrottle:
		eff, serverTPS = 98.5, 60.0
	case r.Phase == PhaseHardware && strings.HasPrefix(r.Model, "qwen"):
		serverTPS = 70
	}
	eff += rng.NormFloat64() * 0.5
	trueEff := eff - 3 + rng.NormFloat64()*0.5
	if r.Phase == PhaseCeiling {
		// A loop that saturates: true efficiency falls with the cost per
		// message while the seed's number stays put.
		trueEff = math.Min(99.5, 99-float64(r.Cost.D().Microseconds())*0.06+rng.NormFloat64()*0.5)
	}
	type metrics struct {
		TokensGenerated int            `json:"tokens_generated"`
		Throughput      float64        `json:"throughput_tokens_per_sec"`
		TTFT            float64        `json:"ttft_ms"`
		Total           float64        `json:"total_duration_ms"`
		EvalCount       int            `json:"eval_count"`
		EvalDuration    int64          `json:"eval_duration"`
		TPOT            float64        `json:"tpot_ms"`
		Messages        int            `json:"messages"`
		Chunks          int            `json:"chunks"`
		ITLms           map[string]any `json:"itl_ms"`
	}
	type agent struct {
		ID      string  `json:"id"`
		Metrics metrics `json:"metrics"`
	}
	var agents []agent
	for _, id := range []string{"collector", "insight"} {
		tps := serverTPS * (1 + rng.NormFloat64()*0.02)
		n := 256
		total := float64(n)/tps*1000 + 50
		tpot := (total - 50) / float64(n-1)
		agents = append(agents, agent{ID: id, Metrics: metrics{
			TokensGenerated: n, Throughput: float64(n) / total * 1000, TTFT: 50, Total: total,
			EvalCount: n, EvalDuration: int64(float64(n) / tps * 1e9), TPOT: tpot, Messages: n + 1, Chunks: 20,
			ITLms: map[string]any{"n": n - 1, "mean": tpot, "p50": tpot * 0.9, "p99": tpot * 2.5, "max": tpot * 3},
		}})
	}
	js := map[string]any{
		"run": r.Index, "scenario": "chimera_homo", "agents": agents,
		"concurrent_wall_time_ms": 2600.0, "efficiency_percent": eff,
		"balance_bound_percent": math.Min(100, eff+0.8), "true_efficiency_percent": trueEff,
		"read_buffer_size": int(r.Buffer),
	}
	if r.Phase == PhaseThrottle {
		js["throttle_rate"] = r.Rate
	}
	files := []string{}
	add := func(name string) {
		files = append(files, filepath.ToSlash(filepath.Join(strings.TrimPrefix(dir, root+"/"), name)))
	}
	if err := sink.WriteJSONFile(filepath.Join(dir, runFile(r.Index, "")), js); err != nil {
		return nil, err
	}
	add(runFile(r.Index, ""))
	var b strings.Builder
	b.WriteString("timestamp,agent_id,chunk_index,bytes,gap_ms,parse_ms,run\n")
	for i := 0; i < 40; i++ {
		gap := 10 + rng.ExpFloat64()*5
		parse := 0.02 + rng.ExpFloat64()*0.01
		if r.Buffer != 0 {
			parse *= 1.5
		}
		gapField := strconv.FormatFloat(gap, 'f', 3, 64)
		if i < 2 {
			gapField = "" // a stream's first chunk has no gap, as the profiler writes it
		}
		fmt.Fprintf(&b, "%s,%s,%d,120,%s,%.4f,%d\n", t0.Add(time.Duration(i)*10*time.Millisecond).Format(sink.TimeLayout), agents[i%2].ID, i/2, gapField, parse, r.Index)
	}
	if err := os.WriteFile(filepath.Join(dir, runFile(r.Index, ChunkMetrics)), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	add(runFile(r.Index, ChunkMetrics))
	b.Reset()
	b.WriteString("timestamp,lag_ms,run\n")
	for i := 0; i < 26; i++ {
		lag := 0.2 + rng.ExpFloat64()*(100-eff)
		if r.Phase == PhaseCeiling {
			lag = 0.2 + rng.ExpFloat64()*(100-trueEff)
		}
		fmt.Fprintf(&b, "%s,%.3f,%d\n", t0.Add(time.Duration(i)*10*time.Millisecond).Format(sink.TimeLayout), lag, r.Index)
	}
	if err := os.WriteFile(filepath.Join(dir, runFile(r.Index, LoopLag)), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	add(runFile(r.Index, LoopLag))
	if r.Phase == PhaseHardware && gpu {
		out, err := sink.CreateCSV[gpumon.Sample](filepath.Join(dir, runFile(r.Index, GPUMetrics)))
		if err != nil {
			return nil, err
		}
		var power []float64
		for i := 0; i < 26; i++ {
			s := gpumon.Missing(t0.Add(time.Duration(i)*100*time.Millisecond), 0, "GPU-0", "Synthetic GPU")
			s.PowerW = 150 + rng.NormFloat64()*10
			s.UtilGPU = 97
			s.MemUsedMiB = 6000 + float64(i)
			s.PCIeRxMBps, s.PCIeTxMBps = 3, 1
			power = append(power, s.PowerW)
			out.Write(s)
		}
		if err := out.Close(); err != nil {
			return nil, err
		}
		add(runFile(r.Index, GPUMetrics))
		ps, _ := stats.Summarize(power)
		e := ps.Mean * 2.5
		rep := gpumon.Report{Sampler: "synthetic", IntervalMS: 100, Start: t0, End: t0.Add(2500 * time.Millisecond), DurationS: 2.5, Samples: 26,
			GPUs: []gpumon.GPUSummary{{Index: 0, Name: "Synthetic GPU", Samples: 26, PowerW: &ps, EnergyJ: &e, EnergySource: "power_integral",
				Redline: gpumon.Redline{ThresholdPct: 95, WindowS: 2, Episodes: 1, Seconds: 2.5, LongestS: 2.5, Fraction: 1}}}}
		if err := sink.WriteJSONFile(filepath.Join(dir, gpuSummaryFile(r.Index)), rep); err != nil {
			return nil, err
		}
		add(gpuSummaryFile(r.Index))
	}
	return files, nil
}

func synthExec(root string) executor { return synthExecGPU(root, true) }

// synthExecGPU is synthExec; without gpu, hardware runs write no GPU
// files, as on a machine without one.
func synthExecGPU(root string, gpu bool) executor {
	return func(ctx context.Context, r Run, dir string) ([]string, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.Phase == PhaseTokenizers {
			res := []tokbench.Result{
				{Model: "gemma3:latest", Source: "synthetic", Tokens: 200000, TokensPerSec: 4.0e6, LatencyMs: 50},
				{Model: "qwen2.5:7b", Source: "synthetic", Tokens: 210000, TokensPerSec: 1.5e6, LatencyMs: 140},
			}
			rep := tokbench.Report{Config: tokbench.Config{Iterations: 3}, Results: res, Comparisons: tokbench.Compare(res, 2)}
			return nil, sink.WriteJSONFile(filepath.Join(dir, TokenizerBenchJSON), rep)
		}
		return synthRun(root, r, gpu)
	}
}

var _ = testing.Short
