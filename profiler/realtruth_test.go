package profiler

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"tr117/internal/ollamaserver"
)

// singleSlotOllama starts one real Ollama with OLLAMA_NUM_PARALLEL=1 (its
// requests queue) holding the tiny model, stopped at the test's end. Like
// ollamaserver.Start, it skips without a binary unless TR117_REQUIRE_OLLAMA
// is set.
func singleSlotOllama(t *testing.T) ollamaserver.Instance {
	t.Helper()
	bin, err := ollamaserver.Find()
	if err != nil {
		if ollamaserver.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := ollamaserver.Launch(ctx, ollamaserver.Options{Bin: bin, ModelsDir: filepath.Join(dir, "models"), Home: filepath.Join(dir, "home"),
		LogPath: filepath.Join(dir, "serve.log"), Env: []string{"OLLAMA_NUM_PARALLEL=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ollama log tail:\n%s", s.LogTail(30))
		}
		s.Stop()
	})
	if err := ollamaserver.CreateTiny(ctx, s, filepath.Join(dir, "gguf")); err != nil {
		t.Fatal(err)
	}
	return ollamaserver.Instance{URL: s.URL, Model: ollamaserver.TinyModel, Server: s}
}

// twoServerLow is the least true speed-up two one-thread servers must
// show: 1.6 with 4 or more CPUs, else only that running them together was
// not much slower than one after the other.
func twoServerLow(t *testing.T) float64 {
	if runtime.NumCPU() >= 4 {
		return 1.6
	}
	t.Logf("%d CPUs: two CPU-bound servers and the client share them, so a true speedup near 2 is not expected here", runtime.NumCPU())
	return 0.7
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// realAgents are the default agents on the tiny model, num_predict n,
// a fixed seed (repeatable text), one thread each.
func realAgents(model, cu, iu string, n int) []Agent {
	agents := equalAgents(cu, iu, n)
	for i := range agents {
		agents[i].Model = model
		agents[i].Options["seed"] = 7
		agents[i].Options["num_thread"] = 1
	}
	return agents
}

// TestRealTrueSpeedup is TestTrueSpeedup against real Ollama v0.6.5: two
// agents queued on one single-slot server gain nothing from running
// together while the seed's efficiency reads about 75 %; on two servers
// the true speed-up nears 2 when the machine has the cores for two
// one-thread servers and the client (4 or more); on fewer, two CPU-bound
// servers cannot run in parallel and only the seed's efficiency, which
// cannot see that, is held. The medians of five runs are held to bounds
// wide enough for a shared machine, where the solo and concurrent streams
// of one run see different load (under a load average of 17 the
// two-server seed efficiency fell to 80 %, hence its floor of 75); the
// simulator's test holds the exact bounds.
func TestRealTrueSpeedup(t *testing.T) {
	one := singleSlotOllama(t)
	two := ollamaserver.Start(t, 2)
	for _, tc := range []struct {
		name   string
		agents []Agent
		lo, hi float64 // true speedup
		seedLo float64
		seedHi float64
	}{
		{"one single-slot server", realAgents(one.Model, one.URL, one.URL, 300), 0.8, 1.25, 65, 85},
		{"two servers", realAgents(two[0].Model, two[0].URL, two[1].URL, 300), twoServerLow(t), 2.1, 75, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var speedups, seeds []float64
			r, err := NewRunner(Config{Agents: tc.agents, SoloBaseline: true, Warmup: true, Timeout: time.Minute}, Sinks{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Warmup(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 5; i++ {
				rr, err := r.Run(context.Background(), i)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("run %d: true speedup %.3f (true efficiency %.1f%%), seed efficiency %.1f%%, balance bound %.1f%%, wall %.0f ms, solo %.0f ms",
					i, val(rr.TrueSpeedup), val(rr.TrueEfficiencyPercent), val(rr.EfficiencyPercent), val(rr.BalanceBoundPercent), rr.ConcurrentWallTimeMS, val(rr.SoloSequentialMS))
				for _, a := range rr.Agents {
					t.Logf("  %s: %d tokens (%s), %.0f ms together, %.0f ms alone", a.ID, a.Metrics.TokensGenerated, a.Metrics.DoneReason, a.Metrics.TotalDurationMS, val(a.Metrics.SoloTotalDurationMS))
				}
				speedups, seeds = append(speedups, val(rr.TrueSpeedup)), append(seeds, val(rr.EfficiencyPercent))
			}
			ts, seed := median(speedups), median(seeds)
			t.Logf("median of 5 runs: true speedup %.3f, seed efficiency %.1f%%", ts, seed)
			if math.IsNaN(ts) || ts < tc.lo || ts > tc.hi || seed < tc.seedLo || seed > tc.seedHi {
				t.Errorf("true speedup %.3f (want %.1f–%.1f), seed efficiency %.1f%% (want %.0f–%.0f%%)", ts, tc.lo, tc.hi, seed, tc.seedLo, tc.seedHi)
			}
		})
	}
}
