package profiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReportText(t *testing.T) {
	ttft := 12.5
	ok := AgentResult{ID: "collector", Metrics: AgentMetrics{TokensGenerated: 3, ThroughputTokensPerSec: 50, TTFTMS: &ttft},
		Stream: &Result{ITL: []time.Duration{2 * time.Millisecond, 4 * time.Millisecond}}}
	failed := AgentResult{ID: "insight", Error: "profiler: agent insight: boom", Err: errors.New("boom"), Stream: &Result{}}
	eff, speedup := 60.0, 1.2
	good := &RunResult{Run: 3, Agents: []AgentResult{ok, ok}, EfficiencyPercent: &eff, ConcurrencySpeedup: &speedup,
		LoopLag: LagReport{Interval: DefaultLagInterval}}
	// Runs with a failed agent have no efficiency (RunResult.Run leaves
	// it nil); the summary leaves them out and says how many.
	short := &RunResult{Run: 1, Agents: []AgentResult{ok, failed}, Failed: 1,
		LoopLag: LagReport{Interval: DefaultLagInterval}}
	long := &RunResult{Run: 2, Agents: []AgentResult{ok, failed}, Failed: 1,
		LoopLag: LagReport{Interval: DefaultLagInterval, Samples: 2, Lags: []float64{0.5, 15}, Stalls: 1, SchedLatency: HistWindow{Count: 9, P99: 0.25}}}
	interrupted := AgentResult{ID: "insight", Error: "profiler: agent insight: context canceled",
		Err: fmt.Errorf("profiler: agent insight: %w", context.Canceled), Stream: &Result{}}
	cut := &RunResult{Run: 4, Agents: []AgentResult{ok, interrupted}, Failed: 1, LoopLag: LagReport{Interval: DefaultLagInterval}}
	for _, tc := range []struct {
		name string
		runs []*RunResult
		want []string
	}{
		{"short run", []*RunResult{short}, []string{
			"runs: 1 (1 with failures)\n",
			"  collector  ok 1 failed 0  TTFT p50 12.5 ms p99 12.5 ms  ITL p50 3.00 ms p99 3.98 ms  tok/s mean 50.0\n",
			"  insight    ok 0 failed 1  no successful runs\n",
			"  efficiency: none (no run in which every agent succeeded)\n",
			"  scheduler lag: no lag samples: run shorter than the 100 ms interval; runtime sched latency p99 0.000 ms, GC pause max 0.000 ms\n",
		}},
		{"failed runs excluded", []*RunResult{short, good, long}, []string{
			"runs: 3 (2 with failures)\n",
			"  seed efficiency mean 60.0% (min 60.0%, max 60.0%)  seed speedup mean 1.200  (excluded: 2 run(s) with a failed or interrupted agent)\n",
		}},
		{"no runs", nil, []string{"runs: 0 (0 with failures)\n"}},
		// Ctrl-C ended the insight agent: interrupted, not failed.
		{"interrupted", []*RunResult{good, cut}, []string{
			"runs: 2 (0 with failures, 1 interrupted)\n",
			"  insight    ok 0 failed 0 interrupted 1  no successful runs\n",
		}},
		{"long run", []*RunResult{short, long}, []string{
			"scheduler lag p99 14.855 ms max 15.000 ms over 2 samples, 1 stall events; runtime sched latency p99 0.250 ms",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := NewReport(tc.runs).WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if tc.runs == nil && b.String() != tc.want[0] {
				t.Errorf("report of no runs:\n%s", b.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
